//! Automatic persisted queries (Apollo's protocol, version 1): a client sends
//! `extensions.persistedQuery.sha256Hash` without the query; when this server has not seen
//! the text it answers `PersistedQueryNotFound` (code `PERSISTED_QUERY_NOT_FOUND`) and the
//! client sends the text with its hash once. The short form fits in a `GET` URL, which
//! proxies and CDNs can cache.
//!
//! Only the text is kept: the document guard parses (from its own cache) and checks every
//! request as usual, so a persisted document is held to the same limits as any other.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
};

use async_graphql::{Request, ServerError};
use sha2::{Digest, Sha256};

use crate::error::ErrorCode;

/// Texts kept at most, and their total size: the oldest are forgotten first (a client that
/// asks for one again just sends it again).
const CAPACITY: usize = 10_000;
const BUDGET_BYTES: usize = 16 * 1024 * 1024;

#[derive(Default)]
pub struct PersistedQueries {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    texts: HashMap<String, Arc<str>>,
    order: VecDeque<String>,
    bytes: usize,
}

fn error(message: &str, code: &str) -> ServerError {
    let mut error = ServerError::new(message, None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
    error
}

impl PersistedQueries {
    /// Resolves the request's persisted query, if it names one: fills in the text for a hash
    /// seen before, or keeps a text sent with its hash. Refuses an unknown hash, a hash
    /// that does not match the text and any version but 1.
    pub fn resolve(&self, request: &mut Request) -> Result<(), ServerError> {
        let Some(extension) = request.extensions.get("persistedQuery") else {
            return Ok(());
        };
        let extension = extension.clone().into_json().map_err(|_| {
            error(
                "persistedQuery is not an object",
                ErrorCode::BadUserInput.as_str(),
            )
        })?;
        if extension.get("version").and_then(serde_json::Value::as_i64) != Some(1) {
            return Err(error(
                "PersistedQueryNotSupported: only version 1 of persisted queries is supported",
                "PERSISTED_QUERY_NOT_SUPPORTED",
            ));
        }
        let hash = extension
            .get("sha256Hash")
            .and_then(serde_json::Value::as_str)
            .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| {
                error(
                    "persistedQuery.sha256Hash must be 64 hexadecimal digits",
                    ErrorCode::BadUserInput.as_str(),
                )
            })?
            .to_ascii_lowercase();
        if request.query.is_empty() {
            let text = self
                .inner
                .lock()
                .ok()
                .and_then(|inner| inner.texts.get(&hash).cloned())
                .ok_or_else(|| error("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND"))?;
            request.query = text.to_string();
            return Ok(());
        }
        let actual = format!("{:x}", Sha256::digest(request.query.as_bytes()));
        if actual != hash {
            return Err(error(
                "persistedQuery.sha256Hash is not the SHA-256 of the query",
                ErrorCode::BadUserInput.as_str(),
            ));
        }
        self.keep(hash, &request.query);
        Ok(())
    }

    fn keep(&self, hash: String, text: &str) {
        if text.len() > BUDGET_BYTES {
            return;
        }
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if inner.texts.contains_key(&hash) {
            return;
        }
        while inner.texts.len() >= CAPACITY || inner.bytes + text.len() > BUDGET_BYTES {
            let Some(oldest) = inner.order.pop_front() else {
                break;
            };
            if let Some(gone) = inner.texts.remove(&oldest) {
                inner.bytes -= gone.len();
            }
        }
        inner.bytes += text.len();
        inner.order.push_back(hash.clone());
        inner.texts.insert(hash, Arc::from(text));
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::Value;

    use super::*;

    fn request(query: &str, hash: &str) -> Request {
        let mut request = Request::new(query);
        let extension = serde_json::json!({ "version": 1, "sha256Hash": hash });
        request.extensions.insert(
            "persistedQuery".into(),
            Value::from_json(extension).expect("json"),
        );
        request
    }

    #[test]
    fn a_hash_is_answered_once_its_text_was_sent() {
        let store = PersistedQueries::default();
        let text = "{ __typename }";
        let hash = format!("{:x}", Sha256::digest(text.as_bytes()));
        let unknown = store.resolve(&mut request("", &hash)).expect_err("not yet");
        assert_eq!(unknown.message, "PersistedQueryNotFound");
        let mut wrong = request("{ viewer { authenticated } }", &hash);
        assert!(store.resolve(&mut wrong).is_err());
        assert!(store.resolve(&mut request(text, &hash)).is_ok());
        let mut short = request("", &hash);
        assert!(store.resolve(&mut short).is_ok());
        assert_eq!(short.query, text);
        let mut plain = Request::new("{ a }");
        assert!(store.resolve(&mut plain).is_ok());
    }
}
