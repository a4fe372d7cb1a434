//! Clauses: drafting, optimistic updates, publishing frozen versions, withdrawal and reuse.

use async_graphql::{Enum, InputObject, MaybeUndefined};
use chrono::NaiveDate;
use entity::{
    AmbitionLevel, Applicability, ChangeOperation, ClauseKind, CriteriaOrigin, EntityType,
    EnvironmentalImpact, Language, ProductGroup, PublicationStatus, SocialObjective, clause,
    clause_version, codes,
};
use sea_orm::{
    ActiveEnum, ActiveModelTrait,
    ActiveValue::NotSet,
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, JoinType, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, RelationTrait, Set, TransactionSession,
    TryIntoModel,
    sea_query::{Expr, ExprTrait},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    Db,
    anonymisation::{FieldPreview, Scrubber},
    audit, cpv,
    listing::{self, BaseColumns, ListBase, Statuses, Total},
    page::{CatalogueOrder, Cursor, OrderColumns, Page, PageRequest, keyset},
    record_change,
    validate::{self, limits},
};
use crate::{
    auth::{Caller, Identity},
    error::{ServiceError, ServiceResult},
    indexing::Handoff,
    row_cache::{ClauseRowCache, PageLookup},
    service::staleness::LabelRegistry,
};

pub const DEFAULT_LICENCE: &str = "CC-BY-4.0";

fn default_licence() -> String {
    DEFAULT_LICENCE.to_owned()
}

/// The editable content of a clause: what a draft holds and a publish freezes.
#[derive(Debug, Clone, PartialEq, InputObject, Deserialize, Serialize)]
#[graphql(name = "CreateClauseInput")]
#[serde(rename_all = "camelCase")]
pub struct ClauseContent {
    pub title: String,
    /// Why the clause exists, for the buyer.
    pub purpose: Option<String>,
    /// The requirement text; may hold buyer-set parameters such as `[5 years]`.
    pub text: String,
    /// How points are given (award criteria).
    pub scoring_rule: Option<String>,
    /// Accepted proof, e.g. a label "or equivalent".
    pub verification: Option<String>,
    /// How the buyer checks compliance during the contract.
    pub follow_up: Option<String>,
    pub kind: Option<ClauseKind>,
    pub ambition_level: Option<AmbitionLevel>,
    #[graphql(default)]
    #[serde(default)]
    pub environmental_impacts: Vec<EnvironmentalImpact>,
    #[graphql(default)]
    #[serde(default)]
    pub social_objectives: Vec<SocialObjective>,
    pub origin: Option<CriteriaOrigin>,
    pub applicability: Option<Applicability>,
    /// CPV codes of the CPV 2008 list with their check digit, e.g. `30213100-6`.
    #[graphql(default)]
    #[serde(default)]
    pub cpv_codes: Vec<String>,
    pub product_group: Option<ProductGroup>,
    /// Labels the clause refers to, e.g. `TCO Certified Generation 10`.
    #[graphql(default)]
    #[serde(default)]
    pub labels: Vec<String>,
    pub language: Language,
    #[graphql(default_with = "default_licence()")]
    #[serde(default = "default_licence")]
    pub licence: String,
    pub last_reviewed: Option<NaiveDate>,
}

/// Changes to a clause draft; omitted fields stay as they are, `null` clears optional ones.
#[derive(Debug, InputObject)]
pub struct UpdateClauseInput {
    pub id: async_graphql::ID,
    /// The clause's `revision` as last read; a stale value fails with `CONFLICT`.
    pub expected_version: i32,
    pub title: Option<String>,
    pub purpose: MaybeUndefined<String>,
    pub text: Option<String>,
    pub scoring_rule: MaybeUndefined<String>,
    pub verification: MaybeUndefined<String>,
    pub follow_up: MaybeUndefined<String>,
    pub kind: MaybeUndefined<ClauseKind>,
    pub ambition_level: MaybeUndefined<AmbitionLevel>,
    pub environmental_impacts: Option<Vec<EnvironmentalImpact>>,
    pub social_objectives: Option<Vec<SocialObjective>>,
    pub origin: MaybeUndefined<CriteriaOrigin>,
    pub applicability: MaybeUndefined<Applicability>,
    pub cpv_codes: Option<Vec<String>>,
    pub product_group: MaybeUndefined<ProductGroup>,
    pub labels: Option<Vec<String>>,
    pub language: Option<Language>,
    pub licence: Option<String>,
    pub last_reviewed: MaybeUndefined<NaiveDate>,
}

fn patch<T>(target: &mut Option<T>, value: MaybeUndefined<T>) {
    match value {
        MaybeUndefined::Undefined => {}
        MaybeUndefined::Null => *target = None,
        MaybeUndefined::Value(v) => *target = Some(v),
    }
}

fn replace<T>(target: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *target = value;
    }
}

impl UpdateClauseInput {
    fn apply(self, c: &mut ClauseContent) {
        replace(&mut c.title, self.title);
        patch(&mut c.purpose, self.purpose);
        replace(&mut c.text, self.text);
        patch(&mut c.scoring_rule, self.scoring_rule);
        patch(&mut c.verification, self.verification);
        patch(&mut c.follow_up, self.follow_up);
        patch(&mut c.kind, self.kind);
        patch(&mut c.ambition_level, self.ambition_level);
        replace(&mut c.environmental_impacts, self.environmental_impacts);
        replace(&mut c.social_objectives, self.social_objectives);
        patch(&mut c.origin, self.origin);
        patch(&mut c.applicability, self.applicability);
        replace(&mut c.cpv_codes, self.cpv_codes);
        patch(&mut c.product_group, self.product_group);
        replace(&mut c.labels, self.labels);
        replace(&mut c.language, self.language);
        replace(&mut c.licence, self.licence);
        patch(&mut c.last_reviewed, self.last_reviewed);
    }
}

/// Drops repeats, keeping the first of each, in linear time (lists arrive before their
/// length is validated).
fn dedup<T: Eq + std::hash::Hash + Clone>(items: &mut Vec<T>) {
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    items.retain(|item| seen.insert(item.clone()));
}

impl ClauseContent {
    /// Checks every field a draft may hold; `prefix` is the input path (`input`).
    pub fn validate(&self, prefix: &str) -> ServiceResult<()> {
        let f = |name: &str| format!("{prefix}.{name}");
        validate::text(&f("title"), &self.title, limits::TITLE)?;
        validate::text(&f("text"), &self.text, limits::CLAUSE_TEXT)?;
        for (name, value) in [
            ("purpose", &self.purpose),
            ("scoringRule", &self.scoring_rule),
            ("verification", &self.verification),
            ("followUp", &self.follow_up),
        ] {
            validate::optional_text(&f(name), value.as_deref(), limits::LONG_TEXT)?;
        }
        validate::cpv_codes(&f("cpvCodes"), &self.cpv_codes)?;
        if self.labels.len() > limits::MAX_LABELS {
            return Err(ServiceError::bad_input(
                f("labels"),
                format!("at most {} labels", limits::MAX_LABELS),
            ));
        }
        for (i, label) in self.labels.iter().enumerate() {
            validate::text(&format!("{prefix}.labels[{i}]"), label, (1, limits::LABEL))?;
        }
        validate::text(&f("licence"), &self.licence, (1, limits::LICENCE))?;
        if let Some(date) = self.last_reviewed
            && date > chrono::Utc::now().date_naive()
        {
            return Err(ServiceError::bad_input(
                f("lastReviewed"),
                "must not be in the future",
            ));
        }
        Ok(())
    }

    /// Trims texts, drops blank optional texts and duplicate list items.
    fn normalize(mut self) -> Self {
        self.title = self.title.trim().to_owned();
        self.text = self.text.trim().to_owned();
        self.purpose = validate::normalize(self.purpose);
        self.scoring_rule = validate::normalize(self.scoring_rule);
        self.verification = validate::normalize(self.verification);
        self.follow_up = validate::normalize(self.follow_up);
        self.licence = self.licence.trim().to_owned();
        self.labels = self.labels.iter().map(|l| l.trim().to_owned()).collect();
        dedup(&mut self.environmental_impacts);
        dedup(&mut self.social_objectives);
        dedup(&mut self.labels);
        self
    }

    /// What a version needs before it can be published; `prefix` names where the content
    /// came from (`draft`, or an import line).
    pub fn validate_for_publish(&self, prefix: &str) -> ServiceResult<()> {
        let missing = |name: &str| {
            ServiceError::bad_input(format!("{prefix}.{name}"), "is required to publish")
        };
        let kind = self.kind.ok_or_else(|| missing("kind"))?;
        self.ambition_level
            .ok_or_else(|| missing("ambitionLevel"))?;
        self.verification
            .as_ref()
            .ok_or_else(|| missing("verification"))?;
        if self.cpv_codes.is_empty() {
            return Err(missing("cpvCodes"));
        }
        if self.environmental_impacts.is_empty() && self.social_objectives.is_empty() {
            return Err(ServiceError::bad_input(
                format!("{prefix}.environmentalImpacts"),
                "name at least one environmental impact or social objective to publish",
            ));
        }
        if kind == ClauseKind::AwardCriterion && self.scoring_rule.is_none() {
            return Err(missing("scoringRule"));
        }
        if kind == ClauseKind::ContractPerformanceClause && self.follow_up.is_none() {
            return Err(missing("followUp"));
        }
        Ok(())
    }

    /// The content as it is published: every text field through the anonymiser.
    pub fn anonymised(mut self, scrubber: &Scrubber) -> Self {
        let language = self.language;
        self.title = scrubber.text(&self.title, language);
        self.text = scrubber.text(&self.text, language);
        for field in [
            &mut self.purpose,
            &mut self.scoring_rule,
            &mut self.verification,
            &mut self.follow_up,
        ] {
            *field = scrubber.optional(field.take(), language);
        }
        for label in &mut self.labels {
            *label = scrubber.text(label, language);
        }
        self
    }

    /// What publishing would remove from each text field.
    pub fn preview(&self, scrubber: &Scrubber) -> Vec<FieldPreview> {
        let mut fields: Vec<(String, &str)> = vec![
            ("title".to_owned(), self.title.as_str()),
            ("text".to_owned(), self.text.as_str()),
        ];
        for (name, value) in [
            ("purpose", &self.purpose),
            ("scoringRule", &self.scoring_rule),
            ("verification", &self.verification),
            ("followUp", &self.follow_up),
        ] {
            if let Some(value) = value {
                fields.push((name.to_owned(), value));
            }
        }
        for (i, label) in self.labels.iter().enumerate() {
            fields.push((format!("labels[{i}]"), label));
        }
        fields
            .into_iter()
            .map(|(name, value)| scrubber.preview(&name, value, self.language))
            .collect()
    }

    fn into_active(
        self,
        clause_id: Uuid,
        version: i32,
        published_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> clause_version::ActiveModel {
        clause_version::ActiveModel {
            clause_id: Set(clause_id),
            version: Set(version),
            title: Set(self.title),
            purpose: Set(self.purpose),
            text: Set(self.text),
            scoring_rule: Set(self.scoring_rule),
            verification: Set(self.verification),
            follow_up: Set(self.follow_up),
            kind: Set(self.kind),
            ambition_level: Set(self.ambition_level),
            environmental_impacts: Set(codes::encode_enums(&self.environmental_impacts)),
            social_objectives: Set(codes::encode_enums(&self.social_objectives)),
            origin: Set(self.origin),
            applicability: Set(self.applicability),
            cpv_codes: Set(codes::encode(&self.cpv_codes)),
            product_group: Set(self.product_group),
            labels: Set(codes::encode(&self.labels)),
            language: Set(self.language),
            licence: Set(self.licence),
            last_reviewed: Set(self.last_reviewed),
            published_at: Set(published_at),
        }
    }
}

impl From<clause_version::Model> for ClauseContent {
    fn from(v: clause_version::Model) -> Self {
        Self {
            title: v.title,
            purpose: v.purpose,
            text: v.text,
            scoring_rule: v.scoring_rule,
            verification: v.verification,
            follow_up: v.follow_up,
            kind: v.kind,
            ambition_level: v.ambition_level,
            environmental_impacts: codes::decode_enums(&v.environmental_impacts),
            social_objectives: codes::decode_enums(&v.social_objectives),
            origin: v.origin,
            applicability: v.applicability,
            cpv_codes: codes::decode(&v.cpv_codes),
            product_group: v.product_group,
            labels: codes::decode(&v.labels),
            language: v.language,
            licence: v.licence,
            last_reviewed: v.last_reviewed,
        }
    }
}

/// Environmental or social focus, derived from the impact and objective codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum Focus {
    Environmental,
    Social,
}

impl Focus {
    /// Environmental when impacts are named, social when objectives are.
    pub fn of(version: &clause_version::Model) -> Vec<Focus> {
        let mut focus = Vec::new();
        if !codes::decode(&version.environmental_impacts).is_empty() {
            focus.push(Focus::Environmental);
        }
        if !codes::decode(&version.social_objectives).is_empty() {
            focus.push(Focus::Social);
        }
        focus
    }

    /// The GraphQL name, as search documents hold it.
    pub fn code(self) -> &'static str {
        match self {
            Focus::Environmental => "ENVIRONMENTAL",
            Focus::Social => "SOCIAL",
        }
    }
}

/// List filters; all given conditions must hold.
#[derive(Debug, Default, InputObject)]
pub struct ClauseFilter {
    pub organization_id: Option<async_graphql::ID>,
    /// Defaults to `[PUBLISHED]`. Drafts are only ever listed for their own organisation.
    pub status: Option<Vec<PublicationStatus>>,
    pub kind: Option<ClauseKind>,
    pub ambition_level: Option<AmbitionLevel>,
    pub language: Option<Language>,
    pub product_group: Option<ProductGroup>,
    /// CPV code prefix of 2–8 digits, e.g. `302`.
    pub cpv: Option<String>,
    pub focus: Option<Focus>,
    pub environmental_impact: Option<EnvironmentalImpact>,
    pub social_objective: Option<SocialObjective>,
    /// Only clauses changed at or after this time (`updatedAt`), e.g. to catch up since a
    /// previous visit.
    pub updated_since: Option<chrono::DateTime<chrono::Utc>>,
}

/// Parses a GraphQL `ID` into a UUID, naming the field when it is not one.
pub fn parse_id(field: &str, id: &async_graphql::ID) -> ServiceResult<Uuid> {
    Uuid::parse_str(id).map_err(|_| ServiceError::bad_input(field, "not a valid id"))
}

/// Whether the caller may see this clause at all.
pub fn visible(clause: &clause::Model, identity: &Identity) -> bool {
    clause.published_version > 0 || identity.org() == Some(clause.organization_id)
}

/// Whether the caller may see the clause's draft.
pub fn owns(clause: &clause::Model, identity: &Identity) -> bool {
    identity.org() == Some(clause.organization_id)
}

pub async fn get(
    db: &impl Db,
    identity: &Identity,
    id: Uuid,
) -> ServiceResult<Option<clause::Model>> {
    let clause = clause::Entity::find_by_id(id).one(db).await?;
    Ok(clause.filter(|c| visible(c, identity)))
}

/// A clause with its current view: the latest published version, or the draft if unpublished.
pub type ClauseRow = (clause::Model, Option<clause_version::Model>);

/// Joins each clause to its current view (the version numbered `published_version`: the
/// latest published one, or the draft, numbered 0, while never published).
pub fn current_version() -> sea_orm::RelationDef {
    clause::Relation::Versions
        .def()
        .on_condition(|left, right| {
            Expr::col((right, clause_version::Column::Version))
                .equals((left, clause::Column::PublishedVersion))
                .into()
        })
}

/// Clauses with their current views, read in one query: add filters, then `all`.
pub fn with_current() -> sea_orm::SelectTwo<clause::Entity, clause_version::Entity> {
    clause::Entity::find()
        .join(JoinType::LeftJoin, current_version())
        .select_also(clause_version::Entity)
}

/// A page of clauses with their current views. Status, organisation, language, kind and
/// ambition level filter on the clause row itself (the current view's columns are kept there
/// by triggers), and each order has an index that leads with the status: a page is one index
/// range read plus one version lookup per row, at any catalogue size.
///
/// Where `cache` keeps rows (it watches every write), a page read before is answered from
/// memory, its ids by its statement and its rows by id, until something is written; a page
/// not kept is one read, kept for the next time.
pub async fn list(
    db: &impl Db,
    cache: &ClauseRowCache,
    identity: &Identity,
    filter: ClauseFilter,
    order: CatalogueOrder,
    page: PageRequest,
) -> ServiceResult<Page<ClauseRow>> {
    let (query, total) = page_query(identity, filter, order, &page)?;
    let total = total.get(db, "clause", page.count).await?;
    let query = query.select_also(clause_version::Entity);
    if !cache.watching() {
        return Ok(Page::from_rows(query.all(db).await?, &page, total));
    }
    // The statement and its values name the page: filters, order, cursor and the caller's
    // scope are all in them. (The values as they are bound, not as printed into the text,
    // which rounds times to microseconds.)
    let statement = query.build(db.get_database_backend());
    let key = format!("{}\u{0}{:?}", statement.sql, statement.values);
    let rows = match cache.page(&key) {
        PageLookup::Kept(ids) => {
            let mut found = cache.read(db, &ids).await?;
            // Rows evicted since are read again by id (any write drops the page itself).
            ids.iter().filter_map(|id| found.remove(id)).collect()
        }
        PageLookup::Missing(ticket) => {
            let rows = query.all(db).await?;
            let ids: Vec<Uuid> = rows.iter().map(|(clause, _)| clause.id).collect();
            cache.fill(ticket, &rows);
            cache.fill_page(ticket, key, &ids);
            rows
        }
    };
    Ok(Page::from_rows(rows, &page, total))
}

/// The statement that reads a page of [`list`] (joined to the current versions, which it
/// does not select: public so its plan can be checked) and how its total is found.
pub fn page_query(
    identity: &Identity,
    filter: ClauseFilter,
    order: CatalogueOrder,
    page: &PageRequest,
) -> ServiceResult<(sea_orm::Select<clause::Entity>, Total<clause::Entity>)> {
    let ListBase {
        mut query,
        statuses,
        organization,
        // Whether only status and organisation filter the list: then the counters count it.
        mut counted,
    } = ListBase::new(
        BaseColumns {
            status: clause::Column::Status,
            organization: clause::Column::OrganizationId,
            updated_at: clause::Column::UpdatedAt,
        },
        Statuses::new(filter.status, identity.org()),
        filter.organization_id.as_ref(),
        filter.updated_since,
    )?;
    let column = |name| listing::list_column(clause::Entity, name);
    for (name, value) in [
        ("list_kind", filter.kind.map(|k| k.to_value())),
        ("list_level", filter.ambition_level.map(|l| l.to_value())),
        ("list_language", filter.language.map(|l| l.to_value())),
    ] {
        if let Some(value) = value {
            query = query.filter(Expr::expr(column(name)).eq(value));
            counted = false;
        }
    }
    let mut query = query.join(JoinType::InnerJoin, current_version());
    if let Some(group) = filter.product_group {
        query = query.filter(clause_version::Column::ProductGroup.eq(group));
        counted = false;
    }
    if let Some(prefix) = &filter.cpv {
        if !cpv::is_prefix(prefix) {
            return Err(ServiceError::bad_input("filter.cpv", "must be 2–8 digits"));
        }
        query = query.filter(clause_version::Column::CpvCodes.like(codes::prefix_pattern(prefix)));
        counted = false;
    }
    match filter.focus {
        Some(Focus::Environmental) => {
            query = query.filter(clause_version::Column::EnvironmentalImpacts.ne("[]"));
            counted = false;
        }
        Some(Focus::Social) => {
            query = query.filter(clause_version::Column::SocialObjectives.ne("[]"));
            counted = false;
        }
        None => {}
    }
    if let Some(impact) = filter.environmental_impact {
        let code = codes::encode_enums(&[impact]);
        query = query.filter(
            clause_version::Column::EnvironmentalImpacts
                .like(format!("%{}%", &code[1..code.len() - 1])),
        );
        counted = false;
    }
    if let Some(objective) = filter.social_objective {
        let code = codes::encode_enums(&[objective]);
        query = query.filter(
            clause_version::Column::SocialObjectives
                .like(format!("%{}%", &code[1..code.len() - 1])),
        );
        counted = false;
    }
    let total = if counted {
        Total::Counters(statuses, organization)
    } else {
        Total::Count(Box::new(query.clone()))
    };
    let columns = OrderColumns {
        id: Expr::col((clause::Entity, clause::Column::Id)),
        updated_at: Some(Expr::col((clause::Entity, clause::Column::UpdatedAt))),
        title: Some(column("list_title")),
        joined_id: Some(Expr::col((
            clause_version::Entity,
            clause_version::Column::ClauseId,
        ))),
    };
    Ok((keyset(query, order, columns, page)?, total))
}

/// A clause row's cursor in `order`.
pub fn cursor(order: CatalogueOrder, (clause, current): &ClauseRow) -> Cursor {
    let title = current.as_ref().map_or("", |v| v.title.as_str());
    Cursor::of(order, clause.id, clause.updated_at, title)
}

/// Published versions, newest first.
pub async fn history(db: &impl Db, clause_id: Uuid) -> ServiceResult<Vec<clause_version::Model>> {
    Ok(clause_version::Entity::find()
        .filter(clause_version::Column::ClauseId.eq(clause_id))
        .filter(clause_version::Column::Version.gt(clause_version::DRAFT))
        .order_by_desc(clause_version::Column::Version)
        .all(db)
        .await?)
}

pub async fn version(
    db: &impl Db,
    clause_id: Uuid,
    version: i32,
) -> ServiceResult<Option<clause_version::Model>> {
    Ok(clause_version::Entity::find_by_id((clause_id, version))
        .one(db)
        .await?)
}

async fn insert_clause(
    db: &impl ConnectionTrait,
    caller: &Caller,
    org: Uuid,
    content: ClauseContent,
    derived_from: Option<(Uuid, i32)>,
) -> ServiceResult<clause::Model> {
    let now = super::now();
    let clause = clause::ActiveModel {
        id: Set(super::new_id()),
        organization_id: Set(org),
        status: Set(PublicationStatus::Draft),
        revision: Set(1),
        published_version: Set(0),
        withdrawn_reason: Set(None),
        withdrawn_at: Set(None),
        derived_from_id: Set(derived_from.map(|d| d.0)),
        derived_from_version: Set(derived_from.map(|d| d.1)),
        created_at: Set(now),
        updated_at: Set(now),
        origin: Set(None),
    }
    .insert(db)
    .await?;
    content
        .into_active(clause.id, clause_version::DRAFT, None)
        .insert(db)
        .await?;
    let action = if derived_from.is_some() {
        "clause.reuse"
    } else {
        "clause.create"
    };
    audit(
        db,
        caller,
        action,
        EntityType::Clause,
        clause.id,
        serde_json::json!({
            "derivedFrom": derived_from.map(|(id, v)| serde_json::json!({"id": id, "version": v})),
        }),
    )
    .await?;
    Ok(clause)
}

pub async fn create(
    db: &impl Db,
    identity: &Identity,
    content: ClauseContent,
) -> ServiceResult<clause::Model> {
    let (caller, org) = super::organization::local_publisher(db, identity).await?;
    let content = content.normalize();
    content.validate("input")?;
    let txn = db.begin().await?;
    let clause = insert_clause(&txn, caller, org, content, None).await?;
    txn.commit().await?;
    Ok(clause)
}

/// Most clauses one import may carry; larger libraries are sent in several imports.
pub const MAX_IMPORT: usize = 5_000;

/// Rows per `INSERT`: well inside SQLite's and PostgreSQL's bind-parameter limits.
const INSERT_CHUNK: usize = 500;

/// Normalises and checks every clause of an import, as [`import`] does before writing.
pub fn check_import(
    contents: Vec<(usize, ClauseContent)>,
    publish: bool,
) -> ServiceResult<Vec<ClauseContent>> {
    if contents.is_empty() {
        return Err(ServiceError::bad_input("body", "holds no clauses"));
    }
    if contents.len() > MAX_IMPORT {
        return Err(ServiceError::bad_input(
            "body",
            format!("at most {MAX_IMPORT} clauses per import"),
        ));
    }
    let mut checked = Vec::with_capacity(contents.len());
    for (line, content) in contents {
        let prefix = format!("line {line}");
        let content = content.normalize();
        content.validate(&prefix)?;
        if publish {
            content.validate_for_publish(&prefix)?;
        }
        checked.push(content);
    }
    Ok(checked)
}

/// Creates many clauses for the caller's organisation in one transaction, each published as
/// version 1 unless `publish` is false (then they stay drafts). Every clause is checked
/// before anything is written: one invalid clause fails the whole import, naming it as
/// `line N`. Published versions pass the anonymiser like any publish, and each gets its
/// change event (with its record), so the index and mirrors follow as usual.
///
/// The rows are built (and anonymised) before the transaction opens, so the writer is held
/// only for the inserts. The published versions' search documents are built from the same
/// rows and offered to the indexer through `handoff` just before the commit, so it need not
/// read thousands of clauses back (see [`Handoff`]).
pub async fn import(
    db: &impl Db,
    identity: &Identity,
    contents: Vec<(usize, ClauseContent)>,
    publish: bool,
    handoff: &Handoff,
) -> ServiceResult<Vec<clause::Model>> {
    let (caller, org, org_row) = super::organization::local_publisher_row(db, identity).await?;
    let checked = check_import(contents, publish)?;
    let registry = match (&org_row, publish) {
        (Some(_), true) => Some(LabelRegistry::load(db).await?),
        _ => None,
    };
    let scrubber = Scrubber::for_org(db, org).await?;
    let now = super::now();
    let (status, version) = if publish {
        (PublicationStatus::Published, 1)
    } else {
        (PublicationStatus::Draft, 0)
    };
    let mut headers = Vec::with_capacity(checked.len());
    let mut versions = Vec::with_capacity(2 * checked.len());
    let mut audits = Vec::with_capacity(checked.len());
    let mut events = Vec::new();
    let mut documents = Vec::new();
    for content in checked {
        let clause = clause::Model {
            id: super::new_id(),
            organization_id: org,
            status,
            revision: 1,
            published_version: version,
            withdrawn_reason: None,
            withdrawn_at: None,
            derived_from_id: None,
            derived_from_version: None,
            created_at: now,
            updated_at: now,
            origin: None,
        };
        if publish {
            let published =
                content
                    .clone()
                    .anonymised(&scrubber)
                    .into_active(clause.id, version, Some(now));
            let model = published.clone().try_into_model()?;
            if let (Some(org), Some(registry)) = (&org_row, &registry) {
                documents.push(crate::indexing::documents::of_new_clause(
                    &clause,
                    model.clone(),
                    org,
                    registry,
                ));
            }
            let record = crate::feed::records::Record::Clause {
                clause: clause.clone(),
                versions: vec![model],
            };
            events.push(super::change_row(
                EntityType::Clause,
                clause.id,
                Some(version),
                ChangeOperation::Upsert,
                Some(&record),
            )?);
            versions.push(published);
        }
        versions.push(content.into_active(clause.id, clause_version::DRAFT, None));
        audits.push(super::audit_row(
            caller,
            "clause.import",
            EntityType::Clause,
            clause.id,
            &serde_json::json!({ "version": publish.then_some(version) }),
        ));
        headers.push(clause);
    }
    let txn = db.begin().await?;
    for chunk in headers.chunks(INSERT_CHUNK) {
        clause::Entity::insert_many(
            chunk
                .iter()
                .cloned()
                .map(IntoActiveModel::into_active_model),
        )
        .exec_without_returning(&txn)
        .await?;
    }
    insert_chunked(&txn, versions).await?;
    insert_chunked(&txn, audits).await?;
    if !events.is_empty() {
        super::lock_feed(&txn).await?;
        insert_chunked(&txn, events).await?;
    }
    let offered: Vec<Uuid> = documents.iter().map(|(id, _)| *id).collect();
    handoff.offer(documents);
    if let Err(error) = txn.commit().await {
        handoff.withdraw(offered);
        return Err(error.into());
    }
    Ok(headers)
}

async fn insert_chunked<A>(db: &impl ConnectionTrait, rows: Vec<A>) -> ServiceResult<()>
where
    A: ActiveModelTrait + Send,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(INSERT_CHUNK).collect();
        <A::Entity as EntityTrait>::insert_many(chunk)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Loads a clause the caller's organisation owns, for writing.
async fn load_own<'a>(
    db: &impl ConnectionTrait,
    identity: &'a Identity,
    id: Uuid,
) -> ServiceResult<(&'a Caller, clause::Model)> {
    let (caller, org) = super::organization::local_publisher(db, identity).await?;
    let clause = clause::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|c| visible(c, identity))
        .ok_or(ServiceError::NotFound("clause"))?;
    if clause.organization_id != org {
        return Err(ServiceError::forbidden(
            "only the owning organisation can change a clause",
        ));
    }
    Ok((caller, clause))
}

fn check_expected(clause: &clause::Model, expected: Option<i32>) -> ServiceResult<()> {
    match expected {
        Some(expected) if expected != clause.revision => Err(ServiceError::Conflict(format!(
            "the clause has changed (revision {} is current, {expected} was expected)",
            clause.revision
        ))),
        _ => Ok(()),
    }
}

/// Writes `changes` and bumps the revision, only if nobody else bumped it meanwhile.
pub(super) async fn save_revision(
    db: &impl ConnectionTrait,
    clause: &clause::Model,
    mut changes: clause::ActiveModel,
) -> ServiceResult<clause::Model> {
    changes.revision = Set(clause.revision + 1);
    changes.updated_at = Set(super::now());
    changes.id = NotSet;
    let result = clause::Entity::update_many()
        .set(changes)
        .filter(clause::Column::Id.eq(clause.id))
        .filter(clause::Column::Revision.eq(clause.revision))
        .exec(db)
        .await?;
    if result.rows_affected != 1 {
        return Err(ServiceError::Conflict(
            "the clause was changed by someone else; read it again".to_owned(),
        ));
    }
    clause::Entity::find_by_id(clause.id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound("clause"))
}

async fn draft(db: &impl ConnectionTrait, clause_id: Uuid) -> ServiceResult<clause_version::Model> {
    clause_version::Entity::find_by_id((clause_id, clause_version::DRAFT))
        .one(db)
        .await?
        .ok_or_else(|| {
            ServiceError::Internal(anyhow::anyhow!("clause {clause_id} has no draft row"))
        })
}

pub async fn update(
    db: &impl Db,
    identity: &Identity,
    input: UpdateClauseInput,
) -> ServiceResult<clause::Model> {
    let id = parse_id("input.id", &input.id)?;
    let txn = db.begin().await?;
    let (caller, clause) = load_own(&txn, identity, id).await?;
    check_expected(&clause, Some(input.expected_version))?;
    let mut content = ClauseContent::from(draft(&txn, id).await?);
    input.apply(&mut content);
    let content = content.normalize();
    content.validate("input")?;
    let mut row = content.into_active(id, clause_version::DRAFT, None);
    row.clause_id = sea_orm::ActiveValue::Unchanged(id);
    row.version = sea_orm::ActiveValue::Unchanged(clause_version::DRAFT);
    row.update(&txn).await?;
    let clause = save_revision(
        &txn,
        &clause,
        clause::ActiveModel {
            ..Default::default()
        },
    )
    .await?;
    audit(
        &txn,
        caller,
        "clause.update",
        EntityType::Clause,
        id,
        serde_json::json!({ "revision": clause.revision }),
    )
    .await?;
    txn.commit().await?;
    Ok(clause)
}

pub async fn publish(
    db: &impl Db,
    identity: &Identity,
    id: Uuid,
    expected: Option<i32>,
) -> ServiceResult<clause::Model> {
    let txn = db.begin().await?;
    let (caller, clause) = load_own(&txn, identity, id).await?;
    check_expected(&clause, expected)?;
    let content = ClauseContent::from(draft(&txn, id).await?);
    content.validate_for_publish("draft")?;
    let content = content.anonymised(&Scrubber::for_org(&txn, clause.organization_id).await?);
    let version = clause.published_version + 1;
    content
        .into_active(id, version, Some(super::now()))
        .insert(&txn)
        .await?;
    let clause = save_revision(
        &txn,
        &clause,
        clause::ActiveModel {
            status: Set(PublicationStatus::Published),
            published_version: Set(version),
            withdrawn_reason: Set(None),
            withdrawn_at: Set(None),
            ..Default::default()
        },
    )
    .await?;
    record_change(
        &txn,
        EntityType::Clause,
        id,
        Some(version),
        ChangeOperation::Upsert,
    )
    .await?;
    audit(
        &txn,
        caller,
        "clause.publish",
        EntityType::Clause,
        id,
        serde_json::json!({ "version": version }),
    )
    .await?;
    txn.commit().await?;
    Ok(clause)
}

pub async fn withdraw(
    db: &impl Db,
    identity: &Identity,
    id: Uuid,
    reason: String,
    expected: Option<i32>,
) -> ServiceResult<clause::Model> {
    validate::text("input.reason", &reason, limits::REASON)?;
    let txn = db.begin().await?;
    let (caller, clause) = load_own(&txn, identity, id).await?;
    check_expected(&clause, expected)?;
    if clause.status != PublicationStatus::Published {
        return Err(ServiceError::bad_input(
            "input.id",
            "only a published clause can be withdrawn",
        ));
    }
    let reason = super::anonymisation::public_reason(&txn, clause.organization_id, &reason).await?;
    let clause = save_revision(
        &txn,
        &clause,
        clause::ActiveModel {
            status: Set(PublicationStatus::Withdrawn),
            withdrawn_reason: Set(Some(reason)),
            withdrawn_at: Set(Some(super::now())),
            ..Default::default()
        },
    )
    .await?;
    record_change(
        &txn,
        EntityType::Clause,
        id,
        Some(clause.published_version),
        ChangeOperation::Withdraw,
    )
    .await?;
    audit(
        &txn,
        caller,
        "clause.withdraw",
        EntityType::Clause,
        id,
        serde_json::json!({ "version": clause.published_version }),
    )
    .await?;
    txn.commit().await?;
    Ok(clause)
}

/// Erases a clause for good: the draft and every published version leave this instance and
/// its search index, and the `DELETE` tombstone takes them out of every mirror. This is for
/// material that must not be public at all (personal data that slipped through); a clause
/// that is merely out of date is withdrawn instead. Refused while a template or tender result
/// cites the clause, because their evidence points at its text.
pub async fn delete(
    db: &impl Db,
    identity: &Identity,
    id: Uuid,
    expected: Option<i32>,
) -> ServiceResult<clause::Model> {
    let txn = db.begin().await?;
    let (caller, clause) = load_own(&txn, identity, id).await?;
    check_expected(&clause, expected)?;
    let cited = entity::template_clause::Entity::find()
        .filter(entity::template_clause::Column::ClauseId.eq(id))
        .count(&txn)
        .await?
        + entity::tender_result_clause::Entity::find()
            .filter(entity::tender_result_clause::Column::ClauseId.eq(id))
            .count(&txn)
            .await?;
    if cited > 0 {
        return Err(ServiceError::Conflict(format!(
            "templates or tender results cite this clause {cited} times; withdraw it instead"
        )));
    }
    clause_version::Entity::delete_many()
        .filter(clause_version::Column::ClauseId.eq(id))
        .exec(&txn)
        .await?;
    clause::Entity::delete_by_id(id).exec(&txn).await?;
    audit(
        &txn,
        caller,
        "clause.delete",
        EntityType::Clause,
        id,
        serde_json::json!({ "publishedVersions": clause.published_version }),
    )
    .await?;
    if clause.published_version > 0 {
        record_change(&txn, EntityType::Clause, id, None, ChangeOperation::Delete).await?;
    }
    txn.commit().await?;
    Ok(clause)
}

/// What publishing the caller's draft would remove, field by field.
pub async fn preview_draft(
    db: &impl Db,
    identity: &Identity,
    id: Uuid,
) -> ServiceResult<Vec<FieldPreview>> {
    let (_, clause) = load_own(db, identity, id).await?;
    let content = ClauseContent::from(draft(db, id).await?);
    Ok(content.preview(&Scrubber::for_org(db, clause.organization_id).await?))
}

/// Copies a published clause version into the caller's organisation as a new draft.
pub async fn reuse(
    db: &impl Db,
    identity: &Identity,
    source_id: Uuid,
    version: Option<i32>,
) -> ServiceResult<clause::Model> {
    let (caller, org) = super::organization::local_publisher(db, identity).await?;
    let txn = db.begin().await?;
    let source = clause::Entity::find_by_id(source_id)
        .one(&txn)
        .await?
        .filter(|c| visible(c, identity))
        .ok_or(ServiceError::NotFound("clause"))?;
    if source.status != PublicationStatus::Published {
        return Err(ServiceError::bad_input(
            "input.id",
            "only a published clause can be reused",
        ));
    }
    let version = validate::published_version("input.version", version, source.published_version)?;
    let clause = copy_version(&txn, caller, org, source_id, version).await?;
    txn.commit().await?;
    Ok(clause)
}

/// Creates a draft in `org` holding the text of a published clause version, derived from it.
pub(super) async fn copy_version(
    db: &impl ConnectionTrait,
    caller: &Caller,
    org: Uuid,
    source_id: Uuid,
    version: i32,
) -> ServiceResult<clause::Model> {
    if version == clause_version::DRAFT {
        return Err(ServiceError::NotFound("clause version"));
    }
    let content = ClauseContent::from(
        clause_version::Entity::find_by_id((source_id, version))
            .one(db)
            .await?
            .ok_or(ServiceError::NotFound("clause version"))?,
    );
    insert_clause(db, caller, org, content, Some((source_id, version))).await
}

/// Resolves a reference to a published clause version for templates and tender results:
/// the clause must be published and visible; `version` defaults to the latest.
pub async fn resolve_published(
    db: &impl ConnectionTrait,
    field: &str,
    clause_id: Uuid,
    version: Option<i32>,
) -> ServiceResult<(clause::Model, i32)> {
    let clause = clause::Entity::find_by_id(clause_id)
        .one(db)
        .await?
        .filter(|c| c.status == PublicationStatus::Published)
        .ok_or_else(|| {
            ServiceError::bad_input(
                format!("{field}.clauseId"),
                "no published clause with this id",
            )
        })?;
    let version = validate::published_version(
        &format!("{field}.clauseVersion"),
        version,
        clause.published_version,
    )?;
    Ok((clause, version))
}
