//! The connection's IO, watched, so its deadlines see what hyper does not tell:
//!
//! - on HTTP/2, the frame headers going both ways (no payload is parsed): a stream is open
//!   from the client's first HEADERS frame until the server has written the frame that
//!   ends it (END_STREAM, or RST_STREAM either way). hyper is done with a response once
//!   it has handed the last chunk to h2, which may still hold it for flow control; the
//!   connection is not idle until that chunk has been written;
//! - on HTTP/2, whether a header block (a HEADERS or PUSH_PROMISE frame and the
//!   CONTINUATION frames up to END_HEADERS) is arriving: hyper sees no stream before the
//!   block is complete, so nothing else would bound one;
//! - on both protocols, a write the client does not take (its socket buffer is full)
//!   counts as open until it goes through, so the tail of a response still on its way to
//!   a slow reader is not cut off as if the connection were idle; and as a stalled
//!   write, which `write_timeout_ms` bounds.

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::activity::{Activity, OpenRequest};

const FRAME_HEADER: usize = 9;
const PREFACE_LEN: usize = 24;

const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;
const PUSH_PROMISE: u8 = 0x5;
const CONTINUATION: u8 = 0x9;

const END_STREAM: u8 = 0x1;
const END_HEADERS: u8 = 0x4;

/// A frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Head {
    pub(crate) kind: u8,
    pub(crate) flags: u8,
    pub(crate) stream: u32,
}

/// What [`FrameReader::feed`] saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seen {
    /// A frame's header has arrived (its payload may not have).
    Started(Head),
    /// A whole frame has arrived.
    Finished(Head),
}

/// Follows the frame boundaries of one direction of an HTTP/2 byte stream.
#[derive(Debug)]
pub(crate) struct FrameReader {
    skip: usize,
    header: [u8; FRAME_HEADER],
    filled: usize,
    payload: usize,
    current: Option<Head>,
}

impl FrameReader {
    /// A reader of frames after `skip` bytes (the client's preface).
    pub(crate) fn new(skip: usize) -> Self {
        Self {
            skip,
            header: [0; FRAME_HEADER],
            filled: 0,
            payload: 0,
            current: None,
        }
    }

    /// Takes in the next bytes and reports the frames they start and finish.
    pub(crate) fn feed(&mut self, mut bytes: &[u8], mut seen: impl FnMut(Seen)) {
        let skip = self.skip.min(bytes.len());
        self.skip -= skip;
        bytes = &bytes[skip..];
        while !bytes.is_empty() {
            if let Some(head) = self.current {
                let n = self.payload.min(bytes.len());
                self.payload -= n;
                bytes = &bytes[n..];
                if self.payload == 0 {
                    self.current = None;
                    seen(Seen::Finished(head));
                }
                continue;
            }
            let n = (FRAME_HEADER - self.filled).min(bytes.len());
            self.header[self.filled..self.filled + n].copy_from_slice(&bytes[..n]);
            self.filled += n;
            bytes = &bytes[n..];
            if self.filled < FRAME_HEADER {
                break;
            }
            self.filled = 0;
            let [a, b, c, kind, flags, s0, s1, s2, s3] = self.header;
            let head = Head {
                kind,
                flags,
                stream: u32::from_be_bytes([s0, s1, s2, s3]) & 0x7fff_ffff,
            };
            self.payload = (usize::from(a) << 16) | (usize::from(b) << 8) | usize::from(c);
            seen(Seen::Started(head));
            if self.payload == 0 {
                seen(Seen::Finished(head));
            } else {
                self.current = Some(head);
            }
        }
    }
}

/// The HTTP/2 state the deadlines need, from the frames both ways.
pub(crate) struct Http2State {
    from_client: FrameReader,
    to_client: FrameReader,
    /// Open streams, each counted as open in the connection's [`Activity`].
    streams: HashMap<u32, OpenRequest>,
    /// The highest stream the client has opened: a HEADERS frame on a lower one is a
    /// trailer block (or an error h2 deals with), not a new stream.
    last_stream: u32,
    in_block: bool,
    block_ends: bool,
}

impl Http2State {
    pub(crate) fn new() -> Self {
        Self {
            from_client: FrameReader::new(PREFACE_LEN),
            to_client: FrameReader::new(0),
            streams: HashMap::new(),
            last_stream: 0,
            in_block: false,
            block_ends: false,
        }
    }

    /// Whether a header block is arriving.
    pub(crate) fn in_block(&self) -> bool {
        self.in_block
    }

    /// How many streams are open.
    #[cfg(test)]
    pub(crate) fn open_streams(&self) -> usize {
        self.streams.len()
    }

    /// Takes in bytes read from the client.
    pub(crate) fn read(&mut self, bytes: &[u8], activity: &Activity) {
        let Self {
            from_client,
            streams,
            last_stream,
            in_block,
            block_ends,
            ..
        } = self;
        from_client.feed(bytes, |seen| match seen {
            Seen::Started(head) => {
                if matches!(head.kind, HEADERS | PUSH_PROMISE | CONTINUATION) {
                    *in_block = true;
                    *block_ends = head.flags & END_HEADERS != 0;
                }
                if head.kind == HEADERS && head.stream > *last_stream {
                    *last_stream = head.stream;
                    streams.insert(head.stream, activity.open());
                }
            }
            Seen::Finished(head) => {
                if *in_block && *block_ends {
                    *in_block = false;
                }
                if head.kind == RST_STREAM {
                    streams.remove(&head.stream);
                }
            }
        });
    }

    /// Takes in bytes written to the client.
    pub(crate) fn wrote(&mut self, bytes: &[u8]) {
        let Self {
            to_client, streams, ..
        } = self;
        to_client.feed(bytes, |seen| {
            if let Seen::Finished(head) = seen {
                let ends = matches!(head.kind, DATA | HEADERS) && head.flags & END_STREAM != 0;
                if ends || head.kind == RST_STREAM {
                    streams.remove(&head.stream);
                }
            }
        });
    }
}

/// The connection's IO, watched (see the module documentation); writes and reads go
/// straight through.
pub(crate) struct Watched<I> {
    inner: I,
    http2: Option<Http2State>,
    activity: Activity,
    blocked: Option<OpenRequest>,
}

impl<I> Watched<I> {
    /// `http2`: whether the bytes are HTTP/2 (starting with the client's preface).
    pub(crate) fn new(inner: I, http2: bool, activity: Activity) -> Self {
        Self {
            inner,
            http2: http2.then(Http2State::new),
            activity,
            blocked: None,
        }
    }

    /// Counts a write the socket did not take as open, and as a stalled write, until
    /// one goes through.
    fn track_blocked<T>(&mut self, polled: &Poll<T>) {
        if polled.is_pending() {
            if self.blocked.is_none() {
                self.blocked = Some(self.activity.open());
                self.activity.write().set(true);
            }
        } else if self.blocked.take().is_some() {
            self.activity.write().set(false);
        }
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for Watched<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Some(state) = &mut this.http2 {
            state.read(&buf.filled()[before..], &this.activity);
            this.activity.header_block().set(state.in_block());
        }
        polled
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Watched<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let (Some(state), Poll::Ready(Ok(n))) = (&mut this.http2, &polled) {
            state.wrote(&buf[..*n]);
        }
        this.track_blocked(&polled);
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if let (Some(state), Poll::Ready(Ok(n))) = (&mut this.http2, &polled) {
            let mut left = *n;
            for buf in bufs {
                let take = left.min(buf.len());
                state.wrote(&buf[..take]);
                left -= take;
                if left == 0 {
                    break;
                }
            }
        }
        this.track_blocked(&polled);
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_flush(cx);
        self.track_blocked(&polled);
        polled
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

    fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let len = payload.len();
        let mut out = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags];
        out.extend_from_slice(&stream.to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    fn blocks_after(chunks: &[&[u8]]) -> Vec<bool> {
        let activity = Activity::new();
        let mut state = Http2State::new();
        chunks
            .iter()
            .map(|chunk| {
                state.read(chunk, &activity);
                state.in_block()
            })
            .collect()
    }

    #[test]
    fn a_header_block_lasts_from_headers_to_end_headers() {
        let settings = frame(0x4, 0, 0, &[]);
        let open = frame(HEADERS, END_STREAM, 1, b"abc");
        let more = frame(CONTINUATION, 0, 1, b"de");
        let last = frame(CONTINUATION, END_HEADERS, 1, b"f");
        let ping = frame(0x6, 0, 0, &[0; 8]);
        assert_eq!(
            blocks_after(&[PREFACE, &settings, &open, &more, &last, &ping]),
            [false, false, true, true, false, false]
        );
    }

    #[test]
    fn a_whole_headers_frame_counts_only_while_its_payload_arrives() {
        let whole = frame(HEADERS, END_HEADERS | END_STREAM, 1, b"abcdef");
        let mut input = PREFACE.to_vec();
        input.extend_from_slice(&whole);
        let (first, rest) = input.split_at(24 + 9 + 2);
        let (middle, last) = rest.split_at(3);
        assert_eq!(blocks_after(&[first, middle, last]), [true, true, false]);
        // Byte by byte, the same.
        let activity = Activity::new();
        let mut state = Http2State::new();
        for byte in &input {
            state.read(std::slice::from_ref(byte), &activity);
        }
        assert!(!state.in_block());
    }

    #[test]
    fn a_stream_is_open_until_the_frame_that_ends_it_is_written() {
        let activity = Activity::new();
        let mut state = Http2State::new();
        let mut input = PREFACE.to_vec();
        input.extend(frame(HEADERS, END_HEADERS | END_STREAM, 1, b"req"));
        input.extend(frame(HEADERS, END_HEADERS, 3, b"req"));
        state.read(&input, &activity);
        assert_eq!(state.open_streams(), 2);
        // Stream 1: response headers, then data ending the stream, written in pieces.
        let mut output = frame(0x4, 0, 0, &[]);
        output.extend(frame(HEADERS, END_HEADERS, 1, b"resp"));
        output.extend(frame(DATA, END_STREAM, 1, b"body"));
        let (head, tail) = output.split_at(output.len() - 2);
        state.wrote(head);
        assert_eq!(state.open_streams(), 2, "the last frame is not written yet");
        state.wrote(tail);
        assert_eq!(state.open_streams(), 1);
        // A trailer block on stream 3 opens nothing new; the client's reset closes it.
        state.read(
            &frame(HEADERS, END_HEADERS | END_STREAM, 3, b"t"),
            &activity,
        );
        assert_eq!(state.open_streams(), 1);
        state.read(&frame(RST_STREAM, 0, 3, &[0, 0, 0, 8]), &activity);
        assert_eq!(state.open_streams(), 0);
        // A refused stream: the server's RST_STREAM closes it.
        state.read(&frame(HEADERS, END_HEADERS, 5, b"req"), &activity);
        state.wrote(&frame(RST_STREAM, 0, 5, &[0, 0, 0, 7]));
        assert_eq!(state.open_streams(), 0);
    }
}
