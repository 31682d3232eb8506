//! What every stack is asked to do, and how a figure is measured: cases,
//! the `Stack` trait, rounds, medians and spreads, heap in use.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use siptls_certgen::Issued;

use crate::pki::{Key, Pki};

/// The size of a socket read or write in the pump loops: every stack moves
/// ciphertext through a buffer of this size, like a gateway's socket loop.
pub const CHUNK: usize = 16 * 1024;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Version {
    Tls12,
    Tls13,
}

/// One handshake case: what every stack is configured for.
#[derive(Clone, Copy, Debug)]
pub struct Case {
    pub version: Version,
    pub key: Key,
    /// Each handshake resumes the session of the one before (tickets on
    /// both sides); otherwise resumption is off everywhere.
    pub resumed: bool,
}

impl Case {
    pub fn name(&self) -> String {
        format!(
            "{} TLS 1.{} {}",
            if self.resumed { "resumed" } else { "full" },
            if self.version == Version::Tls13 { 3 } else { 2 },
            self.key.name()
        )
    }
}

/// One implementation under test, configured for one case: makes connected
/// pairs and moves bytes. `Sync`: the thread-scaling run shares one
/// configuration between threads, as a gateway shares one context.
pub trait Stack: Sized + Sync {
    type Pair;
    const NAME: &'static str;
    /// Configured for `case`, with resumption on or off as it says.
    fn new(pki: &Pki, case: Case) -> Self;
    /// From now on, every handshake must resume (or must not).
    fn expect_resumed(&mut self, resumed: bool);
    /// Configured, and in a resumption case holding a session to resume.
    fn ready(pki: &Pki, case: Case) -> Self {
        let mut stack = Self::new(pki, case);
        drop(stack.connect());
        stack.expect_resumed(case.resumed);
        stack
    }
    /// First contact: each handshake from now on presents the next of
    /// `clients` (certificates the server has never seen), each once.
    fn present(&mut self, pki: &Pki, clients: &[Issued]);
    /// A fresh client/server pair with the handshake completed; panics if
    /// it did not resume when the case says it must, or did when it must not.
    fn connect(&self) -> Self::Pair;
    /// The client writes plaintext; returns how much was taken.
    fn send(&self, pair: &mut Self::Pair, data: &[u8]) -> usize;
    /// Moves the ciphertext waiting on the client into the server, through
    /// the pump buffer `buf`.
    fn deliver(&self, pair: &mut Self::Pair, buf: &mut [u8]);
    /// The server reads all the plaintext waiting, through `sink`, with as
    /// few calls as its API allows; returns how much (0: none was waiting).
    fn receive(&self, pair: &mut Self::Pair, sink: &mut [u8]) -> usize;
}

/// Sends `total` bytes client -> server in writes of `write` bytes, the
/// server reading after each; returns the bytes the server read.
fn transfer<S: Stack>(stack: &S, pair: &mut S::Pair, total: usize, write: usize) -> usize {
    let data = vec![0x5au8; write];
    let (mut buf, mut sink) = (vec![0u8; 2 * CHUNK], vec![0u8; CHUNK]);
    let (mut sent, mut received) = (0, 0);
    while received < total {
        if sent < total {
            sent += stack.send(pair, &data[..write.min(total - sent)]);
        }
        stack.deliver(pair, &mut buf);
        received += stack.receive(pair, &mut sink);
    }
    received
}

/// First-contact clients, handed out in order, each once: a second use
/// would let a stack that remembers what it verified skip the work.
pub struct Rotation<T> {
    items: Vec<T>,
    next: AtomicUsize,
}

impl<T> Default for Rotation<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            next: AtomicUsize::new(0),
        }
    }
}

impl<T> Rotation<T> {
    pub fn new(items: Vec<T>) -> Self {
        Self {
            items,
            next: AtomicUsize::new(0),
        }
    }

    /// The next client, or None when first contact is off.
    pub fn take(&self) -> Option<&T> {
        if self.items.is_empty() {
            return None;
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        Some(
            self.items
                .get(i)
                .expect("every first-contact client was used once already"),
        )
    }

    /// Every client, to free them.
    pub fn drain(&mut self) -> std::vec::Drain<'_, T> {
        self.items.drain(..)
    }
}

/// What one round measures.
#[derive(Clone, Copy)]
pub enum Measure {
    Handshakes(usize),
    /// Megabytes client -> server, in writes of this many bytes.
    Bulk {
        megabytes: usize,
        write: usize,
    },
    /// Reads on an established connection with nothing waiting, per
    /// second: what one call into the stack costs on its own.
    EmptyReads(usize),
}

impl Measure {
    pub fn run<S: Stack>(self, stack: &S) -> f64 {
        match self {
            Measure::Handshakes(n) => {
                let start = Instant::now();
                for _ in 0..n {
                    drop(stack.connect());
                }
                n as f64 / secs(start.elapsed())
            }
            Measure::Bulk { megabytes, write } => {
                let mut pair = stack.connect();
                let total = megabytes * 1024 * 1024;
                let start = Instant::now();
                let received = transfer(stack, &mut pair, total, write);
                let elapsed = start.elapsed();
                assert_eq!(received, total, "{}: bytes lost", S::NAME);
                megabytes as f64 / secs(elapsed)
            }
            Measure::EmptyReads(n) => {
                let mut pair = stack.connect();
                let mut sink = vec![0u8; CHUNK];
                let start = Instant::now();
                for _ in 0..n {
                    assert_eq!(stack.receive(&mut pair, &mut sink), 0, "{}", S::NAME);
                }
                n as f64 / secs(start.elapsed())
            }
        }
    }
}

pub fn secs(d: Duration) -> f64 {
    d.as_secs_f64().max(1e-9)
}

/// One figure's rounds: the median and the spread.
#[derive(Clone, Default)]
pub struct Figure(pub Vec<f64>);

impl Figure {
    pub fn median(&self) -> f64 {
        let mut v = self.0.clone();
        v.sort_by(f64::total_cmp);
        match v.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => v[n / 2],
            n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
        }
    }

    /// NaN when nothing was measured (a stack `--stack` left out).
    pub fn min(&self) -> f64 {
        self.0.iter().copied().reduce(f64::min).unwrap_or(f64::NAN)
    }

    pub fn max(&self) -> f64 {
        self.0.iter().copied().reduce(f64::max).unwrap_or(f64::NAN)
    }
}

/// Heap bytes in use (glibc's count: Rust, aws-lc and OpenSSL all allocate
/// through malloc).
pub fn heap_in_use() -> usize {
    // SAFETY: a plain query of the allocator's statistics.
    unsafe { libc::mallinfo2() }.uordblks
}

/// Heap per established, idle session: `pairs` handshakes kept alive,
/// both ends counted.
pub fn idle_bytes_per_session<S: Stack>(stack: &S, pairs: usize) -> f64 {
    // Room for every pair first: a growing vector's spare capacity would
    // count against stacks whose pairs are large values (rustls holds its
    // connections inline; siptls and OpenSSL hold pointers).
    let mut held: Vec<S::Pair> = Vec::with_capacity(pairs);
    let before = heap_in_use();
    held.extend((0..pairs).map(|_| stack.connect()));
    let after = heap_in_use();
    drop(held);
    after.saturating_sub(before) as f64 / (2 * pairs) as f64
}

/// Full handshakes per second on `threads` threads at once, all making
/// sessions from the one shared configuration.
pub fn handshakes_on_threads<S: Stack>(stack: &S, threads: usize, per_thread: usize) -> f64 {
    // Timed from when every thread is ready: a new thread's first
    // handshake also seeds its random generator, which is not what is
    // measured here.
    let ready = std::sync::Barrier::new(threads + 1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    drop(stack.connect());
                    ready.wait();
                    for _ in 0..per_thread {
                        drop(stack.connect());
                    }
                })
            })
            .collect();
        ready.wait();
        let start = Instant::now();
        for worker in workers {
            worker.join().expect("a handshake thread panicked");
        }
        (threads * per_thread) as f64 / secs(start.elapsed())
    })
}
