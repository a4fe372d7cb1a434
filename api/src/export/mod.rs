//! Exports of published material in open standards.

pub mod ocds;

use axum::{
    Json,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::startup::AppState;

/// `GET /export/ocds`: every published tender result as one OCDS release package.
pub async fn ocds_handler(State(state): State<AppState>) -> Response {
    match ocds::package(&state.db, &state.ocds, |_| {}).await {
        Ok(package) => (
            [(header::CACHE_CONTROL, "public, max-age=60")],
            Json(package),
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "OCDS export failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}
