//! Evidence that a clause or template works in practice, derived from published tender results,
//! and the proven level those figures earn. The thresholds live in [`THRESHOLDS`] and nowhere
//! else.

use std::collections::{HashMap, HashSet};

use async_graphql::{Enum, SimpleObject};
use entity::{
    ClauseOutcome, FollowUpResult, PublicationStatus, tender_result, tender_result_clause,
};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use serde::Serialize;
use uuid::Uuid;

/// How well a clause or template is proven in real tenders.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Enum, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProvenLevel {
    /// No published tender result has used it.
    #[default]
    Untested,
    /// Used in at least one reported tender.
    Used,
    /// Kept in several tenders of more than one organisation, with competition and awards.
    Proven,
    /// Proven across many tenders and organisations, with follow-up showing compliance.
    WidelyProven,
}

impl ProvenLevel {
    /// The level's code as search documents hold it.
    pub fn code(self) -> &'static str {
        match self {
            ProvenLevel::Untested => "UNTESTED",
            ProvenLevel::Used => "USED",
            ProvenLevel::Proven => "PROVEN",
            ProvenLevel::WidelyProven => "WIDELY_PROVEN",
        }
    }
}

/// What a level demands. Shares are fractions (0–1); a `None` share (nothing to measure yet)
/// fails a requirement that is set.
#[derive(Debug, Clone, Copy)]
pub struct Requirement {
    /// Tender results in which the clause was kept (not dropped).
    pub kept: usize,
    /// Distinct organisations behind those results.
    pub organizations: usize,
    pub median_tenders_received: f64,
    pub share_awarded: f64,
    pub share_not_appealed: f64,
    /// Follow-ups that checked the clause (compliant or deviation found), and the compliant share.
    pub follow_ups_checked: usize,
    pub follow_up_compliance: f64,
}

/// The proven levels' thresholds, strictest last.
pub struct Thresholds {
    pub proven: Requirement,
    pub widely_proven: Requirement,
}

pub const THRESHOLDS: Thresholds = Thresholds {
    proven: Requirement {
        kept: 3,
        organizations: 2,
        median_tenders_received: 2.0,
        share_awarded: 0.6,
        share_not_appealed: 0.0,
        follow_ups_checked: 0,
        follow_up_compliance: 0.0,
    },
    widely_proven: Requirement {
        kept: 10,
        organizations: 5,
        median_tenders_received: 3.0,
        share_awarded: 0.75,
        share_not_appealed: 0.8,
        follow_ups_checked: 3,
        follow_up_compliance: 0.8,
    },
};

/// One published tender result that used the clause (or template).
#[derive(Debug, Clone)]
pub struct Use {
    pub result_id: Uuid,
    pub organization_id: Uuid,
    pub tenders_received: i32,
    pub awarded: bool,
    pub appealed: bool,
    /// The clause was dropped from the procurement (never true for templates).
    pub dropped: bool,
    /// Follow-up results of the clause (for a template: of every clause the result lists).
    pub follow_ups: Vec<FollowUpResult>,
}

/// Evidence figures. Shares are fractions between 0 and 1, `null` when nothing backs them.
#[derive(Debug, Clone, Default, PartialEq, SimpleObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    /// Published tender results that used it.
    pub results: i32,
    /// Of those, results in which it was dropped from the procurement.
    pub dropped: i32,
    /// Distinct organisations that used it.
    pub organizations: i32,
    pub median_tenders_received: Option<f64>,
    /// Share of results that received two or more tenders.
    pub share_two_or_more_tenders: Option<f64>,
    pub share_awarded: Option<f64>,
    pub share_not_appealed: Option<f64>,
    /// Follow-ups that checked compliance (compliant or deviation found).
    pub follow_ups_checked: i32,
    /// Share of checked follow-ups that found the supplier compliant.
    pub follow_up_compliance: Option<f64>,
    pub proven_level: ProvenLevel,
}

fn share(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The median of `values` (sorted in place); `None` when empty.
pub(crate) fn median(values: &mut [i32]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        f64::from(values[mid - 1] + values[mid]) / 2.0
    } else {
        f64::from(values[mid])
    })
}

impl Evidence {
    /// Aggregates the uses of one clause or template (one entry per tender result).
    pub fn from_uses(uses: &[Use]) -> Self {
        let kept: Vec<&Use> = uses.iter().filter(|u| !u.dropped).collect();
        let organizations: HashSet<Uuid> = uses.iter().map(|u| u.organization_id).collect();
        let mut tenders: Vec<i32> = kept.iter().map(|u| u.tenders_received).collect();
        let checked: Vec<FollowUpResult> = kept
            .iter()
            .flat_map(|u| u.follow_ups.iter().copied())
            .filter(|f| *f != FollowUpResult::NotChecked)
            .collect();
        let compliant = checked
            .iter()
            .filter(|f| **f == FollowUpResult::Compliant)
            .count();
        let mut evidence = Evidence {
            results: uses.len() as i32,
            dropped: (uses.len() - kept.len()) as i32,
            organizations: organizations.len() as i32,
            median_tenders_received: median(&mut tenders),
            share_two_or_more_tenders: share(
                kept.iter().filter(|u| u.tenders_received >= 2).count(),
                kept.len(),
            ),
            share_awarded: share(kept.iter().filter(|u| u.awarded).count(), kept.len()),
            share_not_appealed: share(kept.iter().filter(|u| !u.appealed).count(), kept.len()),
            follow_ups_checked: checked.len() as i32,
            follow_up_compliance: share(compliant, checked.len()),
            proven_level: ProvenLevel::Untested,
        };
        let kept_orgs: HashSet<Uuid> = kept.iter().map(|u| u.organization_id).collect();
        evidence.proven_level = evidence.level(kept.len(), kept_orgs.len());
        evidence
    }

    fn meets(&self, kept: usize, organizations: usize, r: &Requirement) -> bool {
        let at_least = |value: Option<f64>, min: f64| min <= 0.0 || value.is_some_and(|v| v >= min);
        kept >= r.kept
            && organizations >= r.organizations
            && at_least(self.median_tenders_received, r.median_tenders_received)
            && at_least(self.share_awarded, r.share_awarded)
            && at_least(self.share_not_appealed, r.share_not_appealed)
            && self.follow_ups_checked as usize >= r.follow_ups_checked
            && at_least(self.follow_up_compliance, r.follow_up_compliance)
    }

    fn level(&self, kept: usize, organizations: usize) -> ProvenLevel {
        if self.meets(kept, organizations, &THRESHOLDS.widely_proven) {
            ProvenLevel::WidelyProven
        } else if self.meets(kept, organizations, &THRESHOLDS.proven) {
            ProvenLevel::Proven
        } else if self.results > 0 {
            ProvenLevel::Used
        } else {
            ProvenLevel::Untested
        }
    }

    /// A number that orders records by how well proven they are (level, then kept uses, then
    /// organisations), for sorting search results.
    pub fn score(&self) -> i64 {
        let level = self.proven_level as i64;
        let kept = i64::from(self.results - self.dropped).min(99_999);
        let orgs = i64::from(self.organizations).min(999);
        level * 100_000_000 + kept * 1_000 + orgs
    }
}

/// `IN` lists are split so no statement exceeds the databases' parameter limits.
const CHUNK: usize = 500;

async fn published_results(
    db: &impl ConnectionTrait,
    ids: impl Iterator<Item = Uuid>,
) -> Result<HashMap<Uuid, tender_result::Model>, DbErr> {
    let ids: Vec<Uuid> = ids.collect::<HashSet<_>>().into_iter().collect();
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let rows = tender_result::Entity::find()
            .filter(tender_result::Column::Id.is_in(chunk.iter().copied()))
            .filter(tender_result::Column::Status.eq(PublicationStatus::Published))
            .all(db)
            .await?;
        out.extend(rows.into_iter().map(|r| (r.id, r)));
    }
    Ok(out)
}

fn use_of(result: &tender_result::Model, dropped: bool, follow_ups: Vec<FollowUpResult>) -> Use {
    Use {
        result_id: result.id,
        organization_id: result.organization_id,
        tenders_received: result.tenders_received,
        awarded: result.awarded,
        appealed: result.appealed,
        dropped,
        follow_ups,
    }
}

/// Evidence for each clause (all its published versions together).
pub async fn for_clauses(
    db: &impl ConnectionTrait,
    clause_ids: &[Uuid],
) -> Result<HashMap<Uuid, Evidence>, DbErr> {
    let mut rows = Vec::new();
    for chunk in clause_ids.chunks(CHUNK) {
        rows.extend(
            tender_result_clause::Entity::find()
                .filter(tender_result_clause::Column::ClauseId.is_in(chunk.iter().copied()))
                .all(db)
                .await?,
        );
    }
    let results = published_results(db, rows.iter().map(|r| r.tender_result_id)).await?;
    let mut uses: HashMap<Uuid, Vec<Use>> = HashMap::new();
    for row in rows {
        if let Some(result) = results.get(&row.tender_result_id) {
            uses.entry(row.clause_id).or_default().push(use_of(
                result,
                row.outcome == ClauseOutcome::Dropped,
                vec![row.follow_up],
            ));
        }
    }
    Ok(clause_ids
        .iter()
        .map(|id| {
            let uses = uses.remove(id).unwrap_or_default();
            (*id, Evidence::from_uses(&uses))
        })
        .collect())
}

/// Evidence for each template (all its published versions together).
pub async fn for_templates(
    db: &impl ConnectionTrait,
    template_ids: &[Uuid],
) -> Result<HashMap<Uuid, Evidence>, DbErr> {
    let mut results = Vec::new();
    for chunk in template_ids.chunks(CHUNK) {
        results.extend(
            tender_result::Entity::find()
                .filter(tender_result::Column::TemplateId.is_in(chunk.iter().copied()))
                .filter(tender_result::Column::Status.eq(PublicationStatus::Published))
                .all(db)
                .await?,
        );
    }
    let mut follow_ups: HashMap<Uuid, Vec<FollowUpResult>> = HashMap::new();
    let result_ids: Vec<Uuid> = results.iter().map(|r| r.id).collect();
    for chunk in result_ids.chunks(CHUNK) {
        for row in tender_result_clause::Entity::find()
            .filter(tender_result_clause::Column::TenderResultId.is_in(chunk.iter().copied()))
            .all(db)
            .await?
        {
            follow_ups
                .entry(row.tender_result_id)
                .or_default()
                .push(row.follow_up);
        }
    }
    let mut uses: HashMap<Uuid, Vec<Use>> = HashMap::new();
    for result in &results {
        if let Some(template) = result.template_id {
            let checks = follow_ups.remove(&result.id).unwrap_or_default();
            uses.entry(template)
                .or_default()
                .push(use_of(result, false, checks));
        }
    }
    Ok(template_ids
        .iter()
        .map(|id| {
            let uses = uses.remove(id).unwrap_or_default();
            (*id, Evidence::from_uses(&uses))
        })
        .collect())
}

/// The clauses and template a tender result touches: their evidence changes with it.
pub async fn affected_by_result(
    db: &impl ConnectionTrait,
    result_id: Uuid,
) -> Result<(Vec<Uuid>, Option<Uuid>), DbErr> {
    let clauses = tender_result_clause::Entity::find()
        .filter(tender_result_clause::Column::TenderResultId.eq(result_id))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.clause_id)
        .collect();
    let template = tender_result::Entity::find_by_id(result_id)
        .one(db)
        .await?
        .and_then(|r| r.template_id);
    Ok((clauses, template))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uses(n: usize, orgs: usize, f: impl Fn(usize, &mut Use)) -> Vec<Use> {
        let org_ids: Vec<Uuid> = (0..orgs).map(|_| Uuid::now_v7()).collect();
        (0..n)
            .map(|i| {
                let mut u = Use {
                    result_id: Uuid::now_v7(),
                    organization_id: org_ids[i % orgs],
                    tenders_received: 4,
                    awarded: true,
                    appealed: false,
                    dropped: false,
                    follow_ups: vec![FollowUpResult::Compliant],
                };
                f(i, &mut u);
                u
            })
            .collect()
    }

    #[test]
    fn nothing_is_untested() {
        let e = Evidence::from_uses(&[]);
        assert_eq!(e.proven_level, ProvenLevel::Untested);
        assert_eq!(e.results, 0);
        assert_eq!(e.median_tenders_received, None);
        assert_eq!(e.share_awarded, None);
    }

    #[test]
    fn figures_are_computed_over_kept_uses() {
        let e = Evidence::from_uses(&uses(4, 2, |i, u| {
            u.tenders_received = [1, 2, 5, 9][i];
            u.awarded = i != 0;
            u.appealed = i == 1;
            u.dropped = i == 3;
            u.follow_ups = vec![
                [
                    FollowUpResult::Compliant,
                    FollowUpResult::DeviationFound,
                    FollowUpResult::NotChecked,
                    FollowUpResult::Compliant,
                ][i],
            ];
        }));
        assert_eq!(e.results, 4);
        assert_eq!(e.dropped, 1);
        assert_eq!(e.organizations, 2);
        assert_eq!(e.median_tenders_received, Some(2.0));
        assert_eq!(e.share_two_or_more_tenders, Some(2.0 / 3.0));
        assert_eq!(e.share_awarded, Some(2.0 / 3.0));
        assert_eq!(e.share_not_appealed, Some(2.0 / 3.0));
        assert_eq!(e.follow_ups_checked, 2);
        assert_eq!(e.follow_up_compliance, Some(0.5));
    }

    #[test]
    fn levels_follow_the_thresholds() {
        assert_eq!(
            Evidence::from_uses(&uses(1, 1, |_, _| {})).proven_level,
            ProvenLevel::Used
        );
        // Three kept uses by two organisations with competition and awards: proven.
        assert_eq!(
            Evidence::from_uses(&uses(3, 2, |_, _| {})).proven_level,
            ProvenLevel::Proven
        );
        // The same by a single organisation is only used.
        assert_eq!(
            Evidence::from_uses(&uses(3, 1, |_, _| {})).proven_level,
            ProvenLevel::Used
        );
        // Dropped uses do not count towards proof.
        assert_eq!(
            Evidence::from_uses(&uses(4, 2, |i, u| u.dropped = i > 0)).proven_level,
            ProvenLevel::Used
        );
        // Single-bid tenders are no proof of a workable requirement.
        assert_eq!(
            Evidence::from_uses(&uses(3, 2, |_, u| u.tenders_received = 1)).proven_level,
            ProvenLevel::Used
        );
        assert_eq!(
            Evidence::from_uses(&uses(10, 5, |_, _| {})).proven_level,
            ProvenLevel::WidelyProven
        );
        // Widely used but follow-up finds deviations: proven, not widely proven.
        assert_eq!(
            Evidence::from_uses(&uses(10, 5, |i, u| if i % 2 == 0 {
                u.follow_ups = vec![FollowUpResult::DeviationFound];
            }))
            .proven_level,
            ProvenLevel::Proven
        );
    }

    #[test]
    fn score_orders_by_level_first() {
        let used = Evidence::from_uses(&uses(9, 1, |_, _| {}));
        let proven = Evidence::from_uses(&uses(3, 2, |_, _| {}));
        assert!(proven.score() > used.score());
        let more = Evidence::from_uses(&uses(4, 2, |_, _| {}));
        assert!(more.score() > proven.score());
    }
}
