//! Metric streams as CSV (`timestamp,value`, NAB's layout): read them for the stream detector
//! and write them back with an `anomaly_score` column, one output row per input row.
//!
//! Timestamps are written back exactly as read. They are also parsed where the format is a
//! common one (`2014-02-14 14:27:00`, ISO 8601 with `T`/`Z`/fraction, a date, epoch seconds or
//! milliseconds) for the detector's time-of-day memory; a row whose time cannot be read still
//! gets a score. A value that is empty or not a finite number is a missing point (`None`), kept
//! as a row so the output still lines up with the input.

use std::path::{Path, PathBuf};

use crate::error::IngestError;
use crate::text::file_label;

/// One row as read.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow {
    pub timestamp: String,
    /// The timestamp as seconds since the Unix epoch (UTC assumed), when it could be read.
    pub time: Option<i64>,
    /// The value cell exactly as written, for the output file.
    pub value_text: String,
    pub value: Option<f64>,
}

/// Reads a `timestamp,value` CSV (columns found by name, case-insensitive; other columns are
/// ignored). Fails on a missing column or malformed CSV, naming the file.
pub fn read(path: &Path) -> Result<Vec<MetricRow>, IngestError> {
    let label = file_label(path);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_path(path)
        .map_err(|source| IngestError::Csv {
            file: label.clone(),
            source,
        })?;
    let headers = reader.headers().map_err(|source| IngestError::Csv {
        file: label.clone(),
        source,
    })?;
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
            .ok_or_else(|| IngestError::missing(&label, name))
    };
    let (ts, val) = (column("timestamp")?, column("value")?);
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|source| IngestError::Csv {
            file: label.clone(),
            source,
        })?;
        let value_text = record.get(val).unwrap_or_default().to_owned();
        let value = value_text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite());
        let timestamp = record.get(ts).unwrap_or_default().to_owned();
        rows.push(MetricRow {
            time: parse_time(&timestamp),
            timestamp,
            value_text,
            value,
        });
    }
    Ok(rows)
}

/// Seconds since the Unix epoch for the usual timestamp spellings, `None` otherwise.
pub fn parse_time(text: &str) -> Option<i64> {
    use chrono::{NaiveDate, NaiveDateTime};
    let text = text.trim().trim_end_matches('Z');
    for format in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%Y/%m/%d %H:%M:%S",
        "%m/%d/%Y %H:%M:%S",
        "%m/%d/%Y %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Some(t.and_utc().timestamp());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp());
    }
    // Epoch numbers: milliseconds when too large to be seconds of this era. `unsigned_abs`:
    // `i64::MIN.abs()` overflows.
    let n: i64 = text.parse().ok()?;
    Some(if n.unsigned_abs() > 100_000_000_000 {
        n / 1000
    } else {
        n
    })
}

/// Writes `timestamp,value,anomaly_score`, one row per input row, creating parent folders.
pub fn write(path: &Path, rows: &[MetricRow], scores: &[f64]) -> Result<(), IngestError> {
    let label = file_label(path);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| IngestError::io(&label, e))?;
    }
    let csv_err = |source| IngestError::Csv {
        file: label.clone(),
        source,
    };
    let mut writer = csv::Writer::from_path(path).map_err(csv_err)?;
    writer
        .write_record(["timestamp", "value", "anomaly_score"])
        .map_err(csv_err)?;
    for (row, score) in rows.iter().zip(scores) {
        let score = format!("{:.6}", score.clamp(0.0, 1.0));
        writer
            .write_record([row.timestamp.as_str(), row.value_text.as_str(), &score])
            .map_err(csv_err)?;
    }
    writer.flush().map_err(|e| IngestError::io(&label, e))
}

/// Every `.csv` file under `dir`, recursively, as paths relative to `dir`, sorted.
pub fn csv_files(dir: &Path) -> Result<Vec<PathBuf>, IngestError> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let label = file_label(&folder);
        for entry in std::fs::read_dir(&folder).map_err(|e| IngestError::io(&label, e))? {
            let path = entry.map_err(|e| IngestError::io(&label, e))?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
                && let Ok(relative) = path.strip_prefix(dir)
            {
                out.push(relative.to_path_buf());
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_pass_through_and_bad_values_are_missing() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("a/b.csv");
        std::fs::create_dir_all(input.parent().unwrap()).unwrap();
        std::fs::write(
            &input,
            "Timestamp,Value\n2014-02-14 14:27:00,1.5\n2014-02-14 14:32:00,\n2014-02-14 14:37:00,nan\n",
        )
        .unwrap();
        let rows = read(&input).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].value, Some(1.5));
        assert_eq!(rows[1].value, None);
        assert_eq!(rows[2].value, None);
        assert_eq!(rows[0].time, Some(1_392_388_020));
        assert_eq!(parse_time("2014-02-14T14:27:00.000Z"), Some(1_392_388_020));
        assert_eq!(parse_time("1392388020000"), Some(1_392_388_020));
        assert_eq!(parse_time("yesterday"), None);
        let out = dir.path().join("out/a/b.csv");
        write(&out, &rows, &[0.25, 2.0, -1.0]).unwrap();
        let text = std::fs::read_to_string(&out).unwrap();
        assert_eq!(
            text,
            "timestamp,value,anomaly_score\n2014-02-14 14:27:00,1.5,0.250000\n\
             2014-02-14 14:32:00,,1.000000\n2014-02-14 14:37:00,nan,0.000000\n"
        );
        assert_eq!(
            csv_files(dir.path()).unwrap(),
            vec![PathBuf::from("a/b.csv"), PathBuf::from("out/a/b.csv")]
        );
        std::fs::write(dir.path().join("bad.csv"), "time,v\n1,2\n").unwrap();
        let err = read(&dir.path().join("bad.csv")).unwrap_err();
        assert!(err.to_string().contains("timestamp"), "{err}");
    }
}
