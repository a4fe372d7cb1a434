//! Wiring: state, router and a server that tests can start on port 0.

use std::{future::Future, net::SocketAddr, ops::Deref, sync::Arc};

use anyhow::Context as _;
use axum::{
    Router,
    extract::{FromRef, MatchedPath},
    http::{HeaderValue, Method, Request, StatusCode, header},
    routing::{get, post},
};
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use tower_http::{
    catch_panic::CatchPanicLayer,
    cors::{AllowOrigin, Any, CorsLayer},
    limit::RequestBodyLimitLayer,
    timeout::TimeoutLayer,
    trace::TraceLayer,
};

use crate::{
    auth::JwtVerifier,
    config::{AuthArgs, ServeArgs},
    db,
    graphql::{self, AppSchema, SearchHandle},
    health,
    indexing::{self, Backends, Indexer, IndexerHandle},
    row_cache::ClauseRowCache,
    seed,
};
use search::{SearchBackend, TantivyBackend, meili::MeiliBackend};

pub struct App {
    pub db: DatabaseConnection,
    /// Connections for long consistent reads (the catalogue snapshot).
    pub reader: DatabaseConnection,
    /// This instance's public base URL.
    pub instance: String,
    /// Snapshots streamed at once; each holds a database connection for its whole download.
    pub snapshots: Arc<tokio::sync::Semaphore>,
    /// Imports read and processed at once; each may hold its whole body and rows in memory.
    pub imports: Arc<tokio::sync::Semaphore>,
    pub search: Backends,
    pub schema: AppSchema,
    pub verifier: Arc<JwtVerifier>,
    pub ocds: crate::export::ocds::PackageInfo,
    /// Wakes the indexer after writes outside GraphQL (imports), and takes the search
    /// documents imports hand over to it.
    pub indexer: IndexerHandle,
    /// This server's metrics (`GET /metrics`).
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Requests per client (`--rate-limits`).
    pub rate_limiter: crate::ratelimit::RateLimiter,
    /// Rows kept in memory for pages; writes outside GraphQL (imports) hold its write guard.
    pub rows: Arc<ClauseRowCache>,
}

/// Cheap to clone; handed to every handler.
#[derive(Clone)]
pub struct AppState(pub Arc<App>);

impl Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

impl FromRef<AppState> for Arc<JwtVerifier> {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

/// Builds the token verifier from configuration, pinning its algorithms.
pub fn verifier(args: &AuthArgs) -> anyhow::Result<JwtVerifier> {
    let claims = crate::auth::ClaimNames {
        org: args.jwt_org_claim.clone(),
        roles: args.jwt_roles_claim.clone(),
    };
    Ok(keyed_verifier(args)?.with_claims(claims))
}

fn keyed_verifier(args: &AuthArgs) -> anyhow::Result<JwtVerifier> {
    use crate::auth::KeySource;
    let (issuer, audience) = (&args.jwt_issuer, &args.jwt_audience);
    if let Some(url) = &args.jwt_jwks_url {
        return Ok(JwtVerifier::remote(
            KeySource::Jwks(url.clone()),
            issuer,
            audience,
        )?);
    }
    if args.jwt_oidc_discovery {
        return Ok(JwtVerifier::remote(
            KeySource::Discovery(issuer.clone()),
            issuer,
            audience,
        )?);
    }
    if let Some(path) = &args.jwt_jwks {
        return Ok(JwtVerifier::jwks(path, issuer, audience)?);
    }
    if let Some(path) = &args.jwt_public_key {
        return Ok(JwtVerifier::public_pem(
            path,
            args.jwt_algorithm.map(Into::into),
            issuer,
            audience,
        )?);
    }
    let (secret, is_default) = args.hs256_secret();
    if is_default {
        tracing::warn!(
            "COMMONS_JWT_SECRET is not set: using the built-in development secret; \
             anyone can sign tokens for this instance"
        );
    }
    Ok(JwtVerifier::hs256(secret.as_bytes(), issuer, audience))
}

fn cors(origins: &[String]) -> CorsLayer {
    let layer = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION]);
    if origins.iter().any(|o| o == "*") {
        layer.allow_origin(Any)
    } else {
        let origins: Vec<HeaderValue> = origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o.trim()).ok())
            .collect();
        layer.allow_origin(AllowOrigin::list(origins))
    }
}

/// The body-limit layer answers 413 in plain text before any handler runs; clients get the
/// same coded JSON error as for every other refusal.
async fn coded_payload_too_large(response: axum::response::Response) -> axum::response::Response {
    use axum::response::IntoResponse;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if response.status() != StatusCode::PAYLOAD_TOO_LARGE || is_json {
        return response;
    }
    let body = serde_json::json!({
        "errors": [{
            "message": "the request body is too large",
            "extensions": { "code": crate::error::ErrorCode::BadUserInput.as_str() }
        }]
    });
    (StatusCode::PAYLOAD_TOO_LARGE, axum::Json(body)).into_response()
}

/// The HTTP routes with their middleware.
pub fn router(state: AppState, args: &ServeArgs) -> Router {
    let trace = TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
        let route = request
            .extensions()
            .get::<MatchedPath>()
            .map(MatchedPath::as_str)
            .unwrap_or("unmatched");
        tracing::info_span!("request", method = %request.method(), route)
    });
    let mut routes = Router::new();
    // With a metrics address of its own (`--metrics-listen`) the main listener does not
    // serve them.
    if args.metrics_listen.is_none() {
        routes = routes.route("/metrics", get(crate::metrics::handler));
    }
    routes
        .route(
            "/graphql",
            get(graphql::graphql_get).post(graphql::graphql_post),
        )
        .route("/graphql/ws", get(graphql::graphql_ws))
        .route("/schema.graphql", get(graphql::schema_sdl))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/export/ocds", get(crate::export::ocds_handler))
        .route(
            "/export/catalogue.ndjson",
            get(crate::export::catalogue_handler),
        )
        .merge(crate::web::router())
        .layer(RequestBodyLimitLayer::new(args.limits.max_body_bytes))
        // Imports carry whole clause libraries: a limit of their own, outside the one above.
        .merge(
            Router::new()
                .route(
                    "/import/clauses.ndjson",
                    post(crate::import::clauses_handler),
                )
                .layer(RequestBodyLimitLayer::new(args.limits.max_import_bytes)),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::ratelimit::limit,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::metrics::track_http,
        ))
        .with_state(state)
        .layer(axum::middleware::map_response(coded_payload_too_large))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            args.limits.request_timeout,
        ))
        .layer(cors(&args.cors_origins))
        .layer(CatchPanicLayer::new())
        .layer(trace)
}

/// A bound, ready-to-run server.
pub struct Application {
    listener: TcpListener,
    router: Router,
    /// `GET /metrics` on an address of its own (`--metrics-listen`).
    metrics: Option<(TcpListener, Router)>,
    state: AppState,
    indexer: Indexer,
}

/// Opens the search backends configured for this instance: Meilisearch when `MEILI_URL` is
/// set, otherwise embedded tantivy indexes in the data dir.
pub async fn search_backends(
    db: &crate::config::DbArgs,
    search: &crate::config::SearchArgs,
) -> anyhow::Result<Backends> {
    if let Some(url) = &search.meili_url {
        let key = search.meili_master_key.as_deref();
        let open = |uid: &str| {
            let uid = uid.to_owned();
            async move {
                let backend = MeiliBackend::connect(url, key, &uid)
                    .await
                    .with_context(|| format!("cannot set up the Meilisearch index {uid}"))?;
                anyhow::Ok(Arc::new(backend) as Arc<dyn SearchBackend>)
            }
        };
        return Ok(Backends {
            clauses: open(&search.meili_index).await?,
            templates: open(&search.meili_template_index).await?,
        });
    }
    let open = |name: &str| {
        let dir = db.data_dir.join("index").join(name);
        let backend = match TantivyBackend::open(&dir) {
            Err(search::SearchError::Locked) => anyhow::bail!(
                "the data folder {} is in use by another running commons server (its search \
                 index is locked): stop that server, or give this one another --data-dir",
                db.data_dir.display()
            ),
            opened => opened
                .with_context(|| format!("cannot open the search index in {}", dir.display()))?,
        }
        .with_gate(search.gate());
        anyhow::Ok(Arc::new(backend) as Arc<dyn SearchBackend>)
    };
    Ok(Backends {
        clauses: open("clauses")?,
        templates: open("templates")?,
    })
}

impl Application {
    /// Connects, migrates, loads the demo catalogue when asked and binds the listener.
    pub async fn build(args: ServeArgs) -> anyhow::Result<Self> {
        Self::build_with_search(args, None).await
    }

    /// Like [`Application::build`], with a given search backend instead of the configured one.
    pub async fn build_with_search(
        args: ServeArgs,
        search: Option<Backends>,
    ) -> anyhow::Result<Self> {
        let verifier = Arc::new(verifier(&args.auth)?);
        let rows = Arc::new(ClauseRowCache::default());
        let db = if args.keep_pages {
            db::connect_and_migrate_watched(&args.db, Arc::clone(&rows)).await?
        } else {
            db::connect_and_migrate(&args.db).await?
        };
        if args.load_demo() {
            seed::load_demo_if_empty(&db).await?;
        }
        let search = match search {
            Some(search) => search,
            None => search_backends(&args.db, &args.search).await?,
        };
        indexing::ensure_initialised(&db, &search).await?;
        let indexer_handle = IndexerHandle::default();
        let reader = db::connect_reader(&args.db, &db).await?;
        let indexer = Indexer::new(db.clone(), search.clone(), indexer_handle.clone())
            .with_reader(reader.clone())
            .with_row_cache(Arc::clone(&rows));
        let metrics = Arc::new(crate::metrics::Metrics::default());
        let schema = graphql::build_schema(
            db.clone(),
            graphql::Reader(reader.clone()),
            Arc::clone(&rows),
            SearchHandle(search.clone()),
            indexer_handle.clone(),
            &args.limits,
            Arc::clone(&metrics),
        );
        let state = AppState(Arc::new(App {
            db,
            reader,
            instance: args.export.public_url.trim_end_matches('/').to_owned(),
            snapshots: Arc::new(tokio::sync::Semaphore::new(
                crate::export::CONCURRENT_SNAPSHOTS,
            )),
            imports: Arc::new(tokio::sync::Semaphore::new(
                crate::import::CONCURRENT_IMPORTS,
            )),
            search,
            schema,
            verifier,
            indexer: indexer_handle,
            ocds: args.export.ocds(),
            metrics,
            rate_limiter: crate::ratelimit::RateLimiter::new(
                args.rate_limits.clone(),
                args.trusted_proxies.clone(),
            ),
            rows,
        }));
        let router = router(state.clone(), &args);
        let listener = TcpListener::bind(args.listen).await.map_err(|e| {
            let hint = if e.kind() == std::io::ErrorKind::AddrInUse {
                format!(
                    ": port {} is taken, by another server perhaps; pick another with --listen",
                    args.listen.port()
                )
            } else {
                String::new()
            };
            anyhow::anyhow!("cannot listen on {}: {e}{hint}", args.listen)
        })?;
        let metrics = match args.metrics_listen {
            Some(address) => {
                let listener = TcpListener::bind(address).await.map_err(|e| {
                    anyhow::anyhow!("cannot listen on {address} (--metrics-listen): {e}")
                })?;
                let router = Router::new()
                    .route("/metrics", get(crate::metrics::handler))
                    .with_state(state.clone());
                Some((listener, router))
            }
            None => None,
        };
        Ok(Self {
            listener,
            router,
            metrics,
            state,
            indexer,
        })
    }

    /// The address `GET /metrics` is served on when it has one of its own.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics
            .as_ref()
            .and_then(|(listener, _)| listener.local_addr().ok())
    }

    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let indexer = tokio::spawn(self.indexer.run());
        let db = self.state.db.clone();
        tokio::spawn(async move { crate::service::cpv::warn_off_list(&db).await });
        // An identity provider's keys: fetched now and kept fresh while the server runs.
        let keys = self
            .state
            .verifier
            .remote_keys()
            .map(|keys| tokio::spawn(keys.keep_fresh()));
        // The metrics listener ends with the process; a scrape holds nothing to finish.
        let metrics = self.metrics.map(|(listener, router)| {
            tokio::spawn(async move {
                if let Err(error) = axum::serve(listener, router).await {
                    tracing::error!(%error, "the metrics listener stopped");
                }
            })
        });
        let served = axum::serve(
            self.listener,
            // The peer's address: rate limits count anonymous clients by it.
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        // Wait until the indexer has stopped, so nothing of this server writes after it returns.
        indexer.abort();
        let _ = indexer.await;
        if let Some(metrics) = metrics {
            metrics.abort();
        }
        if let Some(keys) = keys {
            keys.abort();
        }
        Ok(served?)
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
