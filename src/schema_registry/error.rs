//! The registry's errors and Confluent's error bodies:
//! `{"error_code": 40401, "message": "..."}` with the HTTP status the code's
//! first three digits name, in `application/vnd.schemaregistry.v1+json`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::storage::StorageError;

/// The content type of every answer.
pub const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

/// What a registry operation can fail with (Confluent's error codes).
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("Subject '{0}' not found.")]
    SubjectNotFound(String),
    #[error("Version {0} not found.")]
    VersionNotFound(String),
    #[error("Schema {0} not found")]
    SchemaIdNotFound(i32),
    #[error("Schema not found")]
    SchemaNotFound,
    #[error("Subject '{0}' was soft deleted.Set permanent=true to delete permanently")]
    SubjectSoftDeleted(String),
    #[error("Subject '{0}' was not deleted first before being permanently deleted")]
    SubjectNotSoftDeleted(String),
    #[error("Subject '{0}' Version {1} was soft deleted.Set permanent=true to delete permanently")]
    VersionSoftDeleted(String, i32),
    #[error("Subject '{0}' Version {1} was not deleted first before being permanently deleted")]
    VersionNotSoftDeleted(String, i32),
    #[error("Subject '{0}' does not have subject-level compatibility configured")]
    NoSubjectCompatibility(String),
    #[error("Subject '{0}' does not have subject-level mode configured")]
    NoSubjectMode(String),
    #[error("Schema being registered is incompatible with an earlier schema for subject \"{subject}\", details: [{}]", .details.join(", "))]
    Incompatible {
        subject: String,
        details: Vec<String>,
    },
    #[error("{0}")]
    InvalidSchema(String),
    #[error("The specified version '{0}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"")]
    InvalidVersion(String),
    #[error("Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive")]
    InvalidCompatibility,
    #[error("Invalid mode. Valid values are READWRITE, READONLY, READONLY_OVERRIDE and IMPORT.")]
    InvalidMode,
    #[error("{0}")]
    NotPermitted(String),
    #[error("One or more references exist to the schema {{magic=1,keytype=SCHEMA,subject={0},version={1}}}.")]
    ReferenceExists(String, i32),
    #[error("Schema already registered with id {0} instead of input id {1}")]
    IdDoesNotMatch(i32, i32),
    #[error("The specified subject '{0}' is not a valid.")]
    InvalidSubject(String),
    #[error("Error while writing to the Kafka store: {0}")]
    Store(#[from] StorageError),
    #[error("{1}")]
    Http(u16, String),
}

impl RegistryError {
    /// Confluent's `error_code`.
    pub fn code(&self) -> u32 {
        match self {
            RegistryError::SubjectNotFound(_) => 40401,
            RegistryError::VersionNotFound(_) => 40402,
            RegistryError::SchemaIdNotFound(_) | RegistryError::SchemaNotFound => 40403,
            RegistryError::SubjectSoftDeleted(_) => 40404,
            RegistryError::SubjectNotSoftDeleted(_) => 40405,
            RegistryError::VersionSoftDeleted(..) => 40406,
            RegistryError::VersionNotSoftDeleted(..) => 40407,
            RegistryError::NoSubjectCompatibility(_) => 40408,
            RegistryError::NoSubjectMode(_) => 40409,
            RegistryError::Incompatible { .. } => 40901,
            RegistryError::InvalidSchema(_) => 42201,
            RegistryError::InvalidVersion(_) => 42202,
            RegistryError::InvalidCompatibility => 42203,
            RegistryError::InvalidMode => 42204,
            RegistryError::NotPermitted(_) => 42205,
            RegistryError::ReferenceExists(..) => 42206,
            RegistryError::IdDoesNotMatch(..) => 42207,
            RegistryError::InvalidSubject(_) => 42208,
            RegistryError::Store(_) => 50001,
            RegistryError::Http(code, _) => u32::from(*code),
        }
    }

    fn status(&self) -> StatusCode {
        let code = self.code();
        let status = if code >= 10_000 { code / 100 } else { code };
        u16::try_from(status)
            .ok()
            .and_then(|s| StatusCode::from_u16(s).ok())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for RegistryError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error_code": self.code(), "message": self.to_string()});
        json_response(self.status(), &body)
    }
}

/// A JSON answer in the registry's content type.
pub fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    r
}
