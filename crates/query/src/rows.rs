//! A query's answer as text cells: Athena returns every value as a string (or none for null),
//! and the embedded engine formats its Arrow arrays the same way, so one mapping reads both.

use crate::QueryError;

/// Column names and rows of optional text cells.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

impl Rows {
    /// The position of each of `names`, or an error naming the first one missing.
    pub fn positions<const N: usize>(&self, names: [&str; N]) -> Result<[usize; N], QueryError> {
        let mut out = [0; N];
        for (slot, name) in out.iter_mut().zip(names) {
            *slot = self.position(name)?;
        }
        Ok(out)
    }

    pub fn position(&self, name: &str) -> Result<usize, QueryError> {
        self.columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(name))
            .ok_or_else(|| QueryError::Shape(format!("the answer has no column `{name}`")))
    }
}

/// What an engine answered, and what it read to do so.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    pub rows: Rows,
    /// Bytes the engine read from storage (Athena's DataScannedInBytes; the Parquet bytes the
    /// embedded engine fetched).
    pub bytes_scanned: u64,
}
