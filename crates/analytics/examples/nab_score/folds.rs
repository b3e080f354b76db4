//! Leave-one-family-out choice of the stream detector's one configuration (`nab_score --folds
//! DATA_DIR`, `make nab-folds`).
//!
//! A family is a top-level folder of DATA_DIR (NAB's `realAWSCloudwatch`, `realKnownCause`,
//! `artificialWithAnomaly`, `artificialNoAnomaly`). For each fold, a seeded hill climb from
//! the default (or `NAB_STREAM_CONFIG`) over a bounded grid ([`space`]) raises the standard
//! score on the other three families without lowering any one of them ([`climb`]), and their
//! swept thresholds (one per profile) are kept; the held-out family
//! is then scored at those thresholds, never swept on it. The pooled row adds the four held-out
//! families' raw scores and normalises them over every file: the honest estimate. The final
//! configuration is the same climb on all families (its figures are in-sample).

use costwatch_analytics::stream::{StreamConfig, score_timed_stream};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::scorer::{self, CostMatrix, ScoredFile};

/// One file as the detector sees it (times and values) and as the scorer sees it (windows).
pub struct Stream {
    pub family: String,
    pub points: Vec<(Option<i64>, Option<f64>)>,
    pub file: ScoredFile,
}

/// Values tried for each field; a candidate takes one value per field at random.
fn space() -> Vec<(&'static str, Vec<Value>)> {
    vec![
        ("baseline", vec![json!(6), json!(12), json!(24), json!(48)]),
        ("history", vec![json!(2000), json!(8000), json!(100_000)]),
        ("shift_points", vec![json!(3), json!(6), json!(12)]),
        (
            "deviation_quantile",
            vec![json!(0.9), json!(0.95), json!(0.99)],
        ),
        (
            "value_quantile",
            vec![json!(0.98), json!(0.99), json!(0.995)],
        ),
        (
            "refractory",
            vec![json!(50), json!(100), json!(200), json!(400)],
        ),
        ("damping", vec![json!(0.3), json!(0.5), json!(0.7)]),
        (
            "tail_floor",
            vec![json!(0.0), json!(0.005), json!(0.01), json!(0.02)],
        ),
        ("daily_memory", vec![json!(0), json!(3), json!(5)]),
        ("level_points", vec![json!(3), json!(5), json!(9)]),
        ("level_weight", vec![json!(0.0), json!(0.5), json!(1.0)]),
        ("volatility_points", vec![json!(20), json!(40), json!(80)]),
        (
            "volatility_weight",
            vec![json!(0.0), json!(0.5), json!(1.0), json!(1.5)],
        ),
        ("seasonal_days", vec![json!(1), json!(3), json!(7)]),
        (
            "seasonal_points",
            vec![json!(1), json!(6), json!(12), json!(36)],
        ),
        (
            "seasonal_weight",
            vec![json!(0.0), json!(0.5), json!(1.0), json!(1.5)],
        ),
        ("weekly_weeks", vec![json!(0), json!(2), json!(3)]),
        (
            "density_points",
            vec![
                json!(10),
                json!(15),
                json!(20),
                json!(30),
                json!(40),
                json!(80),
            ],
        ),
        (
            "density_weight",
            vec![json!(0.0), json!(0.5), json!(0.7), json!(1.0)],
        ),
        ("density_low", vec![json!(false), json!(true)]),
        ("warmup", vec![json!(20), json!(100), json!(300)]),
        ("calibration", vec![json!(0.0), json!(0.5), json!(1.0)]),
    ]
}

/// A neighbour of `from`: one to three fields set to another of their values, at random.
fn mutate(from: &StreamConfig, rng: &mut ChaCha8Rng) -> StreamConfig {
    let space = space();
    let picks: Vec<(&str, &Value)> = (0..rng.random_range(1..=3))
        .map(|_| {
            let (field, values) = &space[rng.random_range(0..space.len())];
            (*field, &values[rng.random_range(0..values.len())])
        })
        .collect();
    crate::with_fields(from, picks)
}

/// Swept thresholds and raw totals of the three profiles on `streams`, scored with `cfg`.
fn evaluate(streams: &mut [&mut Stream], cfg: &StreamConfig, costs: &[CostMatrix; 3]) -> Swept {
    for s in streams.iter_mut() {
        s.file.scores = score_timed_stream(&s.points, cfg);
    }
    let files: Vec<&ScoredFile> = streams.iter().map(|s| &s.file).collect();
    sweep(&files, costs)
}

/// Each family's standard score at the standard threshold swept on all of `streams`: raw, and
/// normalised where the family has windows.
fn per_family(
    streams: &[&mut Stream],
    cost: CostMatrix,
    threshold: f64,
) -> Vec<(f64, Option<f64>)> {
    let mut families: Vec<&str> = streams.iter().map(|s| s.family.as_str()).collect();
    families.sort_unstable();
    families.dedup();
    families
        .iter()
        .map(|family| {
            let files: Vec<&ScoredFile> = streams
                .iter()
                .filter(|s| s.family == *family)
                .map(|s| &s.file)
                .collect();
            let raw = raw_at(&files, cost, threshold);
            (raw, normalised(&files, cost, raw))
        })
        .collect()
}

/// How the climb decides that a neighbour is better.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    /// A higher standard score on all the training files.
    Pooled,
    /// A higher score on all the training files and no family's lower.
    NoLoss,
    /// A higher lowest family score (normalised, families with windows), ties by the pooled score.
    Maximin,
}

impl Rule {
    pub fn parse(text: &str) -> Self {
        match text {
            "pooled" => Rule::Pooled,
            "no-loss" => Rule::NoLoss,
            "maximin" => Rule::Maximin,
            other => panic!("--rule {other}: pooled, no-loss or maximin"),
        }
    }

    fn better(
        self,
        (pooled, families): (f64, &[(f64, Option<f64>)]),
        (best_pooled, best_families): (f64, &[(f64, Option<f64>)]),
    ) -> bool {
        let worst = |f: &[(f64, Option<f64>)]| {
            f.iter()
                .filter_map(|(_, n)| *n)
                .fold(f64::INFINITY, f64::min)
        };
        match self {
            Rule::Pooled => pooled > best_pooled,
            Rule::NoLoss => {
                pooled > best_pooled
                    && families
                        .iter()
                        .zip(best_families)
                        .all(|(new, old)| new.0 >= old.0 - 1e-9)
            }
            Rule::Maximin => {
                let (w, b) = (worst(families), worst(best_families));
                w > b + 1e-9 || ((w - b).abs() <= 1e-9 && pooled > best_pooled)
            }
        }
    }
}

/// A seeded hill climb from [`crate::start_config`] on `streams` only: `steps` neighbours of the
/// best so far, each kept if `rule` says it is better. With NAB_CANDIDATES
/// ([`crate::candidates`]) the neighbours are those configurations instead, each tried once,
/// in order, against the best so far. With [`Rule::NoLoss`], a change that helps one family at
/// another's expense (a change fitted to a family, which the held-out family would pay for) is
/// not taken.
fn climb(
    streams: &mut [&mut Stream],
    costs: &[CostMatrix; 3],
    (steps, seed, rule): (usize, u64, Rule),
    label: &str,
) -> (StreamConfig, Swept) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut best = crate::start_config();
    let mut best_score = evaluate(streams, &best, costs);
    let mut best_families = per_family(streams, costs[0], best_score[0].0);
    let listed = crate::candidates();
    let steps = listed.as_ref().map_or(steps, Vec::len);
    for step in 0..steps {
        let cfg = match &listed {
            Some(list) => list[step],
            None => mutate(&best, &mut rng),
        };
        if cfg == best {
            continue;
        }
        let score = evaluate(streams, &cfg, costs);
        let families = per_family(streams, costs[0], score[0].0);
        if rule.better((score[0].1, &families), (best_score[0].1, &best_families)) {
            best = cfg;
            best_score = score;
            best_families = families;
            eprintln!("{label} step {step}: standard raw {:.3}", score[0].1);
        }
    }
    evaluate(streams, &best, costs);
    (best, best_score)
}

/// A candidate's figures on one set of files for the three profiles (threshold, raw).
type Swept = [(f64, f64); 3];

fn sweep(files: &[&ScoredFile], costs: &[CostMatrix; 3]) -> Swept {
    let owned: Vec<ScoredFile> = files.iter().map(|f| (*f).clone()).collect();
    costs.map(|c| {
        let best = scorer::best_threshold(&owned, c);
        (best.threshold, best.score)
    })
}

/// `raw` normalised over `files`; `None` when they hold no window after probation.
pub fn normalised(files: &[&ScoredFile], cost: CostMatrix, raw: f64) -> Option<f64> {
    let owned: Vec<ScoredFile> = files.iter().map(|f| (*f).clone()).collect();
    let (null, perfect) = scorer::null_and_perfect(&owned, cost);
    (perfect > null).then(|| scorer::normalised(raw, null, perfect))
}

fn raw_at(files: &[&ScoredFile], cost: CostMatrix, threshold: f64) -> f64 {
    files
        .iter()
        .map(|f| scorer::file_score(f, cost, threshold))
        .sum()
}

pub fn run(streams: &mut [Stream], costs: [CostMatrix; 3], steps: usize, seed: u64, rule: Rule) {
    let mut families: Vec<String> = streams.iter().map(|s| s.family.clone()).collect();
    families.sort();
    families.dedup();
    eprintln!(
        "{} families, {} files, {steps} hill-climb steps per search (seed {seed}, {rule:?})",
        families.len(),
        streams.len(),
    );
    println!(
        "| held-out family (files) | standard | low FP | low FN | training standard (3 families) |"
    );
    println!("|---|---|---|---|---|");
    let mut pooled = [0.0; 3];
    let mut chosen = Vec::new();
    for held in &families {
        let mut train: Vec<&mut Stream> =
            streams.iter_mut().filter(|s| &s.family != held).collect();
        let (cfg, swept) = climb(&mut train, &costs, (steps, seed, rule), held);
        let files: Vec<&ScoredFile> = train.iter().map(|s| &s.file).collect();
        let train_std = normalised(&files, costs[0], swept[0].1).unwrap_or(f64::NAN);
        let mut test: Vec<&mut Stream> = streams.iter_mut().filter(|s| &s.family == held).collect();
        for s in test.iter_mut() {
            s.file.scores = score_timed_stream(&s.points, &cfg);
        }
        let files: Vec<&ScoredFile> = test.iter().map(|s| &s.file).collect();
        let mut cells = Vec::new();
        for p in 0..3 {
            let raw = raw_at(&files, costs[p], swept[p].0);
            pooled[p] += raw;
            cells.push(match normalised(&files, costs[p], raw) {
                Some(v) => format!("{v:.1}"),
                None => format!("{raw:.2} (raw: no windows)"),
            });
        }
        println!(
            "| {held} ({}) | {} | {} | {} | {train_std:.1} |",
            files.len(),
            cells[0],
            cells[1],
            cells[2]
        );
        chosen.push((held.clone(), cfg));
    }
    let all: Vec<&ScoredFile> = streams.iter().map(|s| &s.file).collect();
    let pooled: Vec<String> = (0..3)
        .map(|p| {
            format!(
                "{:.1}",
                normalised(&all, costs[p], pooled[p]).unwrap_or(f64::NAN)
            )
        })
        .collect();
    println!(
        "| **pooled held-out, all {} files** | **{}** | **{}** | **{}** | – |",
        all.len(),
        pooled[0],
        pooled[1],
        pooled[2]
    );

    let mut everything: Vec<&mut Stream> = streams.iter_mut().collect();
    let (cfg, swept) = climb(&mut everything, &costs, (steps, seed, rule), "all");
    let all: Vec<&ScoredFile> = streams.iter().map(|s| &s.file).collect();
    let in_sample: Vec<String> = (0..3)
        .map(|p| {
            format!(
                "{:.1}",
                normalised(&all, costs[p], swept[p].1).unwrap_or(f64::NAN)
            )
        })
        .collect();
    let thresholds: Vec<String> = swept.iter().map(|(t, _)| format!("{t:.6}")).collect();
    println!();
    println!(
        "chosen on all {} files (in-sample): standard {} / low FP {} / low FN {} at thresholds {}",
        all.len(),
        in_sample[0],
        in_sample[1],
        in_sample[2],
        thresholds.join(" / ")
    );
    for (held, c) in &chosen {
        println!("without {held}: {}", changed(c));
    }
    println!("all families: {}", changed(&cfg));
    println!(
        "config: {}",
        serde_json::to_string(&cfg).expect("config JSON")
    );
}

/// The fields of `cfg` that differ from the default.
fn changed(cfg: &StreamConfig) -> String {
    let base = serde_json::to_value(StreamConfig::default()).expect("config JSON");
    let v = serde_json::to_value(cfg).expect("config JSON");
    let diff: Vec<String> = v
        .as_object()
        .expect("object")
        .iter()
        .filter(|(k, val)| base.get(k.as_str()) != Some(val))
        .map(|(k, val)| format!("{k}={val}"))
        .collect();
    if diff.is_empty() {
        "the default".to_owned()
    } else {
        diff.join(", ")
    }
}
