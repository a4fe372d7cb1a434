//! Search for the catalogue: the documents that are indexed, the language and synonym
//! settings, and the [`SearchBackend`] trait with its embedded tantivy implementation.
//!
//! Only published, non-withdrawn material is ever indexed, so nothing a search returns can
//! be a draft or a withdrawn clause.

mod alternatives;
pub mod analysis;
mod backend;
mod cover;
pub mod document;
pub mod meili;
mod meili_http;
pub mod suite;
pub mod synonyms;
pub mod tantivy_backend;

pub use backend::{
    Facet, FacetCount, FacetValue, Hit, SearchBackend, SearchError, SearchFilter, SearchRequest,
    SearchResponse, SortOrder, StaleAt,
};
pub use document::CatalogueDocument;
pub use tantivy_backend::TantivyBackend;

/// Longest query text accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 500;
