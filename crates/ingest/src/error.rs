//! Every ingest error names the file, and where a single value is at fault the row (or JSON
//! path) and the column, so a user can open the export and find the offending cell.

use std::fmt;

use thiserror::Error;

/// Where in a file a bad value sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// 1-based data row of a CSV or Parquet file (the header is not counted).
    Row(u64),
    /// A path into a JSON document, e.g. `[1].ResultsByTime[3].Groups[0]`.
    Path(String),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Row(n) => write!(f, "row {n}"),
            Self::Path(p) => write!(f, "at {p}"),
        }
    }
}

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum IngestError {
    #[error("{file}: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}: cannot read as cost data: {reason}")]
    UnknownFormat { file: String, reason: String },
    #[error("{file}: missing required column `{column}`")]
    MissingColumn { file: String, column: String },
    /// A value that cannot be used; the whole file is rejected rather than partially imported.
    #[error("{file} {at} column {column}: {problem}")]
    Value {
        file: String,
        at: Location,
        column: String,
        problem: String,
    },
    /// Malformed CSV (ragged rows, bad quoting, invalid UTF-8); the csv error names the record.
    #[error("{file}: {source}")]
    Csv { file: String, source: csv::Error },
    #[error("{file}: parquet: {source}")]
    Parquet {
        file: String,
        source: parquet::errors::ParquetError,
    },
    #[error("{file}: arrow: {source}")]
    Arrow {
        file: String,
        source: arrow_schema::ArrowError,
    },
    /// Not the expected JSON shape; serde's message carries the line and column.
    #[error("{file}: invalid Cost Explorer JSON: {source}")]
    Json {
        file: String,
        source: serde_json::Error,
    },
}

impl IngestError {
    /// The file the error is about, as the caller named it.
    pub fn file(&self) -> &str {
        match self {
            Self::Io { file, .. }
            | Self::UnknownFormat { file, .. }
            | Self::MissingColumn { file, .. }
            | Self::Value { file, .. }
            | Self::Csv { file, .. }
            | Self::Parquet { file, .. }
            | Self::Arrow { file, .. }
            | Self::Json { file, .. } => file,
        }
    }

    pub(crate) fn io(file: &str, source: std::io::Error) -> Self {
        Self::Io {
            file: file.to_owned(),
            source,
        }
    }

    pub(crate) fn value(file: &str, at: Location, column: &str, problem: String) -> Self {
        Self::Value {
            file: file.to_owned(),
            at,
            column: column.to_owned(),
            problem,
        }
    }

    pub(crate) fn missing(file: &str, column: &str) -> Self {
        Self::MissingColumn {
            file: file.to_owned(),
            column: column.to_owned(),
        }
    }
}
