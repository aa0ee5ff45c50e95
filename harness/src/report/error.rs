//! Why a report could not be written.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("failed to create the report folder {path}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to write the report {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to serialize the JUnit report")]
    Junit {
        #[source]
        source: quick_junit::SerializeError,
    },
    #[error("failed to serialize the coverage report")]
    Json {
        #[source]
        source: serde_json::Error,
    },
}
