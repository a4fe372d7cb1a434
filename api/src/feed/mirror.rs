//! `commons mirror`: pulls an upstream instance's catalogue into the local database.
//!
//! The first run reads the upstream's snapshot (`/export/catalogue.ndjson`) and then its
//! change feed from the snapshot's watermark; later runs read only the feed after the stored
//! cursor. Every batch is applied in one transaction together with the new cursor, so a run
//! killed at any point resumes where the last committed batch ended, and replaying a batch is
//! harmless because applying is idempotent ([`super::apply`]). A snapshot cut short stores no
//! cursor, so the next run reads it again; if the cut download had applied batches, the feed is
//! then read from that first download's watermark (kept as `resume_from`), not the second's,
//! so nothing that changed upstream between the two downloads is missed. Replaying those
//! events over the newer snapshot is harmless: each record ends at its last event's state.

use std::time::Duration;

use anyhow::{Context, bail};
use entity::{ChangeOperation, EntityType, mirror_upstream};
use indicatif::{ProgressBar, ProgressStyle};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    Set, TransactionTrait, sea_query::Expr,
};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    apply::{self, Applied},
    records::Record,
    snapshot::{self, Line},
};

/// Records or events applied per transaction.
const BATCH: usize = 500;
/// Events asked for per feed page (the upstream caps it at its page-size limit).
const FEED_PAGE: u32 = 100;
/// Longest snapshot line accepted: far beyond any real record, short of exhausting memory
/// when an upstream misbehaves.
const MAX_LINE: usize = 16 * 1024 * 1024;

/// Where to mirror from and how.
#[derive(Debug, Clone)]
pub struct MirrorSource {
    /// The upstream's base URL, e.g. `https://commons.example.se`.
    pub url: String,
    /// Bearer token sent upstream, when it asks for one.
    pub token: Option<String>,
    /// Show progress bars.
    pub progress: bool,
}

impl MirrorSource {
    /// The base URL without a trailing slash (or a trailing `/graphql`), as stored in
    /// `origin` and `mirror_upstream`.
    pub fn base(&self) -> String {
        let url = self.url.trim().trim_end_matches('/');
        url.strip_suffix("/graphql").unwrap_or(url).to_owned()
    }
}

/// What one run applied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Records applied from a snapshot (0 when the feed alone was read).
    pub snapshot_records: u64,
    /// Change events applied from the feed.
    pub changes: u64,
    /// Records authored here that came back from upstream and were left alone.
    pub kept_local: u64,
}

fn bar(progress: bool, len: Option<u64>, what: &'static str) -> ProgressBar {
    if !progress {
        return ProgressBar::hidden();
    }
    let bar = match len {
        Some(len) => ProgressBar::new(len),
        None => ProgressBar::no_length(),
    };
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{msg:10}} [{{bar:40}}] {{pos}}/{{len}} {what} ({{eta}})"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

async fn upstream_row(
    db: &DatabaseConnection,
    base: &str,
) -> anyhow::Result<mirror_upstream::Model> {
    if let Some(row) = mirror_upstream::Entity::find_by_id(base).one(db).await? {
        return Ok(row);
    }
    Ok(mirror_upstream::ActiveModel {
        url: Set(base.to_owned()),
        cursor: Set(None),
        snapshot_at: Set(None),
        synced_at: Set(None),
        applied: Set(0),
        resume_from: Set(None),
    }
    .insert(db)
    .await?)
}

/// Brings the local copy of one upstream up to date: the snapshot when none has been applied,
/// then the change feed to its end.
pub async fn sync_once(
    db: &DatabaseConnection,
    client: &reqwest::Client,
    source: &MirrorSource,
) -> anyhow::Result<SyncReport> {
    let base = source.base();
    let mut report = SyncReport::default();
    if upstream_row(db, &base).await?.cursor.is_none() {
        read_snapshot(db, client, source, &base, &mut report).await?;
    }
    read_feed(db, client, source, &base, &mut report).await?;
    Ok(report)
}

/// Syncs, then again every `interval`, until `stop` resolves. Failures are logged and retried
/// at the next tick.
pub async fn follow(
    db: &DatabaseConnection,
    client: &reqwest::Client,
    source: &MirrorSource,
    interval: Duration,
    stop: impl Future<Output = ()>,
) {
    let mut stop = std::pin::pin!(stop);
    loop {
        match sync_once(db, client, source).await {
            Ok(report) => tracing::info!(?report, upstream = %source.base(), "mirror up to date"),
            Err(error) => {
                tracing::warn!(error = %format!("{error:#}"), "mirroring failed; will retry")
            }
        }
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(interval) => {}
        }
    }
}

fn authorised(request: reqwest::RequestBuilder, source: &MirrorSource) -> reqwest::RequestBuilder {
    match &source.token {
        Some(token) => request.bearer_auth(token),
        None => request,
    }
}

async fn read_snapshot(
    db: &DatabaseConnection,
    client: &reqwest::Client,
    source: &MirrorSource,
    base: &str,
    report: &mut SyncReport,
) -> anyhow::Result<()> {
    let url = format!("{base}/export/catalogue.ndjson");
    let mut response = authorised(client.get(&url), source)
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    if !response.status().is_success() {
        bail!("{url} answered {}", response.status());
    }
    let bar = bar(source.progress, None, "records");
    bar.set_message("snapshot");
    let mut pending: Vec<Record> = Vec::with_capacity(BATCH);
    let mut buffer: Vec<u8> = Vec::new();
    let mut scanned = 0;
    let mut header_seen = false;
    let mut watermark = None;
    // Where the records of this download stand in the feed, saved with its first batch.
    let mut floor: Option<String> = None;
    while let Some(chunk) = response
        .chunk()
        .await
        .with_context(|| format!("snapshot from {url} cut short"))?
    {
        buffer.extend_from_slice(&chunk);
        // Lines are cut out of the buffer in place; only bytes not yet searched are scanned.
        let mut start = 0;
        while let Some(at) = buffer[scanned..].iter().position(|b| *b == b'\n') {
            let end = scanned + at;
            let text =
                std::str::from_utf8(&buffer[start..end]).context("snapshot line is not UTF-8")?;
            let line = (!text.trim().is_empty())
                .then(|| Line::parse(text).context("unreadable snapshot line"))
                .transpose()?;
            start = end + 1;
            scanned = start;
            let Some(line) = line else {
                continue;
            };
            match line {
                Line::Header(header) => {
                    if header.format != snapshot::FORMAT
                        || header.format_version != snapshot::FORMAT_VERSION
                    {
                        bail!(
                            "{url} sends format {} v{}; this build reads {} v{}",
                            header.format,
                            header.format_version,
                            snapshot::FORMAT,
                            snapshot::FORMAT_VERSION
                        );
                    }
                    bar.set_length(header.records);
                    header_seen = true;
                    floor = header.watermark;
                }
                Line::Record(record) => {
                    if !header_seen {
                        bail!("{url} sent a record before the header line");
                    }
                    pending.push(*record);
                    if pending.len() >= BATCH {
                        let batch = std::mem::take(&mut pending);
                        apply_records(db, base, batch, floor.take(), report).await?;
                        bar.set_position(report.snapshot_records);
                    }
                }
                Line::Watermark(mark) => watermark = Some(mark),
            }
        }
        buffer.drain(..start);
        scanned = buffer.len();
        if scanned > MAX_LINE {
            bail!("{url} sent a snapshot line longer than {MAX_LINE} bytes");
        }
    }
    let Some(watermark) = watermark else {
        bail!("snapshot from {url} ended without its watermark line; it will be read again");
    };
    // The last batch commits together with the cursor: the snapshot counts only once whole.
    let row = upstream_row(db, base).await?;
    let cursor = row.resume_from.clone().unwrap_or(watermark.cursor);
    let txn = db.begin().await?;
    report.snapshot_records +=
        apply_batch(&txn, base, std::mem::take(&mut pending), report).await?;
    let applied = row.applied + report.snapshot_records as i64;
    let mut row = row.into_active_model();
    row.cursor = Set(Some(cursor));
    row.resume_from = Set(None);
    row.snapshot_at = Set(Some(crate::service::now()));
    row.synced_at = Set(Some(crate::service::now()));
    row.applied = Set(applied);
    row.update(&txn).await?;
    txn.commit().await?;
    bar.set_position(report.snapshot_records);
    bar.finish_with_message("snapshot");
    tracing::info!(
        records = report.snapshot_records,
        upstream = base,
        "snapshot applied"
    );
    Ok(())
}

async fn apply_batch(
    txn: &sea_orm::DatabaseTransaction,
    base: &str,
    records: Vec<Record>,
    report: &mut SyncReport,
) -> anyhow::Result<u64> {
    let done = apply::snapshot_batch(txn, records, base).await?;
    report.kept_local += done.kept_local;
    Ok(done.written)
}

/// Applies one batch of snapshot records. `floor`, given with a download's first batch, is
/// stored as the upstream's `resume_from` unless an earlier cut download left one.
async fn apply_records(
    db: &DatabaseConnection,
    base: &str,
    records: Vec<Record>,
    floor: Option<String>,
    report: &mut SyncReport,
) -> anyhow::Result<()> {
    let txn = db.begin().await?;
    let applied = apply_batch(&txn, base, records, report).await?;
    if let Some(floor) = floor {
        mirror_upstream::Entity::update_many()
            .col_expr(mirror_upstream::Column::ResumeFrom, Expr::value(floor))
            .filter(mirror_upstream::Column::Url.eq(base))
            .filter(mirror_upstream::Column::ResumeFrom.is_null())
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    report.snapshot_records += applied;
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FeedEvent {
    entity_type: EntityType,
    entity_id: Uuid,
    version: Option<i32>,
    operation: ChangeOperation,
    payload: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct FeedEdge {
    node: FeedEvent,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FeedPageInfo {
    has_next_page: bool,
    end_cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FeedPage {
    total_count: u64,
    page_info: FeedPageInfo,
    edges: Vec<FeedEdge>,
}

const FEED_QUERY: &str = "query Changes($after: String, $first: Int) { changes(after: $after, first: $first) { totalCount pageInfo { hasNextPage endCursor } edges { node { entityType entityId version operation payload } } } }";

async fn fetch_page(
    client: &reqwest::Client,
    source: &MirrorSource,
    url: &str,
    after: &str,
) -> anyhow::Result<FeedPage> {
    let body = serde_json::json!({
        "query": FEED_QUERY,
        "variables": { "after": after, "first": FEED_PAGE },
    });
    let response = authorised(client.post(url), source)
        .json(&body)
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    let status = response.status();
    let value: serde_json::Value = response
        .json()
        .await
        .with_context(|| format!("{url} answered {status} without a GraphQL response"))?;
    if let Some(errors) = value.get("errors") {
        bail!("{url} refused the change feed: {errors}");
    }
    serde_json::from_value(value["data"]["changes"].clone())
        .with_context(|| format!("{url} sent a change-feed page this build cannot read"))
}

async fn read_feed(
    db: &DatabaseConnection,
    client: &reqwest::Client,
    source: &MirrorSource,
    base: &str,
    report: &mut SyncReport,
) -> anyhow::Result<()> {
    let url = format!("{base}/graphql");
    let mut row = upstream_row(db, base).await?;
    let Some(mut cursor) = row.cursor.clone() else {
        bail!("no snapshot has been applied from {base}");
    };
    let bar = bar(source.progress, None, "changes");
    bar.set_message("changes");
    loop {
        let page = fetch_page(client, source, &url, &cursor).await?;
        if bar.length().is_none() {
            bar.set_length(page.total_count);
        }
        let txn = db.begin().await?;
        let count = page.edges.len() as u64;
        for edge in page.edges {
            let event = edge.node;
            let outcome = if event.operation == ChangeOperation::Delete {
                apply::delete(&txn, event.entity_type, event.entity_id).await?
            } else {
                let Some(payload) = event.payload else {
                    // Written before events carried payloads; the snapshot covered it.
                    tracing::warn!(entity = %event.entity_id, "change event without payload skipped");
                    continue;
                };
                let record: Record = serde_json::from_value(payload)
                    .with_context(|| format!("unreadable record {} from {url}", event.entity_id))?;
                apply::record(&txn, record, base, event.operation, event.version).await?
            };
            if outcome == Applied::KeptLocal {
                report.kept_local += 1;
            }
        }
        let next = page.page_info.end_cursor.unwrap_or(cursor);
        let applied = row.applied + count as i64;
        let mut active = row.into_active_model();
        active.cursor = Set(Some(next.clone()));
        active.synced_at = Set(Some(crate::service::now()));
        active.applied = Set(applied);
        row = active.update(&txn).await?;
        txn.commit().await?;
        report.changes += count;
        bar.inc(count);
        cursor = next;
        if !page.page_info.has_next_page {
            break;
        }
    }
    bar.finish_with_message("changes");
    Ok(())
}
