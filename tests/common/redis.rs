//! redis-server (Debian) on a loopback port for one test: no persistence,
//! no configuration file. Killed when dropped; it can be paused (SIGSTOP:
//! it accepts connections and answers nothing) and stopped mid-test.

use std::io::{BufRead, BufReader, Write};
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

fn read_reply(r: &mut impl BufRead) -> Reply {
    let mut line = String::new();
    r.read_line(&mut line).expect("a reply line from redis");
    let (kind, rest) = line.trim_end().split_at(1);
    match kind {
        "+" => Reply::Status(rest.into()),
        "-" => Reply::Error(rest.into()),
        ":" => Reply::Integer(rest.parse().expect("an integer")),
        "$" => {
            let len: i64 = rest.parse().expect("a length");
            if len < 0 {
                return Reply::Bulk(None);
            }
            let mut buf = vec![0u8; len as usize + 2];
            r.read_exact(&mut buf).expect("a bulk string");
            buf.truncate(len as usize);
            Reply::Bulk(Some(buf))
        }
        "*" => {
            let n: i64 = rest.parse().expect("a count");
            Reply::Array((0..n.max(0)).map(|_| read_reply(r)).collect())
        }
        other => panic!("not a RESP reply: {other}{rest}"),
    }
}

impl Redis {
    pub fn start() -> Redis {
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
        let started = Redis {
            child: Some(child),
            address: ([127, 0, 0, 1], port).into(),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if TcpStream::connect(started.address).is_ok()
                && started.command(&[b"PING"]) == Reply::Status("PONG".into())
            {
                return started;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "redis-server did not answer on {} within 10 s",
            started.address
        );
    }

    /// Sends one command (each argument a bulk string) and reads its reply.
    pub fn command(&self, args: &[&[u8]]) -> Reply {
        let mut stream = TcpStream::connect(self.address).expect("connect to redis");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut request = format!("*{}\r\n", args.len()).into_bytes();
        for arg in args {
            request.extend(format!("${}\r\n", arg.len()).as_bytes());
            request.extend(*arg);
            request.extend(b"\r\n");
        }
        stream.write_all(&request).expect("send to redis");
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
