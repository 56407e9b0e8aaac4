//! The channel between spokes and hubs: rustls mutual TLS ([`tls`]), length-delimited
//! versioned JSON frames ([`frame`]), the message enum ([`protocol`]) and connection
//! plumbing ([`conn`]).

pub mod conn;
pub mod frame;
pub mod protocol;
pub mod tls;

pub use conn::{DEFAULT_OUTBOX_CAPACITY, Outbox};
pub use frame::{DEFAULT_MAX_FRAME, FrameCodec, FrameError, PROTOCOL_VERSION};
pub use protocol::Message;
