//! Rate limits per client (`--rate-limits`): a token bucket per client, refilled at the
//! rate of the client's role, holding at most its burst. A client is the subject of a token
//! that verifies (from `Authorization` or the web app's session cookie), else its address;
//! `X-Forwarded-For` is believed only from a proxy named in `--trusted-proxies`. A refused
//! request is answered `429` with `Retry-After` and the code `RATE_LIMITED`.
//!
//! Health probes and metrics are never limited, nor are imports (they have their own
//! admission, see [`crate::import`]).

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    str::FromStr,
    sync::Mutex,
    time::Instant,
};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{HeaderMap, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use ipnet::IpNet;

use crate::{
    auth::{Identity, Role},
    error::ErrorCode,
    startup::AppState,
};

/// Buckets kept before idle ones are dropped.
const MAX_CLIENTS: usize = 100_000;

/// Rate and burst of one class of client.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    /// Requests per second, refilled continuously.
    pub rate: f64,
    /// Requests that may come at once after an idle spell.
    pub burst: f64,
}

/// Limits by class: `anonymous` (by address), `publisher`, `agency`, `admin` (by subject; a
/// token with several roles gets its most generous one). A class left out is not limited.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Limits {
    pub anonymous: Option<Limit>,
    pub publisher: Option<Limit>,
    pub agency: Option<Limit>,
    pub admin: Option<Limit>,
}

impl FromStr for Limits {
    type Err = String;

    /// `anonymous=20/40,publisher=50/100`: per class, requests per second `/` burst.
    fn from_str(spec: &str) -> Result<Self, String> {
        let mut limits = Self::default();
        if spec.trim().is_empty() || spec.trim() == "off" {
            return Ok(limits);
        }
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (class, numbers) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}`: write CLASS=RATE/BURST, e.g. anonymous=20/40"))?;
            let (rate, burst) = numbers.split_once('/').unwrap_or((numbers, numbers));
            let number = |text: &str| {
                text.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite() && *n > 0.0)
                    .ok_or_else(|| format!("`{part}`: rate and burst are positive numbers"))
            };
            let limit = Limit {
                rate: number(rate)?,
                burst: number(burst)?.max(1.0),
            };
            let slot = match class.trim() {
                "anonymous" => &mut limits.anonymous,
                "publisher" => &mut limits.publisher,
                "agency" => &mut limits.agency,
                "admin" => &mut limits.admin,
                other => {
                    return Err(format!(
                        "`{other}` is no client class: anonymous, publisher, agency or admin"
                    ));
                }
            };
            *slot = Some(limit);
        }
        Ok(limits)
    }
}

impl Limits {
    pub fn is_off(&self) -> bool {
        *self == Self::default()
    }

    fn for_roles(&self, roles: &[Role]) -> Option<Limit> {
        roles
            .iter()
            .filter_map(|role| match role {
                Role::Publisher => self.publisher,
                Role::Agency => self.agency,
                Role::Admin => self.admin,
            })
            .max_by(|a, b| a.rate.total_cmp(&b.rate))
            // A token without roles reads like an anonymous client.
            .or(if roles.is_empty() {
                self.anonymous
            } else {
                None
            })
    }
}

/// A parsed `--trusted-proxies` entry: an address or a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proxy(IpNet);

impl FromStr for Proxy {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        text.parse::<IpNet>()
            .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
            .map(Self)
            .map_err(|_| format!("`{text}` is not an address or a network such as 10.0.0.0/8"))
    }
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The buckets of every client seen.
pub struct RateLimiter {
    limits: Limits,
    proxies: Vec<Proxy>,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    pub fn new(limits: Limits, proxies: Vec<Proxy>) -> Self {
        Self {
            limits,
            proxies,
            buckets: Mutex::default(),
        }
    }

    /// Takes one token for `key`; `Err(seconds)` says when the next one is there.
    fn take(&self, key: String, limit: Limit, now: Instant) -> Result<(), u64> {
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        if buckets.len() >= MAX_CLIENTS && !buckets.contains_key(&key) {
            // Drop the buckets that have refilled: their clients start full again anyway.
            buckets.retain(|_, b| {
                now.duration_since(b.at).as_secs_f64() * limit.rate + b.tokens < limit.burst
            });
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: limit.burst,
            at: now,
        });
        let elapsed = now.duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * limit.rate).min(limit.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - bucket.tokens) / limit.rate).ceil().max(1.0) as u64)
        }
    }

    /// The client's address: the peer's, or the nearest untrusted one in `X-Forwarded-For`
    /// when the peer is a trusted proxy.
    fn address(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let trusted = |ip: &IpAddr| self.proxies.iter().any(|p| p.0.contains(ip));
        let peer = peer?;
        if !trusted(&peer) {
            return Some(peer);
        }
        let forwarded: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|hop| hop.trim().parse().ok())
            .collect();
        // Right to left: the last hop a trusted proxy did not add is the client.
        Some(
            forwarded
                .into_iter()
                .rev()
                .find(|ip| !trusted(ip))
                .unwrap_or(peer),
        )
    }
}

/// The bearer token of a request, from `Authorization` or the web app's session cookie.
fn token(headers: &HeaderMap) -> Option<&str> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        return crate::auth::bearer_token(value);
    }
    crate::web::session_token(headers)
}

/// Axum middleware applying the limits.
pub async fn limit(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let limiter = &state.rate_limiter;
    if limiter.limits.is_off() {
        return next.run(request).await;
    }
    let path = request.uri().path();
    if matches!(path, "/healthz" | "/readyz" | "/metrics") || path.starts_with("/import/") {
        return next.run(request).await;
    }
    // A token that verifies names the client (and is not verified again after this); one
    // that does not is refused later anyway, and is limited by address meanwhile.
    let verified = match token(request.headers()) {
        Some(token) => match state.verifier.verify_fresh(token).await {
            Ok(caller) => Some(crate::auth::Verified::new(token, caller)),
            Err(_) => None,
        },
        None => None,
    };
    let caller = verified
        .as_ref()
        .map(crate::auth::Verified::caller)
        .cloned();
    if let Some(verified) = verified {
        request.extensions_mut().insert(verified);
    }
    let headers = request.headers();
    let (key, limit) = match &caller {
        Some(caller) => (
            format!("sub:{}", caller.sub),
            limiter.limits.for_roles(&caller.roles),
        ),
        None => {
            let peer = request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip());
            let address = limiter.address(peer, headers);
            (
                format!("ip:{}", address.map_or_else(String::new, |a| a.to_string())),
                limiter.limits.anonymous,
            )
        }
    };
    let Some(limit) = limit else {
        return next.run(request).await;
    };
    match limiter.take(key, limit, Instant::now()) {
        Ok(()) => next.run(request).await,
        Err(seconds) => refused(seconds, &Identity::from(caller)),
    }
}

impl From<Option<crate::auth::Caller>> for Identity {
    fn from(caller: Option<crate::auth::Caller>) -> Self {
        caller.map_or(Self::Anonymous, Self::User)
    }
}

fn refused(seconds: u64, identity: &Identity) -> Response {
    tracing::info!(
        subject = match identity {
            Identity::User(caller) => caller.sub.as_str(),
            Identity::Anonymous => "anonymous",
        },
        retry_after = seconds,
        "rate limited"
    );
    let body = serde_json::json!({
        "errors": [{
            "message": format!("too many requests; try again in {seconds} s"),
            "extensions": { "code": ErrorCode::RateLimited.as_str() }
        }]
    });
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, seconds.to_string())],
        axum::Json(body),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn limits_parse_per_class() {
        let limits: Limits = "anonymous=20/40, publisher=50".parse().expect("valid");
        assert_eq!(
            limits.anonymous,
            Some(Limit {
                rate: 20.0,
                burst: 40.0
            })
        );
        assert_eq!(
            limits.publisher,
            Some(Limit {
                rate: 50.0,
                burst: 50.0
            })
        );
        assert_eq!(limits.agency, None);
        assert!("off".parse::<Limits>().expect("valid").is_off());
        for bad in ["robots=1/2", "anonymous=0/5", "anonymous=x", "anonymous"] {
            assert!(bad.parse::<Limits>().is_err(), "{bad}");
        }
        let both: Limits = "publisher=5/5,agency=100/100".parse().expect("valid");
        assert_eq!(
            both.for_roles(&[Role::Publisher, Role::Agency])
                .map(|l| l.rate),
            Some(100.0)
        );
    }

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let limiter = RateLimiter::new(Limits::default(), Vec::new());
        let limit = Limit {
            rate: 2.0,
            burst: 3.0,
        };
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.take("a".into(), limit, start), Ok(()));
        }
        assert_eq!(limiter.take("a".into(), limit, start), Err(1));
        // Another client has its own bucket.
        assert_eq!(limiter.take("b".into(), limit, start), Ok(()));
        // Half a second refills one request at 2 per second.
        let later = start + Duration::from_millis(500);
        assert_eq!(limiter.take("a".into(), limit, later), Ok(()));
        assert_eq!(limiter.take("a".into(), limit, later), Err(1));
    }

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let proxy: Proxy = "10.0.0.0/8".parse().expect("valid");
        let limiter = RateLimiter::new(Limits::default(), vec![proxy]);
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "203.0.113.9, 10.1.1.1".parse().expect("valid"),
        );
        let via_proxy = limiter.address(Some("10.0.0.5".parse().expect("valid")), &headers);
        assert_eq!(via_proxy, Some("203.0.113.9".parse().expect("valid")));
        let direct = limiter.address(Some("198.51.100.7".parse().expect("valid")), &headers);
        assert_eq!(direct, Some("198.51.100.7".parse().expect("valid")));
        assert!("not-an-address".parse::<Proxy>().is_err());
    }
}
