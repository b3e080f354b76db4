//! Scores anomaly-score files the way the Numenta Anomaly Benchmark does (see `scorer`), and
//! prints the standard / low-FP / low-FN scores beside the published detectors.
//!
//! ```text
//! nab_score RESULTS_DIR                 # files written by `costwatch bench nab --out RESULTS_DIR`
//! nab_score --detect DATA_DIR           # run the stream detector in-process first (same code)
//! nab_score --detect DATA_DIR --out DIR # ... and write its results files there, as the CLI does
//! NAB_TRACE=fe7f93:2530-2600 nab_score --detect DATA_DIR
//!                                       # ... printing each channel's surprise over those rows
//! NAB_FLAGS=0.56 nab_score --detect DATA_DIR
//!                                       # ... and the channels of every row scoring ≥ 0.56
//! nab_score RESULTS_DIR --fixed standard=0.9984,reward_low_FP_rate=0.9995,...
//!                                       # score at given thresholds instead of sweeping
//! nab_score --folds DATA_DIR [--steps 120] [--seed 18] [--rule no-loss|pooled|maximin]
//!                                       # leave-one-family-out choice of the configuration
//! NAB_STREAM_CONFIG='{"history":2000}' nab_score --folds DATA_DIR --steps 0
//!                                       # ... of a variant (fields over the default)
//! NAB_CANDIDATES='[{},{"density_weight":1}]' nab_score --folds DATA_DIR
//!                                       # ... each fold taking the best of these on its
//!                                       #     three training families
//! ```
//!
//! Labels and profiles default to `$COSTWATCH_SHARED/data/nab/`; `--nab DIR` reads them from a
//! NAB checkout instead (`DIR/labels/combined_windows.json`, `DIR/config/profiles.json` or
//! `DIR/profiles.json`), to score the full 58-file corpus:
//!
//! ```text
//! costwatch bench nab --data NAB/data --out RESULTS && nab_score RESULTS --nab NAB
//! ```
//!
//! Results files are matched to label keys by relative path (`realAWSCloudwatch/x.csv` matches
//! `x.csv`); a file without a label entry is an error that names it.

mod folds;
mod scorer;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use costwatch_analytics::stream::{StreamConfig, StreamDetector, score_timed_stream};
use costwatch_core::shared::shared_path;
use scorer::{CostMatrix, ScoredFile};

const PROFILES: [&str; 3] = ["standard", "reward_low_FP_rate", "reward_low_FN_rate"];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut detect = None;
    let mut out = None;
    let mut results = None;
    let mut fixed: BTreeMap<String, f64> = BTreeMap::new();
    let mut verbose = false;
    let mut folds = None;
    let mut steps = 120;
    let mut rule = folds::Rule::NoLoss;
    let mut seed = 18;
    let mut nab = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--detect" => detect = it.next().map(PathBuf::from),
            "--out" => out = it.next().map(PathBuf::from),
            "--verbose" | "-v" => verbose = true,
            "--nab" => nab = it.next().map(PathBuf::from),
            "--folds" => folds = it.next().map(PathBuf::from),
            "--rule" => rule = folds::Rule::parse(it.next().map_or("", String::as_str)),
            "--steps" => steps = it.next().and_then(|n| n.parse().ok()).expect("steps"),
            "--seed" => seed = it.next().and_then(|n| n.parse().ok()).expect("seed"),
            "--fixed" => {
                for pair in it.next().map(String::as_str).unwrap_or("").split(',') {
                    if let Some((k, v)) = pair.split_once('=') {
                        fixed.insert(k.to_owned(), v.parse().expect("threshold"));
                    }
                }
            }
            other => results = Some(PathBuf::from(other)),
        }
    }
    let (windows_path, profiles_path) = match &nab {
        Some(root) => (
            root.join("labels/combined_windows.json"),
            [
                root.join("config/profiles.json"),
                root.join("profiles.json"),
            ]
            .into_iter()
            .find(|p| p.exists())
            .unwrap_or_else(|| panic!("no config/profiles.json under {}", root.display())),
        ),
        None => (
            shared_path("data/nab/labels/combined_windows.json"),
            shared_path("data/nab/profiles.json"),
        ),
    };
    let read = |path: &Path| {
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let windows: Windows = serde_json::from_str(&read(&windows_path)).expect("windows JSON");
    let profiles: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(&read(&profiles_path)).expect("profiles JSON");

    let cost_of = |profile: &str| {
        let m = &profiles[profile]["CostMatrix"];
        CostMatrix {
            tp: m["tpWeight"].as_f64().expect("tp"),
            fp: m["fpWeight"].as_f64().expect("fp"),
            fn_: m["fnWeight"].as_f64().expect("fn"),
        }
    };
    if let Some(data) = folds {
        let mut streams = load_streams(&data, &windows);
        folds::run(&mut streams, PROFILES.map(cost_of), steps, seed, rule);
        return;
    }

    let loaded = match (&detect, &results) {
        (Some(data), _) => detect_dir(data, out.as_deref()),
        (None, Some(dir)) => read_results(dir),
        _ => panic!("usage: nab_score RESULTS_DIR | --detect DATA_DIR"),
    };
    let files: Vec<ScoredFile> = loaded
        .into_iter()
        .map(|(relative, timestamps, scores)| scored_file(&windows, &relative, &timestamps, scores))
        .collect();

    println!(
        "{} files, {} rows, {} windows",
        files.len(),
        files.iter().map(|f| f.scores.len()).sum::<usize>(),
        files.iter().map(|f| f.windows.len()).sum::<usize>()
    );
    for profile in PROFILES {
        let cost = cost_of(profile);
        let threshold = fixed
            .get(profile)
            .copied()
            .unwrap_or_else(|| scorer::best_threshold(&files, cost).threshold);
        let per_file: Vec<f64> = files
            .iter()
            .map(|f| scorer::file_score(f, cost, threshold))
            .collect();
        let raw: f64 = per_file.iter().sum();
        let (null, perfect) = scorer::null_and_perfect(&files, cost);
        println!(
            "{profile:<20} threshold {threshold:.6}  raw {raw:8.3}  normalised {:6.1}",
            scorer::normalised(raw, null, perfect)
        );
        print_families(&files, &per_file, cost);
        if verbose && profile == "standard" {
            for (f, s) in files.iter().zip(&per_file) {
                let flagged: Vec<usize> = f
                    .scores
                    .iter()
                    .enumerate()
                    .filter(|(i, v)| {
                        **v >= threshold && *i >= scorer::probationary_length(f.scores.len())
                    })
                    .map(|(i, _)| i)
                    .collect();
                println!(
                    "  {:<55} {s:7.3}  windows {:?}  flagged {:?}",
                    f.name, f.windows, flagged
                );
            }
        }
    }
}

type Windows = BTreeMap<String, Vec<[String; 2]>>;

/// Each family's (top-level folder's) score at the corpus's threshold, normalised over its own
/// files as the leave-one-family-out table is: what a full-corpus run says of the families this
/// project never fitted, beside the folds' figures. Printed only for more than one family.
fn print_families(files: &[ScoredFile], per_file: &[f64], cost: CostMatrix) {
    let mut families: BTreeMap<&str, (Vec<&ScoredFile>, f64)> = BTreeMap::new();
    for (file, score) in files.iter().zip(per_file) {
        let entry = families.entry(family_of(&file.name)).or_default();
        entry.0.push(file);
        entry.1 += score;
    }
    if families.len() < 2 {
        return;
    }
    for (family, (members, raw)) in &families {
        let normalised = folds::normalised(members, cost, *raw).map_or_else(
            || "     -".to_owned(), // no window after the probationary rows
            |v| format!("{v:6.1}"),
        );
        let count = match members.len() {
            1 => "  1 file ".to_owned(),
            n => format!("{n:>3} files"),
        };
        println!("  {family:<30} {count}  raw {raw:8.3}  normalised {normalised}");
    }
}

/// A file's family: its label key's top-level folder (`realKnownCause/x.csv`).
fn family_of(name: &str) -> &str {
    name.split_once('/').map_or("", |(f, _)| f)
}

/// A file's scores with its label windows as row ranges.
fn scored_file(
    windows: &Windows,
    relative: &str,
    timestamps: &[NaiveDateTime],
    scores: Vec<f64>,
) -> ScoredFile {
    let key = windows
        .keys()
        .find(|k| *k == relative || k.ends_with(&format!("/{relative}")))
        .unwrap_or_else(|| {
            panic!("no label entry for {relative} (a NAB checkout's labels: --nab DIR)")
        });
    let spans = windows[key]
        .iter()
        .map(|[a, b]| {
            let (a, b) = (parse_ts(a), parse_ts(b));
            let left = timestamps
                .iter()
                .position(|t| *t >= a)
                .expect("window start");
            let right = timestamps
                .iter()
                .rposition(|t| *t <= b)
                .expect("window end");
            (left, right)
        })
        .collect();
    ScoredFile {
        name: key.clone(),
        scores,
        windows: spans,
    }
}

/// Every file under `dir` with its family (top-level folder) and windows, for `--folds`.
fn load_streams(dir: &Path, windows: &Windows) -> Vec<folds::Stream> {
    costwatch_ingest::metric_csv::csv_files(dir)
        .expect("data dir")
        .into_iter()
        .map(|relative| {
            let rows = costwatch_ingest::metric_csv::read(&dir.join(&relative)).expect("csv");
            let ts: Vec<NaiveDateTime> = rows.iter().map(|r| parse_ts(&r.timestamp)).collect();
            let name = relative_name(&relative);
            let family = family_of(&name).to_owned();
            folds::Stream {
                family,
                points: rows.iter().map(|r| (r.time, r.value)).collect(),
                file: scored_file(windows, &name, &ts, Vec::new()),
            }
        })
        .collect()
}

fn parse_ts(text: &str) -> NaiveDateTime {
    let text = text.trim();
    [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
    .unwrap_or_else(|| panic!("timestamp `{text}`"))
}

type Loaded = Vec<(String, Vec<NaiveDateTime>, Vec<f64>)>;

fn relative_name(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// The default configuration, or NAB_STREAM_CONFIG's fields (JSON) over it: to study the
/// configuration's neighbourhood (`--detect`) or to start the folds' climb from it (`--folds`).
pub(crate) fn start_config() -> StreamConfig {
    std::env::var("NAB_STREAM_CONFIG")
        .ok()
        .map(|j| serde_json::from_str(&j).expect("NAB_STREAM_CONFIG"))
        .unwrap_or_default()
}

/// NAB_CANDIDATES (a JSON array of field sets, each over the start configuration): the
/// configurations the folds choose among instead of climbing (see `folds::climb`).
pub(crate) fn candidates() -> Option<Vec<StreamConfig>> {
    let text = std::env::var("NAB_CANDIDATES").ok()?;
    let sets: Vec<serde_json::Value> = serde_json::from_str(&text).expect("NAB_CANDIDATES");
    let start = start_config();
    Some(
        sets.iter()
            .map(|set| {
                let fields = set.as_object().expect("NAB_CANDIDATES: objects");
                with_fields(&start, fields.iter().map(|(k, v)| (k.as_str(), v)))
            })
            .collect(),
    )
}

/// `cfg` with the given fields (JSON values by field name) set over it.
pub(crate) fn with_fields<'a>(
    cfg: &StreamConfig,
    fields: impl IntoIterator<Item = (&'a str, &'a serde_json::Value)>,
) -> StreamConfig {
    let mut v = serde_json::to_value(cfg).expect("config JSON");
    for (field, value) in fields {
        v[field] = value.clone();
    }
    serde_json::from_value(v).expect("candidate config")
}

fn detect_dir(dir: &Path, out: Option<&Path>) -> Loaded {
    let cfg = start_config();
    costwatch_ingest::metric_csv::csv_files(dir)
        .expect("data dir")
        .into_iter()
        .map(|relative| {
            let rows = costwatch_ingest::metric_csv::read(&dir.join(&relative)).expect("csv");
            let ts: Vec<NaiveDateTime> = rows.iter().map(|r| parse_ts(&r.timestamp)).collect();
            // The same inputs `costwatch bench nab` gives the detector.
            let points: Vec<(Option<i64>, Option<f64>)> =
                rows.iter().map(|r| (r.time, r.value)).collect();
            let scores = score_timed_stream(&points, &cfg);
            explain(&relative_name(&relative), &points, &cfg);
            if let Some(out) = out {
                costwatch_ingest::metric_csv::write(&out.join(&relative), &rows, &scores)
                    .expect("results csv");
            }
            (relative_name(&relative), ts, scores)
        })
        .collect()
}

/// Prints each channel's surprise on the rows asked for: NAB_TRACE=name-fragment:from-to, the
/// rows of one file; NAB_FLAGS=threshold, every row of every file scoring at least that.
fn explain(name: &str, points: &[(Option<i64>, Option<f64>)], cfg: &StreamConfig) {
    let range = std::env::var("NAB_TRACE").ok().and_then(|trace| {
        let (fragment, range) = trace.split_once(':')?;
        let (from, to) = range.split_once('-')?;
        let range = from.parse::<usize>().ok()?..=to.parse::<usize>().ok()?;
        name.contains(fragment).then_some(range)
    });
    let threshold = std::env::var("NAB_FLAGS")
        .ok()
        .and_then(|t| t.parse::<f64>().ok());
    if range.is_none() && threshold.is_none() {
        return;
    }
    let mut d = StreamDetector::new(*cfg);
    for (i, (t, v)) in points.iter().enumerate() {
        let s = d.push_at(*t, *v);
        if range.as_ref().is_some_and(|r| r.contains(&i)) {
            println!("{i} {v:?} score {s:.3} {:?}", d.channels());
        }
        if threshold.is_some_and(|th| s >= th) {
            println!("FLAG {name} {i} {s:.3} {:?}", d.channels());
        }
    }
}

fn read_results(dir: &Path) -> Loaded {
    costwatch_ingest::metric_csv::csv_files(dir)
        .expect("results dir")
        .into_iter()
        .map(|relative| {
            let mut reader = csv::Reader::from_path(dir.join(&relative)).expect("results csv");
            let headers = reader.headers().expect("header").clone();
            let col = |n: &str| headers.iter().position(|h| h == n).expect(n);
            let (t, s) = (col("timestamp"), col("anomaly_score"));
            let mut ts = Vec::new();
            let mut scores = Vec::new();
            for record in reader.records() {
                let record = record.expect("row");
                ts.push(parse_ts(&record[t]));
                scores.push(record[s].parse::<f64>().expect("anomaly_score"));
            }
            (relative_name(&relative), ts, scores)
        })
        .collect()
}
