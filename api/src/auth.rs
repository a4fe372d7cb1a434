//! Bearer-token authentication.
//!
//! No `Authorization` header means an anonymous caller; a header that is present but invalid is
//! rejected with `UNAUTHENTICATED` and never downgraded to anonymous. Algorithms are pinned by
//! configuration: an HS256 deployment accepts only HS256, a public-key deployment only the
//! configured RS256/ES256 keys, so a token cannot choose how it is verified.

use std::{path::Path, sync::Arc, time::Duration};

use axum::{
    extract::{FromRef, FromRequestParts},
    http::{StatusCode, header::AUTHORIZATION, request::Parts},
    response::{IntoResponse, Response},
};
use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode,
    jwk::{AlgorithmParameters, JwkSet, KeyAlgorithm},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{ErrorCode, ServiceError, ServiceResult};

/// Roles a token can carry (`roles` claim, lower case).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, async_graphql::Enum,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Writes clauses, templates and tender results of its own organisation.
    Publisher,
    /// National agency: sees every statistics cell and mirrors the catalogue.
    Agency,
    /// Platform administrator: manages organisations.
    Admin,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<Uuid>,
    #[serde(default)]
    pub roles: Vec<String>,
    pub iss: String,
    pub aud: String,
    pub exp: u64,
    #[serde(default)]
    pub iat: u64,
}

/// A verified caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub sub: String,
    pub org: Option<Uuid>,
    pub roles: Vec<Role>,
}

impl Caller {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// Who is calling: attached to every GraphQL request.
#[derive(Debug, Clone)]
pub enum Identity {
    Anonymous,
    User(Caller),
}

impl Identity {
    pub fn caller(&self) -> ServiceResult<&Caller> {
        match self {
            Self::Anonymous => Err(ServiceError::Unauthenticated),
            Self::User(caller) => Ok(caller),
        }
    }

    /// The caller's organisation, if any: decides which drafts are visible.
    pub fn org(&self) -> Option<Uuid> {
        match self {
            Self::Anonymous => None,
            Self::User(caller) => caller.org,
        }
    }

    pub fn has(&self, role: Role) -> bool {
        matches!(self, Self::User(caller) if caller.has(role))
    }

    /// A caller allowed to write catalogue records, with the organisation it writes into.
    pub fn publisher(&self) -> ServiceResult<(&Caller, Uuid)> {
        let caller = self.caller()?;
        if !(caller.has(Role::Publisher) || caller.has(Role::Admin)) {
            return Err(ServiceError::forbidden("the publisher role is required"));
        }
        let org = caller.org.ok_or_else(|| {
            ServiceError::forbidden("the token names no organisation (`org` claim)")
        })?;
        Ok((caller, org))
    }

    pub fn admin(&self) -> ServiceResult<&Caller> {
        let caller = self.caller()?;
        if caller.has(Role::Admin) {
            Ok(caller)
        } else {
            Err(ServiceError::forbidden("the admin role is required"))
        }
    }
}

/// Why a token was refused. Only the kind is reported; the token itself is never logged.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the Authorization header must be `Bearer <token>`")]
    Malformed,
    #[error("invalid token")]
    Invalid(#[source] jsonwebtoken::errors::Error),
    #[error("token algorithm is not accepted")]
    Algorithm,
    #[error("no configured key matches the token")]
    UnknownKey,
    #[error("the token's {0} claim is not usable")]
    Claims(&'static str),
}

/// A claim by name, or by a dotted path into nested objects.
fn claim<'a>(claims: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    if let Some(value) = claims.get(path) {
        return Some(value);
    }
    path.split('.')
        .try_fold(claims, |value, key| value.get(key))
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid key material in {path}: {detail}")]
    Invalid { path: String, detail: String },
    #[error("a public key needs its algorithm: set COMMONS_JWT_ALGORITHM to RS256 or ES256")]
    MissingAlgorithm,
    #[error("algorithm {0:?} is not supported for public keys (use RS256 or ES256)")]
    UnsupportedAlgorithm(Algorithm),
}

enum Keys {
    /// Development: one HS256 secret.
    Shared(DecodingKey),
    /// Production: one PEM public key with its pinned algorithm.
    Public(Algorithm, DecodingKey),
    /// Production: keys from a JWKS file, each pinned to its own algorithm.
    Set(Vec<(Option<String>, Algorithm, DecodingKey)>),
    /// Production: keys an identity provider publishes at a JWKS URL, fetched and kept
    /// fresh (see [`RemoteKeys`]).
    Remote(Arc<RemoteKeys>),
}

type KeyList = Vec<(Option<String>, Algorithm, DecodingKey)>;

/// Where the organisation and the roles are read from a token: claim names, a dotted path
/// for nested claims (`realm_access.roles` in Keycloak).
#[derive(Debug, Clone)]
pub struct ClaimNames {
    pub org: String,
    pub roles: String,
}

impl Default for ClaimNames {
    fn default() -> Self {
        Self {
            org: "org".into(),
            roles: "roles".into(),
        }
    }
}

/// How often the key set is fetched anew while every token's key is known.
const KEYS_REFRESH: Duration = Duration::from_secs(15 * 60);
/// The soonest the key set is fetched again for a token whose `kid` is unknown.
const UNKNOWN_KID_REFETCH: Duration = Duration::from_secs(60);
/// How long a fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// An identity provider's key set: fetched over HTTPS, kept in memory, fetched again every
/// [`KEYS_REFRESH`] and, at most once a minute, when a token names a key it lacks (the
/// provider rotated its keys). While the provider cannot be reached the keys fetched last
/// stay in use.
pub struct RemoteKeys {
    /// The JWKS URL, or the issuer whose OpenID configuration names it.
    source: KeySource,
    client: reqwest::Client,
    keys: std::sync::RwLock<KeyList>,
    /// When a token's unknown `kid` last made the set be fetched: such fetches are what a
    /// client can cause, so they are limited; the scheduled ones are not counted.
    last_unknown_kid_fetch: tokio::sync::Mutex<Option<std::time::Instant>>,
}

#[derive(Debug, Clone)]
pub enum KeySource {
    Jwks(String),
    /// OpenID Connect discovery: `{issuer}/.well-known/openid-configuration`'s `jwks_uri`.
    Discovery(String),
}

/// Keys are fetched over HTTPS; plain HTTP only from this machine (tests, a local provider).
fn fetchable(url: &str) -> Result<reqwest::Url, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("{url} is not a URL: {e}"))?;
    let host = parsed.host_str().unwrap_or("").trim_matches(['[', ']']);
    let local = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if local => Ok(parsed),
        _ => Err(format!("{url}: keys are fetched over https")),
    }
}

impl RemoteKeys {
    pub fn new(source: KeySource) -> Result<Self, KeyError> {
        let url = match &source {
            KeySource::Jwks(url) | KeySource::Discovery(url) => url,
        };
        fetchable(url).map_err(|detail| KeyError::Invalid {
            path: url.clone(),
            detail,
        })?;
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .build()
            .map_err(|e| KeyError::Invalid {
                path: url.clone(),
                detail: e.to_string(),
            })?;
        Ok(Self {
            source,
            client,
            keys: std::sync::RwLock::default(),
            last_unknown_kid_fetch: tokio::sync::Mutex::default(),
        })
    }

    async fn get_json(&self, url: &str) -> anyhow::Result<serde_json::Value> {
        let url = fetchable(url).map_err(anyhow::Error::msg)?;
        let response = self.client.get(url).send().await?.error_for_status()?;
        Ok(response.json().await?)
    }

    /// Fetches the key set now and replaces the keys kept; on failure the old ones stay.
    pub async fn fetch(&self) -> anyhow::Result<usize> {
        let jwks_url = match &self.source {
            KeySource::Jwks(url) => url.clone(),
            KeySource::Discovery(issuer) => {
                let url = format!(
                    "{}/.well-known/openid-configuration",
                    issuer.trim_end_matches('/')
                );
                let configuration = self.get_json(&url).await?;
                configuration["jwks_uri"]
                    .as_str()
                    .ok_or_else(|| anyhow::anyhow!("{url} names no jwks_uri"))?
                    .to_owned()
            }
        };
        let raw = self.get_json(&jwks_url).await?;
        let set: JwkSet = serde_json::from_value(raw)?;
        // A provider may publish keys this service does not accept (encryption keys, other
        // algorithms): those are skipped, not fatal.
        let keys: KeyList = set
            .keys
            .iter()
            .filter_map(|jwk| accepted_key(jwk).ok())
            .collect();
        if keys.is_empty() {
            anyhow::bail!("{jwks_url} has no RS256 or ES256 key");
        }
        let count = keys.len();
        if let Ok(mut kept) = self.keys.write() {
            *kept = keys;
        }
        Ok(count)
    }

    /// Fetches again for an unknown `kid`, unless a fetch happened within the last minute.
    /// Returns whether it fetched.
    async fn refetch_for_unknown_key(&self) -> bool {
        let mut last = self.last_unknown_kid_fetch.lock().await;
        if last.is_some_and(|at| at.elapsed() < UNKNOWN_KID_REFETCH) {
            return false;
        }
        *last = Some(std::time::Instant::now());
        match self.fetch().await {
            Ok(count) => {
                tracing::info!(
                    keys = count,
                    "token signing keys fetched again for an unknown key id"
                );
                true
            }
            Err(error) => {
                tracing::warn!(%error, "cannot fetch the token signing keys; the keys fetched before stay in use");
                false
            }
        }
    }

    /// Fetches at start, then every [`KEYS_REFRESH`] (every 30 s until a first fetch worked).
    pub async fn keep_fresh(self: Arc<Self>) {
        loop {
            let ok = match self.fetch().await {
                Ok(count) => {
                    tracing::info!(keys = count, "token signing keys fetched");
                    true
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot fetch the token signing keys; the keys fetched before stay in use");
                    false
                }
            };
            let has_keys = self.keys.read().is_ok_and(|k| !k.is_empty());
            let wait = if ok || has_keys {
                KEYS_REFRESH
            } else {
                Duration::from_secs(30)
            };
            tokio::time::sleep(wait).await;
        }
    }
}

/// A key of a set with the one algorithm it is used with (RS256 or ES256).
fn accepted_key(
    jwk: &jsonwebtoken::jwk::Jwk,
) -> Result<(Option<String>, Algorithm, DecodingKey), String> {
    let algorithm = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(_) => Algorithm::ES256,
        _ => return Err("only RSA and EC keys are accepted".into()),
    };
    let declared_matches = match jwk.common.key_algorithm {
        None => true,
        Some(KeyAlgorithm::RS256) => algorithm == Algorithm::RS256,
        Some(KeyAlgorithm::ES256) => algorithm == Algorithm::ES256,
        Some(_) => false,
    };
    if !declared_matches {
        return Err("only RS256 and ES256 keys are accepted".into());
    }
    if jwk
        .common
        .public_key_use
        .as_ref()
        .is_some_and(|u| *u != jsonwebtoken::jwk::PublicKeyUse::Signature)
    {
        return Err("not a signing key".into());
    }
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    Ok((jwk.common.key_id.clone(), algorithm, key))
}

/// Verifies bearer tokens; cheap to share behind an `Arc`.
pub struct JwtVerifier {
    keys: Keys,
    issuer: String,
    audience: String,
    claims: ClaimNames,
}

const PUBLIC_KEY_ALGORITHMS: [Algorithm; 2] = [Algorithm::RS256, Algorithm::ES256];

fn read_key_file(path: &Path) -> Result<Vec<u8>, KeyError> {
    std::fs::read(path).map_err(|source| KeyError::Read {
        path: path.display().to_string(),
        source,
    })
}

fn invalid(path: &Path, detail: impl ToString) -> KeyError {
    KeyError::Invalid {
        path: path.display().to_string(),
        detail: detail.to_string(),
    }
}

impl JwtVerifier {
    pub fn hs256(secret: &[u8], issuer: &str, audience: &str) -> Self {
        Self {
            keys: Keys::Shared(DecodingKey::from_secret(secret)),
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            claims: ClaimNames::default(),
        }
    }

    /// A PEM public key (`-----BEGIN PUBLIC KEY-----`) used with `algorithm` only.
    pub fn public_pem(
        path: &Path,
        algorithm: Option<Algorithm>,
        issuer: &str,
        audience: &str,
    ) -> Result<Self, KeyError> {
        let algorithm = algorithm.ok_or(KeyError::MissingAlgorithm)?;
        let pem = read_key_file(path)?;
        let key = match algorithm {
            Algorithm::RS256 => DecodingKey::from_rsa_pem(&pem),
            Algorithm::ES256 => DecodingKey::from_ec_pem(&pem),
            other => return Err(KeyError::UnsupportedAlgorithm(other)),
        }
        .map_err(|e| invalid(path, e))?;
        Ok(Self {
            keys: Keys::Public(algorithm, key),
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            claims: ClaimNames::default(),
        })
    }

    /// A JWKS file. Each key must state (or imply by its type) RS256 or ES256.
    pub fn jwks(path: &Path, issuer: &str, audience: &str) -> Result<Self, KeyError> {
        let raw = read_key_file(path)?;
        let set: JwkSet = serde_json::from_slice(&raw).map_err(|e| invalid(path, e))?;
        let mut keys = Vec::new();
        for jwk in &set.keys {
            keys.push(accepted_key(jwk).map_err(|detail| invalid(path, detail))?);
        }
        if keys.is_empty() {
            return Err(invalid(path, "the key set is empty"));
        }
        Ok(Self {
            keys: Keys::Set(keys),
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            claims: ClaimNames::default(),
        })
    }

    /// Keys an identity provider publishes (`--jwt-jwks-url`, or OpenID discovery from the
    /// issuer): none are known until [`RemoteKeys::keep_fresh`] has fetched them.
    pub fn remote(source: KeySource, issuer: &str, audience: &str) -> Result<Self, KeyError> {
        Ok(Self {
            keys: Keys::Remote(Arc::new(RemoteKeys::new(source)?)),
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            claims: ClaimNames::default(),
        })
    }

    /// Reads the organisation and the roles from these claims instead of `org` and `roles`.
    pub fn with_claims(mut self, claims: ClaimNames) -> Self {
        self.claims = claims;
        self
    }

    /// The provider's key set, when keys come from a URL.
    pub fn remote_keys(&self) -> Option<Arc<RemoteKeys>> {
        match &self.keys {
            Keys::Remote(remote) => Some(Arc::clone(remote)),
            _ => None,
        }
    }

    fn key_for(&self, header: &Header) -> Result<(Algorithm, DecodingKey), AuthError> {
        fn find(keys: &KeyList, header: &Header) -> Result<(Algorithm, DecodingKey), AuthError> {
            let found = match &header.kid {
                Some(kid) => keys.iter().find(|(id, ..)| id.as_deref() == Some(kid)),
                None if keys.len() == 1 => keys.first(),
                None => None,
            };
            let (_, algorithm, key) = found.ok_or(AuthError::UnknownKey)?;
            Ok((*algorithm, key.clone()))
        }
        let (algorithm, key) = match &self.keys {
            Keys::Shared(key) => (Algorithm::HS256, key.clone()),
            Keys::Public(algorithm, key) => (*algorithm, key.clone()),
            Keys::Set(keys) => find(keys, header)?,
            Keys::Remote(remote) => {
                let keys = remote.keys.read().map_err(|_| AuthError::UnknownKey)?;
                find(&keys, header)?
            }
        };
        if header.alg != algorithm {
            return Err(AuthError::Algorithm);
        }
        Ok((algorithm, key))
    }

    /// Like [`JwtVerifier::verify`]; a token naming a key the provider's set lacks makes the
    /// set be fetched again (at most once a minute) before it is refused.
    pub async fn verify_fresh(&self, token: &str) -> Result<Caller, AuthError> {
        match self.verify(token) {
            Err(AuthError::UnknownKey) => match &self.keys {
                Keys::Remote(remote) if remote.refetch_for_unknown_key().await => {
                    self.verify(token)
                }
                _ => Err(AuthError::UnknownKey),
            },
            other => other,
        }
    }

    pub fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        let header = decode_header(token).map_err(AuthError::Invalid)?;
        let (algorithm, key) = self.key_for(&header)?;
        if !matches!(self.keys, Keys::Shared(_)) && !PUBLIC_KEY_ALGORITHMS.contains(&algorithm) {
            return Err(AuthError::Algorithm);
        }
        let mut validation = Validation::new(algorithm);
        validation.algorithms = vec![algorithm];
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 30;
        let data =
            decode::<serde_json::Value>(token, &key, &validation).map_err(AuthError::Invalid)?;
        let claims = data.claims;
        let sub = claims["sub"]
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or(AuthError::Claims("sub"))?
            .to_owned();
        let org = match claim(&claims, &self.claims.org) {
            None | Some(serde_json::Value::Null) => None,
            Some(value) => Some(
                value
                    .as_str()
                    .and_then(|v| Uuid::parse_str(v).ok())
                    .ok_or(AuthError::Claims("organisation"))?,
            ),
        };
        // An array of names, or one string of names separated by spaces; names this
        // service does not know are ignored, case does not matter (`Publisher`).
        let names: Vec<String> = match claim(&claims, &self.claims.roles) {
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            Some(serde_json::Value::String(text)) => {
                text.split_whitespace().map(str::to_owned).collect()
            }
            _ => Vec::new(),
        };
        let mut roles: Vec<Role> = names
            .iter()
            .filter_map(|role| {
                serde_json::from_value(serde_json::Value::from(role.to_ascii_lowercase())).ok()
            })
            .collect();
        roles.dedup();
        Ok(Caller { sub, org, roles })
    }
}

/// The token of an `Authorization: Bearer …` value (the scheme in any case, RFC 9110
/// §11.1); `None` for another scheme or an empty token.
pub fn bearer_token(value: &axum::http::HeaderValue) -> Option<&str> {
    value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty())
}

/// A token verified earlier in the same request (by the rate limiter), kept in the request's
/// extensions so the extractors after it do not verify it again.
#[derive(Clone)]
pub struct Verified {
    token: Arc<str>,
    caller: Caller,
}

impl Verified {
    pub fn new(token: &str, caller: Caller) -> Self {
        Self {
            token: Arc::from(token),
            caller,
        }
    }

    pub fn caller(&self) -> &Caller {
        &self.caller
    }
}

impl JwtVerifier {
    /// [`JwtVerifier::verify_fresh`], or the caller of this very token when it was verified
    /// earlier in the request.
    pub async fn verify_in(
        &self,
        extensions: &axum::http::Extensions,
        token: &str,
    ) -> Result<Caller, AuthError> {
        match extensions.get::<Verified>() {
            Some(verified) if &*verified.token == token => Ok(verified.caller.clone()),
            _ => self.verify_fresh(token).await,
        }
    }
}

/// Signs a development token with the HS256 secret (`commons token`).
pub fn issue_dev_token(
    secret: &[u8],
    issuer: &str,
    audience: &str,
    sub: &str,
    org: Option<Uuid>,
    roles: &[Role],
    ttl: Duration,
) -> anyhow::Result<String> {
    let now = jsonwebtoken::get_current_timestamp();
    let claims = Claims {
        sub: sub.to_owned(),
        org,
        roles: roles
            .iter()
            .map(|role| {
                serde_json::to_value(role).map(|v| v.as_str().unwrap_or_default().to_owned())
            })
            .collect::<Result<_, _>>()?,
        iss: issuer.to_owned(),
        aud: audience.to_owned(),
        exp: now + ttl.as_secs(),
        iat: now,
    };
    Ok(encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )?)
}

/// The answer to a refused token: 401 with a GraphQL-shaped body.
#[derive(Debug)]
pub struct AuthRejection(AuthError);

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        tracing::info!(reason = %self.0, "token rejected");
        let body = serde_json::json!({
            "errors": [{
                "message": self.0.to_string(),
                "extensions": { "code": ErrorCode::Unauthenticated.as_str() }
            }]
        });
        (
            StatusCode::UNAUTHORIZED,
            [(axum::http::header::WWW_AUTHENTICATE, "Bearer")],
            axum::Json(body),
        )
            .into_response()
    }
}

impl<S> FromRequestParts<S> for Identity
where
    Arc<JwtVerifier>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let mut values = parts.headers.get_all(AUTHORIZATION).iter();
        let Some(value) = values.next() else {
            return Ok(Self::Anonymous);
        };
        // Two credentials are one too many: which one counts must not be a guess.
        if values.next().is_some() {
            return Err(AuthRejection(AuthError::Malformed));
        }
        let token = bearer_token(value).ok_or(AuthRejection(AuthError::Malformed))?;
        let verifier = Arc::<JwtVerifier>::from_ref(state);
        verifier
            .verify_in(&parts.extensions, token)
            .await
            .map(Self::User)
            .map_err(AuthRejection)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_verification_is_reused_only_for_the_same_token() {
        let verifier = JwtVerifier::hs256(b"secret", "iss", "aud");
        let mut extensions = axum::http::Extensions::new();
        let stashed = Caller {
            sub: "verified-before".into(),
            org: None,
            roles: vec![Role::Agency],
        };
        extensions.insert(Verified::new("token-a", stashed));
        let reused = verifier
            .verify_in(&extensions, "token-a")
            .await
            .expect("reused");
        assert_eq!(reused.sub, "verified-before");
        // Any other token is verified, and this one is no token at all.
        assert!(verifier.verify_in(&extensions, "token-b").await.is_err());
        let token = issue_dev_token(
            b"secret",
            "iss",
            "aud",
            "someone",
            None,
            &[],
            Duration::from_secs(60),
        )
        .expect("token");
        let fresh = verifier
            .verify_in(&extensions, &token)
            .await
            .expect("verified");
        assert_eq!(fresh.sub, "someone");
        assert_eq!(
            bearer_token(&axum::http::HeaderValue::from_static("bearer  abc ")),
            Some("abc")
        );
        assert_eq!(
            bearer_token(&axum::http::HeaderValue::from_static("Basic abc")),
            None
        );
        assert_eq!(
            bearer_token(&axum::http::HeaderValue::from_static("Bearer ")),
            None
        );
    }
}
