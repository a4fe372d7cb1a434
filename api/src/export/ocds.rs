//! Tender results as an OCDS 1.1 release package with the sustainability extension.
//!
//! One release per published tender result. The clauses a result used become the tender's
//! `sustainability` entries: one per goal (from the eForms environmental-impact and
//! social-objective codes), with the strategies the clauses pursued it by (their kind and
//! criteria origin). Texts come from published rows only, so they are already anonymised;
//! prices are never exported (the catalogue stores none).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use entity::{
    ClauseKind, CriteriaOrigin, EnvironmentalImpact, ProcedureType, PublicationStatus,
    SocialObjective, clause_version, codes, organization, tender_result, tender_result_clause,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::service::anonymisation::language_of;

/// The sustainability extension this package declares.
pub const EXTENSION_URL: &str = "https://raw.githubusercontent.com/open-contracting-extensions/ocds_sustainability_extension/master/extension.json";
/// Results read per database round trip.
const PAGE: u64 = 100;

/// Package-level settings.
#[derive(Debug, Clone)]
pub struct PackageInfo {
    /// Where this package can be fetched again (`…/export/ocds`).
    pub uri: String,
    /// The registered OCID prefix, e.g. `ocds-a1b2c3`.
    pub ocid_prefix: String,
    pub publisher: String,
}

fn method(procedure: ProcedureType) -> &'static str {
    match procedure {
        ProcedureType::Open => "open",
        ProcedureType::Restricted
        | ProcedureType::CompetitiveDialogue
        | ProcedureType::InnovationPartnership
        | ProcedureType::MiniCompetition => "selective",
        ProcedureType::Negotiated => "limited",
        ProcedureType::DirectAward => "direct",
    }
}

fn award_criteria(result: &tender_result::Model) -> &'static str {
    match (
        result.price_weight > 0,
        result.cost_weight > 0,
        result.quality_weight > 0,
    ) {
        (true, false, false) => "priceOnly",
        (false, true, false) => "costOnly",
        (false, false, true) => "qualityOnly",
        _ => "ratedCriteria",
    }
}

fn strategy(kind: ClauseKind) -> &'static str {
    match kind {
        ClauseKind::SelectionCriterion => "selectionCriteria",
        ClauseKind::TechnicalSpecification => "technicalSpecifications",
        ClauseKind::AwardCriterion => "awardCriteria",
        ClauseKind::ContractPerformanceClause => "contractPerformanceConditions",
    }
}

fn origin_strategy(origin: CriteriaOrigin) -> &'static str {
    match origin {
        CriteriaOrigin::Eu => "euGPPCriteria",
        CriteriaOrigin::National => "nationalGPPCriteria",
        CriteriaOrigin::Other => "otherGPPCriteria",
    }
}

fn environmental_goal(impact: EnvironmentalImpact) -> &'static str {
    match impact {
        EnvironmentalImpact::BiodivEco => "environmental.biodiversityProtectionRestoration",
        EnvironmentalImpact::CircEcon => "environmental.circularEconomy",
        EnvironmentalImpact::ClimAdapt => "environmental.climateChangeAdaptation",
        EnvironmentalImpact::ClimMitig => "environmental.climateChangeMitigation",
        EnvironmentalImpact::PolluPrev => "environmental.pollutionPrevention",
        EnvironmentalImpact::WaterMar => "environmental.waterResourcesProtection",
        EnvironmentalImpact::Other => "environmental",
    }
}

fn social_goal(objective: SocialObjective) -> &'static str {
    match objective {
        SocialObjective::AccAll => "social.accessibility",
        SocialObjective::EtEq => "social.ethnicEquality",
        SocialObjective::GenEq => "social.genderEquality",
        SocialObjective::HumRight => "social.humanRightsInSupplyChains",
        SocialObjective::Opp => "social.disadvantagedEmploymentOpportunities",
        SocialObjective::WorkCond => "social.laborRightsPromotion",
        SocialObjective::Other => "social",
    }
}

/// The tender's `sustainability` array: goal → strategies, from the clause versions used.
pub fn sustainability(versions: &[&clause_version::Model]) -> Vec<Value> {
    let mut goals: BTreeMap<&'static str, BTreeSet<&'static str>> = BTreeMap::new();
    for version in versions {
        let mut strategies = BTreeSet::new();
        strategies.extend(version.kind.map(strategy));
        strategies.extend(version.origin.map(origin_strategy));
        let impacts = codes::decode_enums::<EnvironmentalImpact>(&version.environmental_impacts);
        let objectives = codes::decode_enums::<SocialObjective>(&version.social_objectives);
        let version_goals = impacts
            .into_iter()
            .map(environmental_goal)
            .chain(objectives.into_iter().map(social_goal));
        for goal in version_goals {
            goals
                .entry(goal)
                .or_default()
                .extend(strategies.iter().copied());
        }
    }
    goals
        .into_iter()
        .map(|(goal, strategies)| {
            let mut entry = json!({ "goal": goal });
            if !strategies.is_empty() {
                entry["strategies"] = json!(strategies);
            }
            entry
        })
        .collect()
}

fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// One OCDS release for a published tender result.
pub fn release(
    info: &PackageInfo,
    result: &tender_result::Model,
    org: &organization::Model,
    versions: &[&clause_version::Model],
) -> Value {
    let org_id = org.id.to_string();
    let goals = sustainability(versions);
    let cpv_digits: String = result.cpv_code.chars().take(8).collect();
    let mut tender = json!({
        "id": result.id.to_string(),
        "status": if result.awarded { "complete" } else { "unsuccessful" },
        "procurementMethod": method(result.procedure),
        "procurementMethodDetails": entity_code(&result.procedure),
        "awardCriteria": award_criteria(result),
        "awardCriteriaDetails": format!(
            "price {} %, cost {} %, quality {} %; sustainability {} % of the total weight",
            result.price_weight, result.cost_weight, result.quality_weight,
            result.sustainability_weight
        ),
        "numberOfTenderers": result.tenders_received,
        "items": [{
            "id": "1",
            "classification": { "scheme": "CPV", "id": cpv_digits },
        }],
        "hasSustainability": !goals.is_empty() || result.sustainability_weight > 0,
    });
    if !goals.is_empty() {
        tender["sustainability"] = Value::Array(goals);
    }
    if let Some(reason) = &result.no_award_reason {
        tender["statusDetails"] = json!(reason);
    }
    if let Some(lessons) = &result.lessons_learned {
        tender["description"] = json!(lessons);
    }
    let mut release = json!({
        "ocid": format!("{}-{}", info.ocid_prefix, result.id),
        "id": format!("{}-{}", result.id, result.updated_at.timestamp()),
        "date": timestamp(result.updated_at),
        "tag": if result.awarded { json!(["tender", "award"]) } else { json!(["tender"]) },
        "initiationType": "tender",
        "language": entity_code(&language_of(org)),
        "parties": [{
            "id": org_id,
            "name": org.name,
            "roles": ["buyer", "procuringEntity"],
            "address": { "countryName": entity_code(&org.country) },
        }],
        "buyer": { "id": org_id, "name": org.name },
        "tender": tender,
    });
    if result.awarded {
        release["awards"] = json!([{
            "id": format!("{}-award", result.id),
            "status": "active",
            "date": format!("{}T00:00:00Z", result.award_month.format("%Y-%m-%d")),
        }]);
    }
    release
}

fn entity_code<T: sea_orm::ActiveEnum<Value = String>>(value: &T) -> String {
    value.to_value()
}

/// One page of releases after `after`, in id order.
pub async fn releases_page(
    db: &impl ConnectionTrait,
    info: &PackageInfo,
    after: Option<Uuid>,
) -> Result<(Vec<Value>, Option<Uuid>), DbErr> {
    let mut query = tender_result::Entity::find()
        .filter(tender_result::Column::Status.eq(PublicationStatus::Published))
        .order_by_asc(tender_result::Column::Id)
        .limit(PAGE);
    if let Some(after) = after {
        query = query.filter(tender_result::Column::Id.gt(after));
    }
    let results = query.all(db).await?;
    let Some(last) = results.last().map(|r| r.id) else {
        return Ok((Vec::new(), None));
    };
    let orgs: HashMap<Uuid, organization::Model> = organization::Entity::find()
        .filter(organization::Column::Id.is_in(results.iter().map(|r| r.organization_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let uses = tender_result_clause::Entity::find()
        .filter(tender_result_clause::Column::TenderResultId.is_in(results.iter().map(|r| r.id)))
        .all(db)
        .await?;
    let versions: HashMap<(Uuid, i32), clause_version::Model> = if uses.is_empty() {
        HashMap::new()
    } else {
        let condition = uses.iter().fold(Condition::any(), |any, u| {
            any.add(
                Condition::all()
                    .add(clause_version::Column::ClauseId.eq(u.clause_id))
                    .add(clause_version::Column::Version.eq(u.clause_version)),
            )
        });
        clause_version::Entity::find()
            .filter(condition)
            .all(db)
            .await?
            .into_iter()
            .map(|v| ((v.clause_id, v.version), v))
            .collect()
    };
    let releases = results
        .iter()
        .filter_map(|r| {
            let org = orgs.get(&r.organization_id)?;
            let used: Vec<&clause_version::Model> = uses
                .iter()
                .filter(|u| u.tender_result_id == r.id)
                .filter_map(|u| versions.get(&(u.clause_id, u.clause_version)))
                .collect();
            Some(release(info, r, org, &used))
        })
        .collect();
    Ok((releases, Some(last)))
}

/// The number of results an export will hold (for progress reporting).
pub async fn count(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    tender_result::Entity::find()
        .filter(tender_result::Column::Status.eq(PublicationStatus::Published))
        .count(db)
        .await
}

/// The whole release package. `on_page` is told how many releases each page added.
pub async fn package(
    db: &impl ConnectionTrait,
    info: &PackageInfo,
    mut on_page: impl FnMut(usize),
) -> Result<Value, DbErr> {
    let mut releases = Vec::new();
    let mut after = None;
    loop {
        let (page, last) = releases_page(db, info, after).await?;
        on_page(page.len());
        releases.extend(page);
        match last {
            Some(last) => after = Some(last),
            None => break,
        }
    }
    let published = releases
        .iter()
        .filter_map(|r| r["date"].as_str().map(str::to_owned))
        .max()
        .unwrap_or_else(|| timestamp(crate::service::now()));
    Ok(json!({
        "uri": info.uri,
        "version": "1.1",
        "extensions": [EXTENSION_URL],
        "publishedDate": published,
        "publisher": { "name": info.publisher },
        "releases": releases,
    }))
}
