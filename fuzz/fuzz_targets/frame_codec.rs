//! The hub/spoke frame codec (`superhero_eventflow::net::FrameCodec`) on bytes a peer sends:
//! length-delimited, versioned JSON frames of `Message`. Any input must decode to messages
//! or a `FrameError`, never a panic, never an allocation beyond the frame limit.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use superhero_eventflow::net::{FrameCodec, Message};
use tokio_util::codec::Decoder;

/// A small limit, so the fuzzer reaches the "frame too large" path with short inputs.
const MAX_FRAME: usize = 64 * 1024;

fuzz_target!(|data: &[u8]| {
    let mut codec: FrameCodec<Message, Message> = FrameCodec::new(MAX_FRAME);
    let mut buffer = BytesMut::from(data);
    // Decode until the codec wants more bytes or refuses the stream.
    for _ in 0..1_000 {
        match codec.decode(&mut buffer) {
            Ok(Some(_message)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    // The end of the stream, as a closed connection gives it.
    let _ = codec.decode_eof(&mut buffer);
});
