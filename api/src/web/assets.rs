//! The app's style sheet and script, embedded in the binary.

use axum::{
    extract::Path,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};

pub const CSS_PATH: &str = concat!("/assets/app.css?v=", env!("CARGO_PKG_VERSION"));
pub const JS_PATH: &str = concat!("/assets/app.js?v=", env!("CARGO_PKG_VERSION"));

pub const ICON_PATH: &str = "/assets/icon.svg";

const CSS: &str = include_str!("assets/app.css");
const ICON: &str = include_str!("assets/icon.svg");
const JS: &str = include_str!("assets/app.js");

pub async fn serve(Path(file): Path<String>) -> Response {
    let (body, media) = match file.as_str() {
        "app.css" => (CSS, "text/css; charset=utf-8"),
        "app.js" => (JS, "text/javascript; charset=utf-8"),
        "icon.svg" => (ICON, "image/svg+xml"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, media),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}
