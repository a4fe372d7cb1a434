//! The service layer's error type and its mapping onto GraphQL error codes.
//!
//! `ServiceError` deliberately does not implement `Display`: async-graphql converts any
//! `Display` type into an error *without* a code, so a stray `?` would silently drop the code.
//! Resolvers must go through [`ServiceError::into_graphql`] (via [`GqlResult`]) instead.

use async_graphql::ErrorExtensions;
use sea_orm::{DbErr, SqlErr};

/// Stable error codes carried in `extensions.code` (DESIGN.md, API conventions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    BadUserInput,
    NotFound,
    Conflict,
    SearchUnavailable,
    RateLimited,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::NotFound => "NOT_FOUND",
            Self::Conflict => "CONFLICT",
            Self::SearchUnavailable => "SEARCH_UNAVAILABLE",
            Self::RateLimited => "RATE_LIMITED",
            Self::Internal => "INTERNAL",
        }
    }
}

#[derive(Debug)]
pub enum ServiceError {
    /// The operation needs a signed-in caller.
    Unauthenticated,
    /// The caller is known but may not do this.
    Forbidden(String),
    /// One input field is invalid; `field` is its path in the GraphQL input (`input.cpvCodes[1]`).
    BadInput { field: String, message: String },
    /// The record does not exist or is not visible to the caller (the two are not told apart).
    NotFound(&'static str),
    /// A stale `expectedVersion` or a uniqueness clash.
    Conflict(String),
    /// The search backend failed or cannot be reached; logged with detail.
    SearchUnavailable(String),
    /// Every search slot is taken: the server is overloaded and refuses rather than queues.
    SearchBusy,
    /// Anything unexpected; logged with detail, answered without it.
    Internal(anyhow::Error),
}

pub type ServiceResult<T> = Result<T, ServiceError>;

/// For operators (the CLI and logs): with internal detail. Clients get [`ServiceError::into_graphql`].
impl std::fmt::Display for ServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unauthenticated => f.write_str("authentication required"),
            Self::Forbidden(message) | Self::Conflict(message) => f.write_str(message),
            Self::BadInput { field, message } => write!(f, "{field}: {message}"),
            Self::NotFound(what) => write!(f, "{what} not found"),
            Self::SearchUnavailable(detail) => write!(f, "search unavailable: {detail}"),
            Self::SearchBusy => f.write_str("search busy"),
            Self::Internal(error) => write!(f, "{error:#}"),
        }
    }
}

impl std::error::Error for ServiceError {}

impl ServiceError {
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadInput {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden(message.into())
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Unauthenticated => ErrorCode::Unauthenticated,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::BadInput { .. } => ErrorCode::BadUserInput,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::SearchUnavailable(_) | Self::SearchBusy => ErrorCode::SearchUnavailable,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The client-facing GraphQL error. Internal errors are logged here and never described.
    pub fn into_graphql(self) -> async_graphql::Error {
        let code = self.code().as_str();
        let (message, field) = match self {
            Self::Unauthenticated => ("authentication required".to_owned(), None),
            Self::Forbidden(message) | Self::Conflict(message) => (message, None),
            Self::BadInput { field, message } => (format!("{field}: {message}"), Some(field)),
            Self::NotFound(what) => (format!("{what} not found"), None),
            Self::SearchUnavailable(detail) => {
                tracing::error!(%detail, "search backend failed");
                (
                    "search is unavailable right now; try again shortly".to_owned(),
                    None,
                )
            }
            // Expected under overload, and as frequent as the requests: not an error to log
            // once per request.
            Self::SearchBusy => {
                tracing::debug!("search refused: every search slot is taken");
                (
                    "search is busy right now; try again shortly".to_owned(),
                    None,
                )
            }
            Self::Internal(error) => {
                tracing::error!(error = ?error, "internal error");
                ("internal error".to_owned(), None)
            }
        };
        async_graphql::Error::new(message).extend_with(|_, ext| {
            ext.set("code", code);
            if let Some(field) = field {
                ext.set("field", field);
            }
        })
    }
}

impl ServiceError {
    /// The HTTP status for a REST endpoint answering this error.
    pub fn status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode;
        match self.code() {
            ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::BadUserInput => StatusCode::BAD_REQUEST,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::SearchUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// REST endpoints answer with the same coded body as GraphQL errors.
impl axum::response::IntoResponse for ServiceError {
    fn into_response(self) -> axum::response::Response {
        let status = self.status();
        let error = self.into_graphql();
        let body = serde_json::json!({
            "errors": [{ "message": error.message, "extensions": error.extensions }]
        });
        (status, axum::Json(body)).into_response()
    }
}

impl From<DbErr> for ServiceError {
    fn from(error: DbErr) -> Self {
        match error.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                Self::Conflict("a record with the same unique key already exists".to_owned())
            }
            _ => Self::Internal(error.into()),
        }
    }
}

impl From<search::SearchError> for ServiceError {
    fn from(error: search::SearchError) -> Self {
        match error {
            search::SearchError::BadRequest { field, message } => Self::bad_input(field, message),
            search::SearchError::Unavailable(detail) => Self::SearchUnavailable(detail),
            search::SearchError::Busy { .. } => Self::SearchBusy,
            search::SearchError::Locked => Self::SearchUnavailable("index locked".to_owned()),
        }
    }
}

impl From<anyhow::Error> for ServiceError {
    fn from(error: anyhow::Error) -> Self {
        Self::Internal(error)
    }
}

/// Converts service results at the resolver boundary, keeping the error code.
pub trait GqlResult<T> {
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T> GqlResult<T> for ServiceResult<T> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(ServiceError::into_graphql)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_hide_their_detail() {
        let error = ServiceError::Internal(anyhow::anyhow!("connection refused to 10.0.0.7"))
            .into_graphql();
        assert_eq!(error.message, "internal error");
        let ext = format!("{:?}", error.extensions);
        assert!(ext.contains("INTERNAL"), "{ext}");
        assert!(!ext.contains("10.0.0.7"));
    }

    #[test]
    fn bad_input_names_the_field() {
        let error = ServiceError::bad_input("input.cpvCodes[0]", "bad check digit").into_graphql();
        assert!(error.message.starts_with("input.cpvCodes[0]"));
        let ext = format!("{:?}", error.extensions);
        assert!(ext.contains("BAD_USER_INPUT") && ext.contains("input.cpvCodes[0]"));
    }

    #[test]
    fn a_busy_search_is_unavailable_for_now() {
        let busy = ServiceError::from(search::SearchError::Busy { waited_ms: 1000 });
        assert_eq!(busy.status(), axum::http::StatusCode::SERVICE_UNAVAILABLE);
        let error = busy.into_graphql();
        assert!(error.message.contains("busy"), "{}", error.message);
        assert!(format!("{:?}", error.extensions).contains("SEARCH_UNAVAILABLE"));
    }
}
