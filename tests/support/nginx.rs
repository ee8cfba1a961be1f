//! nginx (Debian's package) as a child process in front of simmer backends: a config
//! written into a temporary prefix (its pid file, logs and temp dirs there too, no
//! root paths), started in the foreground on loopback, stopped and cleaned up when
//! dropped. Without nginx the caller is told to skip, except under CI, where
//! `.ci/run` installs it.
#![allow(dead_code)]

use std::io::Write as _;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running nginx.
pub struct Nginx {
    child: Child,
    /// Where clients connect: `127.0.0.1:<port>`.
    pub addr: String,
    prefix: PathBuf,
}

/// The nginx binary: on PATH, or Debian's /usr/sbin/nginx (not on a non-root PATH).
/// `None` (after printing SKIPPED) when it is not installed; under CI a missing nginx
/// is a failure.
pub fn binary() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("nginx"))
            .find(|candidate| candidate.is_file())
    });
    let found = on_path.or_else(|| {
        let debian = PathBuf::from("/usr/sbin/nginx");
        debian.is_file().then_some(debian)
    });
    if found.is_none() {
        if std::env::var_os("CI").is_some() {
            panic!("nginx is not installed (CI must install it: see .ci/run)");
        }
        // Written to stderr directly: the test harness hides eprintln! of passing tests.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: nginx is not installed (apt-get install nginx to run this test)"
        );
    }
    found
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

impl Nginx {
    /// Starts `binary` with `http_block` (the inside of `http { }`: upstreams and a
    /// server that listens on `{listen}`, replaced here by the chosen address) and
    /// waits until it accepts connections.
    pub fn start(binary: &Path, http_block: &str) -> Nginx {
        let prefix = std::env::temp_dir().join(format!(
            "simmer-nginx-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(prefix.join("logs")).unwrap();
        let addr = format!("127.0.0.1:{}", free_port());
        let p = prefix.display();
        // Run as root (CI), nginx would hand its workers to `nobody`, who cannot write
        // this prefix: keep them as the current user.
        // SAFETY: geteuid has no preconditions and cannot fail.
        let user = if unsafe { libc::geteuid() } == 0 {
            "user root root;"
        } else {
            ""
        };
        let config = format!(
            "{user}
daemon off;
worker_processes 1;
pid {p}/nginx.pid;
error_log {p}/logs/error.log info;
events {{ worker_connections 512; }}
http {{
    access_log {p}/logs/access.log;
    client_body_temp_path {p}/client_body;
    proxy_temp_path {p}/proxy;
    fastcgi_temp_path {p}/fastcgi;
    uwsgi_temp_path {p}/uwsgi;
    scgi_temp_path {p}/scgi;
{}
}}
",
            http_block.replace("{listen}", &addr)
        );
        std::fs::write(prefix.join("nginx.conf"), config).unwrap();
        let child = Command::new(binary)
            .arg("-p")
            .arg(&prefix)
            .arg("-c")
            .arg(prefix.join("nginx.conf"))
            .arg("-e")
            .arg(prefix.join("logs/error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting nginx");
        let mut nginx = Nginx {
            child,
            addr,
            prefix,
        };
        let until = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(&nginx.addr).is_err() {
            if let Ok(Some(status)) = nginx.child.try_wait() {
                panic!("nginx exited ({status}): {}", nginx.error_log());
            }
            assert!(
                Instant::now() < until,
                "nginx never listened: {}",
                nginx.error_log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        nginx
    }

    /// nginx's error log so far (failovers to the next upstream are logged there).
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.prefix.join("logs/error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGQUIT: nginx's graceful stop; SIGKILL after a bound if it lingers.
        let _ = Command::new("kill")
            .args(["-QUIT", &self.child.id().to_string()])
            .status();
        let until = Instant::now() + Duration::from_secs(5);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.prefix);
    }
}
