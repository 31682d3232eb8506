//! dnsmasq (Debian dnsmasq-base) serving a zone on a loopback port for one
//! test: authoritative for `.test` (unknown names are NXDOMAIN), records
//! from its command line, a 60-second TTL. Killed when dropped.

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Dnsmasq {
    child: Child,
    pub server: SocketAddr,
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A DNS query for `name` and `rrtype`, class IN, recursion desired.
pub fn query(id: u16, name: &str, rrtype: u16) -> Vec<u8> {
    let mut q = id.to_be_bytes().to_vec();
    q.extend([0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.trim_end_matches('.').split('.') {
        q.push(label.len() as u8);
        q.extend(label.as_bytes());
    }
    q.push(0);
    q.extend(rrtype.to_be_bytes());
    q.extend(1u16.to_be_bytes());
    q
}

/// Asks `server` once; the reply, or None after `wait`.
pub fn ask(server: SocketAddr, name: &str, rrtype: u16, wait: Duration) -> Option<Vec<u8>> {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(wait)).unwrap();
    let id = 0x5e17;
    socket.send_to(&query(id, name, rrtype), server).ok()?;
    let mut buf = vec![0u8; 65_535];
    let (len, _) = socket.recv_from(&mut buf).ok()?;
    (len >= 2 && buf[..2] == id.to_be_bytes()).then(|| buf[..len].to_vec())
}

impl Dnsmasq {
    /// Starts dnsmasq with `records` (its options, e.g.
    /// "--srv-host=_sips._tcp.example.test,edge.test,5061,10,0") and
    /// waits until it answers; another port when the one picked was taken
    /// in between (dnsmasq, which binds UDP and TCP, then exits).
    pub fn start(records: &[&str]) -> Dnsmasq {
        for _ in 0..5 {
            if let Some(started) = Self::try_start(records, Duration::from_secs(10)) {
                return started;
            }
        }
        panic!("dnsmasq did not start on any of 5 ports");
    }

    /// A port free for both UDP and TCP when asked.
    fn free_port() -> u16 {
        loop {
            let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
            let port = udp.local_addr().unwrap().port();
            if TcpListener::bind(("127.0.0.1", port)).is_ok() {
                return port;
            }
        }
    }

    fn try_start(records: &[&str], wait: Duration) -> Option<Dnsmasq> {
        let port = Self::free_port();
        let mut args = vec![
            "--no-daemon".to_owned(),
            format!("--port={port}"),
            "--listen-address=127.0.0.1".into(),
            "--bind-interfaces".into(),
            "--no-resolv".into(),
            "--no-hosts".into(),
            "--conf-file=/dev/null".into(),
            "--pid-file=".into(),
            "--local=/test/".into(),
            "--local-ttl=60".into(),
        ];
        args.extend(records.iter().map(|r| r.to_string()));
        let child = Command::new("dnsmasq")
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("dnsmasq is not installed ({e}): install dnsmasq-base"));
        let server: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut started = Dnsmasq { child, server };
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            if ask(server, "ready.test", 1, Duration::from_millis(100)).is_some() {
                return Some(started);
            }
            // It exited: the port was taken (dropping `started` reaps it).
            if started.child.try_wait().ok().flatten().is_some() {
                return None;
            }
        }
        None
    }
}
