//! Length-delimited frames carrying versioned JSON messages.
//!
//! Each frame is a 4-byte big-endian length followed by that many bytes of JSON:
//! `{"v": 1, "m": <message>}`. A frame over the size limit, bytes that are not such JSON,
//! an unknown message type or another protocol version is a [`FrameError`]; the
//! connection that sent it is closed and no other is affected.

use std::marker::PhantomData;

use bytes::{Bytes, BytesMut};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec};

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u16 = 1;

/// Default largest frame: 16 MiB.
pub const DEFAULT_MAX_FRAME: usize = 16 * 1024 * 1024;

/// A frame could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The socket failed, or a frame exceeded the limit.
    #[error("frame transport: {0}")]
    Io(#[from] std::io::Error),
    /// The frame is not a valid message.
    #[error("malformed frame: {0}")]
    Malformed(#[from] serde_json::Error),
    /// The peer speaks another protocol version.
    #[error("unsupported protocol version {0} (this build speaks {PROTOCOL_VERSION})")]
    Version(u16),
}

impl FrameError {
    /// Whether the connection was lost (closed or reset by the peer or the network,
    /// without TLS's `close_notify`) rather than the peer breaking the protocol: a
    /// network fault to log as such, not a protocol violation.
    pub fn is_connection_lost(&self) -> bool {
        use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset, UnexpectedEof};
        matches!(self, FrameError::Io(io) if matches!(io.kind(), UnexpectedEof | ConnectionReset | ConnectionAborted | BrokenPipe))
    }
}

#[derive(Serialize)]
struct OutEnvelope<'m, M> {
    v: u16,
    m: &'m M,
}

#[derive(Deserialize)]
struct InEnvelope<'a> {
    v: u16,
    #[serde(borrow)]
    m: &'a serde_json::value::RawValue,
}

/// Encodes `Out` messages and decodes `In` messages.
#[derive(Debug)]
pub struct FrameCodec<In, Out> {
    frames: LengthDelimitedCodec,
    _types: PhantomData<fn(Out) -> In>,
}

impl<In, Out> FrameCodec<In, Out> {
    /// A codec refusing frames over `max_frame` bytes (both ways).
    pub fn new(max_frame: usize) -> Self {
        FrameCodec {
            frames: LengthDelimitedCodec::builder()
                .max_frame_length(max_frame)
                .new_codec(),
            _types: PhantomData,
        }
    }
}

impl<In: DeserializeOwned, Out> Decoder for FrameCodec<In, Out> {
    type Item = In;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<In>, FrameError> {
        let Some(frame) = self.frames.decode(src)? else {
            return Ok(None);
        };
        let envelope: InEnvelope<'_> = serde_json::from_slice(&frame)?;
        if envelope.v != PROTOCOL_VERSION {
            return Err(FrameError::Version(envelope.v));
        }
        Ok(Some(serde_json::from_str(envelope.m.get())?))
    }
}

impl<In, Out: Serialize> Encoder<Out> for FrameCodec<In, Out> {
    type Error = FrameError;

    fn encode(&mut self, item: Out, dst: &mut BytesMut) -> Result<(), FrameError> {
        let json = serde_json::to_vec(&OutEnvelope {
            v: PROTOCOL_VERSION,
            m: &item,
        })?;
        self.frames.encode(Bytes::from(json), dst)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "type", rename_all = "kebab-case")]
    enum Msg {
        Ping { n: u32 },
        Pong,
    }

    fn codec() -> FrameCodec<Msg, Msg> {
        FrameCodec::new(1024)
    }

    #[test]
    fn split_and_coalesced_frames_decode() {
        let mut buf = BytesMut::new();
        codec().encode(Msg::Ping { n: 1 }, &mut buf).unwrap();
        codec().encode(Msg::Pong, &mut buf).unwrap();
        let all = buf.split();
        let mut decoder = codec();
        let mut input = BytesMut::new();
        let mut out = Vec::new();
        for byte in all.iter() {
            input.extend_from_slice(&[*byte]);
            while let Some(m) = decoder.decode(&mut input).unwrap() {
                out.push(m);
            }
        }
        assert_eq!(out, [Msg::Ping { n: 1 }, Msg::Pong]);
    }

    #[test]
    fn payloads_with_former_separator_bytes_survive() {
        // The original's framing broke on 0x1E/0x1F inside a unit (W14).
        let mut buf = BytesMut::new();
        codec().encode(Msg::Ping { n: 0x1e1f }, &mut buf).unwrap();
        assert_eq!(
            codec().decode(&mut buf).unwrap(),
            Some(Msg::Ping { n: 0x1e1f })
        );
    }

    #[test]
    fn unknown_types_versions_and_oversized_frames_are_errors() {
        let mut raw = LengthDelimitedCodec::new();
        let mut buf = BytesMut::new();
        raw.encode(
            Bytes::from_static(br#"{"v":1,"m":{"type":"explode"}}"#),
            &mut buf,
        )
        .unwrap();
        assert!(matches!(
            codec().decode(&mut buf),
            Err(FrameError::Malformed(_))
        ));

        let mut buf = BytesMut::new();
        raw.encode(
            Bytes::from_static(br#"{"v":9,"m":{"type":"pong"}}"#),
            &mut buf,
        )
        .unwrap();
        assert!(matches!(
            codec().decode(&mut buf),
            Err(FrameError::Version(9))
        ));

        let mut buf = BytesMut::new();
        raw.encode(Bytes::from(vec![b' '; 2048]), &mut buf).unwrap();
        let oversized = codec().decode(&mut buf).unwrap_err();
        assert!(matches!(oversized, FrameError::Io(_)));
        assert!(
            !oversized.is_connection_lost(),
            "an oversized frame is the peer's fault"
        );
    }

    #[test]
    fn a_connection_closed_without_close_notify_is_lost_not_a_protocol_violation() {
        use std::io::{Error, ErrorKind};
        for kind in [
            ErrorKind::UnexpectedEof,
            ErrorKind::ConnectionReset,
            ErrorKind::BrokenPipe,
        ] {
            assert!(FrameError::Io(Error::new(kind, "gone")).is_connection_lost());
        }
        assert!(!FrameError::Io(Error::new(ErrorKind::InvalidData, "bad")).is_connection_lost());
        assert!(!FrameError::Version(9).is_connection_lost());
    }
}
