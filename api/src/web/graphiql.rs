//! GraphiQL, the GraphQL IDE for developers, at `/graphiql`, with its scripts and styles
//! embedded in the binary (vendored in `assets/graphiql/`, see its README), so it works
//! offline. The files are kept gzip-compressed and sent as they are to every browser; a
//! client that does not accept gzip gets them decompressed.

use std::io::Read;

use axum::{
    extract::Path,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};

/// GraphiQL sets styles from script (CodeMirror, React): the one relaxation of the app's
/// policy. Scripts, connections and everything else stay on this origin.
const POLICY: &str = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
     font-src 'self' data:; connect-src 'self' ws: wss:; worker-src 'self' blob:; \
     frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

const VERSION: &str = "3.8.3";

struct Asset {
    name: &'static str,
    media: &'static str,
    gzip: &'static [u8],
}

const ASSETS: [Asset; 4] = [
    Asset {
        name: "graphiql.min.js",
        media: "text/javascript; charset=utf-8",
        gzip: include_bytes!("assets/graphiql/graphiql.min.js.gz"),
    },
    Asset {
        name: "graphiql.min.css",
        media: "text/css; charset=utf-8",
        gzip: include_bytes!("assets/graphiql/graphiql.min.css.gz"),
    },
    Asset {
        name: "react.production.min.js",
        media: "text/javascript; charset=utf-8",
        gzip: include_bytes!("assets/graphiql/react.production.min.js.gz"),
    },
    Asset {
        name: "react-dom.production.min.js",
        media: "text/javascript; charset=utf-8",
        gzip: include_bytes!("assets/graphiql/react-dom.production.min.js.gz"),
    },
];

const INIT: &str = include_str!("assets/graphiql/graphiql-init.js");

pub async fn page() -> Response {
    let asset = |name: &str| format!("/graphiql/assets/{name}?v={VERSION}");
    let page = maud::html! {
        (maud::DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "GraphiQL – Green Procurement Commons" }
                link rel="icon" href=(super::assets::ICON_PATH) type="image/svg+xml";
                link rel="stylesheet" href=(asset("graphiql.min.css"));
                script src=(asset("react.production.min.js")) defer {}
                script src=(asset("react-dom.production.min.js")) defer {}
                script src=(asset("graphiql.min.js")) defer {}
                script src=(asset("graphiql-init.js")) defer {}
            }
            body {
                div id="graphiql" data-endpoint="/graphql" data-subscriptions="/graphql/ws" {
                    noscript { "GraphiQL needs JavaScript. The schema is at /schema.graphql." }
                }
            }
        }
    };
    let mut response = Html(page.into_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(POLICY),
    );
    response
}

pub async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    let cache = (header::CACHE_CONTROL, "public, max-age=86400");
    if name == "graphiql-init.js" {
        return (
            [
                (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                cache,
            ],
            INIT,
        )
            .into_response();
    }
    let Some(asset) = ASSETS.iter().find(|a| a.name == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let gzip_ok = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|c| c.trim().starts_with("gzip")));
    if gzip_ok {
        return (
            [
                (header::CONTENT_TYPE, asset.media),
                (header::CONTENT_ENCODING, "gzip"),
                (header::VARY, "Accept-Encoding"),
                cache,
            ],
            asset.gzip,
        )
            .into_response();
    }
    let mut plain = Vec::new();
    match flate2::read::GzDecoder::new(asset.gzip).read_to_end(&mut plain) {
        Ok(_) => ([(header::CONTENT_TYPE, asset.media), cache], plain).into_response(),
        Err(error) => {
            tracing::error!(%error, asset = asset.name, "a vendored GraphiQL file does not decompress");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_vendored_file_decompresses() {
        for asset in &ASSETS {
            let mut plain = Vec::new();
            flate2::read::GzDecoder::new(asset.gzip)
                .read_to_end(&mut plain)
                .expect("gzip");
            assert!(plain.len() > 4000, "{} is too small", asset.name);
        }
    }
}
