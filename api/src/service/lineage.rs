//! Reuse lineage: where a clause or template was copied from, and who copied it on.
//!
//! Copies form a forest through `derived_from_id` (clauses and templates alike). Counts include
//! every copy, drafts too (a copy is a reuse the moment it is made), but the records listed are
//! only those the caller may see.

use std::collections::{HashMap, HashSet};

use entity::{clause, template};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::auth::Identity;

/// Longest ancestor chain followed, and most descendants listed.
pub const MAX_ANCESTORS: usize = 50;
pub const MAX_DESCENDANTS: usize = 200;

/// Clauses or templates: both tables carry the same lineage columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lineage {
    Clause,
    Template,
}

/// A record's place in the lineage: its id, owner, publication and source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub published_version: i32,
    pub derived_from: Option<(Uuid, i32)>,
}

impl Node {
    pub fn visible(&self, identity: &Identity) -> bool {
        self.published_version > 0 || identity.org() == Some(self.organization_id)
    }
}

type Row = (Uuid, Uuid, i32, Option<Uuid>, Option<i32>);

fn node((id, organization_id, published_version, from_id, from_version): Row) -> Node {
    Node {
        id,
        organization_id,
        published_version,
        derived_from: from_id.zip(from_version),
    }
}

impl Lineage {
    async fn nodes(
        self,
        db: &impl ConnectionTrait,
        by_id: bool,
        keys: &[Uuid],
    ) -> Result<Vec<Node>, DbErr> {
        macro_rules! select {
            ($entity:ident) => {{
                use $entity::Column as C;
                let key = if by_id { C::Id } else { C::DerivedFromId };
                $entity::Entity::find()
                    .select_only()
                    .columns([
                        C::Id,
                        C::OrganizationId,
                        C::PublishedVersion,
                        C::DerivedFromId,
                        C::DerivedFromVersion,
                    ])
                    .filter(key.is_in(keys.iter().copied()))
                    .into_tuple::<Row>()
                    .all(db)
                    .await?
            }};
        }
        let rows = match self {
            Lineage::Clause => select!(clause),
            Lineage::Template => select!(template),
        };
        Ok(rows.into_iter().map(node).collect())
    }

    /// How many copies were made of each record (direct copies only).
    pub async fn reuse_counts(
        self,
        db: &impl ConnectionTrait,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, i64>, DbErr> {
        macro_rules! count {
            ($entity:ident) => {{
                use $entity::Column as C;
                $entity::Entity::find()
                    .select_only()
                    .column(C::DerivedFromId)
                    .column_as(Expr::col(C::Id).count(), "copies")
                    .filter(C::DerivedFromId.is_in(ids.iter().copied()))
                    .group_by(C::DerivedFromId)
                    .into_tuple::<(Uuid, i64)>()
                    .all(db)
                    .await?
            }};
        }
        let rows = match self {
            Lineage::Clause => count!(clause),
            Lineage::Template => count!(template),
        };
        let mut counts: HashMap<Uuid, i64> = ids.iter().map(|id| (*id, 0)).collect();
        counts.extend(rows);
        Ok(counts)
    }

    /// The chain of sources, nearest first: (id, version) of each record copied from. The
    /// chain stops at a source the caller cannot see.
    pub async fn ancestors(
        self,
        db: &impl ConnectionTrait,
        identity: &Identity,
        id: Uuid,
    ) -> Result<Vec<(Uuid, i32)>, DbErr> {
        let mut chain = Vec::new();
        let mut seen = HashSet::from([id]);
        let mut current = self.nodes(db, true, &[id]).await?.into_iter().next();
        while let Some((source, version)) = current.and_then(|n| n.derived_from) {
            if chain.len() >= MAX_ANCESTORS || !seen.insert(source) {
                break;
            }
            let next = self.nodes(db, true, &[source]).await?.into_iter().next();
            match next {
                Some(n) if n.visible(identity) => chain.push((source, version)),
                _ => break,
            }
            current = next;
        }
        Ok(chain)
    }

    /// Every copy, copy of a copy and so on, breadth first, that the caller may see.
    pub async fn descendants(
        self,
        db: &impl ConnectionTrait,
        identity: &Identity,
        id: Uuid,
    ) -> Result<Vec<Node>, DbErr> {
        let mut out = Vec::new();
        let mut seen = HashSet::from([id]);
        let mut frontier = vec![id];
        while !frontier.is_empty() && out.len() < MAX_DESCENDANTS {
            let children = self.nodes(db, false, &frontier).await?;
            frontier.clear();
            for child in children {
                if !seen.insert(child.id) {
                    continue;
                }
                // Hidden drafts are not listed, but their own published copies still are.
                frontier.push(child.id);
                if child.visible(identity) && out.len() < MAX_DESCENDANTS {
                    out.push(child);
                }
            }
        }
        Ok(out)
    }
}
