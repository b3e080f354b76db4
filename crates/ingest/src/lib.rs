//! Readers that turn real cost data (Cost Explorer JSON and the console's CSV download, CUR
//! Parquet/CSV, FOCUS CSV) into cost
//! records. Every reader is all-or-nothing: a bad row fails the file with an error naming file,
//! row and column, because a silently partial import would look like a cost drop.
//!
//! CUR and FOCUS line items are rolled up to one record per UTC day and dimension set
//! (account, service, region, charge category, resource, tags, …) while reading, so memory
//! follows daily cardinality rather than line count.

use std::io::Read;
use std::path::Path;

use costwatch_core::CostRecord;

pub mod ce_csv;
pub mod ce_json;
pub mod cur;
pub mod daily;
pub mod error;
pub mod focus;
mod mapping;
pub mod metric_csv;
mod text;

pub use error::{IngestError, Location};

/// The billing account id used for Cost Explorer files, whose responses do not carry one.
pub const UNKNOWN_ACCOUNT: &str = "unknown";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Cost Explorer `GetCostAndUsage` response(s).
    CeJson,
    /// Cost Explorer's CSV download from the console, daily granularity.
    CeCsv,
    /// Cost and Usage Report in Parquet (Athena column naming).
    CurParquet,
    /// Cost and Usage Report as delimited text, Athena or classic headers.
    CurCsv,
    /// FOCUS 1.0 / 1.2 as CSV.
    FocusCsv,
}

/// Decides the format from the content (magic bytes, then the header line), with the extension
/// only as a cross-check: exports are often renamed (`Step1CUR.gz` is a `\x01`-separated CSV).
pub fn detect(path: &Path) -> Result<Format, IngestError> {
    let label = text::file_label(path);
    let unknown = |reason: String| IngestError::UnknownFormat {
        file: label.clone(),
        reason,
    };
    let mut magic = [0u8; 4];
    let mut file = std::fs::File::open(path).map_err(|e| IngestError::io(&label, e))?;
    let n = file
        .read(&mut magic)
        .map_err(|e| IngestError::io(&label, e))?;
    if n == 4 && &magic == b"PAR1" {
        return Ok(Format::CurParquet);
    }
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if extension.as_deref() == Some("parquet") {
        return Err(unknown(
            "`.parquet` file without the Parquet magic bytes".into(),
        ));
    }
    let header = text::first_line(path)?;
    if header.trim_start().starts_with(['{', '[']) {
        return Ok(Format::CeJson);
    }
    let delimiter = text::sniff_delimiter(&header).unwrap_or(b',');
    let names: Vec<&str> = header
        .split(char::from(delimiter))
        .map(|n| n.trim().trim_matches('"'))
        .collect();
    if focus::is_focus_header(&names) {
        return Ok(Format::FocusCsv);
    }
    if ce_csv::is_ce_csv_header(&names) {
        return Ok(Format::CeCsv);
    }
    if names
        .iter()
        .any(|n| n.starts_with("line_item_") || n.starts_with("lineItem/"))
    {
        return Ok(Format::CurCsv);
    }
    let shown: String = header.chars().take(80).collect();
    Err(unknown(format!(
        "neither JSON, Parquet, a FOCUS header (ChargePeriodStart, BilledCost), a CUR header \
         (line_item_*, lineItem/*) nor Cost Explorer's CSV download (Total costs($)): `{shown}`"
    )))
}

/// Sums records that agree on every dimension into one, sorted like a reader's output: how a
/// query's rows (already summed per day, but grouped by line item type) and a reader's records
/// with a dimension dropped (resource id) become the same daily roll-up.
pub fn roll_up(records: impl IntoIterator<Item = CostRecord>) -> Result<Vec<CostRecord>, String> {
    let mut daily = mapping::Daily::default();
    for r in records {
        daily.add_record(r)?;
    }
    Ok(daily.into_records())
}

/// Detects the format and reads the file.
pub fn read_path(path: &Path) -> Result<Vec<CostRecord>, IngestError> {
    read_as(path, detect(path)?)
}

/// Reads the file as the given format.
pub fn read_as(path: &Path, format: Format) -> Result<Vec<CostRecord>, IngestError> {
    match format {
        Format::CeJson => {
            let label = text::file_label(path);
            let mut bytes = Vec::new();
            text::open(path)?
                .read_to_end(&mut bytes)
                .map_err(|e| IngestError::io(&label, e))?;
            ce_json::parse(&bytes, &label, UNKNOWN_ACCOUNT)
        }
        Format::CeCsv => ce_csv::read(path),
        Format::CurParquet => cur::read_parquet(path),
        Format::CurCsv => cur::read_csv(path),
        Format::FocusCsv => focus::read(path),
    }
}
