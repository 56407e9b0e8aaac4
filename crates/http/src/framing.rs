//! Message framing of responses, applied the same way on every protocol and every path.
//!
//! hyper applies part of RFC 9110/9112 on HTTP/1.1 (no content after HEAD, 204 or 304)
//! and nothing of it on HTTP/2, where it sends whatever body it is handed; a HEAD answer
//! with content is then a malformed stream (RFC 9113 §8.1.1) that clients reset. So the
//! rules live here, once, and run on every response the server writes — the app's own
//! ([`App`](crate::App) calls [`frame_response`]) and anything a tower layer in front of
//! it answers (the server wraps every body in [`Framed`]):
//!
//! - a response to HEAD, and every 204, 205 and 304, has no content (RFC 9110 §9.3.2,
//!   §15.3.5, §15.3.6, §15.4.5), so over HTTP/2 its HEADERS frame ends the stream;
//! - a HEAD answer keeps the `Content-Length` the GET would have had (the length of the
//!   body the handler produced, or the one it set itself when it produced none; none
//!   for a stream);
//! - 204 and 205 carry no `Content-Length` but what hyper adds (RFC 9110 §8.6), a 304
//!   only one its handler set;
//! - a body of known length is sent with that length, whatever `Content-Length` a
//!   handler wrote (a wrong one would truncate the response on HTTP/1.1 and make the
//!   HTTP/2 stream malformed);
//! - a 1xx status cannot end an exchange: it becomes 500 (hyper does so on HTTP/1.1).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::CONTENT_LENGTH;
use http::{HeaderValue, StatusCode};
use http_body::{Body, Frame, SizeHint};

/// Whether a response to this request carries content, by the rules above; fixes the
/// status and `Content-Length` of `parts` on the way. `size` is the body's size hint.
pub(crate) fn frame_head(head: bool, parts: &mut http::response::Parts, size: &SizeHint) -> bool {
    if parts.status.is_informational() {
        tracing::error!(
            status = parts.status.as_u16(),
            "a 1xx status cannot end an exchange; answering 500"
        );
        parts.status = StatusCode::INTERNAL_SERVER_ERROR;
        parts.headers.remove(CONTENT_LENGTH);
        return false;
    }
    match parts.status {
        StatusCode::NO_CONTENT | StatusCode::RESET_CONTENT => {
            parts.headers.remove(CONTENT_LENGTH);
            return false;
        }
        StatusCode::NOT_MODIFIED => return false,
        _ => {}
    }
    let exact = size.exact();
    if head {
        // The length the GET would have been sent with. An empty body says nothing (it
        // may be one this rule already emptied, or a handler's that knows it answers
        // HEAD): whatever length was set stays.
        if let Some(len) = exact.filter(|&len| len > 0) {
            parts.headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
        }
        return false;
    }
    if let Some(len) = exact {
        let declared = parts.headers.get_all(CONTENT_LENGTH);
        let mut values = declared.iter();
        let agrees = match (values.next(), values.next()) {
            (None, _) => true,
            (Some(value), None) => value.to_str().ok().and_then(|v| v.parse().ok()) == Some(len),
            (Some(_), Some(_)) => false,
        };
        if !agrees {
            tracing::warn!(
                declared = ?parts.headers.get(CONTENT_LENGTH),
                length = len,
                "a handler's Content-Length does not match its body; sending the body's length"
            );
            parts.headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
        }
    }
    true
}

/// Applies [`frame_head`] to a response of the app: a body it may not carry is dropped.
pub(crate) fn frame_response(
    head: bool,
    response: http::Response<crate::ResponseBody>,
) -> http::Response<crate::ResponseBody> {
    let (mut parts, body) = response.into_parts();
    if frame_head(head, &mut parts, &body.size_hint()) {
        http::Response::from_parts(parts, body)
    } else {
        http::Response::from_parts(parts, crate::ResponseBody::empty())
    }
}

pin_project_lite::pin_project! {
    /// Any service's response body, or nothing where the response may carry no content
    /// (the body is dropped at once, which ends an SSE stream).
    #[project = FramedProj]
    pub(crate) enum Framed<B> {
        /// The body, sent as it is.
        Content { #[pin] body: B },
        /// No content: the HTTP/2 HEADERS frame carries END_STREAM.
        Nothing,
    }
}

impl<B: Body> Framed<B> {
    /// Frames `response` to a request (`head`: the request was HEAD).
    pub(crate) fn response(head: bool, response: http::Response<B>) -> http::Response<Self> {
        let (mut parts, body) = response.into_parts();
        let body = if frame_head(head, &mut parts, &body.size_hint()) {
            Framed::Content { body }
        } else {
            Framed::Nothing
        };
        http::Response::from_parts(parts, body)
    }
}

impl<B: Body<Data = Bytes>> Body for Framed<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.project() {
            FramedProj::Content { body } => body.poll_frame(cx),
            FramedProj::Nothing => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Framed::Content { body } => body.is_end_stream(),
            Framed::Nothing => true,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Framed::Content { body } => body.size_hint(),
            Framed::Nothing => SizeHint::with_exact(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(status: u16, content_length: Option<&str>) -> http::response::Parts {
        let mut builder = http::Response::builder().status(status);
        if let Some(value) = content_length {
            builder = builder.header(CONTENT_LENGTH, value);
        }
        builder.body(()).unwrap().into_parts().0
    }

    fn length(parts: &http::response::Parts) -> Option<&str> {
        parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
    }

    #[test]
    fn head_has_no_content_and_the_length_of_the_get() {
        let mut p = parts(404, None);
        assert!(!frame_head(true, &mut p, &SizeHint::with_exact(95)));
        assert_eq!(length(&p), Some("95"));
        // A handler that knows it answers HEAD and produced no body keeps its length.
        let mut p = parts(200, Some("1234"));
        assert!(!frame_head(true, &mut p, &SizeHint::with_exact(0)));
        assert_eq!(length(&p), Some("1234"));
        // A stream of unknown length gets none.
        let mut p = parts(200, None);
        assert!(!frame_head(true, &mut p, &SizeHint::default()));
        assert_eq!(length(&p), None);
    }

    #[test]
    fn no_content_statuses_have_no_content_on_any_method() {
        for status in [204, 205] {
            let mut p = parts(status, Some("2"));
            assert!(!frame_head(false, &mut p, &SizeHint::with_exact(2)));
            assert_eq!(length(&p), None, "{status}");
        }
        let mut p = parts(304, Some("17"));
        assert!(!frame_head(false, &mut p, &SizeHint::with_exact(2)));
        assert_eq!(
            length(&p),
            Some("17"),
            "a 304 keeps the length its handler set"
        );
    }

    #[test]
    fn a_wrong_content_length_is_replaced_by_the_body_length() {
        for declared in ["999", "abc", "1"] {
            let mut p = parts(200, Some(declared));
            assert!(frame_head(false, &mut p, &SizeHint::with_exact(2)));
            assert_eq!(length(&p), Some("2"), "{declared}");
        }
        let mut p = parts(200, Some("2"));
        p.headers.append(CONTENT_LENGTH, HeaderValue::from(3));
        assert!(frame_head(false, &mut p, &SizeHint::with_exact(2)));
        assert_eq!(p.headers.get_all(CONTENT_LENGTH).iter().count(), 1);
        // A stream's declared length is the handler's word.
        let mut p = parts(200, Some("10"));
        assert!(frame_head(false, &mut p, &SizeHint::default()));
        assert_eq!(length(&p), Some("10"));
    }

    #[test]
    fn an_informational_status_cannot_end_an_exchange() {
        let mut p = parts(103, None);
        assert!(!frame_head(false, &mut p, &SizeHint::with_exact(2)));
        assert_eq!(p.status, StatusCode::INTERNAL_SERVER_ERROR);
    }
}
