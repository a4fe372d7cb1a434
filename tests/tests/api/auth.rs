//! Token verification and authorisation rules.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use commons_api::auth::Role;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

use crate::helpers::*;

const VIEWER: &str = "{ viewer { authenticated subject roles } }";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn claims(overrides: Value) -> Value {
    let mut claims = json!({
        "sub": "someone", "roles": ["publisher"], "iss": ISSUER, "aud": AUDIENCE,
        "exp": now() + 600, "iat": now(),
    });
    for (k, v) in overrides.as_object().unwrap() {
        claims[k] = v.clone();
    }
    claims
}

fn hs256(claims: &Value, secret: &str) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn fixture(name: &str) -> String {
    format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn rs256(claims: &Value, kid: Option<&str>) -> String {
    let key =
        EncodingKey::from_rsa_pem(&std::fs::read(fixture("rsa-private.pem")).unwrap()).unwrap();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = kid.map(String::from);
    encode(&header, claims, &key).unwrap()
}

fn es256(claims: &Value, kid: Option<&str>) -> String {
    let key = EncodingKey::from_ec_pem(&std::fs::read(fixture("ec-private.pem")).unwrap()).unwrap();
    let mut header = Header::new(Algorithm::ES256);
    header.kid = kid.map(String::from);
    encode(&header, claims, &key).unwrap()
}

async fn status_and_body(app: &TestApp, token: &str) -> (u16, Value) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": VIEWER }))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn assert_rejected(app: &TestApp, token: &str, why: &str) {
    let (status, body) = status_and_body(app, token).await;
    assert_eq!(status, 401, "{why}: {body}");
    assert_eq!(code(&body), "UNAUTHENTICATED", "{why}");
    assert!(
        body.get("data").is_none(),
        "{why}: a rejected token must not run the query"
    );
}

backend_test!(hs256_tokens_are_checked, |app| {
    let good = hs256(&claims(json!({})), SECRET);
    let (status, body) = status_and_body(&app, &good).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["viewer"]["authenticated"], true);
    assert_eq!(body["data"]["viewer"]["roles"], json!(["PUBLISHER"]));

    assert_rejected(
        &app,
        &hs256(&claims(json!({})), "some-other-secret"),
        "forged signature",
    )
    .await;
    assert_rejected(
        &app,
        &hs256(&claims(json!({ "exp": now() - 3600 })), SECRET),
        "expired",
    )
    .await;
    assert_rejected(
        &app,
        &hs256(&claims(json!({ "aud": "someone-else" })), SECRET),
        "wrong audience",
    )
    .await;
    assert_rejected(
        &app,
        &hs256(&claims(json!({ "iss": "https://evil.example" })), SECRET),
        "wrong issuer",
    )
    .await;
    let mut no_sub = claims(json!({}));
    no_sub.as_object_mut().unwrap().remove("sub");
    assert_rejected(&app, &hs256(&no_sub, SECRET), "missing sub").await;

    // alg: none — an unsigned token with the same claims.
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let unsigned = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&claims(json!({})))
    );
    assert_rejected(&app, &unsigned, "alg none").await;
    // An RS256 token is refused by an HS256 deployment.
    assert_rejected(
        &app,
        &rs256(&claims(json!({})), None),
        "RS256 against HS256",
    )
    .await;
    assert_rejected(&app, "not-a-jwt", "garbage").await;

    // A malformed header is rejected too, never treated as anonymous.
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("Authorization", "Basic dXNlcjpwYXNz")
        .json(&json!({ "query": VIEWER }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);

    // No header at all is an anonymous caller.
    let anonymous = app.ok(None, VIEWER, json!({})).await;
    assert_eq!(anonymous["viewer"]["authenticated"], false);
});

backend_test!(
    public_key_deployments_pin_their_algorithm,
    Options {
        demo: false,
        search: None,
        extra: vec![
            "--jwt-public-key".into(),
            format!("{}/fixtures/rsa-public.pem", env!("CARGO_MANIFEST_DIR")),
            "--jwt-algorithm".into(),
            "RS256".into(),
        ],
    },
    |app| {
        let (status, body) = status_and_body(&app, &rs256(&claims(json!({})), None)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["viewer"]["authenticated"], true);
        // HS256 tokens — even ones signed with the public key bytes as secret — are refused.
        assert_rejected(
            &app,
            &hs256(&claims(json!({})), SECRET),
            "HS256 against RS256",
        )
        .await;
        let pem = std::fs::read_to_string(fixture("rsa-public.pem")).unwrap();
        assert_rejected(&app, &hs256(&claims(json!({})), &pem), "key confusion").await;
        assert_rejected(
            &app,
            &es256(&claims(json!({})), None),
            "ES256 against RS256",
        )
        .await;
        assert_rejected(
            &app,
            &rs256(&claims(json!({ "exp": now() - 3600 })), None),
            "expired RS256",
        )
        .await;
    }
);

backend_test!(
    jwks_keys_are_selected_by_kid,
    Options {
        demo: false,
        search: None,
        extra: vec![
            "--jwt-jwks".into(),
            format!("{}/fixtures/jwks.json", env!("CARGO_MANIFEST_DIR"))
        ],
    },
    |app| {
        for token in [
            rs256(&claims(json!({})), Some("rsa-1")),
            es256(&claims(json!({})), Some("ec-1")),
        ] {
            let (status, body) = status_and_body(&app, &token).await;
            assert_eq!(status, 200, "{body}");
        }
        assert_rejected(
            &app,
            &rs256(&claims(json!({})), Some("ec-1")),
            "RS256 token naming the EC key",
        )
        .await;
        assert_rejected(
            &app,
            &rs256(&claims(json!({})), Some("unknown")),
            "unknown kid",
        )
        .await;
        assert_rejected(
            &app,
            &hs256(&claims(json!({})), SECRET),
            "HS256 against JWKS",
        )
        .await;
    }
);

backend_test!(publishers_write_only_in_their_own_organisation, |app| {
    let lund = app.org("lund", "SE").await;
    let oslo = app.org("oslo", "NO").await;
    let clause = published_clause(&app, &publisher(lund), clause_input("Take-back plan")).await;

    // Anonymous callers cannot write.
    let body = app
        .gql(
            None,
            CREATE_CLAUSE,
            json!({ "input": clause_input("Anonymous") }),
        )
        .await;
    assert_eq!(code(&body), "UNAUTHENTICATED");
    // A token without the publisher role cannot write.
    let agency = token(Some(oslo), &[Role::Agency]);
    let body = app
        .gql(
            Some(&agency),
            CREATE_CLAUSE,
            json!({ "input": clause_input("Agency") }),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN");
    // Another organisation's publisher cannot change, publish or withdraw the clause.
    let other = publisher(oslo);
    let update = "mutation($id: ID!) { updateClause(input: { id: $id, expectedVersion: 2, title: \"Hijacked\" }) { clause { id } } }";
    assert_eq!(
        code(&app.gql(Some(&other), update, json!({ "id": clause })).await),
        "FORBIDDEN"
    );
    assert_eq!(
        code(
            &app.gql(Some(&other), PUBLISH_CLAUSE, json!({ "id": clause }))
                .await
        ),
        "FORBIDDEN"
    );
    let withdraw = "mutation($id: ID!) { withdrawClause(input: { id: $id, reason: \"not yours\" }) { clause { id } } }";
    assert_eq!(
        code(
            &app.gql(Some(&other), withdraw, json!({ "id": clause }))
                .await
        ),
        "FORBIDDEN"
    );
    // Only admins create organisations.
    let create_org = "mutation { createOrganization(input: { slug: \"x-kommun\", name: \"X\", kind: MUNICIPALITY, country: SE }) { organization { id } } }";
    assert_eq!(
        code(&app.gql(Some(&publisher(lund)), create_org, json!({})).await),
        "FORBIDDEN"
    );
    let data = app
        .ok(
            None,
            "query($id: ID!) { clause(id: $id) { latest { title } } }",
            json!({ "id": clause }),
        )
        .await;
    assert_eq!(data["clause"]["latest"]["title"], "Take-back plan");
});

backend_test!(drafts_are_visible_only_to_their_organisation, |app| {
    let lund = app.org("lund", "SE").await;
    let oslo = app.org("oslo", "NO").await;
    let data = app
        .ok(
            Some(&publisher(lund)),
            CREATE_CLAUSE,
            json!({ "input": clause_input("Secret draft") }),
        )
        .await;
    let id = data["createClause"]["clause"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let query = "query($id: ID!) { clause(id: $id) { id draft { title } } }";

    let own = app
        .ok(Some(&publisher(lund)), query, json!({ "id": id }))
        .await;
    assert_eq!(own["clause"]["draft"]["title"], "Secret draft");
    for token in [
        Some(publisher(oslo)),
        Some(token(None, &[Role::Admin])),
        None,
    ] {
        let other = app.ok(token.as_deref(), query, json!({ "id": id })).await;
        assert_eq!(other["clause"], Value::Null, "a draft leaked: {other}");
    }
    let list = "{ clauses(filter: { status: [DRAFT] }) { totalCount edges { node { id } } } }";
    assert_eq!(
        app.ok(Some(&publisher(oslo)), list, json!({})).await["clauses"]["totalCount"],
        0
    );
    assert_eq!(
        app.ok(Some(&publisher(lund)), list, json!({})).await["clauses"]["totalCount"],
        1
    );

    // Once published, everyone sees the published version but still not the draft.
    app.ok(Some(&publisher(lund)), PUBLISH_CLAUSE, json!({ "id": id }))
        .await;
    let other = app
        .ok(Some(&publisher(oslo)), query, json!({ "id": id }))
        .await;
    assert_eq!(other["clause"]["id"], id.as_str());
    assert_eq!(other["clause"]["draft"], Value::Null);
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheme_is_case_insensitive_and_two_credentials_are_refused() {
    let app = TestApp::spawn(None, Options::default()).await;
    let token = token(None, &[Role::Agency]);
    let send = |values: Vec<String>| {
        let mut request = app
            .client
            .post(app.url("/graphql"))
            .json(&json!({ "query": VIEWER }));
        for value in values {
            request = request.header("authorization", value);
        }
        request.send()
    };
    let response = send(vec![format!("bearer {token}")]).await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["viewer"]["authenticated"], true);
    for values in [
        vec![format!("Bearer {token}"), "Bearer forged".to_owned()],
        vec!["Bearer forged".to_owned(), format!("Bearer {token}")],
        vec![format!("Basic {token}")],
    ] {
        let response = send(values.clone()).await.unwrap();
        assert_eq!(response.status(), 401, "{values:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(code(&body), "UNAUTHENTICATED");
    }
}

/// An identity provider in miniature: serves a key set the test can rotate or take down,
/// and its OpenID configuration; counts the key-set downloads.
struct Provider {
    url: String,
    keys: std::sync::Arc<std::sync::Mutex<Value>>,
    down: std::sync::Arc<std::sync::atomic::AtomicBool>,
    hits: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Provider {
    async fn start(kids: &[&str]) -> Self {
        use std::sync::{
            Arc, Mutex,
            atomic::{AtomicBool, AtomicUsize, Ordering},
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let keys = Arc::new(Mutex::new(key_set(kids)));
        let down = Arc::new(AtomicBool::new(false));
        let hits = Arc::new(AtomicUsize::new(0));
        let jwks = {
            let (keys, down, hits) = (keys.clone(), down.clone(), hits.clone());
            move || async move {
                hits.fetch_add(1, Ordering::SeqCst);
                if down.load(Ordering::SeqCst) {
                    return Err(axum::http::StatusCode::SERVICE_UNAVAILABLE);
                }
                Ok(axum::Json(keys.lock().unwrap().clone()))
            }
        };
        let configuration = {
            let url = url.clone();
            move || async move {
                axum::Json(json!({ "issuer": url, "jwks_uri": format!("{url}/keys") }))
            }
        };
        let router = axum::Router::new()
            .route("/keys", axum::routing::get(jwks))
            .route(
                "/.well-known/openid-configuration",
                axum::routing::get(configuration),
            );
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self {
            url,
            keys,
            down,
            hits,
        }
    }

    fn hits(&self) -> usize {
        self.hits.load(std::sync::atomic::Ordering::SeqCst)
    }

    async fn fetched_once(&self) {
        for _ in 0..100 {
            if self.hits() > 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("the server never fetched the keys");
    }
}

/// The fixture key set with only the keys named.
fn key_set(kids: &[&str]) -> Value {
    let all: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("jwks.json")).unwrap()).unwrap();
    let keys: Vec<Value> = all["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| kids.contains(&k["kid"].as_str().unwrap()))
        .cloned()
        .collect();
    json!({ "keys": keys })
}

/// `--jwt-jwks-url`: keys fetched from the provider, fetched again when it rotates them
/// (once a minute at most for unknown key ids), kept while it is down; claim names as the
/// provider writes them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_keys_are_fetched_rotated_and_kept_while_it_is_down() {
    let provider = Provider::start(&["rsa-1"]).await;
    let options = Options {
        extra: vec![
            "--jwt-jwks-url".into(),
            format!("{}/keys", provider.url),
            "--jwt-org-claim".into(),
            "org_id".into(),
            "--jwt-roles-claim".into(),
            "realm_access.roles".into(),
        ],
        ..Options::default()
    };
    with_app(Backend::Sqlite, options, |app| async move {
        provider.fetched_once().await;
        let org = uuid::Uuid::now_v7().to_string();
        let provider_claims = |extra: Value| {
            let mut c = claims(json!({
                "org_id": org,
                "realm_access": { "roles": ["Publisher", "offline_access"] }
            }));
            c.as_object_mut().unwrap().remove("roles");
            for (k, v) in extra.as_object().unwrap() {
                c[k] = v.clone();
            }
            c
        };
        let query = "{ viewer { authenticated roles organization { id } } }";
        let ask = |token: String| {
            let app = &app;
            async move {
                app.client
                    .post(app.url("/graphql"))
                    .bearer_auth(token)
                    .json(&json!({ "query": query }))
                    .send()
                    .await
                    .unwrap()
            }
        };
        let response = ask(rs256(&provider_claims(json!({})), Some("rsa-1"))).await;
        assert_eq!(response.status().as_u16(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body["data"]["viewer"]["roles"],
            json!(["PUBLISHER"]),
            "{body}"
        );

        // The provider rotates to a new key: the first token that names it makes the set be
        // fetched again.
        *provider.keys.lock().unwrap() = key_set(&["ec-1"]);
        let before = provider.hits();
        let rotated = ask(es256(&provider_claims(json!({})), Some("ec-1"))).await;
        assert_eq!(rotated.status().as_u16(), 200);
        assert_eq!(provider.hits(), before + 1);
        // A stream of made-up key ids does not make it fetch again within the minute.
        for kid in ["made-up-1", "made-up-2", "made-up-3"] {
            let refused = ask(es256(&provider_claims(json!({})), Some(kid))).await;
            assert_eq!(refused.status().as_u16(), 401);
        }
        assert_eq!(provider.hits(), before + 1);
        // While the provider is down, the keys fetched last stay in use.
        provider
            .down
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let still = ask(es256(&provider_claims(json!({})), Some("ec-1"))).await;
        assert_eq!(still.status().as_u16(), 200);
        // An organisation claim that is not an id is refused, never ignored.
        let bad = ask(es256(
            &provider_claims(json!({ "org_id": "lund" })),
            Some("ec-1"),
        ))
        .await;
        assert_eq!(bad.status().as_u16(), 401);
    })
    .await;
}

/// `--jwt-oidc-discovery`: the key set's URL comes from the issuer's OpenID configuration.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_keys_are_found_by_openid_discovery() {
    let provider = Provider::start(&["rsa-1", "ec-1"]).await;
    let options = Options {
        extra: vec![
            "--jwt-oidc-discovery".into(),
            "--jwt-issuer".into(),
            provider.url.clone(),
        ],
        ..Options::default()
    };
    with_app(Backend::Sqlite, options, |app| async move {
        provider.fetched_once().await;
        let token = rs256(&claims(json!({ "iss": provider.url })), Some("rsa-1"));
        let (status, body) = status_and_body(&app, &token).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["viewer"]["authenticated"], true);
        // A token of the development secret is refused.
        let (status, _) = status_and_body(
            &app,
            &hs256(&claims(json!({ "iss": provider.url })), SECRET),
        )
        .await;
        assert_eq!(status, 401);
    })
    .await;
}
