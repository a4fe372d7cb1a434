//! Exports of published material in open standards.

pub mod ocds;

use axum::{
    Json,
    body::{Body, Bytes},
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::{
    feed::snapshot::{Line, Snapshot},
    startup::AppState,
};

/// `GET /export/ocds`: every published tender result as one OCDS release package.
pub async fn ocds_handler(State(state): State<AppState>) -> Response {
    match ocds::package(&state.db, &state.ocds, |_| {}).await {
        Ok(package) => {
            state
                .metrics
                .count("commons_exports_total", &[("format", "ocds")], 1);
            (
                [(header::CACHE_CONTROL, "public, max-age=60")],
                Json(package),
            )
                .into_response()
        }
        Err(error) => {
            tracing::error!(%error, "OCDS export failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// Snapshots that may stream at once; more are answered 503 with `Retry-After`, so
/// downloads cannot take every database connection.
pub const CONCURRENT_SNAPSHOTS: usize = 2;

/// `GET /export/catalogue.ndjson`: the whole published catalogue, streamed from one
/// consistent snapshot and closed by its watermark line (see [`crate::feed::snapshot`]).
pub async fn catalogue_handler(State(state): State<AppState>) -> Response {
    let Ok(slot) = state.snapshots.clone().try_acquire_owned() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "30")],
            "too many snapshot downloads at once; try again shortly",
        )
            .into_response();
    };
    let snapshot = match Snapshot::open(&state.reader, &state.instance).await {
        Ok(snapshot) => {
            state
                .metrics
                .count("commons_exports_total", &[("format", "catalogue")], 1);
            snapshot
        }
        Err(error) => {
            tracing::error!(%error, "cannot open the catalogue snapshot");
            return (StatusCode::SERVICE_UNAVAILABLE, "snapshot unavailable").into_response();
        }
    };
    let watermark = crate::feed::changes::encode_cursor(snapshot.watermark());
    // The slot is released when the stream (and with it the snapshot) is dropped.
    let lines = futures_util::stream::unfold((snapshot, slot), |(mut snapshot, slot)| async move {
        let chunk = match snapshot.next_lines().await {
            Ok(Some(lines)) => encode_lines(&lines),
            Ok(None) => return None,
            Err(error) => Err(error.to_string()),
        };
        match chunk {
            Ok(bytes) => Some((Ok(bytes), (snapshot, slot))),
            Err(error) => {
                // The client sees a body without its watermark line: an incomplete snapshot.
                tracing::error!(%error, "catalogue snapshot failed mid-stream");
                snapshot.abort();
                Some((
                    Err(std::io::Error::other("snapshot failed")),
                    (snapshot, slot),
                ))
            }
        }
    });
    (
        [
            (header::CONTENT_TYPE, "application/x-ndjson"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        [("x-commons-watermark", watermark)],
        Body::from_stream(lines),
    )
        .into_response()
}

fn encode_lines(lines: &[Line]) -> Result<Bytes, String> {
    let mut buf = Vec::with_capacity(lines.len() * 1024);
    for line in lines {
        buf.extend(line.to_json().map_err(|e| e.to_string())?.into_bytes());
        buf.push(b'\n');
    }
    Ok(Bytes::from(buf))
}
