//! Parsed GraphQL documents, kept by their text.
//!
//! A front end sends the same few operations again and again, with different variables.
//! Parsing one with async-graphql's parser took about a tenth of the server's CPU time in the
//! search benchmark (`BENCHMARKS.md`). A parsed document depends on nothing but its text, so
//! the one parsed for a text serves every later request with the same text. The document
//! guard and async-graphql's validation still run on every request, with that request's
//! variables.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use async_graphql::parser::types::ExecutableDocument;

/// Most documents kept; the least recently used ones make room for a new one.
pub const CAPACITY: usize = 256;
/// Longest query text kept, in bytes; longer ones are parsed on every request.
pub const MAX_TEXT_BYTES: usize = 8 * 1024;
/// Most text kept in all, in bytes. A document takes up to about 170 times its text (a
/// one-letter field is two bytes of text and a whole field node), so this bounds the cache at
/// about 20 MB however the texts are chosen; ordinary operations of a few hundred bytes fill
/// `CAPACITY` before it.
pub const BUDGET_BYTES: usize = 128 * 1024;

#[derive(Default)]
pub struct ParsedDocuments {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<Box<str>, Entry>,
    /// The length of every kept text, added up.
    text_bytes: usize,
    /// Counts lookups and inserts; an entry's `used` is the count at its last use.
    clock: u64,
}

struct Entry {
    document: Arc<ExecutableDocument>,
    used: u64,
}

impl ParsedDocuments {
    /// A copy of the document parsed for `text`, if it is kept.
    pub fn get(&self, text: &str) -> Option<ExecutableDocument> {
        // A text too long to keep is not hashed for a lookup that cannot succeed.
        if text.len() > MAX_TEXT_BYTES {
            return None;
        }
        let document = {
            let mut guard = self.lock();
            let inner = &mut *guard;
            inner.clock += 1;
            let entry = inner.entries.get_mut(text)?;
            entry.used = inner.clock;
            Arc::clone(&entry.document)
        };
        // Copied outside the lock: requests with the same text do not wait for each other.
        Some(ExecutableDocument::clone(&document))
    }

    /// Keeps a copy of `document` as the parse of `text`, unless the text is too long to keep
    /// (then nothing is copied).
    pub fn insert(&self, text: &str, document: &ExecutableDocument) {
        if text.len() > MAX_TEXT_BYTES {
            return;
        }
        let mut guard = self.lock();
        let inner = &mut *guard;
        if inner.entries.contains_key(text) {
            return;
        }
        while inner.entries.len() >= CAPACITY || inner.text_bytes + text.len() > BUDGET_BYTES {
            let Some(oldest) = inner
                .entries
                .iter()
                .min_by_key(|(_, entry)| entry.used)
                .map(|(text, _)| text.clone())
            else {
                break;
            };
            inner.entries.remove(&oldest);
            inner.text_bytes -= oldest.len();
        }
        inner.text_bytes += text.len();
        inner.clock += 1;
        let entry = Entry {
            document: Arc::new(document.clone()),
            used: inner.clock,
        };
        inner.entries.insert(text.into(), entry);
    }

    /// How many documents are kept.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// A panic while the lock was held cannot leave a half-made entry behind (an entry is
    /// inserted whole), so a poisoned lock is still usable.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    fn document(text: &str) -> ExecutableDocument {
        parse_query(text).expect("a valid document")
    }

    #[test]
    fn a_kept_document_is_the_parse_of_its_text() {
        let cache = ParsedDocuments::default();
        let text = "query($q: String!) { searchClauses(query: $q) { totalCount } }";
        assert!(cache.get(text).is_none());
        cache.insert(text, &document(text));
        let kept = cache.get(text).expect("kept");
        assert_eq!(format!("{kept:?}"), format!("{:?}", document(text)));
        assert!(cache.get("{ __typename }").is_none());
    }

    #[test]
    fn the_least_recently_used_document_makes_room() {
        let cache = ParsedDocuments::default();
        let text = |i: usize| format!("{{ f{i}: __typename }}");
        for i in 0..CAPACITY {
            cache.insert(&text(i), &document(&text(i)));
        }
        assert_eq!(cache.len(), CAPACITY);
        // The first one is used again, so the second is now the oldest.
        assert!(cache.get(&text(0)).is_some());
        cache.insert(&text(CAPACITY), &document(&text(CAPACITY)));
        assert_eq!(cache.len(), CAPACITY);
        assert!(cache.get(&text(0)).is_some());
        assert!(cache.get(&text(1)).is_none());
        assert!(cache.get(&text(CAPACITY)).is_some());
    }

    #[test]
    fn the_kept_text_stays_within_the_budget() {
        let cache = ParsedDocuments::default();
        let text = |i: usize| format!("{{ f{i}: __typename }}{}", " ".repeat(MAX_TEXT_BYTES - 64));
        let fits = BUDGET_BYTES / text(0).len();
        for i in 0..fits + 5 {
            cache.insert(&text(i), &document(&text(i)));
            assert!(cache.lock().text_bytes <= BUDGET_BYTES);
        }
        assert_eq!(cache.len(), fits);
        // The newest are kept, the oldest made room.
        assert!(cache.get(&text(fits + 4)).is_some());
        assert!(cache.get(&text(0)).is_none());
        let kept: usize = cache.lock().entries.keys().map(|t| t.len()).sum();
        assert_eq!(kept, cache.lock().text_bytes);
    }

    #[test]
    fn long_texts_are_not_kept() {
        let cache = ParsedDocuments::default();
        let long = format!("{{ __typename }}{}", " ".repeat(MAX_TEXT_BYTES));
        cache.insert(&long, &document(&long));
        assert!(cache.get(&long).is_none());
        assert_eq!(cache.len(), 0);
    }
}
