//! The client side: sign a request the way the signed-session middleware expects —
//! `@method`, `@authority`, `@path`, `@query` and, with a body, `content-digest`;
//! parameters `created`, `nonce`, `keyid` and `alg`.
//!
//! ```
//! use superhero_auth::signature::{Signer, SigningKey};
//!
//! let signer = Signer::new("my-session-id", SigningKey::hmac(&[7; 32]));
//! let signed = signer
//!     .sign("POST", "localhost:8080", "/posts?draft=1", b"{\"title\":\"Hi\"}")
//!     .expect("signed");
//! let headers: Vec<(&str, &str)> = signed.pairs().collect();
//! assert_eq!(headers.len(), 3); // content-digest, signature-input, signature
//! assert!(signed.signature_input.contains("keyid=\"my-session-id\""));
//! ```

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use http::{HeaderMap, HeaderValue};
use ring::rand::{SecureRandom, SystemRandom};

use super::SignatureError;
use super::components::{Component, RequestParts};
use super::digest::{CONTENT_DIGEST, content_digest};
use super::input::{SignatureParams, serialize_params, signature_base};
use super::keys::SigningKey;

/// The label the signer uses.
pub const LABEL: &str = "sig";

/// Signs requests with one key under one `keyid` (the session id).
#[derive(Debug)]
pub struct Signer {
    keyid: String,
    key: SigningKey,
}

/// The header fields a signed request carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// `Content-Digest`, when there is a body.
    pub content_digest: Option<String>,
    /// `Signature-Input`.
    pub signature_input: String,
    /// `Signature`.
    pub signature: String,
}

impl SignedHeaders {
    /// (name, value) of every field to add.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.content_digest
            .as_deref()
            .map(|digest| (CONTENT_DIGEST, digest))
            .into_iter()
            .chain([
                ("signature-input", self.signature_input.as_str()),
                ("signature", self.signature.as_str()),
            ])
    }
}

impl Signer {
    /// A signer for the session `keyid` with `key`.
    pub fn new(keyid: impl Into<String>, key: SigningKey) -> Self {
        Signer {
            keyid: keyid.into(),
            key,
        }
    }

    /// Signs a request to `authority` (`host:port`) for `path_and_query` with `body`,
    /// created now with a fresh random nonce.
    pub fn sign(
        &self,
        method: &str,
        authority: &str,
        path_and_query: &str,
        body: &[u8],
    ) -> Result<SignedHeaders, SignatureError> {
        let created = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        self.sign_at(method, authority, path_and_query, body, created, &nonce()?)
    }

    /// [`Signer::sign`] with a given `created` time (Unix seconds) and `nonce`.
    pub fn sign_at(
        &self,
        method: &str,
        authority: &str,
        path_and_query: &str,
        body: &[u8],
        created: i64,
        nonce: &str,
    ) -> Result<SignedHeaders, SignatureError> {
        let (path, query) = match path_and_query.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (path_and_query, None),
        };
        let mut headers = HeaderMap::new();
        let mut components = vec![
            Component::Method,
            Component::Authority,
            Component::Path,
            Component::Query,
        ];
        let digest = (!body.is_empty()).then(|| content_digest(body));
        if let Some(digest) = &digest {
            let value = HeaderValue::from_str(digest)
                .map_err(|_| SignatureError::invalid("the digest is not a header value"))?;
            headers.insert(CONTENT_DIGEST, value);
            components.push(Component::Field(CONTENT_DIGEST.to_owned()));
        }
        let params = SignatureParams {
            created: Some(created),
            nonce: Some(nonce.to_owned()),
            keyid: Some(self.keyid.clone()),
            alg: Some(self.key.algorithm().name().to_owned()),
            ..SignatureParams::default()
        };
        let serialized = serialize_params(&components, &params)?;
        let parts = RequestParts {
            method,
            authority,
            path,
            query,
            headers: &headers,
        };
        let base = signature_base(&components, &serialized, &parts)?;
        let signature = STANDARD.encode(self.key.sign(base.as_bytes()));
        Ok(SignedHeaders {
            content_digest: digest,
            signature_input: format!("{LABEL}={serialized}"),
            signature: format!("{LABEL}=:{signature}:"),
        })
    }
}

/// 16 random bytes, base64url: a nonce.
pub fn nonce() -> Result<String, SignatureError> {
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| SignatureError::invalid("the system's random source failed"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}
