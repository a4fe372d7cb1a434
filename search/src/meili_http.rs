//! The HTTP transport of the Meilisearch adapter.
//!
//! meilisearch-sdk's own reqwest transport streams every request body through a reader
//! whose buffer is 8 MiB, allocated and zeroed for each request: for a search of a few
//! hundred bytes that zeroing was the largest single cost in the server's profile. This
//! transport sends the serialised body as one buffer with its length instead. Responses are
//! read and parsed by the SDK's own `parse_response`, so errors look exactly as before.

use futures_util::AsyncReadExt;
use meilisearch_sdk::{
    errors::Error,
    request::{HttpClient, Method, parse_response},
};
use serde::{Serialize, de::DeserializeOwned};

#[derive(Clone)]
pub struct Transport {
    client: reqwest::Client,
}

impl Transport {
    /// A transport sending `api_key` as a bearer token with every request.
    pub fn new(api_key: Option<&str>) -> Result<Self, Error> {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(key) = api_key {
            let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {key}"))
                .map_err(|e| Error::Other(Box::new(e)))?;
            value.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!(
                "green-procurement-commons/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()?;
        Ok(Self { client })
    }

    /// Sends one request: `url` already holds the query string.
    async fn send<Output: DeserializeOwned>(
        &self,
        verb: reqwest::Method,
        url: String,
        body: Option<(Vec<u8>, &str)>,
        expected_status_code: u16,
    ) -> Result<Output, Error> {
        let mut request = self.client.request(verb, &url);
        if let Some((body, content_type)) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let mut body = response.text().await?;
        if body.is_empty() {
            "null".clone_into(&mut body);
        }
        parse_response(status, expected_status_code, &body, url)
    }
}

/// The verb and the full URL (with its query string) of `method`.
fn target<Query: Serialize, Body>(
    url: &str,
    method: &Method<Query, Body>,
) -> Result<(reqwest::Method, String), Error> {
    let verb = match method {
        Method::Get { .. } => reqwest::Method::GET,
        Method::Delete { .. } => reqwest::Method::DELETE,
        Method::Post { .. } => reqwest::Method::POST,
        Method::Put { .. } => reqwest::Method::PUT,
        Method::Patch { .. } => reqwest::Method::PATCH,
    };
    Ok((verb, format!("{url}{}", yaup::to_string(method.query())?)))
}

#[async_trait::async_trait]
impl HttpClient for Transport {
    async fn request<Query, Body, Output>(
        &self,
        url: &str,
        method: Method<Query, Body>,
        expected_status_code: u16,
    ) -> Result<Output, Error>
    where
        Query: Serialize + Send + Sync,
        Body: Serialize + Send + Sync,
        Output: DeserializeOwned + 'static + Send,
    {
        let (verb, url) = target(url, &method)?;
        let body = match method.body() {
            Some(body) => Some((serde_json::to_vec(body)?, "application/json")),
            None => None,
        };
        self.send(verb, url, body, expected_status_code).await
    }

    async fn stream_request<
        Query: Serialize + Send + Sync,
        Body: futures_util::AsyncRead + Send + Sync + 'static,
        Output: DeserializeOwned + 'static,
    >(
        &self,
        url: &str,
        method: Method<Query, Body>,
        content_type: &str,
        expected_status_code: u16,
    ) -> Result<Output, Error> {
        let (verb, url) = target(url, &method)?;
        let body = match method.into_body() {
            Some(body) => Some((read_all(body).await?, content_type)),
            None => None,
        };
        self.send(verb, url, body, expected_status_code).await
    }

    fn is_tokio(&self) -> bool {
        true
    }
}

async fn read_all(body: impl futures_util::AsyncRead + Send) -> Result<Vec<u8>, Error> {
    let mut buffer = Vec::new();
    std::pin::pin!(body)
        .read_to_end(&mut buffer)
        .await
        .map_err(|e| Error::Other(Box::new(e)))?;
    Ok(buffer)
}
