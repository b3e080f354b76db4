//! The Data Export's Glue table and the Athena workgroup the template makes for it (CurPrefix
//! set): collect and detect query it when it is the cost source (CostSource=DataExports),
//! recommend whenever it exists (the suite's rules read the CUR's usage lines from it).

use chrono::{DateTime, NaiveDate, Utc};
use costwatch_pipeline::data_exports;
use costwatch_pipeline::resource_causes::ExportLines;
use costwatch_query::ExportTable;
use costwatch_store::StateStore;

use crate::emf;
use crate::env::Env;
use crate::error::{HandlerError, Result};
use crate::handlers::collect::{COST_CATEGORIES, TAG_KEYS};

pub const ATHENA_WORKGROUP: &str = "COSTWATCH_ATHENA_WORKGROUP";
pub const ATHENA_DATABASE: &str = "COSTWATCH_ATHENA_DATABASE";
pub const ATHENA_TABLE: &str = "COSTWATCH_ATHENA_TABLE";
/// `cur2` (default) or `focus` (template parameter DataExportsFormat).
pub const EXPORT_FORMAT: &str = "COSTWATCH_EXPORT_FORMAT";

/// Where the table is, as the template names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AthenaNames {
    pub workgroup: String,
    pub database: String,
    pub table: String,
}

/// The table's names from the environment: `None` when none is set (no CUR), an error naming
/// what is missing when only some are.
pub fn athena_names(env: &Env) -> Result<Option<AthenaNames>> {
    let names = [ATHENA_WORKGROUP, ATHENA_DATABASE, ATHENA_TABLE];
    let values = names.map(|n| env.optional(n).filter(|v| !v.is_empty()));
    match values {
        [None, None, None] => Ok(None),
        [Some(workgroup), Some(database), Some(table)] => Ok(Some(AthenaNames {
            workgroup: workgroup.to_owned(),
            database: database.to_owned(),
            table: table.to_owned(),
        })),
        _ => {
            let missing: Vec<&str> = names
                .iter()
                .zip(values)
                .filter(|(_, v)| v.is_none())
                .map(|(n, _)| *n)
                .collect();
            Err(HandlerError::Config(format!(
                "the Athena table needs {} too",
                missing.join(" and ")
            )))
        }
    }
}

/// The table as the template declares it (CUR 2.0, or FOCUS 1.2 with `COSTWATCH_EXPORT_FORMAT`
/// `focus`), keeping the tag keys and cost categories the Cost Explorer settings name, so both
/// sources give records the same dimensions.
pub fn export_table(env: &Env, table: &str) -> ExportTable {
    let (tags, categories) = (env.list(TAG_KEYS), env.list(COST_CATEGORIES));
    match env.optional(EXPORT_FORMAT) {
        Some("focus") => ExportTable::focus(table, tags, categories),
        _ => ExportTable::cur2(table, tags, categories),
    }
}

/// Bills the queries `lines` ran since the last call: one ledger line (`{n} Athena queries for
/// {purpose}, {b} bytes billed`, counted against `days`) and the EMF `AthenaBytesScanned`.
/// Returns how many queries ran; nothing is written when none did.
pub async fn bill_queries(
    lines: Option<&ExportLines>,
    state: &dyn StateStore,
    purpose: &str,
    days: &[NaiveDate],
    now: DateTime<Utc>,
) -> Result<u64> {
    let Some(usage) = lines.map(ExportLines::take_usage).filter(|u| u.queries > 0) else {
        return Ok(0);
    };
    let line = format!(
        "{} Athena queries for {purpose}, {} bytes billed",
        usage.queries, usage.billed_bytes
    );
    data_exports::record_ledger(state, usage, days, &line, now).await?;
    emf::athena_bytes_scanned(usage.bytes_scanned);
    Ok(usage.queries)
}

#[cfg(test)]
mod tests {
    use costwatch_query::Flavour;

    use super::*;

    #[test]
    fn the_export_format_picks_the_tables_layout() {
        let env = |format: Option<&str>| {
            let mut pairs = vec![(TAG_KEYS, "team")];
            pairs.extend(format.map(|f| (EXPORT_FORMAT, f)));
            Env::from_pairs(pairs)
        };
        let cur2 = export_table(&env(None), "cur2");
        assert_eq!(
            (cur2.flavour, cur2.tag_keys.clone()),
            (Flavour::Cur2, vec!["team".to_owned()])
        );
        assert_eq!(
            export_table(&env(Some("cur2")), "cur2").flavour,
            Flavour::Cur2
        );
        let focus = export_table(&env(Some("focus")), "focus");
        assert_eq!(
            (focus.flavour, focus.name.as_str()),
            (Flavour::Focus, "focus")
        );
    }

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn all_three_names_or_none() {
        assert_eq!(athena_names(&env(&[])).unwrap(), None);
        let all = env(&[
            (ATHENA_WORKGROUP, "wg"),
            (ATHENA_DATABASE, "db"),
            (ATHENA_TABLE, "cur2"),
        ]);
        let names = athena_names(&all).unwrap().expect("names");
        assert_eq!(
            (names.workgroup.as_str(), names.table.as_str()),
            ("wg", "cur2")
        );
        let partial = env(&[(ATHENA_WORKGROUP, "wg")]);
        let err = athena_names(&partial).unwrap_err().to_string();
        assert!(
            err.contains(ATHENA_DATABASE) && err.contains(ATHENA_TABLE),
            "{err}"
        );
    }
}
