//! The SIP side of the stream: message framing and keep-alives.

mod framer;

pub use framer::{Event, Framer, KeepAlive, Limits};
