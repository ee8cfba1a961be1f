//! `ws://` and `wss://`: the client's side of the WebSocket handshake.

use std::rc::Rc;

use super::url::Url;
use super::{Client, ClientError, RequestBuilder};
use crate::method::Method;
use crate::ws::{handshake::accept_key, Role, WebSocket, WsConfig};

impl Client {
    /// Opens a WebSocket to a `ws://` or `wss://` URL (the handshake within the
    /// connect timeout, TLS as for `https://`).
    pub async fn websocket(&self, url: &str) -> Result<WebSocket, ClientError> {
        self.websocket_with(url, WsConfig::default()).await
    }

    /// [`Client::websocket`] with limits of your choosing.
    pub async fn websocket_with(
        &self,
        url: &str,
        config: WsConfig,
    ) -> Result<WebSocket, ClientError> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| ClientError::InvalidUrl(format!("{url:?}: missing scheme (ws://)")))?;
        let http_url = match scheme.to_ascii_lowercase().as_str() {
            "ws" => format!("http://{rest}"),
            "wss" => format!("https://{rest}"),
            other => return Err(ClientError::UnsupportedScheme(other.to_string())),
        };
        let url = Url::parse(&http_url)?;
        let request = RequestBuilder {
            client: self.clone(),
            method: Method::Get,
            url: http_url,
            query: Vec::new(),
            headers: Vec::new(),
            body: Vec::new(),
        };
        let io = request.connect(&url).await?;
        let key = super::super::ws::random_key();
        let head = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: simmer\r\nConnection: Upgrade\r\n\
             Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n\r\n",
            url.target,
            url.host_header()
        );
        io.stream
            .write_all(head.as_bytes())
            .await
            .map_err(ClientError::Io)?;
        let reply = super::response::read_head(&io)
            .await
            .map_err(super::response::Failure::into_error)?;
        let header = |name: &str| {
            reply
                .headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim())
        };
        if reply.status != 101 {
            return Err(ClientError::MalformedResponse(format!(
                "the server refused the WebSocket upgrade with status {}",
                reply.status
            )));
        }
        if header("sec-websocket-accept") != Some(accept_key(&key).as_str()) {
            return Err(ClientError::MalformedResponse(
                "the server's Sec-WebSocket-Accept does not match the key sent".to_string(),
            ));
        }
        Ok(WebSocket::new(Rc::new(io), Role::Client, config))
    }
}
