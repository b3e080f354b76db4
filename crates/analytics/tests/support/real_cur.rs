//! The real CUR usage lines (data/cost/cur, Oct–Nov 2018, two workshop accounts), read once per
//! test binary: the recommendation rules and the resource drivers are tested on the same lines.

use std::sync::OnceLock;

use costwatch_core::UsageLine;
use costwatch_core::shared::shared_path;
use costwatch_ingest::cur::read_usage;

pub fn lines() -> &'static [UsageLine] {
    static LINES: OnceLock<Vec<UsageLine>> = OnceLock::new();
    LINES.get_or_init(|| {
        [
            "Oct2018-WorkshopCUR-00001.snappy.parquet",
            "Nov2018-WorkshopCUR-00001.snappy.parquet",
        ]
        .iter()
        .flat_map(|f| read_usage(&shared_path(&format!("data/cost/cur/{f}"))).unwrap())
        .collect()
    })
}
