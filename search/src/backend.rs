//! The backend-neutral request and response types.

use serde::{Deserialize, Serialize};

use crate::document::CatalogueDocument;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The backend cannot be reached or failed; callers answer `SEARCH_UNAVAILABLE`.
    #[error("search backend unavailable: {0}")]
    Unavailable(String),
    /// Every search slot stayed taken for the whole wait: the backend is overloaded. Callers
    /// answer `SEARCH_UNAVAILABLE` at once instead of queueing the request further.
    #[error("search backend busy: no search slot within {waited_ms} ms")]
    Busy { waited_ms: u64 },
    /// Another process holds the index's write lock: on the embedded index, another server
    /// using the same data folder.
    #[error("the index is in use by another process")]
    Locked,
    /// The request itself is invalid (named field).
    #[error("{field}: {message}")]
    BadRequest {
        field: &'static str,
        message: String,
    },
}

/// Facet fields that can be counted and filtered on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Facet {
    Country,
    Language,
    Kind,
    AmbitionLevel,
    Focus,
    EnvironmentalImpact,
    SocialObjective,
    ProductGroup,
    SizeClass,
    Organization,
    /// How well proven in real tenders (`UNTESTED` … `WIDELY_PROVEN`).
    ProvenLevel,
}

impl Facet {
    pub const ALL: [Facet; 11] = [
        Facet::Country,
        Facet::Language,
        Facet::Kind,
        Facet::AmbitionLevel,
        Facet::Focus,
        Facet::EnvironmentalImpact,
        Facet::SocialObjective,
        Facet::ProductGroup,
        Facet::SizeClass,
        Facet::Organization,
        Facet::ProvenLevel,
    ];

    /// The document attribute holding this facet.
    pub fn attribute(self) -> &'static str {
        match self {
            Facet::Country => "country",
            Facet::Language => "language",
            Facet::Kind => "kind",
            Facet::AmbitionLevel => "ambition_level",
            Facet::Focus => "focus",
            Facet::EnvironmentalImpact => "environmental_impacts",
            Facet::SocialObjective => "social_objectives",
            Facet::ProductGroup => "product_group",
            Facet::SizeClass => "size_class",
            Facet::Organization => "organization_id",
            Facet::ProvenLevel => "proven_level",
        }
    }
}

/// Filters; values inside one field are alternatives (OR), fields combine with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchFilter {
    pub values: Vec<(Facet, Vec<String>)>,
    /// CPV code prefix of 2–8 digits.
    pub cpv_prefix: Option<String>,
    /// Only records that are (or are not) stale at a moment.
    pub stale: Option<StaleAt>,
}

/// Staleness depends on the day it is asked about, so documents carry the moment they turn
/// stale (`stale_from`) and the filter compares it with `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaleAt {
    pub stale: bool,
    /// Unix seconds.
    pub now: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortOrder {
    #[default]
    Relevance,
    Newest,
    /// Best proven first (by `evidence_score`), then newest.
    Evidence,
}

#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    pub query: String,
    pub filter: SearchFilter,
    pub facets: Vec<Facet>,
    pub sort: SortOrder,
    pub offset: usize,
    pub limit: usize,
}

impl SearchRequest {
    /// The order results come in. A request without words (browsing, filters only) has no
    /// relevance to rank by: every match ties, and ties would come in the order the index
    /// happened to store them, which differs between instances and shifts as segments
    /// merge. Such a request lists the newest first, on both backends.
    pub fn effective_sort(&self) -> SortOrder {
        match self.sort {
            SortOrder::Relevance if !self.query.chars().any(char::is_alphanumeric) => {
                SortOrder::Newest
            }
            sort => sort,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub id: String,
    /// Title with matches wrapped in `<em>…</em>`.
    pub title_highlight: Option<String>,
    /// A cropped excerpt of the text with matches wrapped in `<em>…</em>`.
    pub text_highlight: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacetValue {
    pub value: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacetCount {
    pub facet: Facet,
    pub values: Vec<FacetValue>,
}

#[derive(Debug, Clone, Default)]
pub struct SearchResponse {
    pub hits: Vec<Hit>,
    pub estimated_total: u64,
    pub facets: Vec<FacetCount>,
    pub processing_time_ms: u64,
}

/// A search index holding the published catalogue.
#[async_trait::async_trait]
pub trait SearchBackend: Send + Sync {
    /// The backend's name in logs and metrics (`tantivy`, `meilisearch`).
    fn name(&self) -> &'static str {
        "other"
    }
    /// Whether the index must be filled from the database with
    /// [`replace_all`](SearchBackend::replace_all): it was created empty when it was opened,
    /// or it was built with another analysis or other settings.
    fn is_new(&self) -> bool {
        false
    }
    /// Adds or replaces documents (by id).
    async fn upsert(&self, documents: Vec<CatalogueDocument>) -> Result<(), SearchError>;
    /// Removes documents by id; unknown ids are ignored.
    async fn delete(&self, ids: Vec<String>) -> Result<(), SearchError>;
    /// Replaces the whole index with `documents`; searches never see a half-built index.
    async fn replace_all(&self, documents: Vec<CatalogueDocument>) -> Result<(), SearchError>;
    async fn search(&self, request: SearchRequest) -> Result<SearchResponse, SearchError>;
    /// Applies one batch of changes (the upserts, then the deletions) that the backend may
    /// keep out of searches until [`commit`](Self::commit), so a run of batches costs one
    /// commit instead of one each. The default applies them at once. After an error, anything
    /// staged and not yet committed may or may not be kept: the caller applies those batches
    /// again (applying a document twice is harmless; a staged deletion of an id is ordered
    /// after the documents staged before it).
    async fn stage(
        &self,
        upserts: Vec<CatalogueDocument>,
        deletes: Vec<String>,
    ) -> Result<(), SearchError> {
        if !upserts.is_empty() {
            self.upsert(upserts).await?;
        }
        if !deletes.is_empty() {
            self.delete(deletes).await?;
        }
        Ok(())
    }
    /// Makes everything staged searchable (and, for the embedded index, durable).
    async fn commit(&self) -> Result<(), SearchError> {
        Ok(())
    }
}
