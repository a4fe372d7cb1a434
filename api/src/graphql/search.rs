//! `searchClauses`: full-text, typo-tolerant, multilingual search with filters and facets.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    Context, Enum, ID, InputObject, Object, Result, SimpleObject, connection::PageInfo,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use entity::{
    AmbitionLevel, ClauseKind, Country, EnvironmentalImpact, Language, ProductGroup,
    SocialObjective,
};
use search::{Facet, SearchFilter, SearchRequest, SearchResponse, SortOrder, StaleAt};
use serde::Serialize;

use super::{
    data, identity,
    types::{Clause, Template},
};
use crate::{
    error::{GqlResult, ServiceError, ServiceResult},
    indexing::{Backends, documents::name},
    row_cache::ClauseRowCache,
    service::{
        self,
        clause::{ClauseRow, Focus},
        evidence::ProvenLevel,
        organization::SizeClass,
    },
};

/// The search backends in force, shared by every request.
#[derive(Clone)]
pub struct SearchHandle(pub Backends);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SearchFacet {
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
    ProvenLevel,
}

impl From<SearchFacet> for Facet {
    fn from(value: SearchFacet) -> Self {
        match value {
            SearchFacet::Country => Facet::Country,
            SearchFacet::Language => Facet::Language,
            SearchFacet::Kind => Facet::Kind,
            SearchFacet::AmbitionLevel => Facet::AmbitionLevel,
            SearchFacet::Focus => Facet::Focus,
            SearchFacet::EnvironmentalImpact => Facet::EnvironmentalImpact,
            SearchFacet::SocialObjective => Facet::SocialObjective,
            SearchFacet::ProductGroup => Facet::ProductGroup,
            SearchFacet::SizeClass => Facet::SizeClass,
            SearchFacet::Organization => Facet::Organization,
            SearchFacet::ProvenLevel => Facet::ProvenLevel,
        }
    }
}

fn facet_of(facet: Facet) -> SearchFacet {
    match facet {
        Facet::Country => SearchFacet::Country,
        Facet::Language => SearchFacet::Language,
        Facet::Kind => SearchFacet::Kind,
        Facet::AmbitionLevel => SearchFacet::AmbitionLevel,
        Facet::Focus => SearchFacet::Focus,
        Facet::EnvironmentalImpact => SearchFacet::EnvironmentalImpact,
        Facet::SocialObjective => SearchFacet::SocialObjective,
        Facet::ProductGroup => SearchFacet::ProductGroup,
        Facet::SizeClass => SearchFacet::SizeClass,
        Facet::Organization => SearchFacet::Organization,
        Facet::ProvenLevel => SearchFacet::ProvenLevel,
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Enum)]
pub enum SearchSort {
    /// Best match first.
    #[default]
    Relevance,
    /// Most recently published first.
    Newest,
    /// Best proven in real tenders first (proven level, then uses, then organisations).
    Evidence,
}

/// Search filters: several values of one field are alternatives; fields combine.
#[derive(Debug, Default, InputObject)]
pub struct ClauseSearchFilter {
    pub country: Option<Vec<Country>>,
    pub language: Option<Vec<Language>>,
    pub kind: Option<Vec<ClauseKind>>,
    pub ambition_level: Option<Vec<AmbitionLevel>>,
    pub focus: Option<Vec<Focus>>,
    pub environmental_impact: Option<Vec<EnvironmentalImpact>>,
    pub social_objective: Option<Vec<SocialObjective>>,
    pub product_group: Option<Vec<ProductGroup>>,
    pub size_class: Option<Vec<SizeClass>>,
    pub organization_id: Option<Vec<ID>>,
    /// CPV code prefix of 2–8 digits: `302` finds every computer-equipment clause.
    pub cpv: Option<String>,
    pub proven_level: Option<Vec<ProvenLevel>>,
    /// `true` for clauses citing an expired label generation or overdue for review.
    pub stale: Option<bool>,
}

fn names<T: Serialize>(values: Option<Vec<T>>) -> Vec<String> {
    values.unwrap_or_default().iter().map(name).collect()
}

/// Most organisations one filter may name.
const MAX_FILTER_ORGANIZATIONS: usize = 100;

impl ClauseSearchFilter {
    fn into_filter(self) -> ServiceResult<SearchFilter> {
        let ids = self.organization_id.unwrap_or_default();
        if ids.len() > MAX_FILTER_ORGANIZATIONS {
            return Err(ServiceError::bad_input(
                "filter.organizationId",
                format!("at most {MAX_FILTER_ORGANIZATIONS} organisations"),
            ));
        }
        let mut organizations = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            let field = format!("filter.organizationId[{i}]");
            organizations.push(service::clause::parse_id(&field, id)?.to_string());
        }
        let focus = self
            .focus
            .unwrap_or_default()
            .into_iter()
            .map(|f| f.code().to_owned())
            .collect();
        let sizes = self
            .size_class
            .unwrap_or_default()
            .into_iter()
            .map(|c| c.code().to_owned())
            .collect();
        let mut values = vec![
            (Facet::Country, names(self.country)),
            (Facet::Language, names(self.language)),
            (Facet::Kind, names(self.kind)),
            (Facet::AmbitionLevel, names(self.ambition_level)),
            (Facet::Focus, focus),
            (Facet::EnvironmentalImpact, names(self.environmental_impact)),
            (Facet::SocialObjective, names(self.social_objective)),
            (Facet::ProductGroup, names(self.product_group)),
            (Facet::SizeClass, sizes),
            (Facet::Organization, organizations),
            (
                Facet::ProvenLevel,
                self.proven_level
                    .unwrap_or_default()
                    .into_iter()
                    .map(|l| l.code().to_owned())
                    .collect(),
            ),
        ];
        // Repeated values change nothing but the cost of the query.
        for (_, list) in &mut values {
            list.sort_unstable();
            list.dedup();
        }
        Ok(SearchFilter {
            values,
            cpv_prefix: self.cpv,
            stale: self.stale.map(|stale| StaleAt {
                stale,
                now: chrono::Utc::now().timestamp(),
            }),
        })
    }
}

/// Matched words wrapped in `<em>…</em>`; `null` when the field had no match.
#[derive(SimpleObject)]
pub struct Highlight {
    pub title: Option<String>,
    pub text: Option<String>,
}

pub struct ClauseSearchHit {
    highlight: search::Hit,
    /// The clause and its current view, read with the rest of the page when the selection
    /// asks for `clause`; `None` when it was not asked for or is gone since the search.
    row: Option<ClauseRow>,
}

#[Object]
impl ClauseSearchHit {
    /// The clause (its `latest` version is what matched).
    async fn clause(&self, ctx: &Context<'_>) -> Result<Option<Clause>> {
        let identity = identity(ctx)?;
        Ok(self
            .row
            .clone()
            .filter(|(row, _)| service::clause::visible(row, identity))
            .map(|(row, current)| Clause { row, current }))
    }
    async fn highlight(&self) -> Highlight {
        Highlight {
            title: self.highlight.title_highlight.clone(),
            text: self.highlight.text_highlight.clone(),
        }
    }
}

/// A template that matched, with its highlighted words.
pub struct TemplateSearchHit {
    id: uuid::Uuid,
    highlight: search::Hit,
}

#[Object]
impl TemplateSearchHit {
    async fn template(&self, ctx: &Context<'_>) -> Result<Option<Template>> {
        let db = super::db(ctx)?;
        Ok(service::template::get(db, identity(ctx)?, self.id)
            .await
            .gql()?
            .map(|row| Template { row, current: None }))
    }
    async fn highlight(&self) -> Highlight {
        Highlight {
            title: self.highlight.title_highlight.clone(),
            text: self.highlight.text_highlight.clone(),
        }
    }
}

#[derive(SimpleObject)]
pub struct ClauseSearchEdge {
    pub cursor: String,
    pub node: ClauseSearchHit,
}

#[derive(SimpleObject)]
pub struct TemplateSearchEdge {
    pub cursor: String,
    pub node: TemplateSearchHit,
}

#[derive(SimpleObject)]
pub struct FacetValueCount {
    pub value: String,
    pub count: u64,
}

#[derive(SimpleObject)]
pub struct FacetDistribution {
    pub field: SearchFacet,
    pub values: Vec<FacetValueCount>,
}

#[derive(SimpleObject)]
#[graphql(concrete(name = "ClauseSearchConnection", params(ClauseSearchEdge)))]
#[graphql(concrete(name = "TemplateSearchConnection", params(TemplateSearchEdge)))]
pub struct SearchConnection<E: async_graphql::OutputType> {
    pub edges: Vec<E>,
    pub page_info: PageInfo,
    /// Number of matching records (an estimate on large catalogues).
    pub total_count: u64,
    pub processing_time_ms: u64,
    /// Counts per value for each facet asked for, over all matches.
    pub facets: Vec<FacetDistribution>,
}

/// Shapes a backend response into a connection page starting at `offset`.
fn connection<E: async_graphql::OutputType>(
    response: SearchResponse,
    offset: usize,
    mut edge: impl FnMut(String, uuid::Uuid, search::Hit) -> E,
) -> SearchConnection<E> {
    let mut cursors = Vec::with_capacity(response.hits.len());
    let edges: Vec<E> = response
        .hits
        .into_iter()
        .enumerate()
        .filter_map(|(i, hit)| {
            let id = uuid::Uuid::parse_str(&hit.id).ok()?;
            let cursor = encode_offset(offset + i);
            cursors.push(cursor.clone());
            Some(edge(cursor, id, hit))
        })
        .collect();
    let shown = offset + edges.len();
    SearchConnection {
        page_info: PageInfo {
            has_previous_page: offset > 0,
            has_next_page: (shown as u64) < response.estimated_total,
            start_cursor: cursors.first().cloned(),
            end_cursor: cursors.last().cloned(),
        },
        edges,
        total_count: response.estimated_total,
        processing_time_ms: response.processing_time_ms,
        facets: response
            .facets
            .into_iter()
            .map(|f| FacetDistribution {
                field: facet_of(f.facet),
                values: f
                    .values
                    .into_iter()
                    .map(|v| FacetValueCount {
                        value: v.value,
                        count: v.count,
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// Filters for template search.
#[derive(Debug, Default, InputObject)]
pub struct TemplateSearchFilter {
    pub country: Option<Vec<Country>>,
    pub language: Option<Vec<Language>>,
    pub size_class: Option<Vec<SizeClass>>,
    pub organization_id: Option<Vec<ID>>,
    /// CPV code prefix of 2–8 digits.
    pub cpv: Option<String>,
    pub proven_level: Option<Vec<ProvenLevel>>,
}

impl TemplateSearchFilter {
    fn into_filter(self) -> ServiceResult<SearchFilter> {
        ClauseSearchFilter {
            country: self.country,
            language: self.language,
            size_class: self.size_class,
            organization_id: self.organization_id,
            cpv: self.cpv,
            proven_level: self.proven_level,
            ..ClauseSearchFilter::default()
        }
        .into_filter()
    }
}

/// Builds the backend request from the GraphQL arguments.
fn request(
    ctx: &Context<'_>,
    query: String,
    filter: SearchFilter,
    facets: Option<Vec<SearchFacet>>,
    sort: SearchSort,
    first: Option<i32>,
    after: Option<String>,
) -> Result<SearchRequest> {
    let page = super::page(ctx, first, None)?;
    let offset = match after.as_deref() {
        Some(cursor) => decode_offset(cursor).gql()? + 1,
        None => 0,
    };
    Ok(SearchRequest {
        query,
        filter,
        facets: facets
            .unwrap_or_default()
            .into_iter()
            .map(Facet::from)
            .collect(),
        sort: match sort {
            SearchSort::Relevance => SortOrder::Relevance,
            SearchSort::Newest => SortOrder::Newest,
            SearchSort::Evidence => SortOrder::Evidence,
        },
        offset,
        limit: page.first as usize,
    })
}

const CURSOR_PREFIX: &str = "s1:";

fn encode_offset(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{offset}"))
}

fn decode_offset(cursor: &str) -> ServiceResult<usize> {
    let invalid = || ServiceError::bad_input("after", "not a cursor returned by searchClauses");
    let raw = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    String::from_utf8(raw)
        .ok()
        .and_then(|raw| raw.strip_prefix(CURSOR_PREFIX).and_then(|n| n.parse().ok()))
        // No page starts past the deepest hit a backend can list (an offset near `usize::MAX`
        // would overflow the page arithmetic).
        .filter(|&offset: &usize| offset < search::meili::MAX_TOTAL_HITS)
        .ok_or_else(invalid)
}

/// One search on a backend, its latency recorded by backend.
async fn timed_search(
    ctx: &Context<'_>,
    backend: &Arc<dyn search::SearchBackend>,
    request: SearchRequest,
) -> Result<SearchResponse> {
    let started = std::time::Instant::now();
    let response = backend.search(request).await;
    data::<Arc<crate::metrics::Metrics>>(ctx)?.observe(
        "commons_search_duration_seconds",
        &[("backend", backend.name())],
        started.elapsed().as_secs_f64(),
    );
    response.map_err(ServiceError::from).gql()
}

#[derive(Default)]
pub struct SearchQuery;

#[Object]
impl SearchQuery {
    /// Searches published clauses in every language, with typo tolerance and synonyms.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity + 10")]
    #[expect(clippy::too_many_arguments, reason = "GraphQL arguments")]
    async fn search_clauses(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] query: String,
        filter: Option<ClauseSearchFilter>,
        facets: Option<Vec<SearchFacet>>,
        #[graphql(default)] sort: SearchSort,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<SearchConnection<ClauseSearchEdge>> {
        let filter = filter.unwrap_or_default().into_filter().gql()?;
        let request = request(ctx, query, filter, facets, sort, first, after)?;
        let offset = request.offset;
        let response = timed_search(ctx, &data::<SearchHandle>(ctx)?.0.clauses, request).await?;
        // A result list shows each hit's clause: the page's rows and their current views are
        // read here in one query, rather than through a data loader after the hits resolve.
        // The look-ahead follows fragments and ignores aliases, so it sees every way of
        // selecting `clause`.
        let wants_clauses = ctx
            .look_ahead()
            .field("edges")
            .field("node")
            .field("clause")
            .exists();
        let mut rows = if wants_clauses {
            let ids: Vec<uuid::Uuid> = response
                .hits
                .iter()
                .filter_map(|hit| uuid::Uuid::parse_str(&hit.id).ok())
                .collect();
            let cache = data::<Arc<ClauseRowCache>>(ctx)?;
            cache.read(super::reader(ctx)?, &ids).await.gql()?
        } else {
            HashMap::new()
        };
        Ok(connection(response, offset, |cursor, id, highlight| {
            ClauseSearchEdge {
                cursor,
                node: ClauseSearchHit {
                    highlight,
                    row: rows.remove(&id),
                },
            }
        }))
    }

    /// Searches published tender templates (title, description and the titles of their clauses).
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity + 10")]
    #[expect(clippy::too_many_arguments, reason = "GraphQL arguments")]
    async fn search_templates(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] query: String,
        filter: Option<TemplateSearchFilter>,
        facets: Option<Vec<SearchFacet>>,
        #[graphql(default)] sort: SearchSort,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<SearchConnection<TemplateSearchEdge>> {
        let filter = filter.unwrap_or_default().into_filter().gql()?;
        let request = request(ctx, query, filter, facets, sort, first, after)?;
        let offset = request.offset;
        let response = timed_search(ctx, &data::<SearchHandle>(ctx)?.0.templates, request).await?;
        Ok(connection(response, offset, |cursor, id, highlight| {
            TemplateSearchEdge {
                cursor,
                node: TemplateSearchHit { id, highlight },
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_name_offsets_a_backend_can_list() {
        assert_eq!(decode_offset(&encode_offset(41)).ok(), Some(41));
        let deepest = search::meili::MAX_TOTAL_HITS - 1;
        assert_eq!(decode_offset(&encode_offset(deepest)).ok(), Some(deepest));
        // Past every hit, up to the largest number: refused, not added to.
        for offset in [search::meili::MAX_TOTAL_HITS, usize::MAX] {
            assert!(decode_offset(&encode_offset(offset)).is_err(), "{offset}");
        }
        assert!(decode_offset("bm90LWEtY3Vyc29y").is_err());
    }
}
