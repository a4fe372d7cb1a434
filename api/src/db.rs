//! Database connection and migrations.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use futures_util::FutureExt;
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection,
    sqlx::{
        pool::PoolConnectionMetadata,
        postgres::PgListener,
        sqlite::{SqliteConnection, SqliteJournalMode},
    },
};

use crate::{config::DbArgs, row_cache::ClauseRowCache};

/// The database URL in force: `DATABASE_URL`, or an SQLite file in the data dir.
pub fn database_url(args: &DbArgs) -> anyhow::Result<String> {
    if let Some(url) = &args.database_url {
        return Ok(url.clone());
    }
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create data dir {}", args.data_dir.display()))?;
    Ok(format!(
        "sqlite://{}?mode=rwc",
        args.data_dir.join("commons.db").display()
    ))
}

/// How long a database server gets to accept a connection at start-up.
const REACH_TIMEOUT: Duration = Duration::from_secs(3);

/// The `host:port` of a `postgres://` URL (`None` for Unix sockets or other schemes).
fn postgres_address(url: &str) -> Option<(String, u16)> {
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))?;
    let authority = rest.split(['/', '?']).next()?;
    let host_port = authority.rsplit('@').next()?;
    if host_port.is_empty() || host_port.contains('%') {
        return None;
    }
    let (host, port) = match host_port.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || host_port.starts_with('[') => {
            (host, port.parse().ok()?)
        }
        _ => (host_port, 5432),
    };
    Some((host.trim_matches(['[', ']']).to_owned(), port))
}

/// Fails within [`REACH_TIMEOUT`], naming the host and the cause, when a PostgreSQL server
/// cannot be reached, instead of a pool timing out ten seconds later without either.
async fn reachable(url: &str) -> anyhow::Result<()> {
    let Some((host, port)) = postgres_address(url) else {
        return Ok(());
    };
    match tokio::time::timeout(
        REACH_TIMEOUT,
        tokio::net::TcpStream::connect((host.as_str(), port)),
    )
    .await
    {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => anyhow::bail!("cannot reach the database at {host}:{port}: {e}"),
        Err(_) => anyhow::bail!(
            "cannot reach the database at {host}:{port}: no answer within {} s",
            REACH_TIMEOUT.as_secs()
        ),
    }
}

/// Connects without applying migrations.
pub async fn connect(args: &DbArgs) -> anyhow::Result<DatabaseConnection> {
    connect_with(args, None).await
}

async fn connect_with(
    args: &DbArgs,
    rows: Option<Arc<ClauseRowCache>>,
) -> anyhow::Result<DatabaseConnection> {
    let url = database_url(args)?;
    reachable(&url).await?;
    let mut options = ConnectOptions::new(url.clone());
    options
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    if url.starts_with("sqlite:") {
        // One connection serialises writers: SQLite's deferred transactions would otherwise
        // fail with SQLITE_BUSY when two of them upgrade to writing at once. Write-ahead
        // logging lets the readers of [`connect_reader`] hold a snapshot while it writes.
        // The file is this process's own: pinging the connection before every query (the
        // pool's default) only adds a round trip to SQLite's worker thread.
        options
            .max_connections(1)
            .min_connections(1)
            .test_before_acquire(false)
            .map_sqlx_sqlite_opts(|o| o.journal_mode(SqliteJournalMode::Wal));
        if let Some(rows) = rows {
            options.map_sqlx_sqlite_pool_opts(move |pool| watch_writes(pool, &rows));
        }
    } else {
        // A server connection idle for a while may have been dropped; a busy one is fine.
        options
            .max_connections(16)
            .min_connections(1)
            .test_before_acquire_if_idle_for(Duration::from_secs(30));
    }
    Database::connect(options)
        .await
        .context("cannot connect to the database")
}

/// Connections for long, consistent reads (the catalogue snapshot, the indexer's batches)
/// that must not hold up writers. On SQLite these are read-only connections of their own
/// beside the single writer; on PostgreSQL the main pool serves, and so does the writer for
/// an in-memory SQLite database, which another connection would not see.
pub async fn connect_reader(
    args: &DbArgs,
    main: &DatabaseConnection,
) -> anyhow::Result<DatabaseConnection> {
    let url = database_url(args)?;
    if !url.starts_with("sqlite:") || is_in_memory(&url) {
        return Ok(main.clone());
    }
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(4)
        .min_connections(0)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .test_before_acquire(false)
        .map_sqlx_sqlite_opts(|o| o.read_only(true));
    Database::connect(options)
        .await
        .context("cannot open a reading connection to the database")
}

/// Connects and brings the schema up to date.
pub async fn connect_and_migrate(args: &DbArgs) -> anyhow::Result<DatabaseConnection> {
    migrate(connect(args).await?).await
}

/// Like [`connect_and_migrate`], and lets `rows` watch every write, so it may keep rows for
/// pages (see [`crate::row_cache`]): on SQLite the writing connection, on PostgreSQL the
/// notices of committed writes (see [`watch_notices`]).
pub async fn connect_and_migrate_watched(
    args: &DbArgs,
    rows: Arc<ClauseRowCache>,
) -> anyhow::Result<DatabaseConnection> {
    let db = migrate(connect_with(args, Some(Arc::clone(&rows))).await?).await?;
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        watch_notices(database_url(args)?, db.clone(), &rows);
    }
    Ok(db)
}

/// The longest wait between attempts to listen again after the listening connection failed.
const LISTEN_RETRY_MAX: Duration = Duration::from_secs(10);
/// A listening connection that lasted this long was not failing: the next failure is
/// retried at once.
const LISTEN_STEADY: Duration = Duration::from_secs(30);
/// After this long without a notice, a probe is sent; a probe not heard within the same time
/// means the connection no longer hears notices (a half-open socket, a pooler in transaction
/// mode), and nothing is kept until it listens again.
const PROBE_AFTER: Duration = Duration::from_secs(10);
/// Payloads of probes start with this; table names never do.
const PROBE: &str = "probe:";

/// Listens on its own connection for the notices PostgreSQL sends when a write to a watched
/// table commits (the triggers of migration `m20261207_000007_row_notices`), and drops what
/// `rows` keeps on each. `rows` keeps anything only while notices are known to arrive: from
/// the moment a probe sent through `db` came back on a new listening connection (with the
/// triggers in place), until the connection fails or a probe sent after
/// [`PROBE_AFTER`] of quiet is not heard within as long again. Then it listens anew, waiting
/// up to [`LISTEN_RETRY_MAX`] between attempts. The task ends when `rows` is dropped.
pub fn watch_notices(url: String, db: DatabaseConnection, rows: &Arc<ClauseRowCache>) {
    let rows = Arc::downgrade(rows);
    let Some(mut closed) = rows.upgrade().map(|rows| rows.closed()) else {
        return;
    };
    tokio::spawn(async move {
        let mut retry = Duration::from_millis(100);
        loop {
            let started = std::time::Instant::now();
            let outcome = tokio::select! {
                _ = closed.changed() => return,
                outcome = listen(&url, &db, &rows) => outcome,
            };
            if let Some(rows) = rows.upgrade() {
                rows.unwatch();
            }
            match outcome {
                Ok(()) => return,
                Err(error) => tracing::warn!(
                    %error,
                    retry_in = ?retry,
                    "not hearing of written rows; pages are read from the database until it is back"
                ),
            }
            if started.elapsed() >= LISTEN_STEADY {
                retry = Duration::from_millis(100);
            }
            tokio::select! {
                _ = closed.changed() => return,
                _ = tokio::time::sleep(retry) => {}
            }
            retry = (retry * 2).min(LISTEN_RETRY_MAX);
        }
    });
}

/// One listening connection's life: returns `Ok` when `rows` is gone, an error when notices
/// may have been missed.
async fn listen(
    url: &str,
    db: &DatabaseConnection,
    rows: &std::sync::Weak<ClauseRowCache>,
) -> anyhow::Result<()> {
    use migration::m20261207_000007_row_notices::{CHANNEL, TRIGGERS};
    let names = TRIGGERS.map(|name| format!("'{name}'")).join(", ");
    let triggers = db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            format!(
                "SELECT count(*) AS n FROM pg_trigger \
                 WHERE tgname IN ({names}) AND tgenabled <> 'D'"
            ),
        ))
        .await?
        .map(|row| row.try_get::<i64>("", "n"))
        .transpose()?;
    anyhow::ensure!(
        triggers == Some(TRIGGERS.len() as i64),
        "the triggers that announce written rows are missing or disabled"
    );
    let mut listener = PgListener::connect(url).await?;
    // A lost connection ends this listener; the caller sets up the next one.
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await?;
    let mut probe: Option<String> = Some(send_probe(db).await?);
    loop {
        let notice = match tokio::time::timeout(PROBE_AFTER, listener.try_recv()).await {
            Ok(notice) => notice?.ok_or_else(|| anyhow::anyhow!("connection lost"))?,
            Err(_quiet) => {
                anyhow::ensure!(probe.is_none(), "a probe notice did not come back");
                probe = Some(send_probe(db).await?);
                continue;
            }
        };
        let Some(rows) = rows.upgrade() else {
            return Ok(());
        };
        if notice.payload().starts_with(PROBE) {
            // Other servers' probes are theirs.
            if probe.as_deref() == Some(notice.payload()) {
                // Heard: every notice sent from now on arrives (the first probe lets the
                // cache keep rows).
                if !rows.watching() {
                    rows.watch();
                }
                probe = None;
            }
        } else {
            rows.invalidate();
        }
    }
}

/// Sends a probe notice through `db` (another session than the listener's); returns its
/// payload, unique to this probe.
async fn send_probe(db: &DatabaseConnection) -> Result<String, sea_orm::DbErr> {
    let payload = format!("{PROBE}{}", uuid::Uuid::new_v4());
    db.execute_raw(sea_orm::Statement::from_sql_and_values(
        sea_orm::DbBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [
            migration::m20261207_000007_row_notices::CHANNEL.into(),
            payload.clone().into(),
        ],
    ))
    .await?;
    Ok(payload)
}

async fn migrate(db: DatabaseConnection) -> anyhow::Result<DatabaseConnection> {
    Migrator::up(&db, None)
        .await
        .context("cannot apply migrations")?;
    Ok(db)
}

/// Tells `rows` when the writing connection starts changing a clause, a version or an
/// organisation (SQLite's update hook, called from the statement) and when its transaction
/// is over (the connection back in the pool, which happens only after the commit or rollback
/// has finished).
fn watch_writes(
    pool: sea_orm::sqlx::pool::PoolOptions<sea_orm::sqlx::Sqlite>,
    rows: &Arc<ClauseRowCache>,
) -> sea_orm::sqlx::pool::PoolOptions<sea_orm::sqlx::Sqlite> {
    let on_connect = Arc::clone(rows);
    let on_release = Arc::clone(rows);
    pool.after_connect(
        move |conn: &mut SqliteConnection, _: PoolConnectionMetadata| {
            let rows = Arc::clone(&on_connect);
            async move {
                let hook = Arc::clone(&rows);
                conn.lock_handle().await?.set_update_hook(move |change| {
                    if matches!(change.table, "clause" | "clause_version" | "organization") {
                        hook.writing();
                    }
                });
                // A new writing connection: the one before it is closed, its transaction
                // over.
                rows.watch();
                Ok(())
            }
            .boxed()
        },
    )
    .after_release(move |_: &mut SqliteConnection, _: PoolConnectionMetadata| {
        let rows = Arc::clone(&on_release);
        async move {
            rows.settled();
            Ok(true)
        }
        .boxed()
    })
}

/// Whether an SQLite URL names a database that lives only in its connection.
fn is_in_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

#[cfg(test)]
mod address_tests {
    use super::postgres_address;

    #[test]
    fn postgres_addresses_are_read_from_the_url() {
        let at = |url: &str| postgres_address(url);
        assert_eq!(
            at("postgres://u:p@db.example:6543/x"),
            Some(("db.example".into(), 6543))
        );
        assert_eq!(
            at("postgres://postgres@127.0.0.1/test"),
            Some(("127.0.0.1".into(), 5432))
        );
        assert_eq!(
            at("postgresql://[::1]:5433/x?sslmode=disable"),
            Some(("::1".into(), 5433))
        );
        assert_eq!(at("sqlite://data/commons.db"), None);
        assert_eq!(at("postgres:///x?host=/var/run/postgresql"), None);
    }
}

#[cfg(test)]
mod tests {
    use super::is_in_memory;

    #[test]
    fn in_memory_urls_are_recognised() {
        assert!(is_in_memory("sqlite::memory:"));
        assert!(is_in_memory(
            "sqlite://file:commons?mode=memory&cache=shared"
        ));
        assert!(!is_in_memory(
            "sqlite:///var/lib/commons/commons.db?mode=rwc"
        ));
    }
}
