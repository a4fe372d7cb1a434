//! Applying the anonymiser to what an organisation publishes: its deny-list, the scrubbing of
//! every published text, and previews of what publishing would remove.
//!
//! Raw draft text never leaves its organisation: publish paths run every text field through
//! [`Scrubber`] before writing the published row, and nothing downstream (search documents,
//! the change feed, exports) reads drafts.

use async_graphql::SimpleObject;
use entity::{Country, Language, deny_term, organization};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    TransactionSession,
};
use uuid::Uuid;

use super::{Db, audit, validate};
use crate::{
    anonymise::{Anonymiser, Finding, FindingKind},
    auth::Identity,
    error::{ServiceError, ServiceResult},
};

/// Most terms one organisation's deny-list may hold.
pub const MAX_DENY_TERMS: usize = 1_000;
/// Longest deny-list term, in characters.
pub const MAX_DENY_TERM_CHARS: usize = 200;

/// The anonymiser prepared with one organisation's deny-list.
#[derive(Debug, Clone, Default)]
pub struct Scrubber {
    anonymiser: Anonymiser,
}

impl Scrubber {
    pub fn new(deny_list: Vec<String>) -> Self {
        Self {
            anonymiser: Anonymiser::new(&deny_list),
        }
    }

    /// The scrubber for what `org` publishes.
    pub async fn for_org(db: &impl ConnectionTrait, org: Uuid) -> ServiceResult<Self> {
        Ok(Self::new(deny_list(db, org).await?))
    }

    pub fn text(&self, text: &str, language: Language) -> String {
        self.anonymiser.anonymise(text, language)
    }

    pub fn optional(&self, text: Option<String>, language: Language) -> Option<String> {
        text.map(|t| self.text(&t, language))
    }

    pub fn findings(&self, text: &str, language: Language) -> Vec<Finding> {
        self.anonymiser.find(text, language)
    }
}

/// The language placeholders are written in for texts without a language of their own
/// (tender results, withdrawal reasons): the publishing organisation's national language.
pub fn language_of(org: &organization::Model) -> Language {
    match org.country {
        Country::Se => Language::Sv,
        Country::No => Language::Nb,
        Country::Dk => Language::Da,
        Country::Fi => Language::Fi,
        Country::Is => Language::En,
    }
}

/// An organisation's deny-list, sorted.
pub async fn deny_list(db: &impl ConnectionTrait, org: Uuid) -> ServiceResult<Vec<String>> {
    Ok(deny_term::Entity::find()
        .filter(deny_term::Column::OrganizationId.eq(org))
        .order_by_asc(deny_term::Column::Term)
        .all(db)
        .await?
        .into_iter()
        .map(|t| t.term)
        .collect())
}

/// The caller's own deny-list (only its organisation may read it).
pub async fn own_deny_list(db: &impl Db, identity: &Identity) -> ServiceResult<Vec<String>> {
    let (_, org) = identity.publisher()?;
    deny_list(db, org).await
}

/// Replaces the caller's organisation's deny-list. Terms are trimmed; duplicates (ignoring
/// case) are dropped. The audit event records only how many terms there are: the terms are
/// names of people.
pub async fn set_deny_list(
    db: &impl Db,
    identity: &Identity,
    terms: Vec<String>,
) -> ServiceResult<Vec<String>> {
    let (caller, org) = super::organization::local_publisher(db, identity).await?;
    if terms.len() > MAX_DENY_TERMS {
        return Err(ServiceError::bad_input(
            "input.terms",
            format!("at most {MAX_DENY_TERMS} terms"),
        ));
    }
    let mut clean: Vec<String> = Vec::with_capacity(terms.len());
    for (i, term) in terms.iter().enumerate() {
        let field = format!("input.terms[{i}]");
        validate::text(&field, term, (2, MAX_DENY_TERM_CHARS))?;
        let term = term.split_whitespace().collect::<Vec<_>>().join(" ");
        if !clean
            .iter()
            .any(|t| t.to_lowercase() == term.to_lowercase())
        {
            clean.push(term);
        }
    }
    clean.sort();
    let txn = db.begin().await?;
    deny_term::Entity::delete_many()
        .filter(deny_term::Column::OrganizationId.eq(org))
        .exec(&txn)
        .await?;
    if !clean.is_empty() {
        let now = super::now();
        deny_term::Entity::insert_many(clean.iter().map(|term| deny_term::ActiveModel {
            organization_id: Set(org),
            term: Set(term.clone()),
            created_at: Set(now),
        }))
        .exec(&txn)
        .await?;
    }
    audit(
        &txn,
        caller,
        "organization.deny_list",
        entity::EntityType::Organization,
        org,
        serde_json::json!({ "terms": clean.len() }),
    )
    .await?;
    txn.commit().await?;
    Ok(clean)
}

/// One finding, as a preview shows it.
#[derive(Debug, Clone, SimpleObject)]
pub struct PreviewFinding {
    pub kind: FindingKind,
    /// Offset of the first character, counted in Unicode characters.
    pub start: i32,
    /// Offset after the last character.
    pub end: i32,
    /// What replaces it on publishing.
    pub placeholder: String,
}

/// What publishing would do to one text field.
#[derive(Debug, Clone, SimpleObject)]
pub struct FieldPreview {
    /// The input field, e.g. `text` or `purpose`.
    pub field: String,
    pub findings: Vec<PreviewFinding>,
    /// The text as it would be published.
    pub anonymised: String,
}

impl Scrubber {
    /// Previews one field.
    pub fn preview(&self, field: &str, text: &str, language: Language) -> FieldPreview {
        FieldPreview {
            field: field.to_owned(),
            findings: self
                .findings(text, language)
                .into_iter()
                .map(|f| PreviewFinding {
                    kind: f.kind,
                    start: f.start as i32,
                    end: f.end as i32,
                    placeholder: f.placeholder.to_owned(),
                })
                .collect(),
            anonymised: self.text(text, language),
        }
    }
}

/// Previews a free text with the caller's deny-list (anonymous callers get the generic rules).
pub async fn preview_text(
    db: &impl Db,
    identity: &Identity,
    text: &str,
    language: Language,
) -> ServiceResult<Vec<FieldPreview>> {
    validate::text("text", text, validate::limits::CLAUSE_TEXT)?;
    let scrubber = match identity.org() {
        Some(org) => Scrubber::for_org(db, org).await?,
        None => Scrubber::default(),
    };
    Ok(vec![scrubber.preview("text", text, language)])
}

/// A withdrawal reason as it is published: trimmed and anonymised in the organisation's
/// language.
pub async fn public_reason(
    db: &impl ConnectionTrait,
    org: Uuid,
    reason: &str,
) -> ServiceResult<String> {
    let language = organization::Entity::find_by_id(org)
        .one(db)
        .await?
        .map_or(Language::En, |o| language_of(&o));
    Ok(Scrubber::for_org(db, org)
        .await?
        .text(reason.trim(), language))
}
