//! Signing in to the web app: a bearer token (e.g. one `commons token` prints, or one from
//! the organisation's identity provider) exchanged for a session cookie that is HttpOnly,
//! SameSite=Strict and, over TLS, Secure. The cookie holds the token itself and is verified
//! on every request exactly as the API verifies an `Authorization` header, so it expires
//! with the token.

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::Response,
};
use maud::html;

use super::{
    context::{Ctx, PageError, cookie, cookie_header},
    layout::{self, csrf_field},
};
use crate::{auth::Identity, startup::AppState};

pub const SESSION_COOKIE: &str = "gpc_session";
/// Browsers keep about 4 kB per cookie.
const MAX_TOKEN: usize = 3800;

/// The caller of a page request. A session whose token no longer verifies is dropped.
pub async fn identity(
    headers: &HeaderMap,
    extensions: &axum::http::Extensions,
    state: &AppState,
    set_cookies: &mut Vec<String>,
    secure: bool,
) -> Identity {
    let Some(token) = cookie(headers, SESSION_COOKIE).filter(|t| !t.is_empty()) else {
        return Identity::Anonymous;
    };
    match state.verifier.verify_in(extensions, token).await {
        Ok(caller) => Identity::User(caller),
        Err(error) => {
            tracing::info!(reason = %error, "web session token rejected");
            set_cookies.push(cookie_header(SESSION_COOKIE, "", secure, Some(0)));
            Identity::Anonymous
        }
    }
}

fn form(ctx: &Ctx, error: Option<&str>) -> Response {
    let lang = ctx.lang;
    let body = html! {
        h1 { (lang.t("session.title")) }
        p class="lead" { (lang.t("session.lead")) }
        form method="post" action=(ctx.link("/sign-in")) class="stack" novalidate {
            (csrf_field(ctx))
            label for="token" { (lang.t("session.token")) }
            p id="token-hint" class="hint" { (lang.t("session.token_hint")) }
            @if let Some(error) = error {
                p id="token-error" class="error" { (error) }
            }
            textarea id="token" name="token" rows="5" required autocomplete="off" spellcheck="false"
                aria-describedby={ "token-hint" @if error.is_some() { " token-error" } }
                aria-invalid=[error.map(|_| "true")] {}
            button type="submit" { (lang.t("session.submit")) }
        }
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    ctx.html(status, layout::page(ctx, lang.t("session.title"), body))
}

pub async fn sign_in_page(ctx: Ctx) -> Response {
    form(&ctx, None)
}

pub async fn sign_in(State(state): State<AppState>, mut ctx: Ctx, body: Bytes) -> Response {
    let mut csrf = None;
    let mut token = String::new();
    for (key, value) in form_urlencoded::parse(&body).take(10) {
        match key.as_ref() {
            "csrf" => csrf = Some(value.into_owned()),
            "token" => token = value.trim().trim_start_matches("Bearer ").trim().to_owned(),
            _ => {}
        }
    }
    if !ctx.csrf_ok(csrf.as_deref()) {
        return PageError::StaleForm.render(&ctx);
    }
    let lang = ctx.lang;
    if token.is_empty() {
        return form(&ctx, Some(lang.t("session.token_missing")));
    }
    let usable = token.len() <= MAX_TOKEN
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if !usable {
        return form(&ctx, Some(lang.t("session.token_invalid")));
    }
    if let Err(error) = state.verifier.verify_fresh(&token).await {
        tracing::info!(reason = %error, "web sign-in refused");
        return form(&ctx, Some(lang.t("session.token_invalid")));
    }
    ctx.set_cookies
        .push(cookie_header(SESSION_COOKIE, &token, ctx.secure, None));
    ctx.redirect(&ctx.link("/"))
}

pub async fn sign_out(mut ctx: Ctx, body: Bytes) -> Response {
    let csrf = form_urlencoded::parse(&body)
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.into_owned());
    if !ctx.csrf_ok(csrf.as_deref()) {
        return PageError::StaleForm.render(&ctx);
    }
    ctx.set_cookies
        .push(cookie_header(SESSION_COOKIE, "", ctx.secure, Some(0)));
    ctx.redirect(&ctx.link("/"))
}
