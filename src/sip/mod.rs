//! The SIP side of the stream: message framing and keep-alives.

mod framer;

pub use framer::{
    Event, Framer, KeepAlive, Limits, SIPTLS_SIP_DEFAULT_BODY_MAX, SIPTLS_SIP_DEFAULT_BUFFERED_MAX,
    SIPTLS_SIP_DEFAULT_HEADER_MAX,
};
