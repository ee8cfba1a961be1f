//! Test certificates made per run with rcgen: a CA and leaves it signs (good, expired,
//! for another name), plus a self-signed one nobody trusts. Written to a temporary
//! directory too, for tools that want files (curl --cacert, Python, openssl).
#![allow(dead_code)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};

/// A certificate and its key, as PEM text and as files.
pub struct Pair {
    pub cert_pem: String,
    pub key_pem: String,
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
}

/// Everything a TLS test needs.
pub struct Certs {
    pub dir: PathBuf,
    /// The test CA (its certificate is the one clients are told to trust).
    pub ca: Pair,
    /// `localhost` and 127.0.0.1, signed by the CA.
    pub good: Pair,
    /// Signed by the CA, but expired in 2020.
    pub expired: Pair,
    /// Signed by the CA, for `other.example` only.
    pub wrong_name: Pair,
    /// `localhost`, self-signed: no trusted CA.
    pub untrusted: Pair,
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn pair(dir: &Path, name: &str, cert_pem: String, key: &KeyPair) -> Pair {
    let key_pem = key.serialize_pem();
    Pair {
        cert_path: write(dir, &format!("{name}.pem"), &cert_pem),
        key_path: write(dir, &format!("{name}.key"), &key_pem),
        cert_pem,
        key_pem,
    }
}

fn leaf_params(names: &[&str]) -> CertificateParams {
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let mut params = CertificateParams::new(names).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "simmer test server");
    params
}

impl Certs {
    /// Makes a fresh set in a new temporary directory named after `test`.
    pub fn new(test: &str) -> Certs {
        let dir = std::env::temp_dir().join(format!("simmer-tls-{test}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();

        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "simmer test CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();

        let sign = |params: CertificateParams, key: &KeyPair| {
            params.signed_by(key, &ca_cert, &ca_key).unwrap().pem()
        };
        let good_key = KeyPair::generate().unwrap();
        let good = sign(leaf_params(&["localhost", "127.0.0.1"]), &good_key);
        let expired_key = KeyPair::generate().unwrap();
        let mut expired_params = leaf_params(&["localhost", "127.0.0.1"]);
        expired_params.not_before = rcgen::date_time_ymd(2019, 1, 1);
        expired_params.not_after = rcgen::date_time_ymd(2020, 1, 1);
        let expired = sign(expired_params, &expired_key);
        let wrong_key = KeyPair::generate().unwrap();
        let wrong = sign(leaf_params(&["other.example"]), &wrong_key);
        let untrusted_key = KeyPair::generate().unwrap();
        let untrusted = leaf_params(&["localhost", "127.0.0.1"])
            .self_signed(&untrusted_key)
            .unwrap()
            .pem();

        Certs {
            ca: pair(&dir, "ca", ca_cert.pem(), &ca_key),
            good: pair(&dir, "good", good, &good_key),
            expired: pair(&dir, "expired", expired, &expired_key),
            wrong_name: pair(&dir, "wrong-name", wrong, &wrong_key),
            untrusted: pair(&dir, "untrusted", untrusted, &untrusted_key),
            dir,
        }
    }
}

impl Drop for Certs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// True if `tool` can be run; otherwise says SKIPPED (or panics under `CI=true`).
pub fn have(tool: &str) -> bool {
    match Command::new(tool).arg("--version").output() {
        Ok(_) => true,
        Err(_) => {
            if std::env::var_os("CI").is_some() {
                panic!("{tool} is not installed (CI must install it: see .ci/run)");
            }
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: {tool} is not installed (apt-get install it to run this test)"
            );
            false
        }
    }
}

/// stdout and stderr of a finished command, as text.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A free loopback port (bound, then released for another program to take).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
