//! A small async HTTP(S) client for the pushgateway and Prometheus' query API, built on the
//! hyper stack the AWS SDK already compiles (rustls with the system's roots for https).

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use std::time::Duration;

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{url}: not a valid URL: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("{url} does not answer: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{url} did not answer within {0:?}", TIMEOUT)]
    Timeout { url: String },
    #[error("TLS setup: {0}")]
    Tls(String),
}

const TIMEOUT: Duration = Duration::from_secs(15);

/// An HTTP client; cheap to clone.
#[derive(Clone)]
pub struct HttpClient {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl HttpClient {
    /// A client for http:// and https:// URLs.
    pub fn new() -> Result<Self, HttpError> {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|e| HttpError::Tls(e.to_string()))?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(HttpClient { client: Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector) })
    }

    /// Sends one request; returns the status and the body as text.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        content_type: Option<&str>,
        body: impl Into<Bytes>,
    ) -> Result<(StatusCode, String), HttpError> {
        let mut req = Request::builder().method(method).uri(url);
        if let Some(ct) = content_type {
            req = req.header(hyper::header::CONTENT_TYPE, ct);
        }
        let req = req
            .body(Full::new(body.into()))
            .map_err(|e| HttpError::BadUrl { url: url.to_string(), reason: e.to_string() })?;
        let exchange = async {
            let resp = self.client.request(req).await.map_err(|e| HttpError::Unreachable {
                url: url.to_string(),
                reason: std::error::Error::source(&e).map(|s| s.to_string()).unwrap_or_else(|| e.to_string()),
            })?;
            let status = resp.status();
            let bytes = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| HttpError::Unreachable { url: url.to_string(), reason: e.to_string() })?
                .to_bytes();
            Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
        };
        tokio::time::timeout(TIMEOUT, exchange).await.map_err(|_| HttpError::Timeout { url: url.to_string() })?
    }

    /// GET `url`.
    pub async fn get(&self, url: &str) -> Result<(StatusCode, String), HttpError> {
        self.send(Method::GET, url, None, Bytes::new()).await
    }
}
