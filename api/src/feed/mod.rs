//! Mirroring: the change feed, the NDJSON snapshot and `commons mirror`, which applies both to
//! a local database.
//!
//! The feed is the `change_event` table read in sequence order (see
//! [`crate::service::record_change`] for why sequence order is commit order). The snapshot is
//! every published record read in one consistent transaction, with the highest sequence number
//! that transaction sees as its watermark: reading the feed after the watermark continues
//! exactly where the snapshot ends.

pub mod apply;
pub mod changes;
pub mod mirror;
pub mod records;
pub mod snapshot;
