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

    async fn send<Query: Serialize + Send + Sync, Output: DeserializeOwned>(
        &self,
        url: &str,
        method: Method<Query, Vec<u8>>,
        content_type: &str,
        expected_status_code: u16,
    ) -> Result<Output, Error> {
        let query = yaup::to_string(method.query())?;
        let url = format!("{url}{query}");
        let verb = match &method {
            Method::Get { .. } => reqwest::Method::GET,
            Method::Delete { .. } => reqwest::Method::DELETE,
            Method::Post { .. } => reqwest::Method::POST,
            Method::Put { .. } => reqwest::Method::PUT,
            Method::Patch { .. } => reqwest::Method::PATCH,
        };
        let mut request = self.client.request(verb, &url);
        if let Some(body) = method.into_body() {
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
        let method = match method {
            Method::Get { query } => Method::Get { query },
            Method::Delete { query } => Method::Delete { query },
            Method::Post { query, body } => Method::Post {
                query,
                body: serde_json::to_vec(&body)?,
            },
            Method::Put { query, body } => Method::Put {
                query,
                body: serde_json::to_vec(&body)?,
            },
            Method::Patch { query, body } => Method::Patch {
                query,
                body: serde_json::to_vec(&body)?,
            },
        };
        self.send(url, method, "application/json", expected_status_code)
            .await
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
        let mut buffer = Vec::new();
        let method = match method {
            Method::Get { query } => Method::Get { query },
            Method::Delete { query } => Method::Delete { query },
            Method::Post { query, body } => {
                read_all(body, &mut buffer).await?;
                Method::Post {
                    query,
                    body: buffer,
                }
            }
            Method::Put { query, body } => {
                read_all(body, &mut buffer).await?;
                Method::Put {
                    query,
                    body: buffer,
                }
            }
            Method::Patch { query, body } => {
                read_all(body, &mut buffer).await?;
                Method::Patch {
                    query,
                    body: buffer,
                }
            }
        };
        self.send(url, method, content_type, expected_status_code)
            .await
    }

    fn is_tokio(&self) -> bool {
        true
    }
}

async fn read_all(
    body: impl futures_util::AsyncRead + Send,
    buffer: &mut Vec<u8>,
) -> Result<(), Error> {
    let mut body = std::pin::pin!(body);
    body.read_to_end(buffer)
        .await
        .map(drop)
        .map_err(|e| Error::Other(Box::new(e)))
}
