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
}

/// Verifies bearer tokens; cheap to share behind an `Arc`.
pub struct JwtVerifier {
    keys: Keys,
    issuer: String,
    audience: String,
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
        })
    }

    /// A JWKS file. Each key must state (or imply by its type) RS256 or ES256.
    pub fn jwks(path: &Path, issuer: &str, audience: &str) -> Result<Self, KeyError> {
        let raw = read_key_file(path)?;
        let set: JwkSet = serde_json::from_slice(&raw).map_err(|e| invalid(path, e))?;
        let mut keys = Vec::new();
        for jwk in &set.keys {
            let algorithm = match &jwk.algorithm {
                AlgorithmParameters::RSA(_) => Algorithm::RS256,
                AlgorithmParameters::EllipticCurve(_) => Algorithm::ES256,
                _ => return Err(invalid(path, "only RSA and EC keys are accepted")),
            };
            let declared_matches = match jwk.common.key_algorithm {
                None => true,
                Some(KeyAlgorithm::RS256) => algorithm == Algorithm::RS256,
                Some(KeyAlgorithm::ES256) => algorithm == Algorithm::ES256,
                Some(_) => false,
            };
            if !declared_matches {
                return Err(invalid(path, "only RS256 and ES256 keys are accepted"));
            }
            let key = DecodingKey::from_jwk(jwk).map_err(|e| invalid(path, e))?;
            keys.push((jwk.common.key_id.clone(), algorithm, key));
        }
        if keys.is_empty() {
            return Err(invalid(path, "the key set is empty"));
        }
        Ok(Self {
            keys: Keys::Set(keys),
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
        })
    }

    fn key_for(&self, header: &Header) -> Result<(Algorithm, &DecodingKey), AuthError> {
        let (algorithm, key) = match &self.keys {
            Keys::Shared(key) => (Algorithm::HS256, key),
            Keys::Public(algorithm, key) => (*algorithm, key),
            Keys::Set(keys) => {
                let found = match &header.kid {
                    Some(kid) => keys.iter().find(|(id, ..)| id.as_deref() == Some(kid)),
                    None if keys.len() == 1 => keys.first(),
                    None => None,
                };
                let (_, algorithm, key) = found.ok_or(AuthError::UnknownKey)?;
                (*algorithm, key)
            }
        };
        if header.alg != algorithm {
            return Err(AuthError::Algorithm);
        }
        Ok((algorithm, key))
    }

    pub fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        let header = decode_header(token).map_err(AuthError::Invalid)?;
        let (algorithm, key) = self.key_for(&header)?;
        if matches!(self.keys, Keys::Public(..) | Keys::Set(_))
            && !PUBLIC_KEY_ALGORITHMS.contains(&algorithm)
        {
            return Err(AuthError::Algorithm);
        }
        let mut validation = Validation::new(algorithm);
        validation.algorithms = vec![algorithm];
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 30;
        let data = decode::<Claims>(token, key, &validation).map_err(AuthError::Invalid)?;
        let roles = data
            .claims
            .roles
            .iter()
            .filter_map(|role| serde_json::from_value(serde_json::Value::from(role.as_str())).ok())
            .collect();
        Ok(Caller {
            sub: data.claims.sub,
            org: data.claims.org,
            roles,
        })
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
        // The scheme name is case-insensitive (RFC 9110 §11.1).
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .filter(|t| !t.is_empty())
            .ok_or(AuthRejection(AuthError::Malformed))?;
        let verifier = Arc::<JwtVerifier>::from_ref(state);
        verifier
            .verify(token)
            .map(Self::User)
            .map_err(AuthRejection)
    }
}
