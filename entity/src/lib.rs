//! sea-orm entities of the catalogue.
//!
//! Every table works on SQLite and PostgreSQL, so list-valued fields (CPV codes, labels,
//! impact codes) are stored as JSON text ([`codes`]) rather than as database arrays, and enums are
//! stored as their stable string codes.

pub mod audit_event;
pub mod change_event;
pub mod clause;
pub mod clause_version;
pub mod codes;
pub mod deny_term;
pub mod enums;
pub mod feed_cursor;
pub mod label;
pub mod list_count;
pub mod mirror_upstream;
pub mod organization;
pub mod template;
pub mod template_clause;
pub mod template_version;
pub mod tender_result;
pub mod tender_result_clause;

pub use enums::*;
