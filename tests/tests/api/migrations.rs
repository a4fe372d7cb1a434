//! Migrations apply, roll back and apply again on both databases.

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database};

use crate::helpers::{Backend, with_database};

async fn up_down_up(url: String) {
    let db = Database::connect(&url).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    let tables = [
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
        "feed_cursor",
        "deny_term",
        "label",
    ];
    for table in tables {
        db.execute_unprepared(&format!("SELECT COUNT(*) FROM {table}"))
            .await
            .unwrap_or_else(|e| panic!("{table} missing after up: {e}"));
    }
    // The label registry ships with the schema.
    let labels = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM label",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(
        labels,
        migration::m20261122_000003_trust::LABELS.len() as i64
    );
    Migrator::down(&db, None).await.unwrap();
    for table in tables {
        assert!(
            db.execute_unprepared(&format!("SELECT COUNT(*) FROM {table}"))
                .await
                .is_err(),
            "{table} still exists after down"
        );
    }
    assert_eq!(
        Migrator::get_pending_migrations(&db).await.unwrap().len(),
        Migrator::migrations().len()
    );
    Migrator::up(&db, None).await.unwrap();
    assert!(
        Migrator::get_pending_migrations(&db)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn migrations_round_trip_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("m.db").display());
    with_database(Backend::Sqlite, |_| up_down_up(url)).await;
}

#[tokio::test]
async fn migrations_round_trip_on_postgres() {
    with_database(Backend::Postgres, |url| async move {
        up_down_up(url.unwrap()).await;
    })
    .await;
}
