//! `Content-Digest` (RFC 9530): a dictionary of algorithm → digest of the content; this
//! crate makes and checks `sha-256`.

use ring::digest::{SHA256, digest};
use sfv::{BareItem, Dictionary, Item, ListEntry, Parser};
use subtle::ConstantTimeEq;

/// The field's name.
pub const CONTENT_DIGEST: &str = "content-digest";

/// `sha-256=:<base64 of SHA-256(body)>:`.
pub fn content_digest(body: &[u8]) -> String {
    use base64::Engine as _;
    let hash = digest(&SHA256, body);
    format!(
        "sha-256=:{}:",
        base64::engine::general_purpose::STANDARD.encode(hash.as_ref())
    )
}

/// Why a `Content-Digest` does not vouch for a body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    /// The field is not a dictionary, or its `sha-256` member is not a byte sequence.
    #[error("Content-Digest is malformed: {0}")]
    Malformed(String),
    /// No `sha-256` member (the only algorithm checked).
    #[error("Content-Digest has no sha-256 digest")]
    Unsupported,
    /// The body's SHA-256 differs.
    #[error("the body does not match its Content-Digest")]
    Mismatch,
}

/// Checks `field` (a `Content-Digest` value) against `body`.
pub fn check(field: &[u8], body: &[u8]) -> Result<(), DigestError> {
    let members: Dictionary = Parser::new(field)
        .parse()
        .map_err(|e| DigestError::Malformed(e.to_string()))?;
    let expected = match members.get("sha-256") {
        Some(ListEntry::Item(Item {
            bare_item: BareItem::ByteSequence(bytes),
            ..
        })) => bytes,
        Some(_) => {
            return Err(DigestError::Malformed(
                "sha-256 is not a byte sequence".into(),
            ));
        }
        None => return Err(DigestError::Unsupported),
    };
    let actual = digest(&SHA256, body);
    if bool::from(actual.as_ref().ct_eq(expected.as_slice())) {
        Ok(())
    } else {
        Err(DigestError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9530 §2 and Appendix B: `{"hello": "world"}`.
    const HELLO: &[u8] = b"{\"hello\": \"world\"}";

    #[test]
    fn the_rfc_9530_sha_256_example_matches() {
        assert_eq!(
            content_digest(HELLO),
            "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
        );
        assert_eq!(
            check(
                b"sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:",
                HELLO
            ),
            Ok(())
        );
    }

    #[test]
    fn other_bodies_algorithms_and_shapes_are_refused() {
        let field = content_digest(HELLO);
        assert_eq!(
            check(field.as_bytes(), b"{\"hello\": \"World\"}"),
            Err(DigestError::Mismatch)
        );
        // RFC 9530 Appendix B's sha-512 example: a digest this crate does not check.
        let sha512 = "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:";
        assert_eq!(
            check(sha512.as_bytes(), HELLO),
            Err(DigestError::Unsupported)
        );
        assert!(matches!(
            check(b"sha-256=abc", HELLO),
            Err(DigestError::Malformed(_))
        ));
        assert!(matches!(
            check(b"((", HELLO),
            Err(DigestError::Malformed(_))
        ));
    }
}
