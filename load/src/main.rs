//! `commons-load`: sends a measured load at the API, or the same searches straight to a
//! backend, and reports latency percentiles and throughput as text and JSON.

mod queries;
mod runner;

use std::{path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use runner::{Mode, Plan, Report};
use search::{SearchBackend, TantivyBackend, meili::MeiliBackend};

#[derive(Parser)]
#[command(name = "commons-load", version)]
struct Cli {
    #[command(subcommand)]
    target: Target,
    #[command(flatten)]
    load: LoadArgs,
}

#[derive(Subcommand)]
enum Target {
    /// `searchClauses` through the GraphQL API.
    Search {
        /// The API's GraphQL endpoint.
        #[arg(long, default_value = "http://127.0.0.1:8080/graphql")]
        url: String,
        /// What each search asks for: `list`, a result list (hits with highlights, each
        /// hit's clause id and latest title, counts, facets); `hits`, only what the backend
        /// itself answers (no database read of the hits' clauses).
        #[arg(long, value_enum, default_value_t = Fields::List)]
        fields: Fields,
    },
    /// The same searches straight to an embedded tantivy index, in this process. Point it
    /// at a copy of a stopped server's `data/index/clauses` (a running server holds the lock).
    RawTantivy {
        #[arg(long)]
        index: PathBuf,
    },
    /// The same searches straight to Meilisearch over HTTP, through the adapter the server
    /// uses (the request the API sends after parsing GraphQL).
    RawMeili {
        #[command(flatten)]
        meili: MeiliArgs,
        /// The index the server searches.
        #[arg(long, default_value = "clauses")]
        index: String,
    },
    /// `{ __typename }` through the GraphQL API: the GraphQL floor.
    Typename {
        #[arg(long, default_value = "http://127.0.0.1:8080/graphql")]
        url: String,
    },
    /// Raw ingestion: every published clause document of a (stopped) server's database,
    /// built first (not timed), then written into a fresh embedded index as the indexer
    /// writes a burst: staged in batches of `--batch` and committed once at the end (with
    /// `--commit-each`, committed batch by batch instead). Reports documents per second;
    /// the load options do not apply.
    RawIngest {
        /// The server's data folder (`commons.db`).
        #[arg(long)]
        data_dir: PathBuf,
        /// Where to build the fresh tantivy index (emptied first); with `--meili-url`, the
        /// uid of a throw-away Meilisearch index instead (deleted before and after).
        #[arg(long)]
        index: PathBuf,
        /// Documents per batch (the indexer reads 10,000 change events at most). Meilisearch
        /// takes them in its adapter's batches of 1,000, all queued before the first is
        /// awaited.
        #[arg(long, default_value_t = 10_000)]
        batch: usize,
        /// Commit the embedded index after every batch, not once at the end.
        #[arg(long)]
        commit_each: bool,
        /// Ingest into this Meilisearch server instead of an embedded index.
        #[arg(long, env = "MEILI_URL")]
        meili_url: Option<String>,
        #[arg(long, env = "MEILI_MASTER_KEY", hide_env_values = true)]
        meili_key: Option<String>,
    },
    /// The anonymiser alone, in this process: texts of `--kb` kilobytes woven from the
    /// anonymisation corpus (its planted and clean sentences, in turn), each anonymised as a
    /// publish does. Reports milliseconds per text (p50, p99, mean); the load options do not
    /// apply.
    Anonymise {
        /// The corpus folder (`planted.jsonl`, `clean.jsonl`).
        #[arg(long, default_value = "tests/fixtures/anonymisation")]
        corpus: PathBuf,
        /// Size of each text in kilobytes.
        #[arg(long, default_value_t = 10)]
        kb: usize,
        /// Texts anonymised (each starts at another sentence).
        #[arg(long, default_value_t = 2_000)]
        texts: usize,
        /// Weave the texts from the clean sentences only (technical text without personal
        /// data, as most clauses are), not from the planted ones too.
        #[arg(long)]
        clean: bool,
    },
    /// Any GraphQL document, sent to any GraphQL server (this API or another one serving the
    /// same database, for comparison). Request `i` takes line `i` (round robin) of
    /// `--variables` as its variables; an answer counts as failed unless it is a 200 without
    /// `errors`.
    Graphql {
        #[arg(long, default_value = "http://127.0.0.1:8080/graphql")]
        url: String,
        /// The document.
        #[arg(long)]
        query: String,
        /// A file of JSON objects, one per line, used in turn as the variables.
        #[arg(long)]
        variables: Option<PathBuf>,
    },
    /// A plain GET, e.g. `/healthz` (an axum JSON handler with no GraphQL).
    Get {
        #[arg(long, default_value = "http://127.0.0.1:8080/healthz")]
        url: String,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Fields {
    List,
    Hits,
}

#[derive(Args)]
struct MeiliArgs {
    /// The Meilisearch server.
    #[arg(long = "meili-url", env = "MEILI_URL")]
    url: String,
    /// Its API key.
    #[arg(long = "meili-key", env = "MEILI_MASTER_KEY", hide_env_values = true)]
    key: Option<String>,
}

#[derive(Args)]
struct LoadArgs {
    /// Closed-loop workers (ignored with --rate).
    #[arg(long, default_value_t = 8, global = true)]
    concurrency: usize,
    /// Fixed arrival rate in requests per second; latencies count from each request's
    /// intended send time.
    #[arg(long, global = true)]
    rate: Option<f64>,
    /// Most requests in flight at a fixed rate.
    #[arg(long, default_value_t = 1_024, global = true)]
    max_in_flight: usize,
    /// Measured time.
    #[arg(long, default_value = "20s", value_parser = humantime::parse_duration, global = true)]
    duration: Duration,
    /// Unmeasured time first.
    #[arg(long, default_value = "3s", value_parser = humantime::parse_duration, global = true)]
    warmup: Duration,
    /// Size of the rotating query set.
    #[arg(long, default_value_t = 2_000, global = true)]
    queries: usize,
    /// Seed of the query set.
    #[arg(long, default_value_t = 1, global = true)]
    seed: u64,
    /// Name in the report (defaults to the target).
    #[arg(long, global = true)]
    name: Option<String>,
    /// Append the report as one JSON line to this file.
    #[arg(long, global = true)]
    json: Option<PathBuf>,
}

fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(4_096)
        .timeout(Duration::from_secs(30))
        .build()?)
}

/// A POST of a prepared body that counts as success when the answer is 200 without errors.
async fn post_ok(client: &reqwest::Client, url: &str, body: Vec<u8>) -> bool {
    let Ok(response) = client
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
    else {
        return false;
    };
    if !response.status().is_success() {
        return false;
    }
    match response.bytes().await {
        Ok(bytes) => !bytes.windows(9).any(|w| w == b"\"errors\":"),
        Err(_) => false,
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let load = cli.load;
    let plan = Plan {
        mode: match load.rate {
            Some(rate) => Mode::Fixed {
                rate,
                max_in_flight: load.max_in_flight,
            },
            None => Mode::Closed {
                concurrency: load.concurrency,
            },
        },
        warmup: load.warmup,
        duration: load.duration,
    };
    if let Target::Anonymise {
        corpus,
        kb,
        texts,
        clean,
    } = &cli.target
    {
        return anonymise(corpus, *kb, *texts, *clean, load.json.as_deref());
    }
    if let Target::RawIngest {
        data_dir,
        index,
        batch,
        commit_each,
        meili_url,
        meili_key,
    } = &cli.target
    {
        let into = match meili_url {
            Some(url) => Ingest::Meili {
                url,
                key: meili_key.as_deref(),
                uid: index.to_string_lossy().into_owned(),
            },
            None => Ingest::Tantivy {
                dir: index,
                commit_each: *commit_each,
            },
        };
        return raw_ingest(data_dir, into, *batch, load.json.as_deref()).await;
    }
    let queries = Arc::new(queries::generate(load.queries.max(1), load.seed));
    let report: Report = match cli.target {
        Target::Search { url, fields } => {
            let client = client()?;
            let operation = match fields {
                Fields::List => queries::SEARCH,
                Fields::Hits => queries::SEARCH_HITS,
            };
            let bodies: Arc<Vec<Vec<u8>>> = Arc::new(
                queries
                    .iter()
                    .map(|query| query.graphql_body(operation))
                    .collect(),
            );
            let name = load.name.unwrap_or_else(|| "graphql searchClauses".into());
            runner::run(&name, plan, move |i| {
                let (client, url, bodies) = (client.clone(), url.clone(), bodies.clone());
                async move { post_ok(&client, &url, bodies[i % bodies.len()].clone()).await }
            })
            .await
        }
        Target::RawTantivy { index } => {
            let backend: Arc<dyn SearchBackend> = Arc::new(
                TantivyBackend::open(&index)
                    .with_context(|| format!("cannot open the index in {}", index.display()))?,
            );
            let name = load.name.unwrap_or_else(|| "raw tantivy search".into());
            search_directly(&name, plan, backend, &queries).await
        }
        Target::RawMeili { meili, index } => {
            let backend: Arc<dyn SearchBackend> = Arc::new(
                MeiliBackend::connect(&meili.url, meili.key.as_deref(), &index)
                    .await
                    .with_context(|| format!("cannot reach the Meilisearch index {index}"))?,
            );
            let name = load.name.unwrap_or_else(|| "raw meilisearch search".into());
            search_directly(&name, plan, backend, &queries).await
        }
        Target::Typename { url } => {
            let client = client()?;
            let name = load.name.unwrap_or_else(|| "graphql { __typename }".into());
            runner::run(&name, plan, move |_| {
                let (client, url) = (client.clone(), url.clone());
                async move { post_ok(&client, &url, br#"{"query":"{ __typename }"}"#.to_vec()).await }
            })
            .await
        }
        Target::RawIngest { .. } | Target::Anonymise { .. } => unreachable!("handled above"),
        Target::Graphql {
            url,
            query,
            variables,
        } => {
            let client = client()?;
            let lines = match variables {
                Some(path) => std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?
                    .lines()
                    .filter(|line| !line.trim().is_empty())
                    .map(|line| {
                        serde_json::from_str::<serde_json::Value>(line)
                            .with_context(|| format!("{}: not a JSON line: {line}", path.display()))
                    })
                    .collect::<anyhow::Result<Vec<_>>>()?,
                None => vec![serde_json::json!({})],
            };
            anyhow::ensure!(!lines.is_empty(), "the variables file has no lines");
            let bodies: Arc<Vec<Vec<u8>>> = Arc::new(
                lines
                    .into_iter()
                    .map(|variables| {
                        serde_json::to_vec(
                            &serde_json::json!({ "query": query, "variables": variables }),
                        )
                    })
                    .collect::<Result<_, _>>()?,
            );
            let name = load.name.unwrap_or_else(|| format!("graphql {url}"));
            runner::run(&name, plan, move |i| {
                let (client, url, bodies) = (client.clone(), url.clone(), bodies.clone());
                async move { post_ok(&client, &url, bodies[i % bodies.len()].clone()).await }
            })
            .await
        }
        Target::Get { url } => {
            let client = client()?;
            let name = load.name.unwrap_or_else(|| format!("GET {url}"));
            runner::run(&name, plan, move |_| {
                let (client, url) = (client.clone(), url.clone());
                async move {
                    client
                        .get(&url)
                        .send()
                        .await
                        .is_ok_and(|r| r.status().is_success())
                }
            })
            .await
        }
    };
    emit(
        &report.text(),
        &serde_json::to_value(&report)?,
        load.json.as_deref(),
    )
}

/// The rotating searches sent straight to a backend.
async fn search_directly(
    name: &str,
    plan: Plan,
    backend: Arc<dyn SearchBackend>,
    queries: &[queries::Query],
) -> Report {
    let requests: Arc<Vec<search::SearchRequest>> =
        Arc::new(queries.iter().map(queries::Query::request).collect());
    runner::run(name, plan, move |i| {
        let (backend, requests) = (backend.clone(), requests.clone());
        async move {
            backend
                .search(requests[i % requests.len()].clone())
                .await
                .is_ok()
        }
    })
    .await
}

/// Where raw ingestion writes.
enum Ingest<'a> {
    Tantivy {
        dir: &'a std::path::Path,
        /// Commit after every batch rather than once.
        commit_each: bool,
    },
    Meili {
        url: &'a str,
        key: Option<&'a str>,
        uid: String,
    },
}

/// Prints `text` and appends `json` as one line to `path`, when given.
fn emit(
    text: &str,
    json: &serde_json::Value,
    path: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    use std::io::Write;
    writeln!(std::io::stdout().lock(), "{text}")?;
    if let Some(path) = path {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        writeln!(file, "{json}")?;
    }
    Ok(())
}

/// Times the anonymiser on texts of `kb` kilobytes woven from the corpus sentences.
fn anonymise(
    corpus: &std::path::Path,
    kb: usize,
    texts: usize,
    clean: bool,
    json: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let mut sentences = Vec::new();
    let files: &[&str] = if clean {
        &["clean.jsonl"]
    } else {
        &["planted.jsonl", "clean.jsonl"]
    };
    for name in files {
        let path = corpus.join(name);
        let body = std::fs::read_to_string(&path)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        for line in body.lines().filter(|l| !l.trim().is_empty()) {
            let value: serde_json::Value = serde_json::from_str(line)?;
            if let Some(text) = value["text"].as_str() {
                sentences.push(text.to_owned());
            }
        }
    }
    anyhow::ensure!(
        !sentences.is_empty(),
        "no sentences in {}",
        corpus.display()
    );
    let bytes = kb * 1_000;
    let inputs: Vec<String> = (0..texts.max(1))
        .map(|start| {
            let mut text = String::with_capacity(bytes + 2_000);
            let mut i = start;
            while text.len() < bytes {
                text.push_str(&sentences[i % sentences.len()]);
                text.push('\n');
                i += 7;
            }
            text
        })
        .collect();
    // Compile every pattern and load the name lists before timing.
    let _ = commons_api::anonymise::anonymise(&inputs[0], entity::Language::Sv, &[]);
    let mut histogram = hdrhistogram::Histogram::<u64>::new(3)?;
    let started = std::time::Instant::now();
    let mut findings = 0;
    for text in &inputs {
        let one = std::time::Instant::now();
        findings += commons_api::anonymise::find(text, entity::Language::Sv, &[]).len();
        histogram.record(one.elapsed().as_micros() as u64)?;
    }
    let total = started.elapsed();
    let ms = |us: u64| us as f64 / 1_000.0;
    let text = format!(
        "anonymise {kb} kB{}: {} texts, p50 {:.3} ms, p99 {:.3} ms, mean {:.3} ms ({findings} findings)",
        if clean { " of clean sentences" } else { "" },
        inputs.len(),
        ms(histogram.value_at_quantile(0.5)),
        ms(histogram.value_at_quantile(0.99)),
        total.as_secs_f64() * 1_000.0 / inputs.len() as f64,
    );
    let line = serde_json::json!({
        "name": if clean { "anonymise clean" } else { "anonymise" },
        "kb": kb,
        "texts": inputs.len(),
        "findings": findings,
        "p50_ms": ms(histogram.value_at_quantile(0.5)),
        "p99_ms": ms(histogram.value_at_quantile(0.99)),
        "mean_ms": total.as_secs_f64() * 1_000.0 / inputs.len() as f64,
    });
    emit(&text, &line, json)
}

async fn raw_ingest(
    data_dir: &std::path::Path,
    into: Ingest<'_>,
    batch: usize,
    json: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let db = commons_api::db::connect(&commons_api::config::DbArgs {
        data_dir: data_dir.to_owned(),
        database_url: None,
    })
    .await?;
    let mut documents = Vec::new();
    let mut after = None;
    loop {
        let (page, last) =
            commons_api::indexing::documents::published_page(&db, after, 1_000).await?;
        if last.is_none() {
            break;
        }
        documents.extend(page);
        after = last;
    }
    let count = documents.len();
    // How often the index was committed: once at the end, or after each batch.
    let (name, elapsed, batch, commit) = match into {
        Ingest::Tantivy { dir, commit_each } => {
            if dir.exists() {
                std::fs::remove_dir_all(dir)
                    .with_context(|| format!("cannot empty {}", dir.display()))?;
            }
            std::fs::create_dir_all(dir)?;
            let backend = TantivyBackend::open(dir)
                .with_context(|| format!("cannot create an index in {}", dir.display()))?;
            let started = std::time::Instant::now();
            let mut documents = documents.into_iter().peekable();
            while documents.peek().is_some() {
                let chunk: Vec<_> = documents.by_ref().take(batch.max(1)).collect();
                if commit_each {
                    backend.upsert(chunk).await?;
                } else {
                    backend.stage(chunk, Vec::new()).await?;
                }
            }
            if commit_each {
                ("raw tantivy ingestion", started.elapsed(), batch, "each")
            } else {
                backend.commit().await?;
                ("raw tantivy ingestion", started.elapsed(), batch, "once")
            }
        }
        Ingest::Meili { url, key, uid } => {
            let fresh = || async {
                MeiliBackend::connect(url, key, &uid)
                    .await
                    .with_context(|| format!("cannot set up the Meilisearch index {uid}"))
            };
            // A leftover index of an earlier run is dropped, so ingestion starts empty (with
            // the settings already applied, as the server's index has them).
            fresh().await?.drop_index().await?;
            let backend = fresh().await?;
            let started = std::time::Instant::now();
            backend.upsert(documents).await?;
            let elapsed = started.elapsed();
            backend.drop_index().await?;
            (
                "raw meilisearch ingestion",
                elapsed,
                search::meili::BATCH_SIZE,
                "each",
            )
        }
    };
    let seconds = elapsed.as_secs_f64();
    let rate = count as f64 / seconds.max(f64::EPSILON);
    emit(
        &format!(
            "{name}: {count} documents in {seconds:.2} s = {rate:.0} documents/s ({batch} per batch, committed {commit})"
        ),
        &serde_json::json!({
            "name": name,
            "documents": count,
            "seconds": seconds,
            "per_second": rate,
            "batch": batch,
            "commit": commit,
        }),
        json,
    )
}
