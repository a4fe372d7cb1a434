//! Lists whose pages cost the same at any catalogue size.
//!
//! A page of `clauses` or `templates` used to join every clause to its current version to
//! filter and order, and `totalCount` counted every visible row. This migration keeps what a
//! list filters and orders on where one index can serve it:
//!
//! - `clause` and `template` carry their current view's title, language (and for clauses kind
//!   and ambition level) in `list_*` columns. Triggers keep them equal to the version numbered
//!   `published_version`, whichever path writes (API, import, mirror, seed), so no service
//!   code can forget them. The entities do not map these columns: nothing in Rust writes them.
//! - `list_count` holds how many clauses, templates and tender results each organisation has
//!   in each status, and under the nil organisation id how many there are in all, kept by
//!   triggers on insert, delete and change of status or organisation; `totalCount` for a
//!   status and organisation filter reads a row or two of it instead of counting. (Writes to
//!   these tables already take the change feed's lock one at a time, so the total rows add
//!   no contention.)
//! - Indexes lead with the filters a page has (status, organisation, language) and end with
//!   its order (id, `updated_at`, title), so a keyset page is one index range read.

use sea_orm_migration::{
    prelude::*,
    schema::*,
    sea_orm::{ConnectionTrait, DbBackend},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The denormalised columns: (table, column, source column in the version table).
const LIST_COLUMNS: [(&str, &str, &str); 6] = [
    ("clause", "list_title", "title"),
    ("clause", "list_language", "language"),
    ("clause", "list_kind", "kind"),
    ("clause", "list_level", "ambition_level"),
    ("template", "list_title", "title"),
    ("template", "list_language", "language"),
];

/// Tables counted in `list_count`.
const COUNTED: [&str; 3] = ["clause", "template", "tender_result"];

/// Indexes: (table, columns). Names are `idx_{table}_{columns joined by _}`.
const INDEXES: &[(&str, &[&str])] = &[
    ("clause", &["status", "id"]),
    ("clause", &["status", "updated_at", "id"]),
    ("clause", &["status", "list_title", "id"]),
    ("clause", &["status", "list_language", "id"]),
    ("clause", &["status", "list_language", "list_title", "id"]),
    ("clause", &["organization_id", "id"]),
    ("clause", &["organization_id", "updated_at", "id"]),
    ("template", &["status", "id"]),
    ("template", &["status", "updated_at", "id"]),
    ("template", &["status", "list_title", "id"]),
    ("template", &["status", "list_language", "id"]),
    ("template", &["organization_id", "id"]),
    ("tender_result", &["status", "id"]),
    ("tender_result", &["status", "updated_at", "id"]),
    ("tender_result", &["organization_id", "id"]),
];

/// The indexes these replace (their column leads the new organisation indexes, which read
/// an organisation's records in order whatever statuses it asks for).
const REPLACED: [(&str, &str); 3] = [
    ("clause", "idx_clause_organization_id"),
    ("template", "idx_template_organization_id"),
    ("tender_result", "idx_tender_result_organization_id"),
];

fn index_name(table: &str, cols: &[&str]) -> String {
    format!("idx_{table}_{}", cols.join("_"))
}

/// `SET a = v.a, …` for a table's list columns, reading from `source` (a row alias).
fn assignments(table: &str, source: &str) -> String {
    LIST_COLUMNS
        .iter()
        .filter(|(t, ..)| *t == table)
        .map(|(_, col, from)| format!("{col} = {source}.{from}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn list_columns(table: &str) -> Vec<&'static str> {
    LIST_COLUMNS
        .iter()
        .filter(|(t, ..)| *t == table)
        .map(|(_, col, _)| *col)
        .collect()
}

fn source_columns(table: &str) -> Vec<&'static str> {
    LIST_COLUMNS
        .iter()
        .filter(|(t, ..)| *t == table)
        .map(|(.., from)| *from)
        .collect()
}

/// Triggers and their functions on PostgreSQL.
fn postgres_triggers() -> Vec<String> {
    let mut sql = Vec::new();
    for table in ["clause", "template"] {
        let version = format!("{table}_version");
        let targets = list_columns(table)
            .iter()
            .map(|c| format!("NEW.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sources = source_columns(table)
            .iter()
            .map(|c| format!("v.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        // Any write of the record re-reads its current view: an update that moves
        // `published_version` (publish, mirror) picks up the new version's columns.
        sql.push(format!(
            "CREATE FUNCTION {table}_list_view() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
               SELECT {sources} INTO {targets} FROM {version} v
                WHERE v.{table}_id = NEW.id AND v.version = NEW.published_version;
               RETURN NEW;
             END $$"
        ));
        sql.push(format!(
            "CREATE TRIGGER {table}_list_view BEFORE INSERT OR UPDATE ON {table}
             FOR EACH ROW EXECUTE FUNCTION {table}_list_view()"
        ));
        // Writing the current version (a draft saved before the first publication, a
        // version inserted after its record moved to it) copies it to the record.
        sql.push(format!(
            "CREATE FUNCTION {version}_list_view() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
               UPDATE {table} SET {assign}
                WHERE id = NEW.{table}_id AND published_version = NEW.version;
               RETURN NULL;
             END $$",
            assign = assignments(table, "NEW"),
        ));
        sql.push(format!(
            "CREATE TRIGGER {version}_list_view AFTER INSERT OR UPDATE ON {version}
             FOR EACH ROW EXECUTE FUNCTION {version}_list_view()"
        ));
    }
    sql.push(
        "CREATE FUNCTION list_count_bump() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF TG_OP <> 'INSERT' THEN
             UPDATE list_count SET n = n - 1
              WHERE entity_type = TG_TABLE_NAME AND status = OLD.status
                AND organization_id IN (OLD.organization_id, '00000000-0000-0000-0000-000000000000');
           END IF;
           IF TG_OP <> 'DELETE' THEN
             INSERT INTO list_count (entity_type, organization_id, status, n)
             VALUES (TG_TABLE_NAME, NEW.organization_id, NEW.status, 1),
                    (TG_TABLE_NAME, '00000000-0000-0000-0000-000000000000', NEW.status, 1)
             ON CONFLICT (entity_type, organization_id, status) DO UPDATE SET n = list_count.n + 1;
           END IF;
           RETURN NULL;
         END $$"
            .to_owned(),
    );
    for table in COUNTED {
        sql.push(format!(
            "CREATE TRIGGER {table}_count AFTER INSERT OR DELETE ON {table}
             FOR EACH ROW EXECUTE FUNCTION list_count_bump()"
        ));
        sql.push(format!(
            "CREATE TRIGGER {table}_count_move AFTER UPDATE OF status, organization_id ON {table}
             FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status
                                OR OLD.organization_id IS DISTINCT FROM NEW.organization_id)
             EXECUTE FUNCTION list_count_bump()"
        ));
    }
    sql
}

/// The same triggers on SQLite (no functions; one trigger per event).
fn sqlite_triggers() -> Vec<String> {
    let mut sql = Vec::new();
    for table in ["clause", "template"] {
        let version = format!("{table}_version");
        let targets = list_columns(table).join(", ");
        let sources = source_columns(table).join(", ");
        // SQLite runs no trigger recursively (recursive_triggers is off), and this one sets
        // only list columns, so it does not fire itself.
        sql.push(format!(
            "CREATE TRIGGER {table}_list_view AFTER UPDATE OF published_version ON {table}
             BEGIN
               UPDATE {table} SET ({targets}) = (SELECT {sources} FROM {version}
                 WHERE {table}_id = NEW.id AND version = NEW.published_version)
               WHERE id = NEW.id;
             END"
        ));
        for event in ["INSERT", "UPDATE"] {
            sql.push(format!(
                "CREATE TRIGGER {version}_list_view_{lower} AFTER {event} ON {version}
                 BEGIN
                   UPDATE {table} SET {assign}
                   WHERE id = NEW.{table}_id AND published_version = NEW.version;
                 END",
                lower = event.to_lowercase(),
                assign = assignments(table, "NEW"),
            ));
        }
    }
    // The organisation's row and the total's (nil id; uuids are 16-byte blobs on SQLite).
    let add = |row: &str| {
        format!(
            "INSERT INTO list_count (entity_type, organization_id, status, n)
             VALUES ('{{table}}', {row}.organization_id, {row}.status, 1),
                    ('{{table}}', zeroblob(16), {row}.status, 1)
             ON CONFLICT (entity_type, organization_id, status) DO UPDATE SET n = n + 1;"
        )
    };
    let remove = |row: &str| {
        format!(
            "UPDATE list_count SET n = n - 1 WHERE entity_type = '{{table}}'
             AND organization_id IN ({row}.organization_id, zeroblob(16))
             AND status = {row}.status;"
        )
    };
    for table in COUNTED {
        for (event, body) in [
            ("INSERT", add("NEW")),
            ("DELETE", remove("OLD")),
            (
                "UPDATE OF status, organization_id",
                format!("{} {}", remove("OLD"), add("NEW")),
            ),
        ] {
            let name = event.split(' ').next().unwrap_or(event).to_lowercase();
            let when = if event.starts_with("UPDATE") {
                " WHEN OLD.status IS NOT NEW.status OR OLD.organization_id IS NOT NEW.organization_id"
            } else {
                ""
            };
            sql.push(format!(
                "CREATE TRIGGER {table}_count_{name} AFTER {event} ON {table}{when}
                 BEGIN {body} END",
                body = body.replace("{table}", table),
            ));
        }
    }
    sql
}

fn drop_triggers(backend: DbBackend) -> Vec<String> {
    match backend {
        DbBackend::Postgres => {
            let mut sql = Vec::new();
            for table in ["clause", "template"] {
                sql.push(format!("DROP TRIGGER {table}_list_view ON {table}"));
                sql.push(format!("DROP FUNCTION {table}_list_view()"));
                sql.push(format!(
                    "DROP TRIGGER {table}_version_list_view ON {table}_version"
                ));
                sql.push(format!("DROP FUNCTION {table}_version_list_view()"));
            }
            for table in COUNTED {
                sql.push(format!("DROP TRIGGER {table}_count ON {table}"));
                sql.push(format!("DROP TRIGGER {table}_count_move ON {table}"));
            }
            sql.push("DROP FUNCTION list_count_bump()".to_owned());
            sql
        }
        _ => {
            let mut names = Vec::new();
            for table in ["clause", "template"] {
                names.push(format!("{table}_list_view"));
                names.push(format!("{table}_version_list_view_insert"));
                names.push(format!("{table}_version_list_view_update"));
            }
            for table in COUNTED {
                for event in ["insert", "delete", "update"] {
                    names.push(format!("{table}_count_{event}"));
                }
            }
            names
                .into_iter()
                .map(|name| format!("DROP TRIGGER {name}"))
                .collect()
        }
    }
}

#[expect(
    elided_lifetimes_in_paths,
    reason = "async_trait rejects the explicit lifetime MigrationTrait elides"
)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        // One column per statement: SQLite adds one column per ALTER TABLE.
        for (table, column, _) in LIST_COLUMNS {
            let def = match column {
                "list_title" => string_len_null(column, 200),
                "list_kind" => string_len_null(column, 40),
                _ => string_len_null(column, 16),
            };
            manager
                .alter_table(Table::alter().table(table).add_column(def).to_owned())
                .await?;
        }
        for table in ["clause", "template"] {
            let targets = list_columns(table).join(", ");
            let sources = source_columns(table)
                .iter()
                .map(|c| format!("v.{c}"))
                .collect::<Vec<_>>()
                .join(", ");
            db.execute_unprepared(&format!(
                "UPDATE {table} SET ({targets}) = (SELECT {sources} FROM {table}_version v
                   WHERE v.{table}_id = {table}.id AND v.version = {table}.published_version)"
            ))
            .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table("list_count")
                    .col(string_len("entity_type", 32))
                    .col(uuid("organization_id"))
                    .col(string_len("status", 16))
                    .col(big_integer("n"))
                    .primary_key(
                        Index::create()
                            .col("entity_type")
                            .col("organization_id")
                            .col("status"),
                    )
                    .to_owned(),
            )
            .await?;
        let nil = match backend {
            DbBackend::Postgres => "'00000000-0000-0000-0000-000000000000'::uuid",
            _ => "zeroblob(16)",
        };
        for table in COUNTED {
            db.execute_unprepared(&format!(
                "INSERT INTO list_count (entity_type, organization_id, status, n)
                 SELECT '{table}', organization_id, status, COUNT(*) FROM {table}
                 GROUP BY organization_id, status"
            ))
            .await?;
            db.execute_unprepared(&format!(
                "INSERT INTO list_count (entity_type, organization_id, status, n)
                 SELECT '{table}', {nil}, status, COUNT(*) FROM {table} GROUP BY status"
            ))
            .await?;
        }

        let triggers = match backend {
            DbBackend::Postgres => postgres_triggers(),
            _ => sqlite_triggers(),
        };
        for sql in triggers {
            db.execute_unprepared(&sql).await?;
        }

        for (table, name) in REPLACED {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        for (table, cols) in INDEXES {
            let mut stmt = Index::create();
            stmt.name(index_name(table, cols)).table(*table);
            for col in *cols {
                stmt.col(*col);
            }
            manager.create_index(stmt.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (table, cols) in INDEXES {
            manager
                .drop_index(
                    Index::drop()
                        .name(index_name(table, cols))
                        .table(*table)
                        .to_owned(),
                )
                .await?;
        }
        for (table, _) in REPLACED {
            manager
                .create_index(
                    Index::create()
                        .name(index_name(table, &["organization_id"]))
                        .table(table)
                        .col("organization_id")
                        .to_owned(),
                )
                .await?;
        }
        for sql in drop_triggers(manager.get_database_backend()) {
            db.execute_unprepared(&sql).await?;
        }
        manager
            .drop_table(Table::drop().table("list_count").to_owned())
            .await?;
        for (table, column, _) in LIST_COLUMNS {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
