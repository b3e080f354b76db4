//! Read speed of the real-data readers on the shared CUR and FOCUS files.

use costwatch_core::shared::shared_path;

fn main() {
    divan::main();
}

#[divan::bench(sample_count = 5)]
fn cur_parquet_one_month() -> usize {
    let path = shared_path("data/cost/cur/Oct2018-WorkshopCUR-00001.snappy.parquet");
    costwatch_ingest::read_path(&path)
        .map(|r| r.len())
        .unwrap_or(0)
}

#[divan::bench(sample_count = 10)]
fn cur_csv_gzip_one_day() -> usize {
    let path = shared_path("data/cost/cur/Step1CUR.gz");
    costwatch_ingest::read_path(&path)
        .map(|r| r.len())
        .unwrap_or(0)
}

#[divan::bench(sample_count = 20)]
fn focus_csv_1000_rows() -> usize {
    let path = shared_path("data/cost/focus/focus_1.0_sample_1000.csv");
    costwatch_ingest::read_path(&path)
        .map(|r| r.len())
        .unwrap_or(0)
}
