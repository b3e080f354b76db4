//! Where a report is archived: one folder per period and day, three files side by side. The report
//! Lambda writes them to the lake's `reports/` prefix; archive integrations (Azure Blob) copy the
//! same names, so an archive's layout mirrors the bucket's and a replay lands on the same names.
//! The curated cost data of each day (the collect function's `curated/daily/dt=…/records.jsonl`)
//! is named here too, so the pipeline writes and an archive copies the same key.

use chrono::NaiveDate;

use crate::notification::{ReportFigures, ReportPeriod};

/// One archived file of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFile {
    /// The self-contained page (charts inline).
    Html,
    /// The page's data: figures, forecast and anomalies, without the charts.
    Json,
    /// The rows the page's tables show, one per line.
    Csv,
}

impl ReportFile {
    pub const ALL: [ReportFile; 3] = [Self::Html, Self::Json, Self::Csv];

    pub fn file_name(self) -> &'static str {
        match self {
            Self::Html => "report.html",
            Self::Json => "report.json",
            Self::Csv => "report.csv",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Html => "text/html; charset=utf-8",
            Self::Json => "application/json",
            Self::Csv => "text/csv; charset=utf-8",
        }
    }
}

pub fn period_name(period: ReportPeriod) -> &'static str {
    match period {
        ReportPeriod::Daily => "daily",
        ReportPeriod::Weekly => "weekly",
    }
}

/// `reports/daily/dt=2026-11-30/report.html`: deterministic, so a re-run replaces the object (the
/// bucket keeps the old version) and an archive replay writes the same name.
pub fn report_key(period: ReportPeriod, as_of: NaiveDate, file: ReportFile) -> String {
    format!(
        "reports/{}/dt={as_of}/{}",
        period_name(period),
        file.file_name()
    )
}

/// The keys of a report envelope's archived files (its figures' period and last day).
pub fn report_keys(figures: &ReportFigures) -> Vec<(ReportFile, String)> {
    ReportFile::ALL
        .iter()
        .map(|f| (*f, report_key(figures.period, figures.end, *f)))
        .collect()
}

/// The folder of a day's curated cost records in the lake.
pub fn curated_prefix(day: NaiveDate) -> String {
    format!("curated/daily/dt={day}/")
}

/// `curated/daily/dt=2026-11-30/records.jsonl`: a day's curated cost records, one JSON object
/// per line (FOCUS names); a re-run of the day replaces it.
pub fn curated_key(day: NaiveDate) -> String {
    format!("{}records.jsonl", curated_prefix(day))
}

/// The content type of [`curated_key`]'s JSON Lines.
pub const CURATED_CONTENT_TYPE: &str = "application/x-ndjson";

/// The curated records of every day a report covers (`start..=end`: one day for a daily report,
/// seven for a weekly one), which an archive keeps beside the report.
pub fn curated_keys(figures: &ReportFigures) -> Vec<String> {
    figures
        .start
        .iter_days()
        .take_while(|d| *d <= figures.end)
        .map(curated_key)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_names_the_curated_records_of_each_of_its_days() {
        let mut figures = crate::samples::of_kind("report");
        let crate::NotificationBody::Report(f) = &mut figures.body else {
            panic!("not a report")
        };
        f.start = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        f.end = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let keys = curated_keys(f);
        assert_eq!(keys.len(), 7);
        assert_eq!(keys[0], "curated/daily/dt=2026-11-24/records.jsonl");
        assert_eq!(keys[6], "curated/daily/dt=2026-11-30/records.jsonl");
        f.start = f.end;
        assert_eq!(
            curated_keys(f),
            ["curated/daily/dt=2026-11-30/records.jsonl"]
        );
    }

    #[test]
    fn keys_are_partitioned_by_period_and_day() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        assert_eq!(
            report_key(ReportPeriod::Weekly, day, ReportFile::Csv),
            "reports/weekly/dt=2026-11-30/report.csv"
        );
        assert_eq!(
            report_key(ReportPeriod::Daily, day, ReportFile::Html),
            "reports/daily/dt=2026-11-30/report.html"
        );
    }
}
