//! The URLs the client accepts: `http://` or `https://`, then `host[:port][/path][?query]`.

use super::ClientError;

/// A parsed `http://` or `https://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Url {
    /// Host name or IP address (IPv6 without brackets).
    pub(crate) host: String,
    pub(crate) port: u16,
    /// `https`: the connection speaks TLS.
    pub(crate) tls: bool,
    /// Path and query, starting with `/`.
    pub(crate) target: String,
}

impl Url {
    /// Parses `text`; other schemes (and `https` without the `tls` feature) are refused
    /// with a clear error.
    pub(crate) fn parse(text: &str) -> Result<Url, ClientError> {
        let invalid = |why: &str| ClientError::InvalidUrl(format!("{text:?}: {why}"));
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| invalid("missing scheme (http://)"))?;
        let tls = match scheme.to_ascii_lowercase().as_str() {
            "http" => false,
            "https" if cfg!(feature = "tls") => true,
            other => return Err(ClientError::UnsupportedScheme(other.to_string())),
        };
        let (authority, target) = match rest.find(['/', '?']) {
            Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], rest[i..].to_string()),
            Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
            None => (rest, "/".to_string()),
        };
        let target = target.split('#').next().unwrap_or("/").to_string();
        if authority.contains('@') {
            return Err(invalid("user information in URLs is not supported"));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6
                .split_once(']')
                .ok_or_else(|| invalid("unclosed '[' in host"))?;
            (host, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(invalid("empty host"));
        }
        if target.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(invalid(
                "spaces or control characters in the path (percent-encode them)",
            ));
        }
        let port = match port {
            None | Some("") => default_port(tls),
            Some(p) => p
                .parse()
                .map_err(|_| invalid("port is not a number from 0 to 65535"))?,
        };
        Ok(Url {
            host: host.to_string(),
            port,
            tls,
            target,
        })
    }

    /// `host[:port]` as the Host header wants it.
    pub(crate) fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == default_port(self.tls) {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// Resolves a `Location` header against this URL.
    pub(crate) fn join(&self, location: &str) -> Result<Url, ClientError> {
        if location.contains("://") {
            return Url::parse(location);
        }
        let target = if location.starts_with('/') {
            location.to_string()
        } else {
            let dir = self.target.split('?').next().unwrap_or("/");
            let dir = &dir[..dir.rfind('/').map_or(0, |i| i + 1)];
            format!("{dir}{location}")
        };
        Ok(Url {
            host: self.host.clone(),
            port: self.port,
            tls: self.tls,
            target,
        })
    }
}

/// 443 for `https`, 80 for `http`.
fn default_port(tls: bool) -> u16 {
    if tls {
        443
    } else {
        80
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hosts_ports_and_targets() {
        let u = Url::parse("http://example.com").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.target.as_str()),
            ("example.com", 80, "/")
        );
        let u = Url::parse("http://127.0.0.1:8080/a/b?c=d#frag").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.target.as_str()),
            ("127.0.0.1", 8080, "/a/b?c=d")
        );
        let u = Url::parse("http://[::1]:9/x").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.host_header()),
            ("::1", 9, "[::1]:9".to_string())
        );
        assert_eq!(Url::parse("http://h?q=1").unwrap().target, "/?q=1");
    }

    #[cfg(feature = "tls")]
    #[test]
    fn https_defaults_to_port_443() {
        let u = Url::parse("HTTPS://example.com/x").unwrap();
        assert_eq!(
            (u.port, u.tls, u.host_header()),
            (443, true, "example.com".to_string())
        );
        let u = Url::parse("https://example.com:8443/").unwrap();
        assert_eq!(u.host_header(), "example.com:8443");
        assert!(u.join("/y").unwrap().tls);
    }

    #[test]
    fn rejects_what_it_cannot_fetch() {
        assert!(
            matches!(Url::parse("ftp://example.com"), Err(ClientError::UnsupportedScheme(s)) if s == "ftp")
        );
        assert!(matches!(
            Url::parse("example.com"),
            Err(ClientError::InvalidUrl(_))
        ));
        assert!(matches!(
            Url::parse("http://:80/"),
            Err(ClientError::InvalidUrl(_))
        ));
        assert!(matches!(
            Url::parse("http://h:99999/"),
            Err(ClientError::InvalidUrl(_))
        ));
        assert!(matches!(
            Url::parse("http://h/a b"),
            Err(ClientError::InvalidUrl(_))
        ));
    }

    #[test]
    fn joins_redirect_locations() {
        let base = Url::parse("http://h:1/a/b?x").unwrap();
        assert_eq!(base.join("/c").unwrap().target, "/c");
        assert_eq!(base.join("c").unwrap().target, "/a/c");
        assert_eq!(base.join("http://other/").unwrap().host, "other");
    }
}
