//! The catalogue: organisations, versioned clauses and templates, tender results, the change
//! feed and the audit log.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Tables in creation order; dropped in reverse.
const TABLES: [&str; 10] = [
    "organization",
    "clause",
    "clause_version",
    "template",
    "template_version",
    "template_clause",
    "tender_result",
    "tender_result_clause",
    "change_event",
    "audit_event",
];

fn fk(
    from_table: &'static str,
    from_col: &'static str,
    to_table: &'static str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{from_table}_{from_col}"))
        .from(from_table, from_col)
        .to(to_table, "id")
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

/// Identity and publication columns shared by clauses and templates.
fn publishable(name: &'static str) -> TableCreateStatement {
    Table::create()
        .table(name)
        .col(pk_uuid("id"))
        .col(uuid("organization_id"))
        .col(string_len("status", 16))
        .col(integer("revision"))
        .col(integer("published_version"))
        .col(text_null("withdrawn_reason"))
        .col(timestamp_with_time_zone_null("withdrawn_at"))
        .col(uuid_null("derived_from_id"))
        .col(integer_null("derived_from_version"))
        .col(timestamp_with_time_zone("created_at"))
        .col(timestamp_with_time_zone("updated_at"))
        .foreign_key(&mut fk(name, "organization_id", "organization"))
        .to_owned()
}

fn index(table: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(format!("idx_{table}_{}", cols.join("_")))
        .table(table);
    for col in cols {
        stmt.col(*col);
    }
    stmt.to_owned()
}

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
                    .table("organization")
                    .col(pk_uuid("id"))
                    .col(string_len_uniq("slug", 64))
                    .col(string_len("name", 200))
                    .col(string_len("kind", 32))
                    .col(string_len("country", 2))
                    .col(string_len_null("municipality_code", 16))
                    .col(big_integer_null("population"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;

        manager.create_table(publishable("clause")).await?;
        manager
            .create_table(
                Table::create()
                    .table("clause_version")
                    .col(uuid("clause_id"))
                    .col(integer("version"))
                    .col(string_len("title", 200))
                    .col(text_null("purpose"))
                    .col(text("text"))
                    .col(text_null("scoring_rule"))
                    .col(text_null("verification"))
                    .col(text_null("follow_up"))
                    .col(string_len_null("kind", 40))
                    .col(string_len_null("ambition_level", 16))
                    .col(text("environmental_impacts"))
                    .col(text("social_objectives"))
                    .col(string_len_null("origin", 16))
                    .col(string_len_null("applicability", 16))
                    .col(text("cpv_codes"))
                    .col(string_len_null("product_group", 40))
                    .col(text("labels"))
                    .col(string_len("language", 8))
                    .col(string_len("licence", 64))
                    .col(date_null("last_reviewed"))
                    .col(timestamp_with_time_zone_null("published_at"))
                    .primary_key(Index::create().col("clause_id").col("version"))
                    .foreign_key(&mut fk("clause_version", "clause_id", "clause"))
                    .to_owned(),
            )
            .await?;

        manager.create_table(publishable("template")).await?;
        manager
            .create_table(
                Table::create()
                    .table("template_version")
                    .col(uuid("template_id"))
                    .col(integer("version"))
                    .col(string_len("title", 200))
                    .col(text_null("description"))
                    .col(string_len("language", 8))
                    .col(text("cpv_codes"))
                    .col(timestamp_with_time_zone_null("published_at"))
                    .primary_key(Index::create().col("template_id").col("version"))
                    .foreign_key(&mut fk("template_version", "template_id", "template"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("template_clause")
                    .col(uuid("template_id"))
                    .col(integer("template_version"))
                    .col(integer("position"))
                    .col(uuid("clause_id"))
                    .col(integer("clause_version"))
                    .col(integer_null("weight"))
                    .col(boolean("mandatory"))
                    .primary_key(
                        Index::create()
                            .col("template_id")
                            .col("template_version")
                            .col("position"),
                    )
                    .foreign_key(&mut fk("template_clause", "template_id", "template"))
                    .foreign_key(&mut fk("template_clause", "clause_id", "clause"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("tender_result")
                    .col(pk_uuid("id"))
                    .col(uuid("organization_id"))
                    .col(string_len("status", 16))
                    .col(uuid_null("template_id"))
                    .col(integer_null("template_version"))
                    .col(string_len("cpv_code", 10))
                    .col(string_len("procedure", 32))
                    .col(date("award_month"))
                    .col(integer("tenders_received"))
                    .col(integer_null("sme_tenders"))
                    .col(integer("price_weight"))
                    .col(integer("cost_weight"))
                    .col(integer("quality_weight"))
                    .col(integer("sustainability_weight"))
                    .col(boolean("awarded"))
                    .col(text_null("no_award_reason"))
                    .col(string_len("value_band", 16))
                    .col(boolean("appealed"))
                    .col(text_null("lessons_learned"))
                    .col(text_null("withdrawn_reason"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk("tender_result", "organization_id", "organization"))
                    .foreign_key(&mut fk("tender_result", "template_id", "template"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("tender_result_clause")
                    .col(uuid("tender_result_id"))
                    .col(integer("position"))
                    .col(uuid("clause_id"))
                    .col(integer("clause_version"))
                    .col(string_len("outcome", 32))
                    .col(string_len("follow_up", 32))
                    .primary_key(Index::create().col("tender_result_id").col("position"))
                    .foreign_key(&mut fk(
                        "tender_result_clause",
                        "tender_result_id",
                        "tender_result",
                    ))
                    .foreign_key(&mut fk("tender_result_clause", "clause_id", "clause"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("change_event")
                    .col(big_pk_auto("seq"))
                    .col(string_len("entity_type", 32))
                    .col(uuid("entity_id"))
                    .col(integer_null("version"))
                    .col(string_len("operation", 16))
                    .col(timestamp_with_time_zone("occurred_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("audit_event")
                    .col(pk_uuid("id"))
                    .col(timestamp_with_time_zone("occurred_at"))
                    .col(string_len("actor_sub", 200))
                    .col(uuid_null("actor_org"))
                    .col(string_len("action", 64))
                    .col(string_len("entity_type", 32))
                    .col(uuid("entity_id"))
                    .col(text("details"))
                    .to_owned(),
            )
            .await?;

        for stmt in [
            index("clause", &["organization_id"]),
            index("template", &["organization_id"]),
            index("tender_result", &["organization_id"]),
            index("tender_result_clause", &["clause_id", "clause_version"]),
            index("template_clause", &["clause_id"]),
            index("change_event", &["entity_type", "entity_id"]),
            index("audit_event", &["entity_type", "entity_id"]),
        ] {
            manager.create_index(stmt).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES.iter().rev() {
            manager
                .drop_table(Table::drop().table(*table).to_owned())
                .await?;
        }
        Ok(())
    }
}
