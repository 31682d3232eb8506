//! The socket helper: one call that moves a session's ciphertext over the
//! gateway's transport (a non-blocking file descriptor, or its own I/O
//! through callbacks) and says which poll events to wait for next.
//!
//! Bytes received but not yet taken by the session (its receive window is
//! full until the gateway reads plaintext), and ciphertext taken but not
//! yet accepted by the transport (a partial send, EAGAIN), wait in two
//! buffers of the session, made on first use; nothing is ever dropped.

use std::io;

use crate::error::{siptls_result::*, Error, Result};
use crate::session::{Sink, State};

/// Poll events to wait for (`siptls_session_pump_fd`'s `wants_out`).
pub const SIPTLS_WANT_READ: u32 = 1;
pub const SIPTLS_WANT_WRITE: u32 = 2;

/// What one receive or send on the transport did.
pub enum Moved {
    Bytes(usize),
    /// Would block (EAGAIN, EWOULDBLOCK).
    Blocked,
    /// The peer ended the stream (recv returned 0, or the connection was reset).
    Ended,
}

/// The gateway's transport.
pub trait Transport {
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<Moved>;
    fn send(&mut self, buf: &[u8]) -> io::Result<Moved>;
}

const CHUNK: usize = 16 * 1024;

/// The session's two waiting buffers.
#[derive(Default)]
pub struct Buffers {
    inbound: Vec<u8>,
    outbound: Vec<u8>,
    /// The transport ended; the session is told once `inbound` is fed.
    ended: bool,
}

struct VecSink<'a>(&'a mut Vec<u8>, usize);

impl Sink for VecSink<'_> {
    fn room(&self) -> usize {
        self.1.saturating_sub(self.0.len())
    }

    fn put(&mut self, bytes: &[u8]) -> usize {
        let n = bytes.len().min(self.room());
        self.0.extend_from_slice(&bytes[..n]);
        n
    }
}

fn io_error(what: &str, e: io::Error) -> Error {
    Error::new(SIPTLS_ERR_IO, format!("{what}: {e}"))
}

/// Receives and feeds what is there, sends what is pending, and returns
/// the poll events to wait for. A session failure is returned after its
/// alert has been sent (as far as the transport takes it).
pub fn pump(state: &mut State, transport: &mut dyn Transport) -> Result<u32> {
    let mut buffers = state.take_buffers();
    let result = pump_with(state, &mut buffers, transport);
    state.put_buffers(buffers);
    result
}

fn pump_with(state: &mut State, b: &mut Buffers, transport: &mut dyn Transport) -> Result<u32> {
    let mut failure = None;
    // Receive while the session takes what arrives.
    loop {
        if !b.inbound.is_empty() {
            match state.feed(&b.inbound) {
                Ok((_, used)) => {
                    b.inbound.drain(..used);
                    if !b.inbound.is_empty() {
                        break; // its window is full: the gateway reads plaintext first
                    }
                }
                Err(e) => {
                    failure = Some(e);
                    b.inbound.clear();
                    break;
                }
            }
        }
        if b.ended || !state.receiving() {
            break;
        }
        b.inbound.resize(CHUNK, 0);
        match transport.recv(&mut b.inbound) {
            Ok(Moved::Bytes(n)) => b.inbound.truncate(n),
            Ok(Moved::Blocked) => {
                b.inbound.clear();
                break;
            }
            Ok(Moved::Ended) => {
                b.inbound.clear();
                b.ended = true;
            }
            Err(e) => {
                b.inbound.clear();
                return Err(io_error("receiving", e));
            }
        }
    }
    if b.ended && b.inbound.is_empty() && failure.is_none() && state.receiving() {
        state.transport_closed()?;
    }
    // Send what is pending: what the transport left last time, then more.
    loop {
        if b.outbound.is_empty() {
            if let Ok((SIPTLS_OK, _)) = state.take(&mut VecSink(&mut b.outbound, CHUNK)) {
            } else {
                break;
            }
        }
        match transport.send(&b.outbound) {
            Ok(Moved::Bytes(n)) => {
                b.outbound.drain(..n);
            }
            Ok(Moved::Blocked) => break,
            Ok(Moved::Ended) => {
                b.outbound.clear();
                break;
            }
            Err(e) => return Err(io_error("sending", e)),
        }
    }
    if let Some(e) = failure {
        return Err(e);
    }
    let mut wants = 0;
    if !b.ended && state.receiving() && b.inbound.is_empty() {
        wants |= SIPTLS_WANT_READ;
    }
    if !b.outbound.is_empty() {
        wants |= SIPTLS_WANT_WRITE;
    }
    Ok(wants)
}
