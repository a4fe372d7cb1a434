//! National procurement statistics over published tender results, by organisation size class.
//!
//! Small cells are suppressed for everyone but agencies: a figure backed by fewer than
//! [`MIN_CELL`] tenders could single out one municipality's procurement.

use std::collections::{HashMap, HashSet};

use async_graphql::{InputObject, SimpleObject};
use entity::{
    Country, PublicationStatus, clause_version, codes, organization, tender_result,
    tender_result_clause,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::{Db, organization::SizeClass, tender_result::parse_month};
use crate::{
    auth::{Identity, Role},
    error::{ServiceError, ServiceResult},
};

/// Fewest tenders a cell needs before non-agency callers see it.
pub const MIN_CELL: usize = 5;
const CHUNK: usize = 500;

#[derive(Debug, Default, InputObject)]
pub struct StatsFilter {
    pub country: Option<Country>,
    pub size_class: Option<SizeClass>,
    /// Earliest award month, `YYYY-MM`.
    pub from: Option<String>,
    /// Latest award month, `YYYY-MM`.
    pub to: Option<String>,
}

/// Figures for one size class. Shares are fractions between 0 and 1. When `suppressed`, every
/// figure is `null`.
#[derive(Debug, Clone, PartialEq, SimpleObject)]
pub struct StatsCell {
    pub size_class: SizeClass,
    /// Fewer than five tenders back this cell and the caller is not an agency.
    pub suppressed: bool,
    pub tenders_reported: Option<i32>,
    /// Share of tenders that gave sustainability at least 25 % of the weight.
    pub share_sustainability_weight_25: Option<f64>,
    /// Share of tenders that gave sustainability at least 30 % of the weight.
    pub share_sustainability_weight_30: Option<f64>,
    pub mean_sustainability_weight: Option<f64>,
    /// Share of tenders that used at least one environmental clause.
    pub share_with_environmental_clause: Option<f64>,
    /// Share of tenders that used at least one social clause.
    pub share_with_social_clause: Option<f64>,
    /// Share of tenders that used at least one environmental and at least one social clause.
    pub share_with_environmental_and_social_clause: Option<f64>,
    pub median_tenders_received: Option<f64>,
    /// Share of procedures that ended without an award.
    pub share_without_award: Option<f64>,
}

/// What one tender contributes.
#[derive(Debug, Clone, Copy, Default)]
struct Tender {
    sustainability_weight: i32,
    tenders_received: i32,
    awarded: bool,
    environmental: bool,
    social: bool,
}

fn cell(size_class: SizeClass, tenders: &[Tender], show_small: bool) -> StatsCell {
    let n = tenders.len();
    if n < MIN_CELL && !show_small {
        return StatsCell {
            size_class,
            suppressed: true,
            tenders_reported: None,
            share_sustainability_weight_25: None,
            share_sustainability_weight_30: None,
            mean_sustainability_weight: None,
            share_with_environmental_clause: None,
            share_with_social_clause: None,
            share_with_environmental_and_social_clause: None,
            median_tenders_received: None,
            share_without_award: None,
        };
    }
    let share = |f: &dyn Fn(&Tender) -> bool| {
        (n > 0).then(|| tenders.iter().filter(|t| f(t)).count() as f64 / n as f64)
    };
    let mut received: Vec<i32> = tenders.iter().map(|t| t.tenders_received).collect();
    let median = super::evidence::median(&mut received);
    StatsCell {
        size_class,
        suppressed: false,
        tenders_reported: Some(n as i32),
        share_sustainability_weight_25: share(&|t| t.sustainability_weight >= 25),
        share_sustainability_weight_30: share(&|t| t.sustainability_weight >= 30),
        mean_sustainability_weight: (n > 0).then(|| {
            tenders
                .iter()
                .map(|t| f64::from(t.sustainability_weight))
                .sum::<f64>()
                / n as f64
        }),
        share_with_environmental_clause: share(&|t| t.environmental),
        share_with_social_clause: share(&|t| t.social),
        share_with_environmental_and_social_clause: share(&|t| t.environmental && t.social),
        median_tenders_received: median,
        share_without_award: share(&|t| !t.awarded),
    }
}

/// Per size class (small, medium, large, unknown; or only the one asked for).
pub async fn procurement_stats(
    db: &impl Db,
    identity: &Identity,
    filter: StatsFilter,
) -> ServiceResult<Vec<StatsCell>> {
    let show_small = identity.has(Role::Agency) || identity.has(Role::Admin);
    let mut query = tender_result::Entity::find()
        .filter(tender_result::Column::Status.eq(PublicationStatus::Published));
    let from = filter
        .from
        .as_deref()
        .map(|m| parse_month("filter.from", m))
        .transpose()?;
    let to = filter
        .to
        .as_deref()
        .map(|m| parse_month("filter.to", m))
        .transpose()?;
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        return Err(ServiceError::bad_input(
            "filter.to",
            "must not be before filter.from",
        ));
    }
    if let Some(from) = from {
        query = query.filter(tender_result::Column::AwardMonth.gte(from));
    }
    if let Some(to) = to {
        query = query.filter(tender_result::Column::AwardMonth.lte(to));
    }
    let mut orgs = organization::Entity::find();
    if let Some(country) = filter.country {
        orgs = orgs.filter(organization::Column::Country.eq(country));
    }
    let classes: HashMap<Uuid, SizeClass> = orgs
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, SizeClass::of(o.population)))
        .filter(|(_, class)| filter.size_class.is_none_or(|wanted| wanted == *class))
        .collect();
    let results: Vec<tender_result::Model> = query
        .all(db)
        .await?
        .into_iter()
        .filter(|r| classes.contains_key(&r.organization_id))
        .collect();
    let focus = clause_focus(db, &results).await?;
    let mut by_class: HashMap<SizeClass, Vec<Tender>> = HashMap::new();
    for r in &results {
        let (environmental, social) = focus.get(&r.id).copied().unwrap_or_default();
        by_class
            .entry(classes[&r.organization_id])
            .or_default()
            .push(Tender {
                sustainability_weight: r.sustainability_weight,
                tenders_received: r.tenders_received,
                awarded: r.awarded,
                environmental,
                social,
            });
    }
    Ok([
        SizeClass::Small,
        SizeClass::Medium,
        SizeClass::Large,
        SizeClass::Unknown,
    ]
    .into_iter()
    .filter(|class| filter.size_class.is_none_or(|wanted| wanted == *class))
    .map(|class| {
        cell(
            class,
            by_class.get(&class).map_or(&[][..], Vec::as_slice),
            show_small,
        )
    })
    .collect())
}

/// For each result: whether it used an environmental clause, and a social one.
async fn clause_focus(
    db: &impl ConnectionTrait,
    results: &[tender_result::Model],
) -> ServiceResult<HashMap<Uuid, (bool, bool)>> {
    let ids: Vec<Uuid> = results.iter().map(|r| r.id).collect();
    let mut uses = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        uses.extend(
            tender_result_clause::Entity::find()
                .filter(tender_result_clause::Column::TenderResultId.is_in(chunk.iter().copied()))
                .all(db)
                .await?,
        );
    }
    let cited: Vec<(Uuid, i32)> = uses
        .iter()
        .map(|u| (u.clause_id, u.clause_version))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut focus_of: HashMap<(Uuid, i32), (bool, bool)> = HashMap::new();
    for v in super::find_by_pairs::<clause_version::Entity>(
        db,
        clause_version::Column::ClauseId,
        clause_version::Column::Version,
        &cited,
    )
    .await?
    {
        let environmental = !codes::decode(&v.environmental_impacts).is_empty();
        let social = !codes::decode(&v.social_objectives).is_empty();
        focus_of.insert((v.clause_id, v.version), (environmental, social));
    }
    let mut out: HashMap<Uuid, (bool, bool)> = HashMap::new();
    for u in uses {
        let (environmental, social) = focus_of
            .get(&(u.clause_id, u.clause_version))
            .copied()
            .unwrap_or_default();
        let entry = out.entry(u.tender_result_id).or_default();
        entry.0 |= environmental;
        entry.1 |= social;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tender(weight: i32, received: i32, awarded: bool, env: bool, social: bool) -> Tender {
        Tender {
            sustainability_weight: weight,
            tenders_received: received,
            awarded,
            environmental: env,
            social,
        }
    }

    #[test]
    fn small_cells_are_suppressed_unless_shown() {
        let four = vec![tender(30, 3, true, true, false); 4];
        let hidden = cell(SizeClass::Small, &four, false);
        assert!(hidden.suppressed);
        assert_eq!(hidden.tenders_reported, None);
        assert_eq!(hidden.mean_sustainability_weight, None);
        let shown = cell(SizeClass::Small, &four, true);
        assert!(!shown.suppressed);
        assert_eq!(shown.tenders_reported, Some(4));
        let five = vec![tender(30, 3, true, true, false); 5];
        assert!(!cell(SizeClass::Small, &five, false).suppressed);
    }

    #[test]
    fn figures() {
        let tenders = vec![
            tender(10, 1, true, true, false),
            tender(25, 2, true, true, true),
            tender(30, 4, false, false, true),
            tender(35, 6, true, true, true),
            tender(0, 8, true, false, false),
        ];
        let c = cell(SizeClass::Medium, &tenders, false);
        assert_eq!(c.tenders_reported, Some(5));
        assert_eq!(c.share_sustainability_weight_25, Some(0.6));
        assert_eq!(c.share_sustainability_weight_30, Some(0.4));
        assert_eq!(c.mean_sustainability_weight, Some(20.0));
        assert_eq!(c.share_with_environmental_clause, Some(0.6));
        assert_eq!(c.share_with_social_clause, Some(0.6));
        assert_eq!(c.share_with_environmental_and_social_clause, Some(0.4));
        assert_eq!(c.median_tenders_received, Some(4.0));
        assert_eq!(c.share_without_award, Some(0.2));
    }
}
