//! The GraphQL schema and its HTTP endpoints.

mod cpv;
mod feed;
mod guard;
mod loaders;
mod mutation;
mod parsed;
mod persisted;
mod query;
mod search;
mod trust;
mod types;
pub(crate) mod writes;

use std::{
    any::{Any, type_name},
    sync::Arc,
};

use async_graphql::{
    Context, Data, MergedObject, Request, Schema, ServerError, SimpleObject,
    connection::{Connection, Edge},
    dataloader::{DataLoader, Loader},
    http::ALL_WEBSOCKET_PROTOCOLS,
    parser::types::OperationType,
};
use async_graphql_axum::{GraphQLProtocol, GraphQLRequest, GraphQLWebSocket};
use axum::{
    extract::{State, WebSocketUpgrade},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use sea_orm::DatabaseConnection;

pub use loaders::Loaders;
pub use mutation::MutationRoot;
pub use query::QueryRoot;
pub use search::SearchHandle;

use crate::{
    auth::Identity,
    config::LimitArgs,
    error::{ErrorCode, GqlResult, ServiceError},
    indexing::IndexerHandle,
    row_cache::ClauseRowCache,
    service::page::{Cursor, Page, PageRequest, encode_cursor},
    startup::AppState,
};

/// Every query field: catalogue reads, search, evidence, statistics and the change feed
/// (with the federation entity resolvers).
#[derive(MergedObject, Default)]
pub struct Query(
    QueryRoot,
    cpv::CpvQuery,
    search::SearchQuery,
    trust::TrustQuery,
    feed::FeedQuery,
);

/// Every mutation: the publishing workflow, reuse and anonymisation settings.
#[derive(MergedObject, Default)]
pub struct Mutation(MutationRoot, trust::TrustMutation);

pub type AppSchema = Schema<Query, Mutation, feed::FeedSubscription>;

/// Most directives on one field.
const MAX_DIRECTIVES: usize = 16;

/// Largest page a connection serves.
struct MaxPageSize(usize);

/// Read-only connections for what only reads: the search page's clauses and the data
/// loaders. On SQLite these are connections of their own beside the single writer (see
/// [`crate::db::connect_reader`]), so reads neither queue behind a write nor behind each
/// other; they see every committed write, so a mutation's answer shows what it wrote.
#[derive(Clone)]
pub struct Reader(pub DatabaseConnection);

/// Builds the executable schema with the configured limits.
pub fn build_schema(
    db: DatabaseConnection,
    reader: Reader,
    rows: Arc<ClauseRowCache>,
    search: SearchHandle,
    indexer: IndexerHandle,
    limits: &LimitArgs,
    metrics: Arc<crate::metrics::Metrics>,
) -> AppSchema {
    let mut builder = Schema::build(
        Query::default(),
        Mutation::default(),
        feed::FeedSubscription,
    )
    .enable_federation()
    .data(db)
    .data(reader)
    .data(Arc::clone(&rows))
    .data(search)
    .data(indexer)
    .data(MaxPageSize(limits.max_page_size))
    .data(Arc::clone(&metrics))
    .extension(crate::metrics::GraphqlMetrics(metrics))
    .extension(writes::MutationWrites(rows))
    // Depth is checked by the guard, which measures introspection apart from data.
    .limit_complexity(limits.max_complexity)
    .limit_directives(MAX_DIRECTIVES)
    .extension(guard::DocumentGuard::new(guard::Limits {
        max_depth: limits.max_depth as u64,
        introspection: limits.introspection,
    }));
    if !limits.introspection {
        builder = builder.disable_introspection();
    }
    builder.finish()
}

fn bare_schema() -> AppSchema {
    Schema::build(
        Query::default(),
        Mutation::default(),
        feed::FeedSubscription,
    )
    .enable_federation()
    .finish()
}

/// The schema in SDL, as checked in at `schema.graphql`.
pub fn sdl() -> String {
    bare_schema().sdl()
}

/// The subgraph SDL a federation gateway composes (what `_service { sdl }` answers): it
/// declares Federation 2 and leaves out the subscription root.
pub fn federation_sdl() -> String {
    bare_schema().sdl_with_options(async_graphql::SDLExportOptions::new().federation())
}

fn data<'a, T: Any + Send + Sync>(ctx: &Context<'a>) -> async_graphql::Result<&'a T> {
    ctx.data::<T>().map_err(|_| {
        ServiceError::Internal(anyhow::anyhow!(
            "{} missing from the context",
            type_name::<T>()
        ))
        .into_graphql()
    })
}

fn db<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a DatabaseConnection> {
    data(ctx)
}

fn reader<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a DatabaseConnection> {
    data::<Reader>(ctx).map(|reader| &reader.0)
}

fn identity<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Identity> {
    data(ctx)
}

fn page(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<&str>,
) -> async_graphql::Result<PageRequest> {
    let max = data::<MaxPageSize>(ctx)?.0;
    let mut request = PageRequest::new(first, after, max).gql()?;
    // `totalCount` counts every match, which costs far more than one page: only when the
    // query selects it (directly or through a fragment).
    request.count = ctx.look_ahead().field("totalCount").exists();
    Ok(request)
}

async fn load<K>(
    ctx: &Context<'_>,
    key: K,
) -> async_graphql::Result<Option<<Loaders as Loader<K>>::Value>>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    Loaders: Loader<K, Error = Arc<sea_orm::DbErr>>,
{
    data::<DataLoader<Loaders>>(ctx)?
        .load_one(key)
        .await
        .map_err(|e| ServiceError::Internal(anyhow::anyhow!("loader: {e}")).into_graphql())
}

/// Fields every connection carries besides edges and page info.
#[derive(SimpleObject)]
pub struct ConnectionFields {
    /// Number of records matching the filter, over all pages, computed only when selected.
    /// For clauses, templates and tender results filtered by status and organisation alone
    /// (the default list, an organisation's list) it is read from counters the database
    /// keeps, at the cost of one page; other filters count every match, which costs more
    /// than the page: leave it out of queries that page through such a list.
    pub total_count: u64,
}

pub type Conn<N> = Connection<String, N, ConnectionFields>;

fn connection<T, N: async_graphql::OutputType>(
    page: Page<T>,
    cursor_of: impl Fn(&T) -> Cursor,
    node: impl Fn(T) -> N,
) -> Conn<N> {
    let mut conn = Connection::with_additional_fields(
        page.has_previous_page,
        page.has_next_page,
        ConnectionFields {
            total_count: page.total_count,
        },
    );
    conn.edges.extend(
        page.items
            .into_iter()
            .map(|item| Edge::new(encode_cursor(&cursor_of(&item)), node(item))),
    );
    conn
}

/// Errors raised before resolvers run (syntax, validation, limits) carry no code of their
/// own; they are all the client's to fix.
fn ensure_codes(errors: &mut [ServerError]) {
    for error in errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", ErrorCode::BadUserInput.as_str());
        }
    }
}

/// One loader per request. Keys requested while a list is resolved arrive within one poll,
/// before the spawned fetch first runs, so no delay is needed to batch them; the library's
/// default 1 ms wait (a timer thread's, in practice about 1.6 ms) was added to every level of
/// a selection: a search page showing each clause's latest title waited twice. A zero delay
/// is ready at its first poll.
fn loader(state: &AppState) -> DataLoader<Loaders> {
    DataLoader::new(
        Loaders::new(state.reader.clone(), Arc::clone(&state.rows)),
        tokio::spawn,
    )
    .delay(std::time::Duration::ZERO)
}

async fn execute(
    state: &AppState,
    identity: Identity,
    request: Request,
    media: Media,
    caching: Caching,
) -> HttpResponse {
    // An answer for a signed-in caller is theirs alone.
    let caching = match identity {
        Identity::User(_) => Caching::Private,
        Identity::Anonymous => caching,
    };
    let response = execute_as(state, identity, request).await;
    HttpResponse {
        response,
        media,
        caching,
    }
}

/// How long a shared cache may keep an anonymous `GET` answer before asking again (with
/// `If-None-Match`, answered `304` when nothing changed).
const PUBLIC_MAX_AGE: &str = "public, max-age=30";

/// What caches may do with a response.
pub enum Caching {
    /// An anonymous `POST`: no caching headers beyond what the schema sets.
    Unset,
    /// A signed-in caller's answer: `private, no-store`.
    Private,
    /// An anonymous `GET`: public for a short while, with an `ETag`.
    Public { if_none_match: Option<String> },
}

/// Runs an operation in-process for the web app's pages, exactly as `POST /graphql` would for
/// the same caller (same schema, limits, loaders and error codes).
pub async fn execute_as(
    state: &AppState,
    identity: Identity,
    request: Request,
) -> async_graphql::Response {
    let request = request.data(identity).data(loader(state));
    let mut response = state.schema.execute(request).await;
    ensure_codes(&mut response.errors);
    response
}

/// The media type a response is written in, as GraphQL over HTTP negotiates it from
/// `Accept`: `application/graphql-response+json` when the client names it, else
/// `application/json` (also for a wildcard or no `Accept` at all, as the specification's audit
/// suite asks and common servers answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    GraphqlResponse,
    Json,
}

impl Media {
    pub fn of(headers: &axum::http::HeaderMap) -> Self {
        let named = headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter(|range| {
                // `q=0` means "not acceptable".
                !range.split(';').skip(1).any(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.trim().parse::<f32>().ok())
                        .is_some_and(|q| q == 0.0)
                })
            })
            .any(|range| {
                range.split(';').next().unwrap_or("").trim() == "application/graphql-response+json"
            });
        if named {
            Self::GraphqlResponse
        } else {
            Self::Json
        }
    }
}

/// A GraphQL response written as GraphQL over HTTP asks: with
/// `application/graphql-response+json`, a request that never reached execution (syntax,
/// validation, variables, limits) is a `400` without a `data` entry; with `application/json`
/// every well-formed request is a `200`.
pub struct HttpResponse {
    response: async_graphql::Response,
    media: Media,
    caching: Caching,
}

/// A strong entity tag of a response body.
fn entity_tag(body: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(body.as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// Whether `If-None-Match` names `tag` (or is `*`).
fn matches_tag(if_none_match: &str, tag: &str) -> bool {
    if_none_match
        .split(',')
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate.trim_start_matches("W/") == tag)
}

impl IntoResponse for HttpResponse {
    fn into_response(self) -> Response {
        let Self {
            response,
            media,
            caching,
        } = self;
        // Errors before execution have no path; a field's error has one, even when it nulls
        // the whole `data` (a failed mutation with a non-null payload).
        let request_error = response.data == async_graphql::Value::Null
            && !response.errors.is_empty()
            && response.errors.iter().all(|e| e.path.is_empty());
        let cache_control = (response.errors.is_empty())
            .then(|| response.cache_control.value())
            .flatten();
        let headers = response.http_headers.clone();
        let mut body = serde_json::to_value(&response).unwrap_or_default();
        let status = if media == Media::GraphqlResponse && request_error {
            if let Some(object) = body.as_object_mut() {
                object.remove("data");
            }
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        };
        let content_type = match media {
            Media::GraphqlResponse => "application/graphql-response+json",
            Media::Json => "application/json",
        };
        let body = body.to_string();
        let cacheable = response.errors.is_empty() && status == StatusCode::OK;
        let (cache_control, tag) = match &caching {
            Caching::Private => (Some("private, no-store".to_owned()), None),
            Caching::Public { .. } if cacheable => (
                Some(cache_control.unwrap_or_else(|| PUBLIC_MAX_AGE.to_owned())),
                Some(entity_tag(&body)),
            ),
            Caching::Public { .. } => (Some("no-store".to_owned()), None),
            Caching::Unset => (cache_control, None),
        };
        let not_modified = match (&caching, &tag) {
            (
                Caching::Public {
                    if_none_match: Some(wanted),
                },
                Some(tag),
            ) => matches_tag(wanted, tag),
            _ => false,
        };
        let mut out = if not_modified {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
        };
        out.headers_mut().extend(headers);
        let out_headers = out.headers_mut();
        if let Some(value) = cache_control.and_then(|v| axum::http::HeaderValue::from_str(&v).ok())
        {
            out_headers.insert(header::CACHE_CONTROL, value);
        }
        if let Some(value) = tag.and_then(|t| axum::http::HeaderValue::from_str(&t).ok()) {
            out_headers.insert(header::ETAG, value);
            // The answer depends on the media type asked for and on who asks.
            out_headers.insert(
                header::VARY,
                axum::http::HeaderValue::from_static("Accept, Authorization"),
            );
        }
        out
    }
}

/// A request body that is not a GraphQL request: 413 when too large, else 400, always with
/// a JSON error carrying a code (never the parser's debug text).
pub struct BadRequest(async_graphql::ParseRequestError);

impl From<async_graphql::ParseRequestError> for BadRequest {
    fn from(error: async_graphql::ParseRequestError) -> Self {
        Self(error)
    }
}

impl IntoResponse for BadRequest {
    fn into_response(self) -> Response {
        use async_graphql::ParseRequestError as E;
        let too_large = match &self.0 {
            E::PayloadTooLarge => true,
            // A chunked body past the limit surfaces as a read error.
            E::Io(error) => error.to_string().contains("length limit"),
            _ => false,
        };
        let (status, message) = if too_large {
            (
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is too large".to_owned(),
            )
        } else {
            let why = match &self.0 {
                E::UnsupportedBatch => "batched requests are not supported".to_owned(),
                E::InvalidRequest(error) => format!("not a GraphQL request: {error}"),
                E::Io(_) => "the request body could not be read".to_owned(),
                _ => "not a GraphQL request".to_owned(),
            };
            (StatusCode::BAD_REQUEST, why)
        };
        let body = serde_json::json!({
            "errors": [{ "message": message, "extensions": { "code": ErrorCode::BadUserInput.as_str() } }]
        });
        (status, axum::Json(body)).into_response()
    }
}

pub async fn graphql_post(
    State(state): State<AppState>,
    identity: Identity,
    headers: axum::http::HeaderMap,
    request: GraphQLRequest<BadRequest>,
) -> Response {
    // A body of no declared type, or of another type than JSON, is refused rather than
    // guessed at.
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        let body = serde_json::json!({
            "errors": [{
                "message": "a POST carries its GraphQL request as Content-Type: application/json",
                "extensions": { "code": ErrorCode::BadUserInput.as_str() }
            }]
        });
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, axum::Json(body)).into_response();
    }
    execute(
        &state,
        identity,
        request.into_inner(),
        Media::of(&headers),
        Caching::Unset,
    )
    .await
    .into_response()
}

/// Whether the operation the request selects is a mutation (refused over GET).
fn selects_mutation(request: &Request) -> bool {
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        return false;
    };
    let operations = writes::declared(&document);
    writes::picked(&operations, request.operation_name.as_deref())
        .is_some_and(|(_, ty)| *ty == OperationType::Mutation)
}

pub async fn graphql_get(
    State(state): State<AppState>,
    identity: Identity,
    headers: axum::http::HeaderMap,
    request: GraphQLRequest<BadRequest>,
) -> Response {
    let request = request.into_inner();
    if selects_mutation(&request) {
        let body = serde_json::json!({
            "errors": [{
                "message": "mutations must be sent with POST",
                "extensions": { "code": ErrorCode::BadUserInput.as_str() }
            }]
        });
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "POST")],
            axum::Json(body),
        )
            .into_response();
    }
    let if_none_match = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    execute(
        &state,
        identity,
        request,
        Media::of(&headers),
        Caching::Public { if_none_match },
    )
    .await
    .into_response()
}

/// `GET /graphql/ws`: subscriptions over graphql-transport-ws (and the older graphql-ws).
/// A token may come in the upgrade request's `Authorization` header or in the
/// `connection_init` payload (`{"Authorization": "Bearer …"}`); a bad one closes the
/// connection, it never falls back to anonymous.
pub async fn graphql_ws(
    State(state): State<AppState>,
    identity: Identity,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            let schema = state.schema.clone();
            GraphQLWebSocket::new(socket, schema, protocol)
                .on_connection_init(move |payload| async move {
                    let identity = match init_token(&payload) {
                        Some(token) => state
                            .verifier
                            .verify_fresh(token)
                            .await
                            .map(Identity::User)
                            .map_err(|error| {
                                tracing::info!(reason = %error, "subscription token rejected");
                                async_graphql::Error::new(error.to_string())
                            })?,
                        None => identity,
                    };
                    let mut data = Data::default();
                    data.insert(identity);
                    data.insert(loader(&state));
                    Ok(data)
                })
                .serve()
        })
        .into_response()
}

/// The bearer token of a `connection_init` payload, if it has one.
fn init_token(payload: &serde_json::Value) -> Option<&str> {
    let value = ["Authorization", "authorization"]
        .iter()
        .find_map(|key| payload.get(key))
        .and_then(serde_json::Value::as_str)?;
    Some(value.strip_prefix("Bearer ").unwrap_or(value).trim())
}

pub async fn schema_sdl() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], sdl())
}
