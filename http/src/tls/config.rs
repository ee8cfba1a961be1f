//! rustls configurations: what a client trusts, what a server presents.

use std::fmt;
use std::io;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The protocol both sides name in ALPN: simmer speaks HTTP/1.1 only.
const ALPN_HTTP11: &[u8] = b"http/1.1";

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A client's TLS settings: which certificate authorities it trusts. Cheap to clone.
#[derive(Clone)]
pub struct ClientTls {
    pub(crate) config: Arc<rustls::ClientConfig>,
}

impl ClientTls {
    /// Trusts the system's certificate store, read once per process with
    /// `rustls-native-certs` (on Linux the files OpenSSL uses, such as
    /// `/etc/ssl/certs/ca-certificates.crt`). As with OpenSSL, curl and Python, when
    /// `SSL_CERT_FILE` (or `SSL_CERT_DIR`) is set, the certificates found there are
    /// used instead.
    pub fn system() -> ClientTls {
        static SYSTEM: OnceLock<ClientTls> = OnceLock::new();
        SYSTEM
            .get_or_init(|| {
                let found = rustls_native_certs::load_native_certs();
                let mut roots = rustls::RootCertStore::empty();
                roots.add_parsable_certificates(found.certs);
                ClientTls::with_roots(roots)
            })
            .clone()
    }

    /// Trusts only the certificates in `pem` (one or more `BEGIN CERTIFICATE` blocks).
    pub fn from_roots_pem(pem: &[u8]) -> io::Result<ClientTls> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| invalid(format!("reading root certificates: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| invalid(format!("adding a root certificate: {e}")))?;
        }
        if roots.is_empty() {
            return Err(invalid("no certificate in the root PEM data".to_string()));
        }
        Ok(ClientTls::with_roots(roots))
    }

    fn with_roots(roots: rustls::RootCertStore) -> ClientTls {
        let mut config = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
        ClientTls {
            config: Arc::new(config),
        }
    }

    /// A new client-side TLS session for `host` (sent as SNI, checked against the
    /// server's certificate).
    pub(crate) fn session(&self, host: &str) -> io::Result<rustls::ClientConnection> {
        let name = rustls::pki_types::ServerName::try_from(host.to_string())
            .map_err(|_| invalid(format!("{host:?} is not a valid TLS server name")))?;
        rustls::ClientConnection::new(Arc::clone(&self.config), name)
            .map_err(|e| io::Error::other(format!("starting a TLS session: {e}")))
    }
}

impl fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientTls")
    }
}

/// A server's TLS settings: its certificate chain and private key.
#[derive(Clone)]
pub struct ServerTls {
    pub(crate) config: Arc<rustls::ServerConfig>,
}

impl ServerTls {
    /// Reads the certificate chain (leaf first) and the private key from PEM files.
    /// Errors name the file and what is wrong with it: missing, no certificate, no
    /// key, or a key that does not belong to the certificate.
    pub fn from_pem_files(cert_chain: &Path, key: &Path) -> io::Result<ServerTls> {
        let read = |path: &Path, what: &str| {
            std::fs::read(path).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("reading the TLS {what} file {}: {e}", path.display()),
                )
            })
        };
        let chain_pem = read(cert_chain, "certificate")?;
        let key_pem = read(key, "key")?;
        ServerTls::from_pem(&chain_pem, &key_pem).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("{} and {}: {e}", cert_chain.display(), key.display()),
            )
        })
    }

    /// Builds the settings from PEM text already in memory.
    pub fn from_pem(cert_chain_pem: &[u8], key_pem: &[u8]) -> io::Result<ServerTls> {
        let chain = CertificateDer::pem_slice_iter(cert_chain_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid(format!("reading the certificate chain: {e}")))?;
        if chain.is_empty() {
            return Err(invalid(
                "no BEGIN CERTIFICATE block in the certificate file".to_string(),
            ));
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|e| invalid(format!("reading the private key: {e}")))?;
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| {
                invalid(format!(
                    "the key does not fit the certificate, or is not usable: {e}"
                ))
            })?;
        config.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
        Ok(ServerTls {
            config: Arc::new(config),
        })
    }

    /// A new server-side TLS session for an accepted connection.
    pub(crate) fn session(&self) -> io::Result<rustls::ServerConnection> {
        rustls::ServerConnection::new(Arc::clone(&self.config))
            .map_err(|e| io::Error::other(format!("starting a TLS session: {e}")))
    }
}

impl fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServerTls")
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}
