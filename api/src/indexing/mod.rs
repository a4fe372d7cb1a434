//! Keeps the search index equal to the published catalogue by draining the change feed.

pub mod documents;
mod handoff;
mod indexer;

pub use handoff::Handoff;
pub use indexer::{Backends, Burst, CONSUMER, Indexer, IndexerHandle, ensure_initialised, reindex};
