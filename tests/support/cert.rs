//! A self-signed ECDSA certificate for `localhost`, made at test time by the `openssl`
//! command, for the tests that start a TLS server as a process.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Writes `cert.pem` and `key.pem` into `dir` and returns their paths; `None` (and
/// SKIPPED on stderr) without openssl. Under CI a missing openssl is a failure.
pub fn self_signed_localhost(dir: &Path) -> Option<(PathBuf, PathBuf)> {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"])
        .args(["-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status();
    if matches!(made, Ok(status) if status.success()) {
        return Some((cert, key));
    }
    if std::env::var_os("CI").is_some() {
        panic!("openssl is not installed (CI must install it: see .ci/run)");
    }
    let _ = writeln!(std::io::stderr(), "SKIPPED: openssl is not installed");
    None
}
