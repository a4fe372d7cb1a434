//! What every page request carries: the language (from the URL), the caller (from the
//! session cookie), the tender basket and the CSRF token (from their cookies), and where the
//! page is (for the language switch and for forms that come back to it).

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
    response::{Html, IntoResponse, Response},
};
use maud::Markup;

use super::{Lang, basket::Basket, layout, session};
use crate::{auth::Identity, startup::AppState};

pub const CSRF_COOKIE: &str = "gpc_csrf";

/// The request as a page sees it.
pub struct Ctx {
    pub lang: Lang,
    /// The path after the language segment, with its query: `/clauses/…?from=1`.
    pub here: String,
    pub identity: Identity,
    pub basket: Basket,
    pub csrf: String,
    /// Cookies to set on the response (a new CSRF token, a changed basket or session).
    pub set_cookies: Vec<String>,
    /// Whether cookies get the `Secure` flag (the request came over TLS).
    pub secure: bool,
}

/// Reads one cookie from the request headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let path = parts.uri.path();
        let mut segments = path.trim_start_matches('/').splitn(2, '/');
        let lang = segments
            .next()
            .and_then(Lang::from_code)
            .ok_or_else(|| not_found(Lang::En))?;
        let rest = segments.next().unwrap_or("");
        let here = match parts.uri.query() {
            Some(query) => format!("/{rest}?{query}"),
            None => format!("/{rest}"),
        };
        let headers = &parts.headers;
        // Behind a TLS-terminating proxy the scheme is only known from its header; the flag
        // only ever adds a restriction, so trusting it costs nothing.
        let secure = headers
            .get("x-forwarded-proto")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"))
            || parts.uri.scheme_str() == Some("https");
        let mut set_cookies = Vec::new();
        let csrf = match cookie(headers, CSRF_COOKIE).filter(|t| valid_token(t)) {
            Some(token) => token.to_owned(),
            None => {
                let token = uuid::Uuid::new_v4().simple().to_string();
                set_cookies.push(cookie_header(CSRF_COOKIE, &token, secure, None));
                token
            }
        };
        let identity =
            session::identity(headers, &parts.extensions, state, &mut set_cookies, secure).await;
        Ok(Self {
            lang,
            here,
            identity,
            basket: Basket::from_headers(headers),
            csrf,
            set_cookies,
            secure,
        })
    }
}

fn valid_token(token: &str) -> bool {
    token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, for the whole site, `Secure` over TLS;
/// a session cookie unless `max_age` is given (0 deletes it).
pub fn cookie_header(name: &str, value: &str, secure: bool, max_age: Option<u64>) -> String {
    let mut header = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if secure {
        header.push_str("; Secure");
    }
    if let Some(age) = max_age {
        header.push_str(&format!("; Max-Age={age}"));
    }
    header
}

impl Ctx {
    /// A path in this language: `link("/basket")` is `/sv/basket`.
    pub fn link(&self, path: &str) -> String {
        format!("/{}{path}", self.lang.code())
    }

    /// This page in another language.
    pub fn here_in(&self, lang: Lang) -> String {
        format!("/{}{}", lang.code(), self.here)
    }

    /// Whether the form's CSRF token is this browser's.
    pub fn csrf_ok(&self, token: Option<&str>) -> bool {
        token.is_some_and(|t| valid_token(t) && t == self.csrf)
    }

    /// An HTML page with the cookies this request set.
    pub fn html(&self, status: StatusCode, page: Markup) -> Response {
        let mut response = (status, Html(page.into_string())).into_response();
        self.add_cookies(&mut response);
        response
    }

    pub fn add_cookies(&self, response: &mut Response) {
        for cookie in &self.set_cookies {
            if let Ok(value) = HeaderValue::from_str(cookie) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
        }
        // Pages depend on the caller's cookies: no shared cache may keep them.
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache"),
        );
    }

    /// `303 See Other` to a path of this app, with the cookies this request set.
    pub fn redirect(&self, to: &str) -> Response {
        let mut response =
            (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_owned())]).into_response();
        self.add_cookies(&mut response);
        response
    }

    /// A local return path from a form, or `fallback` when it is missing or leads elsewhere.
    pub fn return_to(&self, value: Option<&str>, fallback: &str) -> String {
        let prefix = format!("/{}/", self.lang.code());
        value
            .filter(|v| {
                v.starts_with(&prefix)
                    && !v.contains("//")
                    && !v.contains('\\')
                    && v.len() < 2048
                    && !v.chars().any(char::is_control)
            })
            .map_or_else(|| self.link(fallback), str::to_owned)
    }
}

/// What can go wrong on a page, shown in the page's language without internal detail.
#[derive(Debug)]
pub enum PageError {
    NotFound,
    /// The request was not understood; the message is the API's, meant for the user.
    BadRequest(String),
    /// Sign-in needed or not allowed.
    Forbidden,
    /// The CSRF token did not match: the form is stale or came from elsewhere.
    StaleForm,
    Unavailable,
    Internal,
}

impl PageError {
    pub fn render(self, ctx: &Ctx) -> Response {
        let (status, title, detail) = match &self {
            Self::NotFound => (StatusCode::NOT_FOUND, "error.not_found", None),
            Self::BadRequest(message) => (
                StatusCode::BAD_REQUEST,
                "error.bad_request",
                Some(message.as_str()),
            ),
            Self::Forbidden => (StatusCode::FORBIDDEN, "error.forbidden", None),
            Self::StaleForm => (StatusCode::FORBIDDEN, "error.stale_form", None),
            Self::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "error.unavailable", None),
            Self::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "error.internal", None),
        };
        let lang = ctx.lang;
        let body = maud::html! {
            h1 { (lang.t(title)) }
            @if let Some(detail) = detail { p { (detail) } }
            p { a href=(ctx.link("/")) { (lang.t("error.back_to_search")) } }
        };
        ctx.html(status, layout::page(ctx, lang.t(title), body))
    }
}

/// A 404 page for a path outside any language.
pub fn not_found(lang: Lang) -> Response {
    let body = maud::html! {
        (maud::DOCTYPE)
        html lang=(lang.code()) {
            head { meta charset="utf-8"; title { (lang.t("error.not_found")) } link rel="icon" href=(super::assets::ICON_PATH) type="image/svg+xml"; link rel="stylesheet" href=(super::assets::CSS_PATH); }
            body { main { h1 { (lang.t("error.not_found")) } p { a href="/" { (lang.t("error.back_to_search")) } } } }
        }
    };
    (StatusCode::NOT_FOUND, Html(body.into_string())).into_response()
}
