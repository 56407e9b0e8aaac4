//! Signed sessions for tests: register a user, sign in (`POST /users`, `POST /sessions`
//! of the authorization app) and send requests signed as the signed-session middleware
//! expects, with `superhero_auth`'s client [`Signer`].
//!
//! ```no_run
//! # async fn demo(node: &superhero_testkit::TestNode) {
//! use superhero_auth::signature::Algorithm;
//! use superhero_testkit::http::Proto;
//! use superhero_testkit::signed::SignedClient;
//!
//! let mut alice = SignedClient::sign_up(node, &Proto::Http1, "alice", Algorithm::HmacSha256).await;
//! let me = alice.send(http::Method::GET, "/sessions/current", b"").await;
//! assert_eq!(me.json()["name"], "alice");
//! # }
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::Method;
use serde_json::json;
use superhero_auth::signature::{Algorithm, SignedHeaders, Signer, SigningKey};

use crate::http::{Client, Proto, Reply};
use crate::node::TestNode;

/// The password [`SignedClient::sign_up`] registers.
pub const PASSWORD: &str = "correct horse battery staple";

/// A session as `POST /sessions` answered it.
#[derive(Debug, Clone)]
pub struct Session {
    /// The user.
    pub user_id: String,
    /// The session id (the signatures' `keyid`).
    pub session_id: String,
    /// The `hmac-sha256` key (empty for an Ed25519 session).
    pub session_key: Vec<u8>,
    /// The whole answer.
    pub answer: serde_json::Value,
}

/// A connection that signs every request with one session.
pub struct SignedClient {
    /// The connection.
    pub client: Client,
    /// The session.
    pub session: Session,
    signer: Signer,
}

impl SignedClient {
    /// Registers `name` with [`PASSWORD`] and signs in, signing with `algorithm` (for
    /// `ed25519`, a new key pair whose public key is registered at sign-in).
    pub async fn sign_up(node: &TestNode, proto: &Proto, name: &str, algorithm: Algorithm) -> Self {
        let mut client = node.client(proto).await;
        let registered = client
            .post_json("/users", &json!({"name": name, "password": PASSWORD}))
            .await;
        assert_eq!(
            registered.status,
            201,
            "register {name}: {}",
            registered.text()
        );
        Self::sign_in(client, name, PASSWORD, algorithm).await
    }

    /// Signs in as `name` on `client`, signing with `algorithm`.
    pub async fn sign_in(
        mut client: Client,
        name: &str,
        password: &str,
        algorithm: Algorithm,
    ) -> Self {
        let pair = match algorithm {
            Algorithm::Ed25519 => Some(SigningKey::generate_ed25519().expect("a key pair")),
            Algorithm::HmacSha256 => None,
        };
        let mut body = json!({"name": name, "password": password});
        if let Some(public) = pair.as_ref().and_then(SigningKey::public_key) {
            body["public_key"] = json!(STANDARD.encode(public));
        }
        let answer = client.post_json("/sessions", &body).await;
        assert_eq!(answer.status, 201, "sign in {name}: {}", answer.text());
        let answer = answer.json();
        let session = Session {
            user_id: answer["user_id"].as_str().expect("user_id").to_owned(),
            session_id: answer["session_id"]
                .as_str()
                .expect("session_id")
                .to_owned(),
            session_key: answer["session_key"]
                .as_str()
                .map(|key| STANDARD.decode(key).expect("base64"))
                .unwrap_or_default(),
            answer,
        };
        let key = pair.unwrap_or_else(|| SigningKey::hmac(&session.session_key));
        SignedClient {
            signer: Signer::new(session.session_id.clone(), key),
            client,
            session,
        }
    }

    /// A client that signs with a configured client key (`auth.keys.<keyid>`) instead
    /// of a session; its `session` names the key (`user_id` `key:<keyid>`).
    pub fn with_key(client: Client, keyid: &str, key: SigningKey) -> Self {
        SignedClient {
            signer: Signer::new(keyid.to_owned(), key),
            client,
            session: Session {
                user_id: format!("{}{keyid}", superhero_auth::KEY_PREFIX),
                session_id: keyid.to_owned(),
                session_key: Vec::new(),
                answer: serde_json::Value::Null,
            },
        }
    }

    /// The signature headers for a request (to send, tamper with, or replay).
    pub fn sign(&self, method: &Method, path: &str, body: &[u8]) -> SignedHeaders {
        self.signer
            .sign(method.as_str(), self.client.authority(), path, body)
            .expect("signed")
    }

    /// The signature headers for a request created at `created` (Unix seconds; to sign
    /// on a test's manual clock).
    pub fn sign_at(&self, method: &Method, path: &str, body: &[u8], created: i64) -> SignedHeaders {
        let nonce = superhero_auth::signature::signer::nonce().expect("a nonce");
        self.signer
            .sign_at(
                method.as_str(),
                self.client.authority(),
                path,
                body,
                created,
                &nonce,
            )
            .expect("signed")
    }

    /// Sends a signed request (`content-type: application/json` with a body).
    pub async fn send(&mut self, method: Method, path: &str, body: &[u8]) -> Reply {
        let signed = self.sign(&method, path, body);
        self.send_signed(method, path, &signed, body).await
    }

    /// Sends a request with the given signature headers.
    pub async fn send_signed(
        &mut self,
        method: Method,
        path: &str,
        signed: &SignedHeaders,
        body: &[u8],
    ) -> Reply {
        let mut headers: Vec<(&str, &str)> = signed.pairs().collect();
        if !body.is_empty() {
            headers.push(("content-type", "application/json"));
        }
        self.client
            .request(method, path, &headers, Bytes::copy_from_slice(body))
            .await
    }
}
