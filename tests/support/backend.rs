//! examples/backend as a child process: started with arguments, its address read from
//! its first line, its open fds and RSS read from /proc, killed when dropped.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

/// A running examples/backend.
pub struct Backend {
    pub child: std::process::Child,
    pub addr: String,
}

/// target/<profile>/examples/backend, built by `cargo test` along with the tests.
pub fn binary() -> PathBuf {
    let mut dir = std::env::current_exe().unwrap();
    dir.pop(); // deps
    dir.pop(); // <profile>
    dir.join("examples").join("backend")
}

impl Backend {
    /// Starts the backend on `addr` (port 0: any) with extra `args`.
    pub fn start(addr: &str, args: &[&str]) -> Backend {
        let mut child = Command::new(binary())
            .args(["--addr", addr])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("examples/backend is built by cargo test");
        let mut first_line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first_line)
            .unwrap();
        assert!(first_line.contains("listening on"), "{first_line:?}");
        let addr = first_line.trim().rsplit('/').next().unwrap().to_string();
        Backend { child, addr }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Open file descriptors of the child.
    pub fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .unwrap()
            .count()
    }

    /// Resident memory of the child, in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    /// Sends SIGTERM: the backend begins its graceful shutdown.
    pub fn signal_term(&self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
    }

    /// Waits for the backend to exit.
    pub fn wait(mut self) -> std::process::ExitStatus {
        let status = self.child.wait().unwrap();
        std::mem::forget(self);
        status
    }

    /// Sends SIGTERM (graceful shutdown) and waits for the exit.
    pub fn terminate(self) -> std::process::ExitStatus {
        self.signal_term();
        self.wait()
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One GET with `Connection: close`; the whole reply.
pub fn get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    let _ = s.read_to_string(&mut reply);
    reply
}
