//! redis-server (Debian) on a loopback port for one test: no persistence,
//! no configuration file. Killed when dropped; it can be paused (SIGSTOP:
//! it accepts connections and answers nothing) and stopped mid-test.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Redis {
    child: Option<Child>,
    pub address: SocketAddr,
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.signal(libc::SIGCONT);
        self.stop();
    }
}

/// One reply of the RESP protocol, as far as these tests need it.
#[derive(Debug, PartialEq)]
pub enum Reply {
    Status(String),
    Error(String),
    Integer(i64),
    Bulk(Option<Vec<u8>>),
    Array(Vec<Reply>),
}

fn read_reply(r: &mut impl BufRead) -> io::Result<Reply> {
    let mut line = String::new();
    r.read_line(&mut line)?;
    if line.len() < 3 {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "no reply"));
    }
    let (kind, rest) = line.trim_end().split_at(1);
    let number = |text: &str| {
        text.parse::<i64>()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, line.clone()))
    };
    Ok(match kind {
        "+" => Reply::Status(rest.into()),
        "-" => Reply::Error(rest.into()),
        ":" => Reply::Integer(number(rest)?),
        "$" => match number(rest)? {
            len if len < 0 => Reply::Bulk(None),
            len => {
                let mut buf = vec![0u8; len as usize + 2];
                r.read_exact(&mut buf)?;
                buf.truncate(len as usize);
                Reply::Bulk(Some(buf))
            }
        },
        "*" => {
            let n = number(rest)?;
            Reply::Array(
                (0..n.max(0))
                    .map(|_| read_reply(r))
                    .collect::<io::Result<_>>()?,
            )
        }
        _ => return Err(io::Error::new(io::ErrorKind::InvalidData, line.clone())),
    })
}

impl Redis {
    /// Starts redis-server on a free port and waits until it answers PING;
    /// another port when the one picked was taken in between (the server
    /// then exits, or something else answers).
    pub fn start() -> Redis {
        for _ in 0..5 {
            if let Some(started) = Self::try_start(Duration::from_secs(10)) {
                return started;
            }
        }
        panic!("redis-server did not start on any of 5 ports");
    }

    fn try_start(wait: Duration) -> Option<Redis> {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("redis-server is not installed ({e}): install redis-server")
            });
        let mut started = Redis {
            child: Some(child),
            address: ([127, 0, 0, 1], port).into(),
        };
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            if let Ok(Reply::Status(pong)) = started.try_command(&[b"PING"]) {
                if pong == "PONG" {
                    return Some(started);
                }
            }
            let exited = started
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if exited.is_some() {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        started.stop();
        None
    }

    /// Sends one command (each argument a bulk string) and reads its reply.
    pub fn command(&self, args: &[&[u8]]) -> Reply {
        self.try_command(args).expect("redis answers")
    }

    fn try_command(&self, args: &[&[u8]]) -> io::Result<Reply> {
        let mut stream = TcpStream::connect(self.address)?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        let mut request = format!("*{}\r\n", args.len()).into_bytes();
        for arg in args {
            request.extend(format!("${}\r\n", arg.len()).as_bytes());
            request.extend(*arg);
            request.extend(b"\r\n");
        }
        stream.write_all(&request)?;
        read_reply(&mut BufReader::new(stream))
    }

    /// Every key under `prefix`, with its remaining time to live in seconds.
    pub fn keys_with_ttl(&self, prefix: &str) -> Vec<(Vec<u8>, i64)> {
        let pattern = format!("{prefix}*");
        let Reply::Array(keys) = self.command(&[b"KEYS", pattern.as_bytes()]) else {
            panic!("KEYS did not answer an array");
        };
        keys.into_iter()
            .map(|key| {
                let Reply::Bulk(Some(key)) = key else {
                    panic!("a key that is not a string: {key:?}");
                };
                let Reply::Integer(ttl) = self.command(&[b"TTL", &key]) else {
                    panic!("TTL did not answer an integer");
                };
                (key, ttl)
            })
            .collect()
    }

    pub fn signal(&self, signal: libc::c_int) {
        if let Some(child) = &self.child {
            // SAFETY: kill(2) on our own child's pid.
            unsafe { libc::kill(child.id() as libc::pid_t, signal) };
        }
    }

    /// Kills the server: connections to its port are then refused.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
