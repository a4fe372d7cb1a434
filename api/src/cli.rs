//! The `commons` command line.

use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use migration::{Migrator, MigratorTrait};
use uuid::Uuid;

use crate::{
    auth::{Role, issue_dev_token},
    config::{AuthArgs, DbArgs, ExportArgs, SearchArgs, ServeArgs},
    db,
    feed::mirror::{self, MirrorSource},
    graphql, indexing, seed, startup,
    startup::{Application, shutdown_signal},
    synthetic, telemetry,
};

/// Green Procurement Commons: a shared catalogue of green and socially responsible
/// procurement criteria, served over GraphQL.
#[derive(Debug, Parser)]
#[command(name = "commons", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// Log format: `text` or `json`.
    #[arg(
        long,
        env = "COMMONS_LOG_FORMAT",
        default_value = "text",
        global = true
    )]
    log_format: String,

    #[command(subcommand)]
    command: Option<Command>,

    /// Options of `serve`, which runs when no command is given.
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the API server (the default).
    Serve(Box<ServeArgs>),
    /// Apply pending database migrations.
    Migrate(MigrateArgs),
    /// Load data into the database.
    Seed(SeedArgs),
    /// Rebuild the search index from the database. On Meilisearch a fresh index is built and
    /// swapped in; the embedded index needs the server stopped first.
    Reindex(ReindexArgs),
    /// Print a development token signed with the HS256 secret.
    Token(TokenArgs),
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Export published material in an open standard.
    Export(ExportCommand),
    /// Copy another instance's published catalogue into this database: the whole snapshot
    /// the first time, then only the changes since the last run. Run it once per upstream to
    /// mirror several into one instance.
    Mirror(MirrorArgs),
    /// Import clauses from an NDJSON file (one `CreateClauseInput` a line) into a running
    /// instance, published at once unless `--draft`. The whole file is checked before the
    /// first request; it is then sent in batches, each imported all or nothing, two requests
    /// in flight at once by default.
    Import(ImportArgs),
    /// Re-scan everything already published with the current anonymiser (after an
    /// improvement of the recogniser or a deny-list change) and list what it finds: kinds and
    /// counts per record and field, never the text. `--apply` mends each affected record:
    /// an anonymised successor version is published (search and mirrors follow through the
    /// change feed), earlier versions, reasons and change-event payloads are anonymised in
    /// place, and the audit log records it. Exits 1 when `--check` finds anything.
    Anonymise(AnonymiseArgs),
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("mode").required(true).args(["check", "apply"])))]
struct AnonymiseArgs {
    #[command(flatten)]
    db: DbArgs,
    /// List what the current anonymiser finds in published material; change nothing.
    #[arg(long)]
    check: bool,
    /// Mend every affected record (see above).
    #[arg(long)]
    apply: bool,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Hide the progress bar.
    #[arg(long)]
    quiet: bool,
}

#[derive(Debug, Args)]
struct ImportArgs {
    /// The file to import; `-` reads standard input.
    file: std::path::PathBuf,
    /// Base URL of the instance, e.g. `http://127.0.0.1:8080`.
    #[arg(long, value_parser = parse_upstream, default_value = "http://127.0.0.1:8080")]
    to: String,
    /// A publisher token of the organisation the clauses belong to.
    #[arg(long, env = "COMMONS_TOKEN", hide_env_values = true)]
    token: String,
    /// Keep the imported clauses as drafts instead of publishing them.
    #[arg(long)]
    draft: bool,
    /// Clauses per request (each request is one transaction).
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=5_000))]
    batch: u32,
    /// Requests in flight at once. The server imports two at a time, answering more with
    /// "busy", which is waited out; 1 sends strictly one batch after another.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=8))]
    parallel: u32,
    /// Hide the progress bar.
    #[arg(long)]
    quiet: bool,
}

#[derive(Debug, Args)]
struct MirrorArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Base URL of the upstream instance, e.g. `https://commons.example.se`.
    #[arg(long, value_parser = parse_upstream)]
    from: String,
    /// Bearer token to send upstream, when it asks for one.
    #[arg(long, env = "COMMONS_MIRROR_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Sync once and exit (the default).
    #[arg(long, conflicts_with = "interval")]
    once: bool,
    /// Keep following: sync again every DURATION (e.g. `30s`, `5m`) until stopped.
    #[arg(long, value_parser = humantime::parse_duration)]
    interval: Option<Duration>,
    /// Hide the progress bars.
    #[arg(long)]
    quiet: bool,
}

fn parse_upstream(value: &str) -> Result<String, String> {
    let url = reqwest::Url::parse(value.trim()).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err("must be an http:// or https:// URL with a host".to_owned());
    }
    Ok(value.trim().to_owned())
}

#[derive(Debug, Args)]
struct ExportCommand {
    #[command(subcommand)]
    format: ExportFormat,
}

#[derive(Debug, Subcommand)]
enum ExportFormat {
    /// Published tender results as an OCDS 1.1 release package (sustainability extension).
    Ocds(OcdsArgs),
}

#[derive(Debug, Args)]
struct OcdsArgs {
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    export: ExportArgs,
    /// Write to this file instead of standard output (a progress bar shows the work).
    #[arg(long, short)]
    output: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
struct MigrateArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Roll back every migration instead (drops all data).
    #[arg(long)]
    reset: bool,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("what").required(true).args(["demo", "synthetic"]))]
struct SeedArgs {
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    search: SearchArgs,
    /// Load the demo catalogue (only into a database without organisations).
    #[arg(long)]
    demo: bool,
    /// Write N synthetic published clauses (with organisations and tender results) for
    /// benchmarks, then build the search index; only into a database without clauses.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    synthetic: Option<u32>,
    /// Seed of the synthetic generator: the same N and seed give the same catalogue.
    #[arg(long, default_value_t = 1, requires = "synthetic")]
    seed: u64,
    /// Write the N synthetic clauses to this file as an import file (for `commons import`)
    /// instead of into the database.
    #[arg(long, value_name = "FILE", requires = "synthetic")]
    import_file: Option<std::path::PathBuf>,
    /// Hide the progress bars.
    #[arg(long)]
    quiet: bool,
}

#[derive(Debug, Args)]
struct ReindexArgs {
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    search: SearchArgs,
    /// Hide the progress bar.
    #[arg(long)]
    quiet: bool,
}

#[derive(Debug, Args)]
struct TokenArgs {
    /// Organisation id the token acts for (`org` claim).
    #[arg(long)]
    org: Option<Uuid>,
    /// Role to grant; repeat for several.
    #[arg(long = "role", value_enum, required = true)]
    roles: Vec<Role>,
    /// Subject (`sub` claim).
    #[arg(long, default_value = "developer")]
    sub: String,
    /// Lifetime, e.g. `1h`, `30m`, `7d`.
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    ttl: Duration,
    #[command(flatten)]
    auth: AuthArgs,
}

/// Parses the command line and runs the chosen command.
pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    telemetry::init(&cli.log_format);
    match cli.command {
        None => serve(cli.serve).await,
        Some(Command::Serve(args)) => serve(*args).await,
        Some(Command::Migrate(args)) => {
            let conn = db::connect(&args.db).await?;
            if args.reset {
                Migrator::reset(&conn).await.context("rollback failed")?;
                tracing::info!("all migrations rolled back");
            } else {
                Migrator::up(&conn, None)
                    .await
                    .context("migration failed")?;
                tracing::info!("database is up to date");
            }
            Ok(())
        }
        Some(Command::Seed(args)) => {
            if let (Some(path), Some(count)) = (&args.import_file, args.synthetic) {
                let mut out = std::io::BufWriter::new(
                    std::fs::File::create(path)
                        .with_context(|| format!("cannot create {}", path.display()))?,
                );
                synthetic::write_import_file(&mut out, count as usize, args.seed)?;
                std::io::Write::flush(&mut out)?;
                tracing::info!(path = %path.display(), clauses = count, "import file written");
                return Ok(());
            }
            let conn = db::connect_and_migrate(&args.db).await?;
            if let Some(count) = args.synthetic {
                let seeded = synthetic::seed(&conn, count as usize, args.seed, !args.quiet).await?;
                tracing::info!(
                    ?seeded,
                    "synthetic catalogue written; building the search index"
                );
                let backends = startup::search_backends(&args.db, &args.search).await?;
                let indexed = indexing::reindex(&conn, &backends, !args.quiet).await?;
                tracing::info!(indexed, "search index built");
                return Ok(());
            }
            match seed::load_demo_if_empty(&conn).await? {
                Some(loaded) => tracing::info!(?loaded, "demo catalogue loaded"),
                None => anyhow::bail!("the database already holds organisations; demo not loaded"),
            }
            Ok(())
        }
        Some(Command::Reindex(args)) => {
            let conn = db::connect_and_migrate(&args.db).await?;
            let backends = startup::search_backends(&args.db, &args.search).await?;
            let count = indexing::reindex(&conn, &backends, !args.quiet).await?;
            tracing::info!(count, "search index rebuilt");
            Ok(())
        }
        Some(Command::Token(args)) => {
            if args.roles.contains(&Role::Publisher) && args.org.is_none() {
                anyhow::bail!("a publisher token needs --org");
            }
            let (secret, is_default) = args.auth.hs256_secret();
            if is_default {
                tracing::warn!(
                    "signing with the built-in development secret (COMMONS_JWT_SECRET is not set)"
                );
            }
            let token = issue_dev_token(
                secret.as_bytes(),
                &args.auth.jwt_issuer,
                &args.auth.jwt_audience,
                &args.sub,
                args.org,
                &args.roles,
                args.ttl,
            )?;
            write_stdout(&token)
        }
        Some(Command::Schema) => write_stdout(graphql::sdl().trim_end()),
        Some(Command::Export(ExportCommand {
            format: ExportFormat::Ocds(args),
        })) => export_ocds(args).await,
        Some(Command::Mirror(args)) => mirror(args).await,
        Some(Command::Import(args)) => import(args).await,
        Some(Command::Anonymise(args)) => anonymise(args).await,
    }
}

async fn anonymise(args: AnonymiseArgs) -> anyhow::Result<()> {
    let conn = db::connect_and_migrate(&args.db).await?;
    let caller = crate::auth::Caller {
        sub: "commons anonymise".to_owned(),
        org: None,
        roles: vec![Role::Admin],
    };
    let bar = if args.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(0).with_style(
            indicatif::ProgressStyle::with_template(
                "scanning [{bar:40}] {pos}/{len} records ({eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        )
    };
    let report = crate::service::rescan::rescan(&conn, &caller, args.apply, Some(&bar))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    bar.finish_and_clear();
    if args.json {
        write_stdout(&serde_json::to_string_pretty(&report)?)?;
    } else {
        let mut out = String::new();
        for record in &report.affected {
            for field in &record.fields {
                let version = field.version.map_or("-".to_owned(), |v| v.to_string());
                let kinds: Vec<String> = field.kinds.iter().map(|k| format!("{k:?}")).collect();
                out += &format!(
                    "{:<13} {} v{:<3} {:<16} {:>3} {}\n",
                    format!("{:?}", record.entity_type),
                    record.id,
                    version,
                    field.field,
                    field.findings,
                    kinds.join(",")
                );
            }
            if let Some(v) = record.new_version {
                out += &format!(
                    "{:<13} {} published anonymised version {v}\n",
                    "", record.id
                );
            }
        }
        let verb = if report.applied { "mended" } else { "affected" };
        out += &format!(
            "{} published records scanned, {} {verb}",
            report.scanned,
            report.affected.len()
        );
        write_stdout(&out)?;
    }
    if args.check && !report.affected.is_empty() {
        std::process::exit(1);
    }
    Ok(())
}

async fn mirror(args: MirrorArgs) -> anyhow::Result<()> {
    let conn = db::connect_and_migrate(&args.db).await?;
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("commons-mirror/", env!("CARGO_PKG_VERSION")))
        .build()?;
    let source = MirrorSource {
        url: args.from,
        token: args.token,
        progress: !args.quiet,
    };
    match args.interval {
        Some(interval) => {
            mirror::follow(&conn, &client, &source, interval, shutdown_signal()).await;
            Ok(())
        }
        None => {
            let report = mirror::sync_once(&conn, &client, &source).await?;
            tracing::info!(
                upstream = %source.base(),
                snapshot_records = report.snapshot_records,
                changes = report.changes,
                kept_local = report.kept_local,
                "mirror up to date"
            );
            Ok(())
        }
    }
}

async fn import(args: ImportArgs) -> anyhow::Result<()> {
    let body = if args.file.as_os_str() == "-" {
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut body)?;
        body
    } else {
        std::fs::read(&args.file).with_context(|| format!("cannot read {}", args.file.display()))?
    };
    // The same checks the server makes, over the whole file, before anything is sent.
    let clauses = crate::import::check(&body, !args.draft).map_err(|e| anyhow::anyhow!("{e}"))?;
    let lines: Vec<&[u8]> = body
        .split(|b| *b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .collect();
    anyhow::ensure!(lines.len() == clauses, "the file changed while it was read");
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("commons-import/", env!("CARGO_PKG_VERSION")))
        .build()?;
    let url = format!(
        "{}/import/clauses.ndjson?publish={}",
        args.to.trim_end_matches('/'),
        !args.draft
    );
    let bar = if args.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(clauses as u64).with_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} clauses ({per_sec}, {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        )
    };
    let batches = lines
        .chunks(args.batch as usize)
        .enumerate()
        .map(|(n, batch)| crate::import::client::Batch {
            first: n * args.batch as usize + 1,
            clauses: batch.len(),
            body: batch.join(&b'\n'),
        });
    let target = crate::import::client::Target {
        client,
        url,
        token: args.token,
    };
    let outcome = crate::import::client::send(&target, batches, args.parallel as usize, |n| {
        bar.inc(n as u64);
    })
    .await;
    if let Some(failure) = outcome.failure(clauses) {
        bar.abandon();
        anyhow::bail!(failure);
    }
    let imported = outcome.imported;
    bar.finish();
    tracing::info!(imported, published = !args.draft, "clauses imported");
    Ok(())
}

async fn export_ocds(args: OcdsArgs) -> anyhow::Result<()> {
    let conn = db::connect_and_migrate(&args.db).await?;
    let info = args.export.ocds();
    let Some(path) = args.output else {
        let package = crate::export::ocds::package(&conn, &info, |_| {}).await?;
        return write_stdout(&serde_json::to_string_pretty(&package)?);
    };
    let total = crate::export::ocds::count(&conn).await?;
    let bar = indicatif::ProgressBar::new(total).with_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} tender results {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let package = crate::export::ocds::package(&conn, &info, |n| bar.inc(n as u64)).await?;
    bar.finish();
    // Written beside the target and renamed, so a failed export never leaves half a file.
    let partial = path.with_extension("partial");
    std::fs::write(&partial, serde_json::to_vec_pretty(&package)?)
        .with_context(|| format!("cannot write {}", partial.display()))?;
    std::fs::rename(&partial, &path).with_context(|| format!("cannot write {}", path.display()))?;
    tracing::info!(path = %path.display(), releases = package["releases"].as_array().map_or(0, Vec::len), "OCDS package written");
    Ok(())
}

fn write_stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")?;
    Ok(())
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let app = Application::build(args).await?;
    let addr = app.local_addr()?;
    tracing::info!(%addr, "serving the web app at http://{addr}/ and GraphQL at http://{addr}/graphql (GraphiQL at http://{addr}/graphiql)");
    app.run_until(shutdown_signal()).await
}
