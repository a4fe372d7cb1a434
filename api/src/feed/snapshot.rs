//! The catalogue snapshot: every published record as NDJSON, read in one transaction.
//!
//! Line 1 is a header, then organisations, clauses (with every published version), templates
//! (with their versions and citations) and tender results, each one [`Record`] a line, keyset
//! paged by id so memory stays flat whatever the catalogue size. The last line carries the
//! watermark: the change-feed cursor from which `changes` continues. A download that ends
//! without it was cut short and must not be trusted.
//!
//! Consistency: the transaction is `REPEATABLE READ` on PostgreSQL (one snapshot for every
//! page) and a read transaction on a connection of its own on SQLite (write-ahead logging keeps
//! its snapshot while the writer goes on). The watermark is the highest sequence number that
//! same snapshot sees, and sequence order is commit order, so the snapshot holds exactly the
//! effects of the events up to the watermark.

use std::collections::HashMap;

use entity::{clause, organization, template, tender_result};
use sea_orm::{
    AccessMode, ColumnTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, IsolationLevel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    changes,
    records::{self, Record},
};

/// Records read per page.
const PAGE: u64 = 200;

/// Format name in the header line.
pub const FORMAT: &str = "green-procurement-commons/catalogue";
pub const FORMAT_VERSION: u32 = 1;

/// The first line.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Header {
    pub format: String,
    pub format_version: u32,
    /// The public URL of the instance that wrote the snapshot.
    pub instance: String,
    /// Number of record lines that follow.
    pub records: u64,
    /// The same cursor as the watermark line's, known from the start, so that a reader whose
    /// download is cut short knows where the records it already applied stand in the feed.
    /// Absent from snapshots written before it was added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watermark: Option<String>,
}

/// The last line.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Watermark {
    /// Change-feed cursor (`changes(after:)`) that continues after this snapshot.
    pub cursor: String,
    /// Number of record lines before this one.
    pub records: u64,
}

/// One line of the snapshot.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    Header(Header),
    Record(Box<Record>),
    Watermark(Watermark),
}

impl Line {
    pub fn to_json(&self) -> serde_json::Result<String> {
        let tagged = |kind: &str, value: serde_json::Value| {
            let mut value = value;
            if let Some(object) = value.as_object_mut() {
                object.insert("type".into(), kind.into());
            }
            value
        };
        serde_json::to_string(&match self {
            Self::Header(header) => tagged("header", serde_json::to_value(header)?),
            Self::Record(record) => serde_json::to_value(record)?,
            Self::Watermark(watermark) => tagged("watermark", serde_json::to_value(watermark)?),
        })
    }

    pub fn parse(line: &str) -> serde_json::Result<Self> {
        let value: serde_json::Value = serde_json::from_str(line)?;
        Ok(
            match value.get("type").and_then(serde_json::Value::as_str) {
                Some("header") => Self::Header(serde_json::from_value(value)?),
                Some("watermark") => Self::Watermark(serde_json::from_value(value)?),
                _ => Self::Record(Box::new(serde_json::from_value(value)?)),
            },
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Organizations,
    Clauses,
    Templates,
    TenderResults,
    Watermark,
    Done,
}

impl Phase {
    fn next(self) -> Self {
        match self {
            Self::Organizations => Self::Clauses,
            Self::Clauses => Self::Templates,
            Self::Templates => Self::TenderResults,
            Self::TenderResults => Self::Watermark,
            Self::Watermark | Self::Done => Self::Done,
        }
    }
}

/// A snapshot being read, page by page.
pub struct Snapshot {
    txn: Option<DatabaseTransaction>,
    phase: Phase,
    after: Option<Uuid>,
    watermark: i64,
    records: u64,
    header: Option<Header>,
}

impl Snapshot {
    /// Opens the reading transaction and fixes the watermark.
    pub async fn open(db: &DatabaseConnection, instance: &str) -> Result<Self, DbErr> {
        let txn = match db.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.begin_with_config(
                    Some(IsolationLevel::RepeatableRead),
                    Some(AccessMode::ReadOnly),
                )
                .await?
            }
            _ => db.begin().await?,
        };
        // The first read fixes the snapshot (SQLite starts it here, PostgreSQL at the first
        // statement of a repeatable-read transaction).
        let watermark = changes::head(&txn).await?;
        let records = organization::Entity::find().count(&txn).await?
            + clause::Entity::find()
                .filter(clause::Column::PublishedVersion.gt(0))
                .count(&txn)
                .await?
            + template::Entity::find()
                .filter(template::Column::PublishedVersion.gt(0))
                .count(&txn)
                .await?
            + tender_result::Entity::find().count(&txn).await?;
        Ok(Self {
            txn: Some(txn),
            phase: Phase::Organizations,
            after: None,
            watermark,
            records: 0,
            header: Some(Header {
                format: FORMAT.to_owned(),
                format_version: FORMAT_VERSION,
                instance: instance.to_owned(),
                records,
                watermark: Some(changes::encode_cursor(watermark)),
            }),
        })
    }

    pub fn watermark(&self) -> i64 {
        self.watermark
    }

    /// Ends the snapshot early (after an error): no further lines, no watermark.
    pub fn abort(&mut self) {
        self.txn = None;
        self.phase = Phase::Done;
    }

    /// The next lines, or `None` after the watermark line.
    pub async fn next_lines(&mut self) -> Result<Option<Vec<Line>>, DbErr> {
        if let Some(header) = self.header.take() {
            return Ok(Some(vec![Line::Header(header)]));
        }
        loop {
            match self.phase {
                Phase::Done => return Ok(None),
                Phase::Watermark => {
                    if let Some(txn) = self.txn.take() {
                        txn.commit().await?;
                    }
                    self.phase = Phase::Done;
                    return Ok(Some(vec![Line::Watermark(Watermark {
                        cursor: changes::encode_cursor(self.watermark),
                        records: self.records,
                    })]));
                }
                phase => {
                    let Some(txn) = self.txn.as_ref() else {
                        return Ok(None);
                    };
                    let page = read_page(txn, phase, self.after).await?;
                    match page.last() {
                        Some(last) => {
                            self.after = Some(last.id());
                            self.records += page.len() as u64;
                            return Ok(Some(
                                page.into_iter()
                                    .map(|r| Line::Record(Box::new(r)))
                                    .collect(),
                            ));
                        }
                        None => {
                            self.phase = phase.next();
                            self.after = None;
                        }
                    }
                }
            }
        }
    }
}

async fn read_page(
    txn: &DatabaseTransaction,
    phase: Phase,
    after: Option<Uuid>,
) -> Result<Vec<Record>, DbErr> {
    Ok(match phase {
        Phase::Organizations => {
            let mut query = organization::Entity::find().order_by_asc(organization::Column::Id);
            if let Some(after) = after {
                query = query.filter(organization::Column::Id.gt(after));
            }
            query
                .limit(PAGE)
                .all(txn)
                .await?
                .into_iter()
                .map(|organization| Record::Organization { organization })
                .collect()
        }
        Phase::Clauses => {
            let mut query = clause::Entity::find()
                .filter(clause::Column::PublishedVersion.gt(0))
                .order_by_asc(clause::Column::Id);
            if let Some(after) = after {
                query = query.filter(clause::Column::Id.gt(after));
            }
            let clauses = query.limit(PAGE).all(txn).await?;
            let ids: Vec<Uuid> = clauses.iter().map(|c| c.id).collect();
            let mut versions = records::clause_versions(txn, &ids).await?;
            clauses
                .into_iter()
                .map(|clause| Record::Clause {
                    versions: versions.remove(&clause.id).unwrap_or_default(),
                    clause,
                })
                .collect()
        }
        Phase::Templates => {
            let mut query = template::Entity::find()
                .filter(template::Column::PublishedVersion.gt(0))
                .order_by_asc(template::Column::Id);
            if let Some(after) = after {
                query = query.filter(template::Column::Id.gt(after));
            }
            let templates = query.limit(PAGE).all(txn).await?;
            let ids: Vec<Uuid> = templates.iter().map(|t| t.id).collect();
            let mut versions: HashMap<Uuid, Vec<records::TemplateVersion>> = HashMap::new();
            for version in records::template_versions(txn, &ids, None).await? {
                versions
                    .entry(version.version.template_id)
                    .or_default()
                    .push(version);
            }
            templates
                .into_iter()
                .map(|template| Record::Template {
                    versions: versions.remove(&template.id).unwrap_or_default(),
                    template,
                })
                .collect()
        }
        Phase::TenderResults => {
            let mut query = tender_result::Entity::find().order_by_asc(tender_result::Column::Id);
            if let Some(after) = after {
                query = query.filter(tender_result::Column::Id.gt(after));
            }
            let results = query.limit(PAGE).all(txn).await?;
            let ids: Vec<Uuid> = results.iter().map(|r| r.id).collect();
            let mut clauses: HashMap<Uuid, Vec<_>> = HashMap::new();
            for row in records::result_clauses(txn, &ids).await? {
                clauses.entry(row.tender_result_id).or_default().push(row);
            }
            results
                .into_iter()
                .map(|tender_result| Record::TenderResult {
                    clauses: clauses.remove(&tender_result.id).unwrap_or_default(),
                    tender_result,
                })
                .collect()
        }
        Phase::Watermark | Phase::Done => Vec::new(),
    })
}
