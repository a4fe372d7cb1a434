//! The officer web app: server-rendered pages in five languages at `/{lang}/…`.
//!
//! Every page reads and writes through the public GraphQL schema with the operations kept
//! in `operations/*.graphql` (the documents a third-party front end could send too). Search,
//! clause pages and the tender basket work without JavaScript; `assets/app.js` only adds
//! search-as-you-type. Nothing is loaded from another host: the responses carry a
//! `Content-Security-Policy` of `default-src 'self'`.

mod assets;
mod basket;
mod clause;
mod context;
mod cpv;
mod diff;
mod docx;
mod editor;
mod graphiql;
mod i18n;
mod layout;
mod ops;
mod results;
mod search;
mod session;
mod stats;
mod templates;

use axum::{
    Router,
    http::{HeaderValue, header},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use tower_http::compression::CompressionLayer;

pub use i18n::Lang;

use crate::startup::AppState;

/// What every page may load: only this origin, no inline script or style, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; \
     style-src 'self'; script-src 'self'; connect-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// The web app's session token in a request, if any (not verified here).
pub fn session_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    context::cookie(headers, session::SESSION_COOKIE).filter(|t| !t.is_empty())
}

/// The app's routes (merged into the server's router).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(root))
        .route("/assets/{file}", get(assets::serve))
        .route("/graphiql", get(graphiql::page))
        .route("/graphiql/assets/{file}", get(graphiql::asset))
        .route("/{lang}", get(language_root))
        .route("/{lang}/", get(search::page))
        .route("/{lang}/clauses/{id}", get(clause::page))
        .route(
            "/{lang}/clauses/{id}/reuse",
            axum::routing::post(clause::reuse),
        )
        .route("/{lang}/templates", get(templates::index))
        .route("/{lang}/templates/{id}", get(templates::page))
        .route("/{lang}/basket", get(basket::page).post(basket::change))
        .route("/{lang}/basket/tender.docx", get(basket::docx))
        .route("/{lang}/basket/print", get(basket::print))
        .route("/{lang}/statistics", get(stats::page))
        .route(
            "/{lang}/sign-in",
            get(session::sign_in_page).post(session::sign_in),
        )
        .route("/{lang}/sign-out", axum::routing::post(session::sign_out))
        .route("/{lang}/mine", get(editor::mine))
        .route(
            "/{lang}/mine/new",
            get(editor::new_page).post(editor::create),
        )
        .route(
            "/{lang}/mine/results/new",
            get(results::new_page).post(results::report),
        )
        .route(
            "/{lang}/mine/{id}",
            get(editor::edit_page).post(editor::save),
        )
        .route(
            "/{lang}/mine/{id}/publish",
            axum::routing::post(editor::publish),
        )
        .route(
            "/{lang}/mine/{id}/withdraw",
            axum::routing::post(editor::withdraw),
        )
        .route("/{lang}/{*rest}", get(missing))
        .layer(axum::middleware::map_response(security_headers))
        .layer(CompressionLayer::new())
}

/// `/` sends the browser to the app in the language it prefers.
async fn root(headers: axum::http::HeaderMap) -> Response {
    let lang = Lang::negotiate(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let mut response = Redirect::to(&format!("/{}/", lang.code())).into_response();
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    response
}

async fn language_root(axum::extract::Path(lang): axum::extract::Path<String>) -> Response {
    match Lang::from_code(&lang) {
        Some(lang) => Redirect::permanent(&format!("/{}/", lang.code())).into_response(),
        None => context::not_found(Lang::En),
    }
}

/// Any other path under a language: the not-found page in that language.
async fn missing(ctx: context::Ctx) -> Response {
    context::PageError::NotFound.render(&ctx)
}

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    // GraphiQL brings a policy of its own.
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
