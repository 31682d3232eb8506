//! Cutting a SIP byte stream into messages (RFC 3261 section 18.3: over a
//! stream, Content-Length says where the body ends) and recognising RFC
//! 5626 keep-alives between messages. Independent of TLS: it frames the
//! plaintext of a session as well as plain TCP.
//!
//! Rules: CRLF line ends (a bare LF is malformed); CRLFs before a message
//! are skipped (section 7.5), except that in the server role a CRLF CRLF
//! there is a keep-alive ping (answered with one CRLF when pongs are on)
//! and in the client role each CRLF there is the pong to one of ours. The
//! header block ends at CRLF CRLF; header names are case-insensitive, `l`
//! is Content-Length's compact form, linear whitespace around the colon and
//! obsolete line folding are accepted. A message needs exactly one
//! Content-Length of plain decimal digits. Every failure is final: the
//! stream's framing is lost, and the connection must be closed.

use crate::abi::{
    siptls_result::*, SIPTLS_SIP_DEFAULT_BODY_MAX, SIPTLS_SIP_DEFAULT_BUFFERED_MAX,
    SIPTLS_SIP_DEFAULT_HEADER_MAX,
};
use crate::error::{Error, Result};

/// Limits a framer enforces (`siptls_framer_limits`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Start line and headers, the blank line included.
    pub header_max: usize,
    pub body_max: usize,
    /// Bytes held at once (a message being assembled and what follows it).
    pub buffered_max: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_max: SIPTLS_SIP_DEFAULT_HEADER_MAX,
            body_max: SIPTLS_SIP_DEFAULT_BODY_MAX,
            buffered_max: SIPTLS_SIP_DEFAULT_BUFFERED_MAX,
        }
    }
}

/// Which end of the keep-alive exchange the framer reads for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepAlive {
    /// Receives pings (CRLF CRLF); answers with a pong when `pong` is set.
    Server { pong: bool },
    /// Receives pongs (CRLF) to its own pings.
    Client,
}

/// One thing found in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A whole message at `offset..offset + header_len + body_len` of the
    /// framer's buffer (valid until the framer is next used).
    Message {
        offset: usize,
        header_len: usize,
        body_len: usize,
    },
    Ping,
    Pong,
}

/// What is known of the message at `start`, kept until it is taken out,
/// so that each call looks only at the bytes that arrived since the last.
enum Progress {
    /// No header end within this many bytes past `start`.
    Searched(usize),
    /// The header block is whole and valid; the body may still be arriving.
    Framed { header_len: usize, body_len: usize },
}

pub struct Framer {
    limits: Limits,
    keepalive: KeepAlive,
    buf: Vec<u8>,
    /// Where the next message starts: bytes before it are done with.
    start: usize,
    progress: Progress,
    /// Pongs to send (one CRLF each).
    pongs: usize,
    failure: Option<Error>,
    /// Bytes the header search and the header parse looked at, for the
    /// tests that bound the work per byte pushed.
    #[cfg(test)]
    bytes_scanned: usize,
}

fn framing_error(code: crate::abi::siptls_result, detail: String) -> Error {
    Error::new(code, detail)
}

impl Framer {
    pub fn new(limits: Limits, keepalive: KeepAlive) -> Result<Self> {
        if limits.header_max < 16
            || limits.buffered_max < limits.header_max
            || limits.body_max > limits.buffered_max
        {
            return Err(Error::new(
                SIPTLS_ERR_INVALID_ARGUMENT,
                format!(
                    "framer limits: header_max {} (at least 16), body_max {} and buffered_max {} (at least either)",
                    limits.header_max, limits.body_max, limits.buffered_max
                ),
            ));
        }
        Ok(Self {
            limits,
            keepalive,
            buf: Vec::new(),
            start: 0,
            progress: Progress::Searched(0),
            pongs: 0,
            failure: None,
            #[cfg(test)]
            bytes_scanned: 0,
        })
    }

    fn usable(&self) -> Result<()> {
        match &self.failure {
            Some(e) => Err(Error::new(
                SIPTLS_ERR_WRONG_STATE,
                format!(
                    "framing failed earlier ({}): {}; close the connection",
                    e.code as u32, e.detail
                ),
            )),
            None => Ok(()),
        }
    }

    fn fail(&mut self, e: Error) -> Error {
        self.failure = Some(e.clone());
        e
    }

    /// Takes stream bytes; returns how many it took (less than all once
    /// `buffered_max` bytes are held: take messages out, then push the rest).
    pub fn push(&mut self, data: &[u8]) -> Result<usize> {
        self.usable()?;
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        let room = self.limits.buffered_max.saturating_sub(self.buf.len());
        let n = room.min(data.len());
        self.buf.extend_from_slice(&data[..n]);
        Ok(n)
    }

    /// Where the buffer lives, its spare room included: a push moves it
    /// and may reallocate it, so pushed bytes must come from elsewhere.
    pub fn memory(&self) -> std::ops::Range<*const u8> {
        let start = self.buf.as_ptr();
        start..start.wrapping_add(self.buf.capacity())
    }

    /// The bytes of a message `next` returned.
    pub fn bytes(&self, offset: usize, len: usize) -> &[u8] {
        &self.buf[offset..offset + len]
    }

    /// Pongs queued for sending; taking them empties the queue.
    pub fn take_pongs(&mut self) -> usize {
        std::mem::take(&mut self.pongs)
    }

    /// The next whole message or keep-alive, `None` until one is complete.
    pub fn next(&mut self) -> Result<Option<Event>> {
        self.usable()?;
        let result = self.scan();
        result.map_err(|e| self.fail(e))
    }

    fn scan(&mut self) -> Result<Option<Event>> {
        // Keep-alives and stray CRLFs between messages.
        loop {
            let rest = &self.buf[self.start..];
            match (self.keepalive, rest) {
                (KeepAlive::Server { pong }, [b'\r', b'\n', b'\r', b'\n', ..]) => {
                    self.start += 4;
                    if pong {
                        self.pongs += 1;
                    }
                    return Ok(Some(Event::Ping));
                }
                // A CRLF that may yet become a ping: wait for the next bytes.
                (KeepAlive::Server { .. }, [b'\r'] | [b'\r', b'\n'] | [b'\r', b'\n', b'\r']) => {
                    return Ok(None)
                }
                (KeepAlive::Server { .. }, [b'\r', b'\n', ..]) => {
                    self.start += 2;
                    self.progress = Progress::Searched(0);
                }
                (KeepAlive::Client, [b'\r', b'\n', ..]) => {
                    self.start += 2;
                    return Ok(Some(Event::Pong));
                }
                (KeepAlive::Client, [b'\r']) => return Ok(None),
                (_, [b'\r', ..] | [b'\n', ..]) => {
                    return Err(framing_error(
                        SIPTLS_ERR_SIP_MALFORMED,
                        "a CR or LF that is not part of a CRLF between messages".into(),
                    ))
                }
                (_, []) => return Ok(None),
                _ => break,
            }
        }
        let Some((header_len, body_len)) = self.framed()? else {
            return Ok(None);
        };
        let message_len = header_len + body_len;
        if self.buf.len() - self.start < message_len {
            return Ok(None);
        }
        let offset = self.start;
        self.start += message_len;
        self.progress = Progress::Searched(0);
        Ok(Some(Event::Message {
            offset,
            header_len,
            body_len,
        }))
    }

    /// The header and body lengths of the message at `start` once its
    /// header block is whole, within the limits (so their sum cannot
    /// overflow). The block is searched and parsed once, then remembered.
    fn framed(&mut self) -> Result<Option<(usize, usize)>> {
        let searched = match self.progress {
            Progress::Framed {
                header_len,
                body_len,
            } => return Ok(Some((header_len, body_len))),
            Progress::Searched(searched) => searched,
        };
        let rest = &self.buf[self.start..];
        // The end may straddle what was searched: step back three bytes.
        let from = searched.saturating_sub(3);
        let end = find(&rest[from..], b"\r\n\r\n").map(|at| from + at + 4);
        #[cfg(test)]
        {
            self.bytes_scanned += end.unwrap_or(rest.len()) - from;
        }
        let Some(header_len) = end else {
            self.progress = Progress::Searched(rest.len());
            // A header block is at most header_max bytes, its end included.
            if rest.len() >= self.limits.header_max {
                return Err(framing_error(
                    SIPTLS_ERR_SIP_HEADER_TOO_LARGE,
                    format!(
                        "no end of the header block within {} bytes",
                        self.limits.header_max
                    ),
                ));
            }
            return Ok(None);
        };
        if header_len > self.limits.header_max {
            return Err(framing_error(
                SIPTLS_ERR_SIP_HEADER_TOO_LARGE,
                format!(
                    "a header block of {header_len} bytes, more than the {} allowed",
                    self.limits.header_max
                ),
            ));
        }
        #[cfg(test)]
        {
            self.bytes_scanned += header_len - 2;
        }
        let body_len = content_length(&rest[..header_len - 2])?;
        if body_len > self.limits.body_max as u64 {
            return Err(framing_error(
                SIPTLS_ERR_SIP_BODY_TOO_LARGE,
                format!(
                    "Content-Length {body_len}, more than the {} allowed",
                    self.limits.body_max
                ),
            ));
        }
        // Checked: with limits near SIZE_MAX, a huge Content-Length must
        // not wrap into a short message.
        let Some(body_len) = usize::try_from(body_len).ok().filter(|&body| {
            header_len
                .checked_add(body)
                .is_some_and(|total| total <= self.limits.buffered_max)
        }) else {
            return Err(framing_error(
                SIPTLS_ERR_SIP_BODY_TOO_LARGE,
                format!(
                    "a message of {} bytes, more than the {} the framer holds",
                    (header_len as u64).saturating_add(body_len),
                    self.limits.buffered_max
                ),
            ));
        };
        self.progress = Progress::Framed {
            header_len,
            body_len,
        };
        Ok(Some((header_len, body_len)))
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The one Content-Length of a header block (start line and header lines,
/// each ending in CRLF).
fn content_length(block: &[u8]) -> Result<u64> {
    let malformed = |why: String| Error::new(SIPTLS_ERR_SIP_MALFORMED, why);
    let text = std::str::from_utf8(block)
        .map_err(|_| malformed("the header block is not UTF-8".into()))?;
    if text.replace("\r\n", "").contains(['\r', '\n']) {
        return Err(malformed("a bare CR or LF: SIP lines end in CRLF".into()));
    }
    let mut lines = text.split_terminator("\r\n");
    let start = lines.next().unwrap_or_default();
    let response = start.starts_with("SIP/2.0 ");
    let request = start.ends_with(" SIP/2.0") && start.split(' ').count() == 3;
    if !response && !request {
        return Err(malformed(format!(
            "the first line is neither a request line nor a status line: '{}'",
            start.chars().take(60).collect::<String>()
        )));
    }
    // Unfold: a line starting with whitespace continues the one before.
    let mut headers: Vec<String> = Vec::new();
    for line in lines {
        match (line.starts_with([' ', '\t']), headers.last_mut()) {
            (true, Some(previous)) => {
                previous.push(' ');
                previous.push_str(line.trim());
            }
            (true, None) => return Err(malformed("a folded line before any header".into())),
            (false, _) => headers.push(line.to_string()),
        }
    }
    let mut found: Option<u64> = None;
    for header in &headers {
        let (name, value) = header.split_once(':').ok_or_else(|| {
            malformed(format!(
                "a header line without a colon: '{}'",
                header.chars().take(60).collect::<String>()
            ))
        })?;
        let name = name.trim_end_matches([' ', '\t']);
        if !(name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("l")) {
            continue;
        }
        let value = value.trim_matches([' ', '\t']);
        let bad = |why: &str| {
            Error::new(
                SIPTLS_ERR_SIP_BAD_CONTENT_LENGTH,
                format!("Content-Length '{value}': {why}"),
            )
        };
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("not a decimal number"));
        }
        let length = value.parse::<u64>().map_err(|_| bad("too large"))?;
        if found.is_some() {
            return Err(bad("a second Content-Length"));
        }
        found = Some(length);
    }
    found.ok_or_else(|| {
        Error::new(
            SIPTLS_ERR_SIP_NO_CONTENT_LENGTH,
            "no Content-Length: over a stream it is required (RFC 3261 section 18.3)",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTIONS: &[u8] = b"OPTIONS sip:gw.example.test SIP/2.0\r\nVia: SIP/2.0/TLS a.example.test;branch=z9hG4bK1\r\nl: 0\r\n\r\n";

    fn server() -> Framer {
        Framer::new(Limits::default(), KeepAlive::Server { pong: true }).unwrap()
    }

    #[test]
    fn a_stream_split_at_every_position_gives_the_same_events() {
        let stream = [b"\r\n\r\n".as_slice(), OPTIONS, b"\r\n", OPTIONS].concat();
        for cut in 0..=stream.len() {
            let mut f = server();
            let mut events = Vec::new();
            for part in [&stream[..cut], &stream[cut..]] {
                assert_eq!(f.push(part).unwrap(), part.len());
                while let Some(e) = f.next().unwrap() {
                    events.push(e);
                }
            }
            assert_eq!(events.len(), 3, "cut at {cut}: {events:?}");
            assert_eq!(events[0], Event::Ping);
            assert!(
                matches!(events[2], Event::Message { header_len, body_len: 0, .. } if header_len == OPTIONS.len())
            );
            assert_eq!(f.take_pongs(), 1);
        }
    }

    /// A request whose header block (its end included) is `header_len`
    /// bytes, with a body of `body_len`.
    fn request(header_len: usize, body_len: usize) -> Vec<u8> {
        let mut text =
            format!("OPTIONS sip:gw.example.test SIP/2.0\r\nContent-Length: {body_len}\r\nX-Pad: ")
                .into_bytes();
        text.resize(header_len - 4, b'p');
        text.extend_from_slice(b"\r\n\r\n");
        text.resize(header_len + body_len, b'b');
        text
    }

    /// Each byte is searched for the header end at most four times (an end
    /// may straddle pushes, so a search starts three bytes back) and parsed
    /// once; body bytes are not looked at.
    const LOOKS_PER_BYTE: usize = 5;

    /// Pushes the pieces one by one, taking the events after each, and
    /// checks after each that the framer looked at no more than
    /// LOOKS_PER_BYTE times the bytes pushed so far. Returns each
    /// message's header and body lengths.
    fn framed_with_bounded_work<'a>(
        pieces: impl IntoIterator<Item = &'a [u8]>,
    ) -> Vec<(usize, usize)> {
        let mut f = server();
        let (mut pushed, mut messages) = (0, Vec::new());
        for piece in pieces {
            assert_eq!(f.push(piece).unwrap(), piece.len());
            pushed += piece.len();
            while let Some(event) = f.next().unwrap() {
                let Event::Message {
                    header_len,
                    body_len,
                    ..
                } = event
                else {
                    panic!("not a message: {event:?}");
                };
                messages.push((header_len, body_len));
            }
            assert!(
                f.bytes_scanned <= LOOKS_PER_BYTE * pushed,
                "{} bytes looked at for {pushed} pushed",
                f.bytes_scanned
            );
        }
        messages
    }

    #[test]
    fn a_body_arriving_a_byte_at_a_time_does_not_reparse_the_header() {
        let big = request(SIPTLS_SIP_DEFAULT_HEADER_MAX, 65000);
        assert_eq!(
            framed_with_bounded_work(big.chunks(1)),
            [(SIPTLS_SIP_DEFAULT_HEADER_MAX, 65000)]
        );
    }

    #[test]
    fn the_work_per_byte_stays_bounded_at_the_edges() {
        let empty_body = request(SIPTLS_SIP_DEFAULT_HEADER_MAX, 0);
        assert_eq!(
            framed_with_bounded_work(empty_body.chunks(1)),
            [(SIPTLS_SIP_DEFAULT_HEADER_MAX, 0)],
            "a zero-length body"
        );
        let whole_body = request(4000, 30000);
        let pieces = whole_body[..4000].chunks(1).chain([&whole_body[4000..]]);
        assert_eq!(
            framed_with_bounded_work(pieces),
            [(4000, 30000)],
            "a body in one push"
        );
        // The push that completes the first body brings the second's whole
        // header block: what was kept of the first must not frame the second.
        let (first, second) = (request(3000, 20000), request(500, 7));
        let stream = [&first[..], &second].concat();
        let (first_half, into_second_body) = (first.len() - 10000, first.len() + 503);
        let pieces = stream[..first_half]
            .chunks(1)
            .chain([&stream[first_half..into_second_body]])
            .chain(stream[into_second_body..].chunks(1));
        assert_eq!(
            framed_with_bounded_work(pieces),
            [(3000, 20000), (500, 7)],
            "back to back"
        );
    }
}
