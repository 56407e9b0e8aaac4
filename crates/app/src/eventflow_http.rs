//! Eventflow errors as HTTP answers: the one place that decides which status an
//! eventflow failure gets when a controller meets it.
//!
//! | eventflow | HTTP |
//! | --- | --- |
//! | `E_EVENTFLOW_CONFLICT` (expected version) | 409, the same code |
//! | `E_EVENTFLOW_WAIT_TIMEOUT` | 202 Accepted with `Location` where the outcome will be ([`http_error_at`], [`accepted`]); 504 when no location is known ([`http_error`]) |
//! | store unavailable, busy, or shutting down | 503, `Retry-After: 1` |
//! | anything else | 500 with the eventflow code and a generic message; the cause is logged, never sent |
//!
//! eventflow must not know HTTP and HTTP must not know eventflow, so this mapping lives
//! here, between them.

use std::time::Duration;

use http::StatusCode;
use http::header::{HeaderValue, LOCATION, RETRY_AFTER};
use superhero_eventflow::Error;
use superhero_http::HttpError;

/// How long a client should wait before retrying after a 503.
pub const RETRY_AFTER_UNAVAILABLE: Duration = Duration::from_secs(1);

/// The code of a 202 answer: the outcome is not there yet.
pub const PENDING_CODE: &str = "E_EVENTFLOW_WAIT_TIMEOUT";

/// The HTTP answer for an eventflow error (see the module table).
///
/// ```
/// use superhero_app::eventflow_http::http_error;
/// use superhero_eventflow::Error;
///
/// let busy = Error::Destroyed { what: "spoke" };
/// let answer = http_error(busy);
/// assert_eq!(answer.code(), "E_EVENTFLOW_DESTROYED");
/// assert_eq!(superhero_http::problem::status_of(&answer).as_u16(), 503);
/// ```
pub fn http_error(error: Error) -> HttpError {
    match &error {
        Error::Conflict { .. } => {
            HttpError::status(StatusCode::CONFLICT, error.code(), message_of(&error))
        }
        // A 202 nobody can follow is no answer: without a location, the wait simply
        // took too long.
        Error::WaitTimeout { .. } => HttpError::status(
            StatusCode::GATEWAY_TIMEOUT,
            PENDING_CODE,
            "The outcome did not arrive in time",
        ),
        Error::Unavailable { .. } | Error::Busy { .. } | Error::Destroyed { .. } => {
            tracing::warn!(code = error.code(), %error, "answering 503");
            HttpError::status(
                StatusCode::SERVICE_UNAVAILABLE,
                error.code(),
                "The event store is unavailable; retry later",
            )
            .with_header(
                RETRY_AFTER,
                HeaderValue::from(RETRY_AFTER_UNAVAILABLE.as_secs()),
            )
        }
        _ => HttpError::internal(error.code(), error),
    }
}

/// [`http_error`], except that a wait timeout is 202 Accepted with `Location:
/// location`, where the outcome of the (durable) request will be visible.
///
/// ```
/// use superhero_app::eventflow_http::http_error_at;
/// use superhero_eventflow::Error;
///
/// let timeout = Error::WaitTimeout {
///     domain: "post".into(), pid: "p-1".into(), names: "post-created".into(), timeout_ms: 5,
/// };
/// let answer = http_error_at(timeout, "/posts/p-1");
/// assert_eq!(superhero_http::problem::status_of(&answer).as_u16(), 202);
/// ```
pub fn http_error_at(error: Error, location: &str) -> HttpError {
    match error {
        Error::WaitTimeout { .. } => accepted(location),
        other => http_error(other),
    }
}

/// 202 Accepted with `Location: location`: the request is durable and its outcome will
/// be visible there.
///
/// ```
/// let answer = superhero_app::eventflow_http::accepted("/posts/p-1");
/// assert_eq!(answer.code(), "E_EVENTFLOW_WAIT_TIMEOUT");
/// ```
pub fn accepted(location: &str) -> HttpError {
    let answer = HttpError::status(
        StatusCode::ACCEPTED,
        PENDING_CODE,
        "The request is accepted and still being processed; its outcome will be at the Location",
    );
    match HeaderValue::from_str(location) {
        Ok(value) => answer.with_header(LOCATION, value),
        Err(_) => answer,
    }
}

/// The message without its leading `E_…: ` code.
fn message_of(error: &Error) -> String {
    let text = error.to_string();
    match text.split_once(": ") {
        Some((code, rest)) if code == error.code() => rest.to_owned(),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use superhero_http::problem::{error_body, status_of};

    use super::*;

    fn header<'e>(answer: &'e HttpError, name: &str) -> Option<&'e str> {
        match answer {
            HttpError::Status { headers, .. } => headers.get(name)?.to_str().ok(),
            _ => None,
        }
    }

    fn body(answer: &HttpError) -> serde_json::Value {
        serde_json::from_slice(&error_body(answer)).unwrap()
    }

    #[test]
    fn a_conflict_is_409_with_its_code() {
        let answer = http_error(Error::Conflict {
            domain: "order".into(),
            pid: "o-1".into(),
            expected: 1,
            actual: 2,
        });
        assert_eq!(status_of(&answer), StatusCode::CONFLICT);
        let body = body(&answer);
        assert_eq!(body["code"], "E_EVENTFLOW_CONFLICT");
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .starts_with("stream order/o-1")
        );
    }

    fn timeout() -> Error {
        Error::WaitTimeout {
            domain: "post".into(),
            pid: "p-1".into(),
            names: "post-created".into(),
            timeout_ms: 5,
        }
    }

    #[test]
    fn a_wait_timeout_is_202_with_the_location_and_504_without_one() {
        let answer = http_error_at(timeout(), "/posts/p-1");
        assert_eq!(status_of(&answer), StatusCode::ACCEPTED);
        assert_eq!(answer.code(), PENDING_CODE);
        assert_eq!(header(&answer, "location"), Some("/posts/p-1"));
        let bare = http_error(timeout());
        assert_eq!(status_of(&bare), StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(header(&bare, "location"), None);
    }

    #[test]
    fn a_store_that_cannot_take_work_is_503_with_retry_after() {
        let answer = http_error(Error::Destroyed { what: "spoke" });
        assert_eq!(status_of(&answer), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(header(&answer, "retry-after"), Some("1"));
        assert_eq!(body(&answer)["code"], "E_EVENTFLOW_DESTROYED");
    }

    #[test]
    fn anything_else_is_500_without_internals() {
        let answer = http_error(Error::Io {
            operation: "read the secret file /etc/cluster.secret".into(),
            source: std::io::Error::other("permission denied"),
        });
        assert_eq!(status_of(&answer), StatusCode::INTERNAL_SERVER_ERROR);
        let body = body(&answer);
        assert_eq!(body["code"], "E_EVENTFLOW_IO");
        let text = body.to_string();
        assert!(
            !text.contains("/etc/cluster.secret") && !text.contains("permission"),
            "{text}"
        );
    }
}
