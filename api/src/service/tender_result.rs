//! Tender results: how a procurement went and what happened to each clause it used.

use async_graphql::InputObject;
use chrono::{Datelike, NaiveDate};
use entity::{
    ChangeOperation, ClauseOutcome, EntityType, FollowUpResult, ProcedureType, PublicationStatus,
    ValueBand, organization, template, tender_result, tender_result_clause,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionSession, sea_query::Expr,
};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    Db,
    anonymisation::{Scrubber, language_of},
    audit,
    clause::{parse_id, resolve_published},
    cpv,
    listing::{BaseColumns, ListBase, Statuses, Total},
    page::{Cursor, OrderColumns, Page, PageRequest, TenderResultOrder, keyset},
    record_change,
    validate::{self, limits},
};
use crate::{
    auth::Identity,
    error::{ServiceError, ServiceResult},
};

#[derive(Debug, Clone, InputObject, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TenderResultClauseInput {
    pub clause_id: async_graphql::ID,
    /// Defaults to the clause's latest published version.
    pub clause_version: Option<i32>,
    pub outcome: ClauseOutcome,
    #[graphql(default_with = "FollowUpResult::NotChecked")]
    pub follow_up: FollowUpResult,
}

#[derive(Debug, Clone, InputObject, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportTenderResultInput {
    pub template_id: Option<async_graphql::ID>,
    /// Defaults to the template's latest published version.
    pub template_version: Option<i32>,
    /// Main CPV code, e.g. `30213100-6`.
    pub cpv_code: String,
    pub procedure: ProcedureType,
    /// Month of award (or of closing without award), `YYYY-MM`.
    pub award_month: String,
    pub tenders_received: i32,
    pub sme_tenders: Option<i32>,
    /// Price, cost and quality weights in percent; they sum to 100.
    pub price_weight: i32,
    pub cost_weight: i32,
    pub quality_weight: i32,
    /// Share of the weight given to sustainability (part of cost and quality).
    pub sustainability_weight: i32,
    pub awarded: bool,
    /// Required when `awarded` is false.
    pub no_award_reason: Option<String>,
    pub value_band: ValueBand,
    #[graphql(default)]
    #[serde(default)]
    pub appealed: bool,
    pub lessons_learned: Option<String>,
    #[graphql(default)]
    #[serde(default)]
    pub clauses: Vec<TenderResultClauseInput>,
}

#[derive(Debug, Default, InputObject)]
pub struct TenderResultFilter {
    pub organization_id: Option<async_graphql::ID>,
    pub template_id: Option<async_graphql::ID>,
    /// CPV code prefix of 2–8 digits.
    pub cpv: Option<String>,
    /// Earliest award month, `YYYY-MM`.
    pub from: Option<String>,
    /// Latest award month, `YYYY-MM`.
    pub to: Option<String>,
    /// Only results changed at or after this time (`updatedAt`).
    pub updated_since: Option<chrono::DateTime<chrono::Utc>>,
}

/// Parses `YYYY-MM` into the first day of that month.
pub fn parse_month(field: &str, value: &str) -> ServiceResult<NaiveDate> {
    let bad = || ServiceError::bad_input(field, "use the form YYYY-MM");
    let (year, month) = value.split_once('-').ok_or_else(bad)?;
    if year.len() != 4 || month.len() != 2 {
        return Err(bad());
    }
    let year: i32 = year.parse().map_err(|_| bad())?;
    let month: u32 = month.parse().map_err(|_| bad())?;
    NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(bad)
}

impl ReportTenderResultInput {
    fn validate(&self) -> ServiceResult<NaiveDate> {
        cpv::validate(&self.cpv_code)
            .map_err(|e| ServiceError::bad_input("input.cpvCode", e.to_string()))?;
        let month = parse_month("input.awardMonth", &self.award_month)?;
        let today = chrono::Utc::now().date_naive();
        if month.year() < 2000 || month > today {
            return Err(ServiceError::bad_input(
                "input.awardMonth",
                "must be between 2000-01 and this month",
            ));
        }
        if !(0..=1_000).contains(&self.tenders_received) {
            return Err(ServiceError::bad_input(
                "input.tendersReceived",
                "must be between 0 and 1000",
            ));
        }
        if let Some(sme) = self.sme_tenders
            && (sme < 0 || sme > self.tenders_received)
        {
            return Err(ServiceError::bad_input(
                "input.smeTenders",
                "must be between 0 and tendersReceived",
            ));
        }
        for (field, value) in [
            ("input.priceWeight", self.price_weight),
            ("input.costWeight", self.cost_weight),
            ("input.qualityWeight", self.quality_weight),
            ("input.sustainabilityWeight", self.sustainability_weight),
        ] {
            validate::percent(field, value)?;
        }
        if self.price_weight + self.cost_weight + self.quality_weight != 100 {
            return Err(ServiceError::bad_input(
                "input.qualityWeight",
                "price, cost and quality weights must sum to 100",
            ));
        }
        if self.sustainability_weight > self.cost_weight + self.quality_weight {
            return Err(ServiceError::bad_input(
                "input.sustainabilityWeight",
                "cannot exceed the cost and quality weights it is part of",
            ));
        }
        match (
            self.awarded,
            self.no_award_reason
                .as_deref()
                .map(str::trim)
                .filter(|r| !r.is_empty()),
        ) {
            (false, None) => {
                return Err(ServiceError::bad_input(
                    "input.noAwardReason",
                    "is required when no contract was awarded",
                ));
            }
            (true, Some(_)) => {
                return Err(ServiceError::bad_input(
                    "input.noAwardReason",
                    "must be empty when a contract was awarded",
                ));
            }
            (true, None) if self.tenders_received == 0 => {
                return Err(ServiceError::bad_input(
                    "input.tendersReceived",
                    "an award needs at least one tender",
                ));
            }
            _ => {}
        }
        validate::optional_text(
            "input.noAwardReason",
            self.no_award_reason.as_deref(),
            limits::LONG_TEXT,
        )?;
        validate::optional_text(
            "input.lessonsLearned",
            self.lessons_learned.as_deref(),
            limits::LONG_TEXT,
        )?;
        if self.clauses.len() > limits::MAX_RESULT_CLAUSES {
            return Err(ServiceError::bad_input(
                "input.clauses",
                format!("at most {} clauses", limits::MAX_RESULT_CLAUSES),
            ));
        }
        Ok(month)
    }
}

async fn resolve_template(
    db: &impl ConnectionTrait,
    id: &async_graphql::ID,
    version: Option<i32>,
) -> ServiceResult<(Uuid, i32)> {
    let id = parse_id("input.templateId", id)?;
    let template = template::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|t| t.status == PublicationStatus::Published)
        .ok_or_else(|| {
            ServiceError::bad_input("input.templateId", "no published template with this id")
        })?;
    let version =
        validate::published_version("input.templateVersion", version, template.published_version)?;
    Ok((id, version))
}

pub async fn report(
    db: &impl Db,
    identity: &Identity,
    input: ReportTenderResultInput,
) -> ServiceResult<tender_result::Model> {
    let (caller, org) = super::organization::local_publisher(db, identity).await?;
    let award_month = input.validate()?;
    let txn = db.begin().await?;
    let template = match &input.template_id {
        Some(id) => Some(resolve_template(&txn, id, input.template_version).await?),
        None => None,
    };
    let mut clause_rows: Vec<(Uuid, i32, ClauseOutcome, FollowUpResult)> =
        Vec::with_capacity(input.clauses.len());
    for (i, c) in input.clauses.iter().enumerate() {
        let field = format!("input.clauses[{i}]");
        let clause_id = parse_id(&format!("{field}.clauseId"), &c.clause_id)?;
        let (_, version) = resolve_published(&txn, &field, clause_id, c.clause_version).await?;
        if clause_rows.iter().any(|(id, ..)| *id == clause_id) {
            return Err(ServiceError::bad_input(
                format!("{field}.clauseId"),
                "the clause is listed twice",
            ));
        }
        clause_rows.push((clause_id, version, c.outcome, c.follow_up));
    }
    // Reported results are published at once, so their free texts are anonymised now.
    let language = organization::Entity::find_by_id(org)
        .one(&txn)
        .await?
        .map_or(entity::Language::En, |o| language_of(&o));
    let scrubber = Scrubber::for_org(&txn, org).await?;
    let public = |text: Option<String>| scrubber.optional(validate::normalize(text), language);
    let now = super::now();
    let result = tender_result::ActiveModel {
        id: Set(super::new_id()),
        organization_id: Set(org),
        status: Set(PublicationStatus::Published),
        template_id: Set(template.map(|t| t.0)),
        template_version: Set(template.map(|t| t.1)),
        cpv_code: Set(input.cpv_code),
        procedure: Set(input.procedure),
        award_month: Set(award_month),
        tenders_received: Set(input.tenders_received),
        sme_tenders: Set(input.sme_tenders),
        price_weight: Set(input.price_weight),
        cost_weight: Set(input.cost_weight),
        quality_weight: Set(input.quality_weight),
        sustainability_weight: Set(input.sustainability_weight),
        awarded: Set(input.awarded),
        no_award_reason: Set(public(input.no_award_reason)),
        value_band: Set(input.value_band),
        appealed: Set(input.appealed),
        lessons_learned: Set(public(input.lessons_learned)),
        withdrawn_reason: Set(None),
        withdrawn_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        origin: Set(None),
    }
    .insert(&txn)
    .await?;
    if !clause_rows.is_empty() {
        tender_result_clause::Entity::insert_many(clause_rows.iter().enumerate().map(
            |(i, (clause_id, version, outcome, follow_up))| tender_result_clause::ActiveModel {
                tender_result_id: Set(result.id),
                position: Set(i as i32),
                clause_id: Set(*clause_id),
                clause_version: Set(*version),
                outcome: Set(*outcome),
                follow_up: Set(*follow_up),
            },
        ))
        .exec(&txn)
        .await?;
    }
    record_change(
        &txn,
        EntityType::TenderResult,
        result.id,
        None,
        ChangeOperation::Upsert,
    )
    .await?;
    audit(
        &txn,
        caller,
        "tender_result.report",
        EntityType::TenderResult,
        result.id,
        serde_json::json!({ "clauses": clause_rows.len() }),
    )
    .await?;
    txn.commit().await?;
    Ok(result)
}

/// Withdraws a reported result: it leaves listings, statistics, exports and the evidence of
/// the clauses and template it used; the change feed carries the withdrawal.
pub async fn withdraw(
    db: &impl Db,
    identity: &Identity,
    id: Uuid,
    reason: String,
) -> ServiceResult<tender_result::Model> {
    let (caller, org) = super::organization::local_publisher(db, identity).await?;
    validate::text("input.reason", &reason, limits::REASON)?;
    let txn = db.begin().await?;
    let result = tender_result::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound("tender result"))?;
    if result.organization_id != org {
        return Err(ServiceError::forbidden(
            "only the reporting organisation can withdraw a tender result",
        ));
    }
    if result.status != PublicationStatus::Published {
        return Err(ServiceError::bad_input(
            "input.id",
            "the tender result is already withdrawn",
        ));
    }
    let reason = super::anonymisation::public_reason(&txn, org, &reason).await?;
    let changed = tender_result::Entity::update_many()
        .set(tender_result::ActiveModel {
            status: Set(PublicationStatus::Withdrawn),
            withdrawn_reason: Set(Some(reason)),
            withdrawn_at: Set(Some(super::now())),
            updated_at: Set(super::now()),
            ..Default::default()
        })
        .filter(tender_result::Column::Id.eq(id))
        .filter(tender_result::Column::Status.eq(PublicationStatus::Published))
        .exec(&txn)
        .await?;
    if changed.rows_affected != 1 {
        return Err(ServiceError::Conflict(
            "the tender result was changed by someone else; read it again".to_owned(),
        ));
    }
    record_change(
        &txn,
        EntityType::TenderResult,
        id,
        None,
        ChangeOperation::Withdraw,
    )
    .await?;
    audit(
        &txn,
        caller,
        "tender_result.withdraw",
        EntityType::TenderResult,
        id,
        serde_json::json!({}),
    )
    .await?;
    let result = tender_result::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound("tender result"))?;
    txn.commit().await?;
    Ok(result)
}

pub async fn get(db: &impl Db, id: Uuid) -> ServiceResult<Option<tender_result::Model>> {
    Ok(tender_result::Entity::find_by_id(id).one(db).await?)
}

pub async fn clauses_of(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> ServiceResult<Vec<tender_result_clause::Model>> {
    Ok(tender_result_clause::Entity::find()
        .filter(tender_result_clause::Column::TenderResultId.eq(id))
        .order_by_asc(tender_result_clause::Column::Position)
        .all(db)
        .await?)
}

/// A page of published tender results, read like [`super::clause::list`]'s.
pub async fn list(
    db: &impl Db,
    filter: TenderResultFilter,
    order: TenderResultOrder,
    page: PageRequest,
) -> ServiceResult<Page<tender_result::Model>> {
    let (rows, total) = page_query(filter, order, &page)?;
    let total = total.get(db, "tender_result", page.count).await?;
    Ok(Page::from_rows(rows.all(db).await?, &page, total))
}

/// The statement that reads a page of [`list`] and how its total is found.
pub fn page_query(
    filter: TenderResultFilter,
    order: TenderResultOrder,
    page: &PageRequest,
) -> ServiceResult<(
    sea_orm::Select<tender_result::Entity>,
    Total<tender_result::Entity>,
)> {
    let ListBase {
        mut query,
        statuses,
        organization,
        mut counted,
    } = ListBase::new(
        BaseColumns {
            status: tender_result::Column::Status,
            organization: tender_result::Column::OrganizationId,
            updated_at: tender_result::Column::UpdatedAt,
        },
        // Tender results are listed once published, for everyone.
        Statuses::new(None, None),
        filter.organization_id.as_ref(),
        filter.updated_since,
    )?;
    if let Some(template) = &filter.template_id {
        query = query
            .filter(tender_result::Column::TemplateId.eq(parse_id("filter.templateId", template)?));
        counted = false;
    }
    if let Some(prefix) = &filter.cpv {
        if !cpv::is_prefix(prefix) {
            return Err(ServiceError::bad_input("filter.cpv", "must be 2–8 digits"));
        }
        query = query.filter(tender_result::Column::CpvCode.starts_with(prefix));
        counted = false;
    }
    if let Some(from) = &filter.from {
        query =
            query.filter(tender_result::Column::AwardMonth.gte(parse_month("filter.from", from)?));
        counted = false;
    }
    if let Some(to) = &filter.to {
        query = query.filter(tender_result::Column::AwardMonth.lte(parse_month("filter.to", to)?));
        counted = false;
    }
    let total = if counted {
        Total::Counters(statuses, organization)
    } else {
        Total::Count(Box::new(query.clone()))
    };
    let columns = OrderColumns {
        id: Expr::col((tender_result::Entity, tender_result::Column::Id)),
        updated_at: Some(Expr::col((
            tender_result::Entity,
            tender_result::Column::UpdatedAt,
        ))),
        title: None,
        joined_id: None,
    };
    Ok((keyset(query, order.into(), columns, page)?, total))
}

/// A tender result's cursor in `order`.
pub fn cursor(order: TenderResultOrder, result: &tender_result::Model) -> Cursor {
    Cursor::of(order.into(), result.id, result.updated_at, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months() {
        assert_eq!(
            parse_month("m", "2025-04").ok(),
            NaiveDate::from_ymd_opt(2025, 4, 1)
        );
        for bad in ["2025-13", "2025-4", "25-04", "2025/04", "", "abcd-ef"] {
            assert!(parse_month("m", bad).is_err(), "{bad}");
        }
    }
}
