//! Metrics for operators in the Prometheus text format (`GET /metrics`, or on its own address
//! with `--metrics-listen`): HTTP requests, GraphQL operations and their errors, search
//! latency, and, read when scraped, the indexer's and mirrors' lag and the database pools.
//!
//! Series are kept in this process (one registry per server, so tests and several servers in
//! one process do not mix). Labels that clients choose (GraphQL operation names) are cleaned
//! and bounded: at most [`MAX_SERIES`] series per metric; past that, new label sets are
//! counted under `other`.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    sync::{Arc, Mutex},
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use async_graphql::{
    Response, ServerResult, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextRequest,
    },
    parser::types::{ExecutableDocument, OperationType},
};
use axum::{
    extract::{MatchedPath, Request, State},
    http::header,
    middleware::Next,
    response::IntoResponse,
};
use entity::{change_event, feed_cursor, mirror_upstream};
use sea_orm::{
    ColumnTrait, DatabaseBackend, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::Expr,
};

use crate::{
    graphql::writes::{Operations, declared, picked},
    startup::AppState,
};

/// Most series one metric keeps.
pub const MAX_SERIES: usize = 500;

/// Upper bounds of the latency histograms, in seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Every metric this server exports: name, type, help.
pub const DESCRIPTIONS: [(&str, &str, &str); 14] = [
    (
        "commons_http_requests_total",
        "counter",
        "HTTP requests by route (the route's pattern), method and status.",
    ),
    (
        "commons_http_request_duration_seconds",
        "histogram",
        "HTTP request latency by route, until the response headers.",
    ),
    (
        "commons_graphql_operations_total",
        "counter",
        "GraphQL operations (HTTP, WebSocket and the web app's pages) by operation name and type.",
    ),
    (
        "commons_graphql_operation_duration_seconds",
        "histogram",
        "GraphQL operation latency (parse, validation and execution) by operation name and type.",
    ),
    (
        "commons_graphql_errors_total",
        "counter",
        "GraphQL errors by extensions.code.",
    ),
    (
        "commons_search_duration_seconds",
        "histogram",
        "Search requests to the search backend by backend (tantivy or meilisearch).",
    ),
    (
        "commons_imports_total",
        "counter",
        "Bulk imports by outcome (ok, refused, failed).",
    ),
    (
        "commons_exports_total",
        "counter",
        "Exports by format (ocds, catalogue).",
    ),
    (
        "commons_indexer_lag_events",
        "gauge",
        "Change events the search indexer has not applied yet.",
    ),
    (
        "commons_indexer_lag_seconds",
        "gauge",
        "Age of the oldest change event the search indexer has not applied (0 when caught up).",
    ),
    (
        "commons_mirror_lag_seconds",
        "gauge",
        "Seconds since each upstream this instance mirrors was last synced.",
    ),
    (
        "commons_mirror_applied_total",
        "counter",
        "Changes applied from each mirrored upstream, snapshot records included.",
    ),
    (
        "commons_db_pool_connections",
        "gauge",
        "Database pool connections by pool (writer, reader) and state (in_use, idle).",
    ),
    (
        "commons_process_start_time_seconds",
        "gauge",
        "When this server started, in seconds since the Unix epoch.",
    ),
];

type Labels = Vec<(&'static str, String)>;

#[derive(Default)]
struct Histogram {
    /// Count per bucket (not cumulative), then the overflow.
    buckets: [u64; BUCKETS.len() + 1],
    sum: f64,
    count: u64,
}

#[derive(Default)]
struct Series {
    counters: BTreeMap<&'static str, BTreeMap<Labels, u64>>,
    histograms: BTreeMap<&'static str, BTreeMap<Labels, Histogram>>,
}

/// One server's registry.
pub struct Metrics {
    series: Mutex<Series>,
    started: SystemTime,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            series: Mutex::default(),
            started: SystemTime::now(),
        }
    }
}

/// The label set kept for a new series: as given while the metric has room, else every
/// value replaced by `other`.
fn bounded<V>(map: &BTreeMap<Labels, V>, labels: &[(&'static str, &str)]) -> Labels {
    let labels: Labels = labels.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
    if map.len() < MAX_SERIES || map.contains_key(&labels) {
        labels
    } else {
        labels
            .into_iter()
            .map(|(k, _)| (k, "other".to_owned()))
            .collect()
    }
}

impl Metrics {
    /// Adds `by` to a counter.
    pub fn count(&self, name: &'static str, labels: &[(&'static str, &str)], by: u64) {
        let Ok(mut series) = self.series.lock() else {
            return;
        };
        let map = series.counters.entry(name).or_default();
        let key = bounded(map, labels);
        *map.entry(key).or_default() += by;
    }

    /// Records one latency in a histogram.
    pub fn observe(&self, name: &'static str, labels: &[(&'static str, &str)], seconds: f64) {
        let Ok(mut series) = self.series.lock() else {
            return;
        };
        let map = series.histograms.entry(name).or_default();
        let key = bounded(map, labels);
        let histogram = map.entry(key).or_default();
        let bucket = BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(BUCKETS.len());
        histogram.buckets[bucket] += 1;
        histogram.sum += seconds;
        histogram.count += 1;
    }

    /// The registry in the Prometheus text format, with `gauges` (read at scrape time).
    fn render(&self, gauges: &[(&'static str, Labels, f64)]) -> String {
        let mut out = String::with_capacity(8 * 1024);
        let Ok(series) = self.series.lock() else {
            return out;
        };
        for (name, kind, help) in DESCRIPTIONS {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            if let Some(map) = series.counters.get(name) {
                for (labels, value) in map {
                    let _ = writeln!(out, "{name}{} {value}", label_text(labels, None));
                }
            }
            if let Some(map) = series.histograms.get(name) {
                for (labels, histogram) in map {
                    let mut cumulative = 0;
                    for (i, bound) in BUCKETS.iter().enumerate() {
                        cumulative += histogram.buckets[i];
                        let le = bound.to_string();
                        let _ = writeln!(
                            out,
                            "{name}_bucket{} {cumulative}",
                            label_text(labels, Some(&le))
                        );
                    }
                    let _ = writeln!(
                        out,
                        "{name}_bucket{} {}",
                        label_text(labels, Some("+Inf")),
                        histogram.count
                    );
                    let text = label_text(labels, None);
                    let _ = writeln!(out, "{name}_sum{text} {}", histogram.sum);
                    let _ = writeln!(out, "{name}_count{text} {}", histogram.count);
                }
            }
            for (gauge, labels, value) in gauges {
                if *gauge == name {
                    let _ = writeln!(out, "{name}{} {value}", label_text(labels, None));
                }
            }
        }
        out
    }
}

/// `{a="1",b="2"}` with `le` last, values escaped as the format asks.
fn label_text(labels: &Labels, le: Option<&str>) -> String {
    let mut parts: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    if let Some(le) = le {
        parts.push(format!("le=\"{le}\""));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Axum middleware: counts and times every request by its route's pattern.
pub async fn track_http(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> axum::response::Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    state.metrics.count(
        "commons_http_requests_total",
        &[("route", &route), ("method", &method), ("status", &status)],
        1,
    );
    state.metrics.observe(
        "commons_http_request_duration_seconds",
        &[("route", &route)],
        started.elapsed().as_secs_f64(),
    );
    response
}

/// `GET /metrics`.
pub async fn handler(State(state): State<AppState>) -> impl IntoResponse {
    let gauges = gauges(&state).await;
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(&gauges),
    )
}

/// What is read from the database and pools when scraped. A query that fails leaves its
/// gauge out (and is logged) rather than failing the scrape.
async fn gauges(state: &AppState) -> Vec<(&'static str, Labels, f64)> {
    let mut gauges = Vec::new();
    let started = state
        .metrics
        .started
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64().floor());
    gauges.push(("commons_process_start_time_seconds", Vec::new(), started));
    match indexer_lag(&state.db).await {
        Ok((events, seconds)) => {
            gauges.push(("commons_indexer_lag_events", Vec::new(), events as f64));
            gauges.push(("commons_indexer_lag_seconds", Vec::new(), seconds));
        }
        Err(error) => tracing::warn!(%error, "metrics: cannot read the indexer's lag"),
    }
    match mirror_upstream::Entity::find().all(&state.db).await {
        Ok(upstreams) => {
            let now = chrono::Utc::now();
            for upstream in upstreams {
                let labels = vec![("upstream", upstream.url.clone())];
                if let Some(synced) = upstream.synced_at {
                    let lag = (now - synced).num_milliseconds().max(0) as f64 / 1000.0;
                    gauges.push(("commons_mirror_lag_seconds", labels.clone(), lag));
                }
                gauges.push((
                    "commons_mirror_applied_total",
                    labels,
                    upstream.applied as f64,
                ));
            }
        }
        Err(error) => tracing::warn!(%error, "metrics: cannot read the mirrored upstreams"),
    }
    for (pool, db) in [("writer", &state.db), ("reader", &state.reader)] {
        if let Some((size, idle)) = pool_size(db) {
            let in_use = size.saturating_sub(idle);
            for (kind, value) in [("in_use", in_use), ("idle", idle)] {
                gauges.push((
                    "commons_db_pool_connections",
                    vec![("pool", pool.to_owned()), ("state", kind.to_owned())],
                    value as f64,
                ));
            }
        }
    }
    gauges
}

/// Events behind the feed head, and the age of the oldest of them in seconds.
async fn indexer_lag(db: &DatabaseConnection) -> Result<(i64, f64), sea_orm::DbErr> {
    use sea_orm::sea_query::ExprTrait as _;
    let applied = feed_cursor::Entity::find_by_id(crate::indexing::CONSUMER)
        .one(db)
        .await?
        .map_or(0, |c| c.last_seq);
    let head: Option<i64> = change_event::Entity::find()
        .select_only()
        .column_as(Expr::col(change_event::Column::Seq).max(), "head")
        .into_tuple()
        .one(db)
        .await?
        .flatten();
    let behind = Ord::max(head.unwrap_or(0).saturating_sub(applied), 0);
    if behind == 0 {
        return Ok((0, 0.0));
    }
    let oldest = change_event::Entity::find()
        .filter(change_event::Column::Seq.gt(applied))
        .order_by_asc(change_event::Column::Seq)
        .one(db)
        .await?;
    let seconds = oldest.map_or(0.0, |event| {
        Ord::max(
            (chrono::Utc::now() - event.occurred_at).num_milliseconds(),
            0,
        ) as f64
            / 1000.0
    });
    Ok((behind, seconds))
}

/// Connections open and idle in a pool.
fn pool_size(db: &DatabaseConnection) -> Option<(u32, u32)> {
    match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            Some((pool.size(), pool.num_idle() as u32))
        }
        DatabaseBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            Some((pool.size(), pool.num_idle() as u32))
        }
        _ => None,
    }
}

/// The GraphQL extension that counts and times operations and their errors.
pub struct GraphqlMetrics(pub Arc<Metrics>);

impl ExtensionFactory for GraphqlMetrics {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(OperationMetrics {
            metrics: self.0.clone(),
            seen: Mutex::default(),
        })
    }
}

/// What one request's document and execution told about its operation.
#[derive(Default)]
struct Seen {
    /// Operation types by name (`None` for an anonymous operation).
    operations: Operations,
    chosen: Option<String>,
}

struct OperationMetrics {
    metrics: Arc<Metrics>,
    seen: Mutex<Seen>,
}

/// A client's operation name as a label: letters, digits and `_`, at most 64 of them.
fn operation_label(name: Option<&str>) -> String {
    match name {
        None => "anonymous".to_owned(),
        Some(name)
            if !name.is_empty()
                && name.len() <= 64
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
        {
            name.to_owned()
        }
        Some(_) => "invalid".to_owned(),
    }
}

#[async_trait::async_trait]
impl Extension for OperationMetrics {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let started = Instant::now();
        let response = next.run(ctx).await;
        let elapsed = started.elapsed().as_secs_f64();
        let (name, kind) = match self.seen.lock() {
            Ok(seen) => {
                match picked(&seen.operations, seen.chosen.as_deref()) {
                    Some((name, ty)) => (
                        operation_label(name.as_deref()),
                        match ty {
                            OperationType::Query => "query",
                            OperationType::Mutation => "mutation",
                            OperationType::Subscription => "subscription",
                        },
                    ),
                    // Not parsed, or no such operation in the document.
                    None => ("unparsed".to_owned(), "unknown"),
                }
            }
            Err(_) => ("unparsed".to_owned(), "unknown"),
        };
        let labels = [("operation", name.as_str()), ("type", kind)];
        self.metrics
            .count("commons_graphql_operations_total", &labels, 1);
        self.metrics.observe(
            "commons_graphql_operation_duration_seconds",
            &labels,
            elapsed,
        );
        for error in &response.errors {
            // Errors raised before execution get their code afterwards (`BAD_USER_INPUT`).
            let code = error
                .extensions
                .as_ref()
                .and_then(|e| e.get("code"))
                .and_then(|v| match v {
                    async_graphql::Value::String(s) => Some(s.clone()),
                    async_graphql::Value::Enum(e) => Some(e.to_string()),
                    _ => None,
                })
                .unwrap_or_else(|| crate::error::ErrorCode::BadUserInput.as_str().to_owned());
            self.metrics
                .count("commons_graphql_errors_total", &[("code", &code)], 1);
        }
        response
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        if let Ok(mut seen) = self.seen.lock() {
            seen.operations = declared(&document);
        }
        Ok(document)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        if let (Some(name), Ok(mut seen)) = (operation_name, self.seen.lock()) {
            seen.chosen = Some(name.to_owned());
        }
        next.run(ctx, operation_name).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_histograms_with_escaped_labels() {
        let metrics = Metrics::default();
        metrics.count("commons_graphql_errors_total", &[("code", "NOT_FOUND")], 2);
        metrics.observe(
            "commons_search_duration_seconds",
            &[("backend", "tantivy")],
            0.003,
        );
        metrics.observe(
            "commons_search_duration_seconds",
            &[("backend", "tantivy")],
            20.0,
        );
        metrics.count(
            "commons_http_requests_total",
            &[("route", "/a\"b"), ("method", "GET"), ("status", "200")],
            1,
        );
        let text = metrics.render(&[]);
        assert!(text.contains("commons_graphql_errors_total{code=\"NOT_FOUND\"} 2"));
        assert!(text.contains(
            "commons_search_duration_seconds_bucket{backend=\"tantivy\",le=\"0.0025\"} 0"
        ));
        assert!(text.contains(
            "commons_search_duration_seconds_bucket{backend=\"tantivy\",le=\"0.005\"} 1"
        ));
        assert!(
            text.contains(
                "commons_search_duration_seconds_bucket{backend=\"tantivy\",le=\"+Inf\"} 2"
            )
        );
        assert!(text.contains("commons_search_duration_seconds_count{backend=\"tantivy\"} 2"));
        assert!(text.contains("route=\"/a\\\"b\""));
        assert!(text.contains("# TYPE commons_indexer_lag_events gauge"));
    }

    #[test]
    fn client_chosen_labels_are_cleaned_and_bounded() {
        assert_eq!(operation_label(Some("SearchClauses")), "SearchClauses");
        assert_eq!(operation_label(Some("a b\"}")), "invalid");
        assert_eq!(operation_label(None), "anonymous");
        let metrics = Metrics::default();
        for i in 0..MAX_SERIES + 50 {
            metrics.count(
                "commons_graphql_operations_total",
                &[("operation", &format!("Op{i}")), ("type", "query")],
                1,
            );
        }
        let text = metrics.render(&[]);
        let series = text
            .lines()
            .filter(|l| l.starts_with("commons_graphql_operations_total{"))
            .count();
        assert_eq!(series, MAX_SERIES + 1);
        assert!(
            text.contains(
                "commons_graphql_operations_total{operation=\"other\",type=\"other\"} 50"
            )
        );
    }
}
