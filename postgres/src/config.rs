//! Where and how to connect: `postgres://user:password@host:port/db`.

use std::time::Duration;

use crate::error::Error;

/// Connection settings. Build one from a URL with [`Config::from_url`] or by hand.
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    /// Host name or IP address.
    pub host: String,
    /// TCP port (5432 by default).
    pub port: u16,
    /// User name.
    pub user: String,
    /// Password, for cleartext, MD5 or SCRAM-SHA-256 authentication.
    pub password: Option<String>,
    /// Database (defaults to the user name).
    pub dbname: String,
    /// Give up connecting after this long (default 10 s).
    pub connect_timeout: Duration,
    /// `application_name` reported to the server.
    pub application_name: String,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("dbname", &self.dbname)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Parses `postgres://user[:password]@host[:port][/dbname]` (or `postgresql://`).
    /// Percent-escapes in the user and password are decoded.
    pub fn from_url(url: &str) -> Result<Config, Error> {
        let bad = |why: &str| {
            Error::Config(format!(
                "{why} in database URL (want postgres://user:password@host:port/db)"
            ))
        };
        let rest = url
            .strip_prefix("postgres://")
            .or_else(|| url.strip_prefix("postgresql://"))
            .ok_or_else(|| bad("missing postgres:// scheme"))?;
        let (userinfo, hostpart) = rest.rsplit_once('@').ok_or_else(|| bad("missing user@"))?;
        let (user, password) = match userinfo.split_once(':') {
            Some((u, p)) => (decode(u), Some(decode(p))),
            None => (decode(userinfo), None),
        };
        if user.is_empty() {
            return Err(bad("empty user"));
        }
        let (hostport, db) = hostpart.split_once('/').unwrap_or((hostpart, ""));
        let db = db.split('?').next().unwrap_or("");
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || hostport.starts_with('[') => (
                h.trim_start_matches('[').trim_end_matches(']'),
                p.parse().map_err(|_| bad("invalid port"))?,
            ),
            _ => (hostport, 5432),
        };
        if host.is_empty() {
            return Err(bad("empty host"));
        }
        Ok(Config {
            host: host.to_string(),
            port,
            dbname: if db.is_empty() {
                user.clone()
            } else {
                decode(db)
            },
            user,
            password,
            connect_timeout: Duration::from_secs(10),
            application_name: "simmer".to_string(),
        })
    }
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        let c = Config::from_url("postgres://me:p%40ss@db.local:6543/shop").unwrap();
        assert_eq!(
            (
                c.user.as_str(),
                c.password.as_deref(),
                c.host.as_str(),
                c.port,
                c.dbname.as_str()
            ),
            ("me", Some("p@ss"), "db.local", 6543, "shop")
        );
        let c = Config::from_url("postgresql://me@127.0.0.1").unwrap();
        assert_eq!(
            (c.port, c.dbname.as_str(), c.password.as_deref()),
            (5432, "me", None)
        );
        assert!(Config::from_url("mysql://x@y/z").is_err());
        assert!(Config::from_url("postgres://host/db").is_err());
        let secret = Config::from_url("postgres://me:hunter2@h/db").unwrap();
        assert!(
            !format!("{secret:?}").contains("hunter2"),
            "passwords stay out of logs"
        );
    }
}
