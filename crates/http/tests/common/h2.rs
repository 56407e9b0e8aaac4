//! A raw HTTP/2 client for tests that must see the frames themselves (END_STREAM on a
//! HEADERS frame, a GOAWAY's error code) or send what no well-behaved client would (a
//! header block that never ends, silence after the handshake).
//!
//! Requests are encoded with HPACK literals without indexing, so no table is kept;
//! responses' header blocks are not decoded (use the kit's hyper client for headers).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The client connection preface.
pub const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

pub const DATA: u8 = 0x0;
pub const HEADERS: u8 = 0x1;
pub const RST_STREAM: u8 = 0x3;
pub const SETTINGS: u8 = 0x4;
pub const PING: u8 = 0x6;
pub const GOAWAY: u8 = 0x7;
pub const WINDOW_UPDATE: u8 = 0x8;
pub const CONTINUATION: u8 = 0x9;

pub const END_STREAM: u8 = 0x1;
pub const ACK: u8 = 0x1;
pub const END_HEADERS: u8 = 0x4;

/// One frame as it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub kind: u8,
    pub flags: u8,
    pub stream: u32,
    pub payload: Vec<u8>,
}

impl Frame {
    /// The error code of a GOAWAY frame.
    pub fn goaway_error(&self) -> Option<u32> {
        (self.kind == GOAWAY && self.payload.len() >= 8)
            .then(|| u32::from_be_bytes(self.payload[4..8].try_into().unwrap()))
    }

    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// One raw HTTP/2 connection.
pub struct RawH2 {
    pub stream: TcpStream,
}

impl RawH2 {
    /// Connects and sends the preface and an empty SETTINGS frame.
    pub async fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).await.expect("connects");
        let mut raw = Self { stream };
        raw.stream.write_all(PREFACE).await.expect("writes");
        raw.send(SETTINGS, 0, 0, &[]).await;
        raw
    }

    /// [`connect`](Self::connect), then waits for the server's SETTINGS and acknowledges
    /// them: the connection is established.
    pub async fn handshake(addr: SocketAddr) -> Self {
        let mut raw = Self::connect(addr).await;
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(10), raw.read_frame())
                .await
                .expect("the server's SETTINGS in time")
                .expect("the server's SETTINGS");
            if frame.kind == SETTINGS && !frame.has(ACK) {
                raw.send(SETTINGS, ACK, 0, &[]).await;
                return raw;
            }
        }
    }

    /// Writes one frame.
    pub async fn send(&mut self, kind: u8, flags: u8, stream: u32, payload: &[u8]) {
        let len = payload.len();
        let mut bytes = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags];
        bytes.extend_from_slice(&(stream & 0x7fff_ffff).to_be_bytes());
        bytes.extend_from_slice(payload);
        self.stream.write_all(&bytes).await.expect("writes a frame");
    }

    /// Sends a request without a body on `stream` (one HEADERS frame with END_HEADERS and
    /// END_STREAM).
    pub async fn request(&mut self, stream: u32, method: &str, path: &str) {
        let block = hpack(&[
            (":method", method),
            (":scheme", "http"),
            (":path", path),
            (":authority", "localhost"),
        ]);
        self.send(HEADERS, END_HEADERS | END_STREAM, stream, &block)
            .await;
    }

    /// Reads one frame; `None` at EOF or on a reset.
    pub async fn read_frame(&mut self) -> Option<Frame> {
        let mut header = [0u8; 9];
        self.stream.read_exact(&mut header).await.ok()?;
        let len =
            (usize::from(header[0]) << 16) | (usize::from(header[1]) << 8) | usize::from(header[2]);
        let mut payload = vec![0u8; len];
        self.stream.read_exact(&mut payload).await.ok()?;
        Some(Frame {
            kind: header[3],
            flags: header[4],
            stream: u32::from_be_bytes(header[5..9].try_into().unwrap()) & 0x7fff_ffff,
            payload,
        })
    }

    /// Reads one frame as a live client would: acknowledges SETTINGS, and PINGs when
    /// `answer_pings`.
    pub async fn next_frame(&mut self, answer_pings: bool) -> Option<Frame> {
        let frame = self.read_frame().await?;
        if frame.kind == SETTINGS && !frame.has(ACK) {
            let _ = self.try_send(SETTINGS, ACK, 0, &[]).await;
        }
        if answer_pings && frame.kind == PING && !frame.has(ACK) {
            let _ = self.try_send(PING, ACK, 0, &frame.payload).await;
        }
        Some(frame)
    }

    /// Writes one frame; the error if the connection is gone.
    pub async fn try_send(
        &mut self,
        kind: u8,
        flags: u8,
        stream: u32,
        payload: &[u8],
    ) -> std::io::Result<()> {
        let len = payload.len();
        let mut bytes = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags];
        bytes.extend_from_slice(&stream.to_be_bytes());
        bytes.extend_from_slice(payload);
        self.stream.write_all(&bytes).await
    }

    /// Reads frames (see [`next_frame`](Self::next_frame)) until the server closes the
    /// connection (`true`) or `wait` has passed (`false`).
    pub async fn frames_until_closed(
        &mut self,
        answer_pings: bool,
        wait: Duration,
    ) -> (Vec<Frame>, bool) {
        let deadline = tokio::time::Instant::now() + wait;
        let mut frames = Vec::new();
        loop {
            match tokio::time::timeout_at(deadline, self.next_frame(answer_pings)).await {
                Err(_) => return (frames, false),
                Ok(None) => return (frames, true),
                Ok(Some(frame)) => frames.push(frame),
            }
        }
    }

    /// Reads frames until the response on `stream` ends (a frame with END_STREAM, or
    /// RST_STREAM) and returns that stream's frames; panics after `wait`.
    pub async fn response(&mut self, stream: u32, wait: Duration) -> Vec<Frame> {
        let mut frames = Vec::new();
        loop {
            let frame = tokio::time::timeout(wait, self.next_frame(true))
                .await
                .expect("the response in time")
                .expect("the connection stays open");
            if frame.stream != stream {
                continue;
            }
            let last = (matches!(frame.kind, DATA | HEADERS) && frame.has(END_STREAM))
                || frame.kind == RST_STREAM;
            frames.push(frame);
            if last {
                return frames;
            }
        }
    }
}

/// An HPACK block of literal fields without indexing, new names, no Huffman coding.
pub fn hpack(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut block = Vec::new();
    for (name, value) in fields {
        block.push(0x00);
        string(&mut block, name.as_bytes());
        string(&mut block, value.as_bytes());
    }
    block
}

fn string(block: &mut Vec<u8>, bytes: &[u8]) {
    // A 7-bit prefix integer (RFC 7541 §5.1), Huffman flag off.
    let mut len = bytes.len();
    if len < 127 {
        block.push(len as u8);
    } else {
        block.push(127);
        len -= 127;
        while len >= 128 {
            block.push((len % 128) as u8 | 0x80);
            len /= 128;
        }
        block.push(len as u8);
    }
    block.extend_from_slice(bytes);
}
