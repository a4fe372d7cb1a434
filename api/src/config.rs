//! Configuration, read once from flags or environment variables (flags win).
//! Every option is listed in README.md; secrets are never printed.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::{ArgAction, Args, ValueEnum};

/// Where the catalogue is stored.
#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// Folder for the embedded SQLite database (and, later, the search index).
    #[arg(long, env = "COMMONS_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// PostgreSQL or SQLite URL; defaults to `sqlite://<data-dir>/commons.db`.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

/// Which search backend serves `searchClauses`.
#[derive(Debug, Clone, Args)]
pub struct SearchArgs {
    /// Meilisearch URL; when unset, the embedded index in the data dir is used.
    #[arg(long, env = "MEILI_URL")]
    pub meili_url: Option<String>,

    /// Meilisearch API key (the master key or a key allowed to manage the index).
    #[arg(long, env = "MEILI_MASTER_KEY", hide_env_values = true)]
    pub meili_master_key: Option<String>,

    /// Meilisearch index uid for clauses.
    #[arg(long, env = "MEILI_INDEX", default_value = "clauses")]
    pub meili_index: String,

    /// Meilisearch index uid for templates.
    #[arg(long, env = "MEILI_TEMPLATE_INDEX", default_value = "templates")]
    pub meili_template_index: String,

    /// Embedded index: searches run at once per index; 0 means one per CPU core.
    #[arg(long, env = "COMMONS_SEARCH_SLOTS", default_value_t = 0)]
    pub search_slots: usize,

    /// Embedded index: how long a search waits for a free slot before it is refused with
    /// SEARCH_UNAVAILABLE (overload is answered at once instead of queued).
    #[arg(long, env = "COMMONS_SEARCH_QUEUE_WAIT", default_value_t = search::tantivy_backend::SEARCH_QUEUE_WAIT.into())]
    pub search_queue_wait: humantime::Duration,
}

impl SearchArgs {
    /// The bound on concurrent embedded searches these options ask for.
    pub fn gate(&self) -> search::tantivy_backend::SearchGate {
        search::tantivy_backend::SearchGate::new(self.search_slots, self.search_queue_wait.into())
    }
}

/// Public-key algorithms accepted for production tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "UPPER")]
pub enum PublicKeyAlgorithm {
    Rs256,
    Es256,
}

impl From<PublicKeyAlgorithm> for jsonwebtoken::Algorithm {
    fn from(value: PublicKeyAlgorithm) -> Self {
        match value {
            PublicKeyAlgorithm::Rs256 => Self::RS256,
            PublicKeyAlgorithm::Es256 => Self::ES256,
        }
    }
}

/// Development secret used when nothing else is configured; a warning says so at start-up.
pub const DEV_JWT_SECRET: &str = "commons-development-secret-do-not-use-in-production";

/// Token verification.
#[derive(Debug, Clone, Args)]
pub struct AuthArgs {
    /// HS256 secret for development tokens (`commons token`). Ignored when a public key or
    /// JWKS is configured.
    #[arg(long, env = "COMMONS_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// PEM public key for production tokens (needs --jwt-algorithm).
    #[arg(long, env = "COMMONS_JWT_PUBLIC_KEY", conflicts_with = "jwt_jwks")]
    pub jwt_public_key: Option<PathBuf>,

    /// Algorithm of --jwt-public-key.
    #[arg(long, env = "COMMONS_JWT_ALGORITHM", value_enum)]
    pub jwt_algorithm: Option<PublicKeyAlgorithm>,

    /// JWKS file with production public keys (RS256 or ES256), selected by `kid`.
    #[arg(long, env = "COMMONS_JWT_JWKS")]
    pub jwt_jwks: Option<PathBuf>,

    /// JWKS URL of an identity provider (Entra ID, Keycloak, ID-porten, Suomi.fi): keys are
    /// fetched over HTTPS, kept, fetched again every 15 minutes and, at most once a minute,
    /// for a token with an unknown `kid`.
    #[arg(long, env = "COMMONS_JWT_JWKS_URL", conflicts_with_all = ["jwt_jwks", "jwt_public_key"])]
    pub jwt_jwks_url: Option<String>,

    /// Find the JWKS URL by OpenID Connect discovery: `jwks_uri` of
    /// `{--jwt-issuer}/.well-known/openid-configuration`.
    #[arg(long, env = "COMMONS_JWT_OIDC_DISCOVERY", conflicts_with_all = ["jwt_jwks", "jwt_public_key", "jwt_jwks_url"])]
    pub jwt_oidc_discovery: bool,

    /// Claim holding the caller's organisation id (a dotted path for a nested claim).
    #[arg(long, env = "COMMONS_JWT_ORG_CLAIM", default_value = "org")]
    pub jwt_org_claim: String,

    /// Claim holding the caller's roles: an array or a space-separated string of
    /// `publisher`, `agency`, `admin` (any case); e.g. `realm_access.roles` for Keycloak.
    #[arg(long, env = "COMMONS_JWT_ROLES_CLAIM", default_value = "roles")]
    pub jwt_roles_claim: String,

    /// Required `iss` claim.
    #[arg(
        long,
        env = "COMMONS_JWT_ISSUER",
        default_value = "green-procurement-commons"
    )]
    pub jwt_issuer: String,

    /// Required `aud` claim.
    #[arg(long, env = "COMMONS_JWT_AUDIENCE", default_value = "commons-api")]
    pub jwt_audience: String,
}

impl AuthArgs {
    /// The HS256 secret in force, and whether it is the built-in development default.
    pub fn hs256_secret(&self) -> (&str, bool) {
        match self.jwt_secret.as_deref() {
            Some(secret) => (secret, false),
            None => (DEV_JWT_SECRET, true),
        }
    }
}

fn parse_on_off(value: &str) -> Result<bool, String> {
    match value {
        "on" | "true" => Ok(true),
        "off" | "false" => Ok(false),
        other => Err(format!("expected on or off, not {other:?}")),
    }
}

/// Limits that keep one request from taking the service down.
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Deepest allowed GraphQL selection nesting.
    #[arg(long, env = "COMMONS_MAX_DEPTH", default_value_t = 12)]
    pub max_depth: usize,

    /// Answer introspection queries (`__schema`, `__type`), as GraphiQL and code generators
    /// send them: `on` (default) or `off`. With `off` the schema is still served as SDL at
    /// `/schema.graphql`.
    #[arg(long, env = "COMMONS_INTROSPECTION", default_value = "on", value_parser = parse_on_off, action = clap::ArgAction::Set)]
    pub introspection: bool,

    /// Highest allowed query complexity (list fields count `first` times their selection).
    #[arg(long, env = "COMMONS_MAX_COMPLEXITY", default_value_t = 2_000)]
    pub max_complexity: usize,

    /// Largest `first` a connection accepts.
    #[arg(long, env = "COMMONS_MAX_PAGE_SIZE", default_value_t = 100)]
    pub max_page_size: usize,

    /// Largest request body in bytes.
    #[arg(long, env = "COMMONS_MAX_BODY_BYTES", default_value_t = 256 * 1024)]
    pub max_body_bytes: usize,

    /// Largest body of `POST /import/clauses.ndjson` in bytes (also at most 5,000 clauses).
    #[arg(long, env = "COMMONS_MAX_IMPORT_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_import_bytes: usize,

    /// Time a request may take before it is answered 408.
    #[arg(long, env = "COMMONS_REQUEST_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    pub request_timeout: Duration,
}

/// How exports describe this instance.
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// Public base URL of this instance, used in export package URIs.
    #[arg(
        long,
        env = "COMMONS_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub public_url: String,

    /// Registered OCDS OCID prefix (`ocds-` and six characters) for exported releases.
    #[arg(long, env = "COMMONS_OCID_PREFIX", default_value = "ocds-gpcmns", value_parser = parse_ocid_prefix)]
    pub ocid_prefix: String,

    /// Publisher name written into export packages.
    #[arg(
        long,
        env = "COMMONS_PUBLISHER_NAME",
        default_value = "Green Procurement Commons"
    )]
    pub publisher_name: String,
}

fn parse_ocid_prefix(value: &str) -> Result<String, String> {
    let ok = value.len() == 11
        && value.starts_with("ocds-")
        && value[5..].chars().all(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(value.to_owned())
    } else {
        Err("must be `ocds-` followed by six letters or digits".to_owned())
    }
}

impl ExportArgs {
    pub fn ocds(&self) -> crate::export::ocds::PackageInfo {
        crate::export::ocds::PackageInfo {
            uri: format!("{}/export/ocds", self.public_url.trim_end_matches('/')),
            ocid_prefix: self.ocid_prefix.clone(),
            publisher: self.publisher_name.clone(),
        }
    }
}

/// Everything `commons serve` needs.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "COMMONS_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Load the demo catalogue into an empty database at start-up.
    #[arg(long, env = "COMMONS_DEMO", default_value_t = true, action = ArgAction::Set)]
    pub demo: bool,

    /// Start with an empty catalogue (same as COMMONS_DEMO=false).
    #[arg(long)]
    pub no_demo: bool,

    /// Origins allowed by CORS (comma-separated); `*` allows any origin.
    #[arg(
        long,
        env = "COMMONS_CORS_ORIGINS",
        value_delimiter = ',',
        default_value = "*"
    )]
    pub cors_origins: Vec<String>,

    /// Serve `GET /metrics` (Prometheus text format) on this address only, instead of on the
    /// main listener: e.g. `127.0.0.1:9090`, reachable by the scraper and not the public.
    #[arg(long, env = "COMMONS_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// Requests per second and burst per client class, e.g.
    /// `anonymous=20/40,publisher=50/100,agency=200/400,admin=200/400`; a class left out
    /// is not limited; `off` (the default) limits nobody. Clients are token subjects, or
    /// addresses for anonymous callers. Refusals are `429` with `Retry-After`.
    #[arg(long, env = "COMMONS_RATE_LIMITS", default_value = "off")]
    pub rate_limits: crate::ratelimit::Limits,

    /// Proxies whose `X-Forwarded-For` names the client (addresses or networks,
    /// comma-separated, e.g. `10.0.0.0/8`); from anyone else the header is ignored.
    #[arg(long, env = "COMMONS_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<crate::ratelimit::Proxy>,

    /// Answer pages shown before from memory until something is written (clause rows, list
    /// pages, organisations). On PostgreSQL the server listens for the notices of committed
    /// writes; turn it off behind a connection pooler in transaction mode, which cannot keep a
    /// `LISTEN`.
    #[arg(long, env = "COMMONS_KEEP_PAGES", default_value_t = true, action = ArgAction::Set)]
    pub keep_pages: bool,

    #[command(flatten)]
    pub db: DbArgs,

    #[command(flatten)]
    pub search: SearchArgs,

    #[command(flatten)]
    pub auth: AuthArgs,

    #[command(flatten)]
    pub limits: LimitArgs,

    #[command(flatten)]
    pub export: ExportArgs,
}

impl ServeArgs {
    pub fn load_demo(&self) -> bool {
        self.demo && !self.no_demo
    }
}
