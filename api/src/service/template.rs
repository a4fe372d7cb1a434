//! Tender templates: ordered references to exact clause versions, versioned like clauses.

use async_graphql::{InputObject, MaybeUndefined};
use entity::{
    ChangeOperation, ClauseKind, EntityType, Language, PublicationStatus, clause_version, codes,
    template, template_clause, template_version,
};
use sea_orm::{
    ActiveEnum, ActiveModelTrait,
    ActiveValue::NotSet,
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect,
    RelationTrait, Set, TransactionSession,
    sea_query::{Expr, ExprTrait},
};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    Db,
    anonymisation::{FieldPreview, Scrubber},
    audit,
    clause::{parse_id, resolve_published},
    cpv,
    listing::{self, BaseColumns, ListBase, Statuses, Total},
    page::{CatalogueOrder, Cursor, OrderColumns, Page, PageRequest, keyset},
    record_change,
    validate::{self, limits},
};
use crate::{
    auth::{Caller, Identity},
    error::{ServiceError, ServiceResult},
};

/// One clause in a template, citing an exact published clause version.
#[derive(Debug, Clone, PartialEq, InputObject, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateClauseInput {
    pub clause_id: async_graphql::ID,
    /// Defaults to the clause's latest published version.
    pub clause_version: Option<i32>,
    /// Weight in percent; only for award criteria. A template's weights sum to at most 100.
    pub weight: Option<i32>,
    #[graphql(default = true)]
    #[serde(default)]
    pub mandatory: bool,
}

#[derive(Debug, Clone, PartialEq, InputObject, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateTemplateInput {
    pub title: String,
    pub description: Option<String>,
    pub language: Language,
    #[graphql(default)]
    #[serde(default)]
    pub cpv_codes: Vec<String>,
    /// Clauses in the order they appear in the tender documents.
    #[graphql(default)]
    #[serde(default)]
    pub clauses: Vec<TemplateClauseInput>,
}

/// Changes to a template draft; omitted fields stay, `clauses` replaces the whole list.
#[derive(Debug, InputObject)]
pub struct UpdateTemplateInput {
    pub id: async_graphql::ID,
    /// The template's `revision` as last read; a stale value fails with `CONFLICT`.
    pub expected_version: i32,
    pub title: Option<String>,
    pub description: MaybeUndefined<String>,
    pub language: Option<Language>,
    pub cpv_codes: Option<Vec<String>>,
    pub clauses: Option<Vec<TemplateClauseInput>>,
}

#[derive(Debug, Default, InputObject)]
pub struct TemplateFilter {
    pub organization_id: Option<async_graphql::ID>,
    /// Defaults to `[PUBLISHED]`; drafts are only listed for their own organisation.
    pub status: Option<Vec<PublicationStatus>>,
    pub language: Option<Language>,
    /// CPV code prefix of 2–8 digits.
    pub cpv: Option<String>,
    /// Only templates changed at or after this time (`updatedAt`).
    pub updated_since: Option<chrono::DateTime<chrono::Utc>>,
}

/// A validated clause reference ready to store.
struct ResolvedRef {
    clause_id: Uuid,
    clause_version: i32,
    weight: Option<i32>,
    mandatory: bool,
}

impl CreateTemplateInput {
    fn validate(&self, prefix: &str) -> ServiceResult<()> {
        validate::text(&format!("{prefix}.title"), &self.title, limits::TITLE)?;
        validate::optional_text(
            &format!("{prefix}.description"),
            self.description.as_deref(),
            limits::LONG_TEXT,
        )?;
        validate::cpv_codes(&format!("{prefix}.cpvCodes"), &self.cpv_codes)?;
        if self.clauses.len() > limits::MAX_TEMPLATE_CLAUSES {
            return Err(ServiceError::bad_input(
                format!("{prefix}.clauses"),
                format!("at most {} clauses", limits::MAX_TEMPLATE_CLAUSES),
            ));
        }
        Ok(())
    }
}

/// Checks each reference against the clause it cites and the weights against each other.
async fn resolve_refs(
    db: &impl ConnectionTrait,
    prefix: &str,
    refs: &[TemplateClauseInput],
) -> ServiceResult<Vec<ResolvedRef>> {
    let mut resolved = Vec::with_capacity(refs.len());
    let mut total_weight = 0;
    for (i, r) in refs.iter().enumerate() {
        let field = format!("{prefix}.clauses[{i}]");
        let clause_id = parse_id(&format!("{field}.clauseId"), &r.clause_id)?;
        let (_, version) = resolve_published(db, &field, clause_id, r.clause_version).await?;
        if resolved
            .iter()
            .any(|x: &ResolvedRef| x.clause_id == clause_id)
        {
            return Err(ServiceError::bad_input(
                format!("{field}.clauseId"),
                "the clause is already in the template",
            ));
        }
        if let Some(weight) = r.weight {
            let weight_field = format!("{field}.weight");
            validate::percent(&weight_field, weight)?;
            let kind = clause_version::Entity::find_by_id((clause_id, version))
                .one(db)
                .await?
                .and_then(|v| v.kind);
            if kind != Some(ClauseKind::AwardCriterion) {
                return Err(ServiceError::bad_input(
                    weight_field,
                    "only award criteria carry a weight",
                ));
            }
            total_weight += weight;
            if total_weight > 100 {
                return Err(ServiceError::bad_input(
                    weight_field,
                    "award-criterion weights of a template must sum to at most 100",
                ));
            }
        }
        resolved.push(ResolvedRef {
            clause_id,
            clause_version: version,
            weight: r.weight,
            mandatory: r.mandatory,
        });
    }
    Ok(resolved)
}

pub(super) async fn write_version(
    db: &impl ConnectionTrait,
    template_id: Uuid,
    version: i32,
    content: &template_version::Model,
    refs: &[template_clause::Model],
    published_at: Option<chrono::DateTime<chrono::Utc>>,
) -> ServiceResult<()> {
    template_version::ActiveModel {
        template_id: Set(template_id),
        version: Set(version),
        title: Set(content.title.clone()),
        description: Set(content.description.clone()),
        language: Set(content.language),
        cpv_codes: Set(content.cpv_codes.clone()),
        published_at: Set(published_at),
    }
    .insert(db)
    .await?;
    if !refs.is_empty() {
        template_clause::Entity::insert_many(refs.iter().map(|r| template_clause::ActiveModel {
            template_id: Set(template_id),
            template_version: Set(version),
            position: Set(r.position),
            clause_id: Set(r.clause_id),
            clause_version: Set(r.clause_version),
            weight: Set(r.weight),
            mandatory: Set(r.mandatory),
        }))
        .exec(db)
        .await?;
    }
    Ok(())
}

fn to_rows(
    template_id: Uuid,
    input: &CreateTemplateInput,
    refs: Vec<ResolvedRef>,
) -> (template_version::Model, Vec<template_clause::Model>) {
    let content = template_version::Model {
        template_id,
        version: 0,
        title: input.title.trim().to_owned(),
        description: validate::normalize(input.description.clone()),
        language: input.language,
        cpv_codes: codes::encode(&input.cpv_codes),
        published_at: None,
    };
    let refs = refs
        .into_iter()
        .enumerate()
        .map(|(i, r)| template_clause::Model {
            template_id,
            template_version: 0,
            position: i as i32,
            clause_id: r.clause_id,
            clause_version: r.clause_version,
            weight: r.weight,
            mandatory: r.mandatory,
        })
        .collect();
    (content, refs)
}

async fn insert_template(
    db: &impl ConnectionTrait,
    caller: &Caller,
    org: Uuid,
    input: &CreateTemplateInput,
    refs: Vec<ResolvedRef>,
    derived_from: Option<(Uuid, i32)>,
) -> ServiceResult<template::Model> {
    let template = insert_row(db, org, derived_from).await?;
    let (content, rows) = to_rows(template.id, input, refs);
    write_version(db, template.id, 0, &content, &rows, None).await?;
    audit(
        db,
        caller,
        "template.create",
        EntityType::Template,
        template.id,
        serde_json::json!({ "clauses": rows.len() }),
    )
    .await?;
    Ok(template)
}

async fn insert_row(
    db: &impl ConnectionTrait,
    org: Uuid,
    derived_from: Option<(Uuid, i32)>,
) -> ServiceResult<template::Model> {
    let now = super::now();
    Ok(template::ActiveModel {
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
    .await?)
}

pub async fn create(
    db: &impl Db,
    identity: &Identity,
    input: CreateTemplateInput,
) -> ServiceResult<template::Model> {
    let (caller, org) = super::organization::local_publisher(db, identity).await?;
    input.validate("input")?;
    let txn = db.begin().await?;
    let refs = resolve_refs(&txn, "input", &input.clauses).await?;
    let template = insert_template(&txn, caller, org, &input, refs, None).await?;
    txn.commit().await?;
    Ok(template)
}

pub fn visible(template: &template::Model, identity: &Identity) -> bool {
    template.published_version > 0 || identity.org() == Some(template.organization_id)
}

pub async fn get(
    db: &impl Db,
    identity: &Identity,
    id: Uuid,
) -> ServiceResult<Option<template::Model>> {
    Ok(template::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|t| visible(t, identity)))
}

async fn load_own<'a>(
    db: &impl ConnectionTrait,
    identity: &'a Identity,
    id: Uuid,
) -> ServiceResult<(&'a Caller, template::Model)> {
    let (caller, org) = super::organization::local_publisher(db, identity).await?;
    let template = template::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|t| visible(t, identity))
        .ok_or(ServiceError::NotFound("template"))?;
    if template.organization_id != org {
        return Err(ServiceError::forbidden(
            "only the owning organisation can change a template",
        ));
    }
    Ok((caller, template))
}

fn check_expected(template: &template::Model, expected: Option<i32>) -> ServiceResult<()> {
    match expected {
        Some(expected) if expected != template.revision => Err(ServiceError::Conflict(format!(
            "the template has changed (revision {} is current, {expected} was expected)",
            template.revision
        ))),
        _ => Ok(()),
    }
}

pub(super) async fn save_revision(
    db: &impl ConnectionTrait,
    template: &template::Model,
    mut changes: template::ActiveModel,
) -> ServiceResult<template::Model> {
    changes.revision = Set(template.revision + 1);
    changes.updated_at = Set(super::now());
    changes.id = NotSet;
    let result = template::Entity::update_many()
        .set(changes)
        .filter(template::Column::Id.eq(template.id))
        .filter(template::Column::Revision.eq(template.revision))
        .exec(db)
        .await?;
    if result.rows_affected != 1 {
        return Err(ServiceError::Conflict(
            "the template was changed by someone else; read it again".to_owned(),
        ));
    }
    template::Entity::find_by_id(template.id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound("template"))
}

/// The stored content and clause references of one version (0 = draft).
pub async fn load_version(
    db: &impl ConnectionTrait,
    template_id: Uuid,
    version: i32,
) -> ServiceResult<Option<(template_version::Model, Vec<template_clause::Model>)>> {
    let Some(content) = template_version::Entity::find_by_id((template_id, version))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let refs = clauses_of(db, template_id, version).await?;
    Ok(Some((content, refs)))
}

pub async fn clauses_of(
    db: &impl ConnectionTrait,
    template_id: Uuid,
    version: i32,
) -> ServiceResult<Vec<template_clause::Model>> {
    Ok(template_clause::Entity::find()
        .filter(template_clause::Column::TemplateId.eq(template_id))
        .filter(template_clause::Column::TemplateVersion.eq(version))
        .order_by_asc(template_clause::Column::Position)
        .all(db)
        .await?)
}

async fn delete_version(
    db: &impl ConnectionTrait,
    template_id: Uuid,
    version: i32,
) -> ServiceResult<()> {
    template_clause::Entity::delete_many()
        .filter(template_clause::Column::TemplateId.eq(template_id))
        .filter(template_clause::Column::TemplateVersion.eq(version))
        .exec(db)
        .await?;
    template_version::Entity::delete_by_id((template_id, version))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn update(
    db: &impl Db,
    identity: &Identity,
    input: UpdateTemplateInput,
) -> ServiceResult<template::Model> {
    let id = parse_id("input.id", &input.id)?;
    let txn = db.begin().await?;
    let (caller, template) = load_own(&txn, identity, id).await?;
    check_expected(&template, Some(input.expected_version))?;
    let (draft, draft_refs) = load_version(&txn, id, 0)
        .await?
        .ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("template {id} has no draft")))?;
    let mut merged = CreateTemplateInput {
        title: input.title.unwrap_or(draft.title),
        description: match input.description {
            MaybeUndefined::Undefined => draft.description,
            MaybeUndefined::Null => None,
            MaybeUndefined::Value(v) => Some(v),
        },
        language: input.language.unwrap_or(draft.language),
        cpv_codes: input
            .cpv_codes
            .unwrap_or_else(|| codes::decode(&draft.cpv_codes)),
        clauses: Vec::new(),
    };
    merged.validate("input")?;
    let refs = match input.clauses {
        Some(clauses) => {
            merged.clauses = clauses;
            merged.validate("input")?;
            resolve_refs(&txn, "input", &merged.clauses).await?
        }
        None => draft_refs
            .into_iter()
            .map(|r| ResolvedRef {
                clause_id: r.clause_id,
                clause_version: r.clause_version,
                weight: r.weight,
                mandatory: r.mandatory,
            })
            .collect(),
    };
    delete_version(&txn, id, 0).await?;
    let (content, rows) = to_rows(id, &merged, refs);
    write_version(&txn, id, 0, &content, &rows, None).await?;
    let template = save_revision(
        &txn,
        &template,
        template::ActiveModel {
            ..Default::default()
        },
    )
    .await?;
    audit(
        &txn,
        caller,
        "template.update",
        EntityType::Template,
        id,
        serde_json::json!({ "revision": template.revision }),
    )
    .await?;
    txn.commit().await?;
    Ok(template)
}

pub async fn publish(
    db: &impl Db,
    identity: &Identity,
    id: Uuid,
    expected: Option<i32>,
) -> ServiceResult<template::Model> {
    let txn = db.begin().await?;
    let (caller, template) = load_own(&txn, identity, id).await?;
    check_expected(&template, expected)?;
    let (draft, refs) = load_version(&txn, id, 0)
        .await?
        .ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("template {id} has no draft")))?;
    if refs.is_empty() {
        return Err(ServiceError::bad_input(
            "draft.clauses",
            "a template needs at least one clause to be published",
        ));
    }
    let mut refs = refs;
    for (i, r) in refs.iter_mut().enumerate() {
        let field = format!("draft.clauses[{i}]");
        // A reused template cites its copied clauses' drafts until they are published; the
        // published template then cites their latest published versions.
        let cited = (r.clause_version != clause_version::DRAFT).then_some(r.clause_version);
        let (_, version) = resolve_published(&txn, &field, r.clause_id, cited)
            .await
            .map_err(|e| match (cited, e) {
                (None, ServiceError::BadInput { field, .. }) => ServiceError::bad_input(
                    field,
                    "publish this reused clause before publishing the template",
                ),
                (_, e) => e,
            })?;
        r.clause_version = version;
    }
    let scrubber = Scrubber::for_org(&txn, template.organization_id).await?;
    let mut draft = draft;
    draft.title = scrubber.text(&draft.title, draft.language);
    draft.description = scrubber.optional(draft.description.take(), draft.language);
    let version = template.published_version + 1;
    write_version(&txn, id, version, &draft, &refs, Some(super::now())).await?;
    let template = save_revision(
        &txn,
        &template,
        template::ActiveModel {
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
        EntityType::Template,
        id,
        Some(version),
        ChangeOperation::Upsert,
    )
    .await?;
    audit(
        &txn,
        caller,
        "template.publish",
        EntityType::Template,
        id,
        serde_json::json!({ "version": version }),
    )
    .await?;
    txn.commit().await?;
    Ok(template)
}

pub async fn withdraw(
    db: &impl Db,
    identity: &Identity,
    id: Uuid,
    reason: String,
    expected: Option<i32>,
) -> ServiceResult<template::Model> {
    validate::text("input.reason", &reason, limits::REASON)?;
    let txn = db.begin().await?;
    let (caller, template) = load_own(&txn, identity, id).await?;
    check_expected(&template, expected)?;
    if template.status != PublicationStatus::Published {
        return Err(ServiceError::bad_input(
            "input.id",
            "only a published template can be withdrawn",
        ));
    }
    let reason =
        super::anonymisation::public_reason(&txn, template.organization_id, &reason).await?;
    let template = save_revision(
        &txn,
        &template,
        template::ActiveModel {
            status: Set(PublicationStatus::Withdrawn),
            withdrawn_reason: Set(Some(reason)),
            withdrawn_at: Set(Some(super::now())),
            ..Default::default()
        },
    )
    .await?;
    record_change(
        &txn,
        EntityType::Template,
        id,
        Some(template.published_version),
        ChangeOperation::Withdraw,
    )
    .await?;
    audit(
        &txn,
        caller,
        "template.withdraw",
        EntityType::Template,
        id,
        serde_json::json!({ "version": template.published_version }),
    )
    .await?;
    txn.commit().await?;
    Ok(template)
}

/// A template with its current view (latest published version, or the draft if unpublished).
pub type TemplateRow = (template::Model, Option<template_version::Model>);

/// A page of templates with their current views, read like [`super::clause::list`]'s.
pub async fn list(
    db: &impl Db,
    identity: &Identity,
    filter: TemplateFilter,
    order: CatalogueOrder,
    page: PageRequest,
) -> ServiceResult<Page<TemplateRow>> {
    let (rows, total) = page_query(identity, filter, order, &page)?;
    let total = total.get(db, "template", page.count).await?;
    Ok(Page::from_rows(rows.all(db).await?, &page, total))
}

/// The statement that reads a page of [`list`] and how its total is found.
pub fn page_query(
    identity: &Identity,
    filter: TemplateFilter,
    order: CatalogueOrder,
    page: &PageRequest,
) -> ServiceResult<(
    sea_orm::SelectTwo<template::Entity, template_version::Entity>,
    Total<template::Entity>,
)> {
    let current_version = template::Relation::Versions
        .def()
        .on_condition(|left, right| {
            Expr::col((right, template_version::Column::Version))
                .equals((left, template::Column::PublishedVersion))
                .into()
        });
    let ListBase {
        mut query,
        statuses,
        organization,
        mut counted,
    } = ListBase::new(
        BaseColumns {
            status: template::Column::Status,
            organization: template::Column::OrganizationId,
            updated_at: template::Column::UpdatedAt,
        },
        Statuses::new(filter.status, identity.org()),
        filter.organization_id.as_ref(),
        filter.updated_since,
    )?;
    let column = |name| listing::list_column(template::Entity, name);
    if let Some(language) = filter.language {
        query = query.filter(Expr::expr(column("list_language")).eq(language.to_value()));
        counted = false;
    }
    let mut query = query.join(JoinType::InnerJoin, current_version);
    if let Some(prefix) = &filter.cpv {
        if !cpv::is_prefix(prefix) {
            return Err(ServiceError::bad_input("filter.cpv", "must be 2–8 digits"));
        }
        query =
            query.filter(template_version::Column::CpvCodes.like(codes::prefix_pattern(prefix)));
        counted = false;
    }
    let total = if counted {
        Total::Counters(statuses, organization)
    } else {
        Total::Count(Box::new(query.clone()))
    };
    let columns = OrderColumns {
        id: Expr::col((template::Entity, template::Column::Id)),
        updated_at: Some(Expr::col((template::Entity, template::Column::UpdatedAt))),
        title: Some(column("list_title")),
        joined_id: Some(Expr::col((
            template_version::Entity,
            template_version::Column::TemplateId,
        ))),
    };
    let rows = keyset(query, order, columns, page)?.select_also(template_version::Entity);
    Ok((rows, total))
}

/// A template row's cursor in `order`.
pub fn cursor(order: CatalogueOrder, (template, current): &TemplateRow) -> Cursor {
    let title = current.as_ref().map_or("", |v| v.title.as_str());
    Cursor::of(order, template.id, template.updated_at, title)
}

/// Published versions, newest first.
pub async fn history(
    db: &impl Db,
    template_id: Uuid,
) -> ServiceResult<Vec<template_version::Model>> {
    Ok(template_version::Entity::find()
        .filter(template_version::Column::TemplateId.eq(template_id))
        .filter(template_version::Column::Version.gt(0))
        .order_by_desc(template_version::Column::Version)
        .all(db)
        .await?)
}

/// What publishing the caller's template draft would remove, field by field.
pub async fn preview_draft(
    db: &impl Db,
    identity: &Identity,
    id: Uuid,
) -> ServiceResult<Vec<FieldPreview>> {
    let (_, template) = load_own(db, identity, id).await?;
    let (draft, _) = load_version(db, id, 0)
        .await?
        .ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("template {id} has no draft")))?;
    let scrubber = Scrubber::for_org(db, template.organization_id).await?;
    let mut fields = vec![scrubber.preview("title", &draft.title, draft.language)];
    if let Some(description) = &draft.description {
        fields.push(scrubber.preview("description", description, draft.language));
    }
    Ok(fields)
}

/// Copies a published template version and every clause version it cites into the caller's
/// organisation, all as drafts derived from their sources. The new template cites the copied
/// clauses' drafts; publishing it after publishing them cites their published versions.
pub async fn reuse(
    db: &impl Db,
    identity: &Identity,
    source_id: Uuid,
    version: Option<i32>,
) -> ServiceResult<(template::Model, Vec<entity::clause::Model>)> {
    let (caller, org) = super::organization::local_publisher(db, identity).await?;
    let txn = db.begin().await?;
    let source = template::Entity::find_by_id(source_id)
        .one(&txn)
        .await?
        .filter(|t| visible(t, identity))
        .ok_or(ServiceError::NotFound("template"))?;
    if source.status != PublicationStatus::Published {
        return Err(ServiceError::bad_input(
            "input.id",
            "only a published template can be reused",
        ));
    }
    let version = validate::published_version("input.version", version, source.published_version)?;
    let (content, refs) = load_version(&txn, source_id, version)
        .await?
        .ok_or(ServiceError::NotFound("template version"))?;
    let template = insert_row(&txn, org, Some((source_id, version))).await?;
    let mut copies = Vec::with_capacity(refs.len());
    let mut rows = Vec::with_capacity(refs.len());
    for r in refs {
        let copy =
            super::clause::copy_version(&txn, caller, org, r.clause_id, r.clause_version).await?;
        rows.push(template_clause::Model {
            template_id: template.id,
            template_version: 0,
            clause_id: copy.id,
            clause_version: clause_version::DRAFT,
            ..r
        });
        copies.push(copy);
    }
    let content = template_version::Model {
        template_id: template.id,
        version: 0,
        published_at: None,
        ..content
    };
    write_version(&txn, template.id, 0, &content, &rows, None).await?;
    audit(
        &txn,
        caller,
        "template.reuse",
        EntityType::Template,
        template.id,
        serde_json::json!({
            "derivedFrom": { "id": source_id, "version": version },
            "clauses": copies.len(),
        }),
    )
    .await?;
    txn.commit().await?;
    Ok((template, copies))
}
