//! The one place that maps error codes to HTTP statuses, and renders the error body.
//!
//! Body shape (always all four fields, in this order):
//! `{"status": 400, "error": "...", "code": "E_...", "details": [{"path","code","message"}]}`.
//! 5xx errors are logged with their cause chain; their cause is never sent to the client.

use std::error::Error as _;

use bytes::Bytes;
use http::header::{ALLOW, CONTENT_TYPE, HeaderName, HeaderValue};
use http::{Method, Response, StatusCode};
use serde::Serialize;

use crate::body::ResponseBody;
use crate::error::{Detail, HttpError};

/// The status an error answers with. Every code's status is decided here and nowhere else.
pub fn status_of(error: &HttpError) -> StatusCode {
    match error {
        HttpError::NotFound { .. } => StatusCode::NOT_FOUND,
        HttpError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
        HttpError::NotAcceptable { .. } => StatusCode::NOT_ACCEPTABLE,
        HttpError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        HttpError::InvalidTarget { .. }
        | HttpError::InvalidJson { .. }
        | HttpError::BodyRead { .. }
        | HttpError::InvalidParameters { .. }
        | HttpError::InvalidRequestBody { .. } => StatusCode::BAD_REQUEST,
        HttpError::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        HttpError::BodyTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
        HttpError::Status { status, .. } => *status,
        HttpError::Internal { .. }
        | HttpError::InvalidRoute { .. }
        | HttpError::InvalidCondition { .. }
        | HttpError::UnknownDispatcher { .. }
        | HttpError::UnknownMiddleware { .. }
        | HttpError::Specification { .. }
        | HttpError::Tls { .. }
        | HttpError::Bind { .. }
        | HttpError::Listener { .. }
        | HttpError::StreamClosed
        | HttpError::ServerTask { .. } => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The `details` of an error body.
pub fn details_of(error: &HttpError) -> Vec<Detail> {
    match error {
        HttpError::MethodNotAllowed { allow, .. } => vec![Detail::new(
            "/method",
            error.code().to_owned(),
            format!("Supported methods are: {allow}"),
        )],
        HttpError::NotAcceptable { produces } => vec![Detail::new(
            "/header/accept",
            error.code().to_owned(),
            format!("Supported media types are: {}", produces.join(", ")),
        )],
        HttpError::UnsupportedMediaType { consumes, .. } => vec![Detail::new(
            "/header/content-type",
            error.code().to_owned(),
            format!("Supported content types are: {}", consumes.join(", ")),
        )],
        HttpError::InvalidJson { source } => vec![Detail::new(
            "/body",
            error.code().to_owned(),
            source.to_string(),
        )],
        HttpError::InvalidParameters { details, .. }
        | HttpError::InvalidRequestBody { details, .. }
        | HttpError::Status { details, .. } => details.clone(),
        _ => Vec::new(),
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    status: u16,
    error: &'a str,
    code: &'a str,
    details: Vec<Detail>,
}

/// Renders the JSON error body of `error`.
pub fn error_body(error: &HttpError) -> Bytes {
    let status = status_of(error);
    let message;
    let text = if status.is_server_error() && !matches!(error, HttpError::Status { .. }) {
        "The server failed to handle the request"
    } else {
        message = error.to_string();
        message.as_str()
    };
    let body = ErrorBody {
        status: status.as_u16(),
        error: text,
        code: error.code(),
        details: details_of(error),
    };
    // Serialising plain strings and numbers cannot fail; fall back to an empty object anyway.
    serde_json::to_vec(&body).map_or_else(|_| Bytes::from_static(b"{}"), Bytes::from)
}

/// Builds the complete error response: status, headers (`Allow`, `Accept-Post`, ...) and body.
pub(crate) fn error_response(error: &HttpError) -> Response<ResponseBody> {
    let status = status_of(error);
    if status.is_server_error() {
        log_fault(error);
    } else {
        tracing::debug!(code = error.code(), %error, "request rejected");
    }
    let mut response = Response::new(ResponseBody::full(error_body(error)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    match error {
        HttpError::MethodNotAllowed { allow, .. } => {
            if let Ok(value) = HeaderValue::from_str(allow) {
                headers.insert(ALLOW, value);
            }
        }
        HttpError::UnsupportedMediaType {
            method, consumes, ..
        } => {
            let name = if method == Method::PATCH {
                HeaderName::from_static("accept-patch")
            } else {
                HeaderName::from_static("accept-post")
            };
            if let Ok(value) = HeaderValue::from_str(&consumes.join(", ")) {
                headers.insert(name, value);
            }
        }
        HttpError::Status { headers: extra, .. } => {
            for (name, value) in extra.iter() {
                headers.append(name.clone(), value.clone());
            }
        }
        _ => {}
    }
    response
}

fn log_fault(error: &HttpError) {
    let mut chain = String::new();
    let mut cause = error.source();
    while let Some(inner) = cause {
        chain.push_str(" <- ");
        chain.push_str(&inner.to_string());
        cause = inner.source();
    }
    tracing::error!(code = error.code(), %error, cause = %chain, "request failed");
}
