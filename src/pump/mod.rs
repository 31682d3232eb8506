//! The socket helper: one call that moves a session's ciphertext over the
//! gateway's transport (a non-blocking file descriptor, or its own I/O
//! through callbacks) and says which poll events to wait for next and what
//! happened (the handshake completed, plaintext waits, the session ended).
//!
//! Bytes move through a stack buffer. Only bytes received but not yet
//! taken by the session (its receive window is full until the gateway
//! reads plaintext), and ciphertext the transport did not accept (a partial
//! send, EAGAIN), wait in two buffers of the session, freed once empty;
//! nothing is ever dropped.

pub mod buffers;

use buffers::Buffers;

use crate::abi::{siptls_result::*, SIPTLS_WANT_READ, SIPTLS_WANT_WRITE};
use std::io;

use crate::error::{Error, Result};
use crate::session::{Sink, State};

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

/// The stack buffer ciphertext is taken into.
struct SliceSink<'a>(&'a mut [u8], usize);

impl Sink for SliceSink<'_> {
    fn room(&self) -> usize {
        self.0.len() - self.1
    }

    fn put(&mut self, bytes: &[u8]) -> usize {
        let n = bytes.len().min(self.room());
        self.0[self.1..self.1 + n].copy_from_slice(&bytes[..n]);
        self.1 += n;
        n
    }
}

/// Sends what the transport takes now: the bytes sent (all of them once
/// the peer is gone: nothing more can reach it).
fn send(transport: &mut dyn Transport, bytes: &[u8]) -> Result<usize> {
    match transport.send(bytes) {
        Ok(Moved::Bytes(n)) => Ok(n),
        Ok(Moved::Blocked) => Ok(0),
        Ok(Moved::Ended) => Ok(bytes.len()),
        Err(e) => Err(io_error("sending", e)),
    }
}

fn io_error(what: &str, e: io::Error) -> Error {
    Error::new(SIPTLS_ERR_IO, format!("{what}: {e}"))
}

/// Receives and feeds what is there, sends what is pending, and returns
/// the poll events to wait for and the session's events. A session failure
/// is returned after its alert has been sent (as far as the transport
/// takes it).
pub fn pump(state: &mut State, transport: &mut dyn Transport) -> Result<u32> {
    let mut buffers = state.take_buffers();
    let result = pump_with(state, &mut buffers, transport);
    state.put_buffers(buffers);
    result
}

fn pump_with(state: &mut State, b: &mut Buffers, transport: &mut dyn Transport) -> Result<u32> {
    let mut failure = None;
    let mut chunk = [0u8; CHUNK];
    // Receive while the session takes what arrives. Bytes go from the
    // stack buffer straight into the session; only what it cannot take yet
    // waits in `inbound`.
    loop {
        if !b.inbound.is_empty() {
            match state.feed(&b.inbound) {
                Ok((SIPTLS_PEER_CLOSED, _)) => b.inbound.clear(),
                Ok((_, used)) => {
                    b.inbound.drain(..used);
                }
                Err(e) => {
                    failure = Some(e);
                    b.inbound.clear();
                }
            }
            if !b.inbound.is_empty() || failure.is_some() {
                break; // its window is full: the gateway reads plaintext first
            }
        }
        if b.ended || !state.receiving() {
            break;
        }
        match transport.recv(&mut chunk) {
            Ok(Moved::Bytes(n)) => match state.feed(&chunk[..n]) {
                // After close_notify the rest means nothing.
                Ok((SIPTLS_PEER_CLOSED, _)) => break,
                Ok((_, used)) if used < n => {
                    b.inbound.extend_from_slice(&chunk[used..n]);
                    break;
                }
                Ok(_) => {}
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            },
            Ok(Moved::Blocked) => break,
            Ok(Moved::Ended) => b.ended = true,
            Err(e) => return Err(io_error("receiving", e)),
        }
    }
    if b.ended && b.inbound.is_empty() && failure.is_none() && state.receiving() {
        state.transport_closed()?;
    }
    // Send what the transport left last time, then more, from the stack
    // buffer; only what it does not accept waits in `outbound`.
    loop {
        if !b.outbound.is_empty() {
            match send(transport, &b.outbound)? {
                n if n == b.outbound.len() => b.outbound.clear(),
                n => {
                    b.outbound.drain(..n);
                    break;
                }
            }
            continue;
        }
        let mut out = SliceSink(&mut chunk, 0);
        let n = match state.take(&mut out) {
            Ok((SIPTLS_OK, n)) => n,
            _ => break,
        };
        // Taken from the session: kept whatever the transport does.
        let sent = match send(transport, &chunk[..n]) {
            Ok(sent) => sent,
            Err(e) => {
                b.outbound.extend_from_slice(&chunk[..n]);
                return Err(e);
            }
        };
        if sent < n {
            b.outbound.extend_from_slice(&chunk[sent..n]);
            break;
        }
    }
    // An idle connection holds no buffer memory.
    for buffer in [&mut b.inbound, &mut b.outbound] {
        if buffer.is_empty() && buffer.capacity() > 0 {
            *buffer = Vec::new();
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
    Ok(wants | state.events())
}
