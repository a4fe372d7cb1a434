//! What makes the catalogue trustworthy: each organisation's anonymisation deny-list, the label
//! registry behind staleness checks, lineage indexes and withdrawable tender results.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The label registry as shipped. A generation of TCO Certified is current for about three
/// years; labels without a generation (EU Ecolabel, EPEAT) carry no end date here, their
/// criteria revisions are tracked by the scheme owners.
///
/// (key, scheme, name, generation, valid from, valid until)
pub type LabelRow = (
    &'static str,
    &'static str,
    &'static str,
    Option<i32>,
    Option<&'static str>,
    Option<&'static str>,
);

pub const LABELS: [LabelRow; 9] = [
    (
        "tco-certified-7",
        "TCO Certified",
        "TCO Certified Generation 7",
        Some(7),
        Some("2015-12-01"),
        Some("2018-11-30"),
    ),
    (
        "tco-certified-8",
        "TCO Certified",
        "TCO Certified Generation 8",
        Some(8),
        Some("2018-12-01"),
        Some("2021-11-30"),
    ),
    (
        "tco-certified-9",
        "TCO Certified",
        "TCO Certified Generation 9",
        Some(9),
        Some("2021-12-01"),
        Some("2024-11-30"),
    ),
    (
        "tco-certified-10",
        "TCO Certified",
        "TCO Certified Generation 10",
        Some(10),
        Some("2024-12-01"),
        Some("2027-11-30"),
    ),
    (
        "eu-ecolabel",
        "EU Ecolabel",
        "EU Ecolabel",
        None,
        None,
        None,
    ),
    (
        "blue-angel",
        "Blue Angel",
        "Blue Angel (Der Blaue Engel)",
        None,
        None,
        None,
    ),
    ("epeat", "EPEAT", "EPEAT", None, None, None),
    (
        "nordic-swan",
        "Nordic Swan Ecolabel",
        "Nordic Swan Ecolabel (Svanen)",
        None,
        None,
        None,
    ),
    (
        "energy-star",
        "ENERGY STAR",
        "ENERGY STAR",
        None,
        None,
        None,
    ),
];

#[expect(
    elided_lifetimes_in_paths,
    reason = "async_trait rejects the explicit lifetime MigrationTrait elides"
)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("deny_term")
                    .col(uuid("organization_id"))
                    .col(string_len("term", 200))
                    .col(timestamp_with_time_zone("created_at"))
                    .primary_key(Index::create().col("organization_id").col("term"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_deny_term_organization_id")
                            .from("deny_term", "organization_id")
                            .to("organization", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("label")
                    .col(string_len("key", 64).primary_key())
                    .col(string_len("scheme", 100))
                    .col(string_len("name", 200))
                    .col(integer_null("generation"))
                    .col(date_null("valid_from"))
                    .col(date_null("valid_until"))
                    .to_owned(),
            )
            .await?;
        let mut insert = Query::insert();
        insert.into_table("label").columns([
            "key",
            "scheme",
            "name",
            "generation",
            "valid_from",
            "valid_until",
        ]);
        for (key, scheme, name, generation, from, until) in LABELS {
            insert.values_panic([
                key.into(),
                scheme.into(),
                name.into(),
                generation.into(),
                from.map(date).into(),
                until.map(date).into(),
            ]);
        }
        manager.exec_stmt(insert).await?;
        manager
            .alter_table(
                Table::alter()
                    .table("tender_result")
                    .add_column(timestamp_with_time_zone_null("withdrawn_at"))
                    .to_owned(),
            )
            .await?;
        for (table, cols) in [
            ("clause", ["derived_from_id", "derived_from_version"]),
            ("template", ["derived_from_id", "derived_from_version"]),
            ("tender_result", ["template_id", "template_version"]),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(format!("idx_{table}_{}", cols.join("_")))
                        .table(table)
                        .col(cols[0])
                        .col(cols[1])
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, name) in [
            (
                "tender_result",
                "idx_tender_result_template_id_template_version",
            ),
            (
                "template",
                "idx_template_derived_from_id_derived_from_version",
            ),
            ("clause", "idx_clause_derived_from_id_derived_from_version"),
        ] {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("tender_result")
                    .drop_column("withdrawn_at")
                    .to_owned(),
            )
            .await?;
        for table in ["label", "deny_term"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

fn date(iso: &str) -> sea_orm::prelude::Date {
    // The table above is a compile-time constant of valid ISO dates.
    sea_orm::prelude::Date::parse_from_str(iso, "%Y-%m-%d").unwrap_or_default()
}
