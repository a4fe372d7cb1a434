//! Organisations: created by admins, readable by everyone.

use async_graphql::{Enum, InputObject};
use entity::{ChangeOperation, Country, EntityType, OrganizationKind, organization};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
    TransactionSession, sea_query::Expr,
};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    Db, audit,
    page::{CatalogueOrder, OrderColumns, Page, PageRequest, keyset},
    record_change,
    validate::{self, limits},
};
use crate::{
    auth::{Caller, Identity},
    error::{ServiceError, ServiceResult},
};

/// Size class derived from population (used for statistics and search filters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Enum)]
pub enum SizeClass {
    /// Under 20,000 inhabitants.
    Small,
    /// 20,000 to 99,999 inhabitants.
    Medium,
    /// 100,000 inhabitants or more.
    Large,
    /// No population recorded.
    Unknown,
}

impl SizeClass {
    /// The GraphQL name, as search documents and filters hold it.
    pub fn code(self) -> &'static str {
        match self {
            Self::Small => "SMALL",
            Self::Medium => "MEDIUM",
            Self::Large => "LARGE",
            Self::Unknown => "UNKNOWN",
        }
    }

    pub fn of(population: Option<i64>) -> Self {
        match population {
            None => Self::Unknown,
            Some(p) if p < 20_000 => Self::Small,
            Some(p) if p < 100_000 => Self::Medium,
            Some(_) => Self::Large,
        }
    }
}

#[derive(Debug, Clone, InputObject, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateOrganizationInput {
    /// URL-safe handle: lower-case letters, digits and dashes, 2–64 characters.
    pub slug: String,
    pub name: String,
    pub kind: OrganizationKind,
    pub country: Country,
    /// Official municipality code (digits).
    pub municipality_code: Option<String>,
    pub population: Option<i64>,
}

fn validate_input(input: &CreateOrganizationInput) -> ServiceResult<()> {
    let slug_ok = (2..=64).contains(&input.slug.len())
        && input
            .slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !input.slug.starts_with('-')
        && !input.slug.ends_with('-');
    if !slug_ok {
        return Err(ServiceError::bad_input(
            "input.slug",
            "use 2–64 lower-case letters, digits and inner dashes",
        ));
    }
    validate::text("input.name", &input.name, limits::NAME)?;
    if let Some(code) = &input.municipality_code
        && (code.is_empty() || code.len() > 8 || !code.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(ServiceError::bad_input(
            "input.municipalityCode",
            "must be 1–8 digits",
        ));
    }
    if let Some(population) = input.population
        && !(0..=100_000_000).contains(&population)
    {
        return Err(ServiceError::bad_input(
            "input.population",
            "must be between 0 and 100,000,000",
        ));
    }
    Ok(())
}

pub async fn create(
    db: &impl Db,
    identity: &Identity,
    input: CreateOrganizationInput,
) -> ServiceResult<organization::Model> {
    let caller = identity.admin()?;
    create_unchecked(db, caller, input).await
}

/// Creates an organisation for an already authorised caller (admin mutation, demo seeding).
pub async fn create_unchecked(
    db: &impl Db,
    caller: &Caller,
    input: CreateOrganizationInput,
) -> ServiceResult<organization::Model> {
    validate_input(&input)?;
    let txn = db.begin().await?;
    let org = organization::ActiveModel {
        id: Set(super::new_id()),
        slug: Set(input.slug),
        name: Set(input.name.trim().to_owned()),
        kind: Set(input.kind),
        country: Set(input.country),
        municipality_code: Set(input.municipality_code),
        population: Set(input.population),
        created_at: Set(super::now()),
        origin: Set(None),
    }
    .insert(&txn)
    .await?;
    record_change(
        &txn,
        EntityType::Organization,
        org.id,
        None,
        ChangeOperation::Upsert,
    )
    .await?;
    audit(
        &txn,
        caller,
        "organization.create",
        EntityType::Organization,
        org.id,
        serde_json::json!({ "slug": org.slug }),
    )
    .await?;
    txn.commit().await?;
    Ok(org)
}

pub async fn get(db: &impl Db, id: Uuid) -> ServiceResult<Option<organization::Model>> {
    Ok(organization::Entity::find_by_id(id).one(db).await?)
}

pub async fn list(
    db: &impl Db,
    country: Option<Country>,
    page: PageRequest,
) -> ServiceResult<Page<organization::Model>> {
    let mut query = organization::Entity::find();
    if let Some(country) = country {
        query = query.filter(organization::Column::Country.eq(country));
    }
    let total = if page.count {
        query.clone().count(db).await?
    } else {
        0
    };
    let columns = OrderColumns {
        id: Expr::col((organization::Entity, organization::Column::Id)),
        updated_at: None,
        title: None,
        joined_id: None,
    };
    let rows = keyset(query, CatalogueOrder::Id, columns, &page)?
        .all(db)
        .await?;
    Ok(Page::from_rows(rows, &page, total))
}

/// The caller's organisation for writing: the publisher's own, and never one mirrored from
/// another instance (mirrored records are read-only; they change where they were authored).
pub async fn local_publisher<'a>(
    db: &impl ConnectionTrait,
    identity: &'a Identity,
) -> ServiceResult<(&'a Caller, Uuid)> {
    let (caller, org, _) = local_publisher_row(db, identity).await?;
    Ok((caller, org))
}

/// [`local_publisher`] with the organisation's row, when it exists.
pub async fn local_publisher_row<'a>(
    db: &impl ConnectionTrait,
    identity: &'a Identity,
) -> ServiceResult<(&'a Caller, Uuid, Option<organization::Model>)> {
    let (caller, org) = identity.publisher()?;
    let row = organization::Entity::find_by_id(org).one(db).await?;
    if let Some(origin) = row.as_ref().and_then(|o| o.origin.as_ref()) {
        return Err(ServiceError::forbidden(format!(
            "the organisation is mirrored from {origin} and read-only here; publish there"
        )));
    }
    Ok((caller, org, row))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_classes() {
        assert_eq!(SizeClass::of(Some(19_999)), SizeClass::Small);
        assert_eq!(SizeClass::of(Some(20_000)), SizeClass::Medium);
        assert_eq!(SizeClass::of(Some(100_000)), SizeClass::Large);
        assert_eq!(SizeClass::of(None), SizeClass::Unknown);
    }
}
