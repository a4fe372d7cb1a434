//! What a list shows and how many: the status rule every catalogue list shares, and
//! `totalCount` from the counters the database keeps (`list_count`).

use entity::{PublicationStatus, list_count};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, Select,
    sea_query::{Alias, Expr, SimpleExpr},
};
use uuid::Uuid;

use super::{Db, clause::parse_id};
use crate::error::ServiceResult;

/// A denormalised list column (`list_title`, …) of `table`, kept by triggers and not mapped
/// by the entity (see migration `m20261207_000006_list_pages`).
pub fn list_column(table: impl sea_orm::Iden + 'static, name: &'static str) -> SimpleExpr {
    Expr::col((table, Alias::new(name)))
}

/// The statuses a list asked for, as the caller may see them: published and withdrawn
/// records for everyone, drafts only of the caller's own organisation.
#[derive(Debug, Clone)]
pub struct Statuses {
    shared: Vec<PublicationStatus>,
    /// The organisation whose drafts are listed, when drafts were asked for.
    drafts_of: Option<Uuid>,
}

impl Statuses {
    pub fn new(asked: Option<Vec<PublicationStatus>>, viewer: Option<Uuid>) -> Self {
        let asked = asked.unwrap_or_else(|| vec![PublicationStatus::Published]);
        let mut shared: Vec<_> = asked
            .iter()
            .copied()
            .filter(|s| *s != PublicationStatus::Draft)
            .collect();
        shared.sort_by_key(|s| *s as u8);
        shared.dedup();
        let drafts_of = viewer.filter(|_| asked.contains(&PublicationStatus::Draft));
        Self { shared, drafts_of }
    }

    /// The filter on a table's status and organisation columns. One status compares with
    /// `=`, so an index that leads with the status serves the page.
    pub fn condition(&self, status: impl ColumnTrait, organization: impl ColumnTrait) -> Condition {
        let mut any = Condition::any();
        if !self.shared.is_empty() {
            any = any.add(status.is_in(self.shared.iter().copied()));
        }
        if let Some(org) = self.drafts_of {
            any = any.add(
                Condition::all()
                    .add(status.eq(PublicationStatus::Draft))
                    .add(organization.eq(org)),
            );
        }
        if self.shared.is_empty() && self.drafts_of.is_none() {
            // Nothing the caller may see was asked for.
            any = any.add(Expr::value(false));
        }
        any
    }

    /// `totalCount` of a list filtered by these statuses and at most an organisation, from
    /// the counters: at most one row per status (the totals, kept under the nil id, or the
    /// organisation's), plus the caller's drafts.
    pub async fn count(
        &self,
        db: &impl Db,
        table: &str,
        organization: Option<Uuid>,
    ) -> ServiceResult<u64> {
        let shared_from = organization.unwrap_or(Uuid::nil());
        let drafts_of = self
            .drafts_of
            .filter(|own| organization.is_none_or(|o| o == *own));
        if self.shared.is_empty() && drafts_of.is_none() {
            return Ok(0);
        }
        let mut wanted = Condition::any();
        if !self.shared.is_empty() {
            wanted = wanted.add(
                Condition::all()
                    .add(list_count::Column::Status.is_in(self.shared.iter().copied()))
                    .add(list_count::Column::OrganizationId.eq(shared_from)),
            );
        }
        if let Some(own) = drafts_of {
            wanted = wanted.add(
                Condition::all()
                    .add(list_count::Column::Status.eq(PublicationStatus::Draft))
                    .add(list_count::Column::OrganizationId.eq(own)),
            );
        }
        let rows = list_count::Entity::find()
            .filter(list_count::Column::EntityType.eq(table))
            .filter(wanted)
            .all(db)
            .await?;
        Ok(rows.iter().map(|row| row.n.max(0) as u64).sum())
    }
}

/// The filters every list has: what the caller may see of the statuses asked for, the
/// organisation and `updatedSince`. Returns the query, the organisation, and whether the
/// counters can count the list so far (they keep statuses and organisations, not times).
pub struct ListBase<E: EntityTrait> {
    pub query: Select<E>,
    pub statuses: Statuses,
    pub organization: Option<Uuid>,
    pub counted: bool,
}

/// The status, organisation and change-time columns of a listed table.
pub struct BaseColumns<C> {
    pub status: C,
    pub organization: C,
    pub updated_at: C,
}

impl<E: EntityTrait> ListBase<E> {
    pub fn new(
        columns: BaseColumns<E::Column>,
        statuses: Statuses,
        organization: Option<&async_graphql::ID>,
        updated_since: Option<chrono::DateTime<chrono::Utc>>,
    ) -> ServiceResult<Self> {
        let organization = organization
            .map(|org| parse_id("filter.organizationId", org))
            .transpose()?;
        let mut query = E::find().filter(statuses.condition(columns.status, columns.organization));
        if let Some(org) = organization {
            query = query.filter(columns.organization.eq(org));
        }
        let counted = updated_since.is_none();
        if let Some(since) = updated_since {
            query = query.filter(columns.updated_at.gte(since));
        }
        Ok(Self {
            query,
            statuses,
            organization,
            counted,
        })
    }
}

/// How a list's `totalCount` is found: from the counters when only status and
/// organisation filter it, otherwise by counting the filtered query.
pub enum Total<E: EntityTrait> {
    Counters(Statuses, Option<Uuid>),
    Count(Box<Select<E>>),
}

impl<E: EntityTrait> Total<E>
where
    E::Model: Sync,
{
    /// The count for `table`, or 0 without asking the database when it was not selected.
    pub async fn get(self, db: &impl Db, table: &str, selected: bool) -> ServiceResult<u64> {
        Ok(match self {
            _ if !selected => 0,
            Self::Counters(statuses, organization) => {
                statuses.count(db, table, organization).await?
            }
            Self::Count(query) => (*query).count(db).await?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drafts_only_for_their_organisation() {
        let org = Uuid::now_v7();
        let all = Some(vec![
            PublicationStatus::Draft,
            PublicationStatus::Published,
            PublicationStatus::Published,
        ]);
        let mine = Statuses::new(all.clone(), Some(org));
        assert_eq!(mine.shared, vec![PublicationStatus::Published]);
        assert_eq!(mine.drafts_of, Some(org));
        let anonymous = Statuses::new(all, None);
        assert_eq!(anonymous.drafts_of, None);
        let default = Statuses::new(None, Some(org));
        assert_eq!(default.shared, vec![PublicationStatus::Published]);
        assert_eq!(default.drafts_of, None);
    }
}
