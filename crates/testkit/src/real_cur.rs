//! The real CUR of ../shared/data/cost/cur (Oct–Nov 2018, two workshop accounts, Athena-named
//! Parquet) laid out as a Data Export delivers it (`data/BILLING_PERIOD=YYYY-MM/`), for the tests
//! that query it with the embedded engine.

use costwatch_core::shared::shared_path;

/// Each month's billing period and file.
pub const FILES: [(&str, &str); 2] = [
    ("2018-10", "Oct2018-WorkshopCUR-00001.snappy.parquet"),
    ("2018-11", "Nov2018-WorkshopCUR-00001.snappy.parquet"),
];

/// A Data Exports folder whose month folders link to the shared files (nothing copied).
pub fn export_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    for (period, file) in FILES {
        let month = dir.path().join(format!("data/BILLING_PERIOD={period}"));
        std::fs::create_dir_all(&month).expect("the month's folder");
        std::os::unix::fs::symlink(
            shared_path(&format!("data/cost/cur/{file}")),
            month.join(file),
        )
        .expect("a link to the shared file");
    }
    dir
}
