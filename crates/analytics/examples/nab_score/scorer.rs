//! NAB's scoring, after numenta/NAB `nab/sweeper.py` (the Sweeper of NAB 1.1, which both the
//! threshold optimiser and the scorer use):
//!
//! * the first `min(⌊0.15 n⌋, 750)` rows of a file are probationary and not scored;
//! * a row inside an anomaly window at relative position `p = −(right − i + 1) / width` is worth
//!   `σ(p) · tp / σ(−1)` if it is the window's first detection (only the best, i.e. earliest, row
//!   of a window counts); a window without a detection costs `−fn`;
//! * a detection outside every window costs `fp · σ(|i − right_prev| / (width_prev − 1))`, or
//!   `−fp` before the first window, where `σ(x) = 2 / (1 + e^{5x}) − 1` (−1 beyond x > 3);
//! * one threshold per profile, swept over every distinct anomaly score of the whole corpus, is
//!   chosen to maximise the corpus total (ties: the highest threshold, as Python's stable sort
//!   keeps it first);
//! * normalised score = 100 × (raw − null) / (perfect − null), where null detects nothing and
//!   perfect detects every window at its first row.

use std::collections::BTreeMap;

/// A profile's reward weights (`profiles.json` → `CostMatrix`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CostMatrix {
    pub tp: f64,
    pub fp: f64,
    pub fn_: f64,
}

/// One file: its rows' anomaly scores and its windows as inclusive row-index ranges.
#[derive(Debug, Clone)]
pub struct ScoredFile {
    pub name: String,
    pub scores: Vec<f64>,
    pub windows: Vec<(usize, usize)>,
}

/// Where a scorable row falls.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Place {
    /// Inside window `id` (corpus-wide numbering).
    Window(usize),
    Outside,
}

/// A scorable (non-probationary) row: its anomaly score, where it falls, and what detecting it
/// would be worth.
#[derive(Debug, Clone, Copy)]
struct Row {
    anomaly: f64,
    place: Place,
    worth: f64,
}

/// Corpus total at one threshold, with the rows it flags.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThresholdScore {
    pub threshold: f64,
    pub score: f64,
    pub tp: usize,
    pub fp: usize,
}

pub fn scaled_sigmoid(x: f64) -> f64 {
    if x > 3.0 {
        -1.0
    } else {
        2.0 / (1.0 + (5.0 * x).exp()) - 1.0
    }
}

pub fn probationary_length(rows: usize) -> usize {
    ((0.15 * rows as f64).floor()).min(0.15 * 5000.0) as usize
}

/// The sweep rows of one file; window ids are offset by `first_window`.
fn sweep_rows(file: &ScoredFile, cost: CostMatrix, first_window: usize) -> Vec<Row> {
    let max_tp = scaled_sigmoid(-1.0);
    let probation = probationary_length(file.scores.len());
    let mut rows = Vec::with_capacity(file.scores.len());
    let mut windows = file.windows.iter().enumerate().peekable();
    let mut current: Option<(usize, usize, f64)> = None; // (id, right, width)
    let mut previous: Option<(usize, f64)> = None; // (right, width)
    for (i, &anomaly) in file.scores.iter().enumerate() {
        if current.is_none()
            && let Some(&(id, &(left, right))) = windows.peek()
            && i == left
        {
            current = Some((first_window + id, right, (right - left + 1) as f64));
            windows.next();
        }
        let (place, worth) = match current {
            Some((id, right, width)) => {
                let position = -((right - i + 1) as f64) / width;
                (
                    Place::Window(id),
                    scaled_sigmoid(position) * cost.tp / max_tp,
                )
            }
            None => {
                let unweighted = match previous {
                    None => -1.0,
                    Some((right, width)) => {
                        scaled_sigmoid(i.abs_diff(right) as f64 / (width - 1.0))
                    }
                };
                (Place::Outside, unweighted * cost.fp)
            }
        };
        if i >= probation {
            rows.push(Row {
                anomaly,
                place,
                worth,
            });
        }
        if let Some((_, right, width)) = current
            && i == right
        {
            previous = Some((right, width));
            current = None;
        }
    }
    rows
}

/// Every threshold of the corpus and its total, highest threshold first. The first entry
/// (threshold 1.1) flags nothing.
fn sweep(files: &[ScoredFile], cost: CostMatrix) -> Vec<ThresholdScore> {
    let mut rows = Vec::new();
    let mut first_window = 0;
    for file in files {
        rows.extend(sweep_rows(file, cost, first_window));
        first_window += file.windows.len();
    }
    // Stable: rows of equal score keep their order, as in Python's sorted().
    rows.sort_by(|a, b| b.anomaly.total_cmp(&a.anomaly));
    let mut parts: BTreeMap<usize, f64> = BTreeMap::new();
    for row in &rows {
        if let Place::Window(id) = row.place {
            parts.insert(id, -cost.fn_);
        }
    }
    let mut fp_part = 0.0;
    let (mut tp, mut fp) = (0, 0);
    let total = |parts: &BTreeMap<usize, f64>, fp_part: f64| fp_part + parts.values().sum::<f64>();
    let mut out = Vec::new();
    let mut threshold = 1.1;
    for row in &rows {
        if row.anomaly != threshold {
            out.push(ThresholdScore {
                threshold,
                score: total(&parts, fp_part),
                tp,
                fp,
            });
            threshold = row.anomaly;
        }
        match row.place {
            Place::Window(id) => {
                tp += 1;
                let part = parts.entry(id).or_insert(-cost.fn_);
                *part = part.max(row.worth);
            }
            Place::Outside => {
                fp += 1;
                fp_part += row.worth;
            }
        }
    }
    out.push(ThresholdScore {
        threshold,
        score: total(&parts, fp_part),
        tp,
        fp,
    });
    out
}

/// The threshold maximising the corpus total (the highest one among equals).
pub fn best_threshold(files: &[ScoredFile], cost: CostMatrix) -> ThresholdScore {
    sweep(files, cost)
        .into_iter()
        .reduce(|best, t| if t.score > best.score { t } else { best })
        .unwrap_or(ThresholdScore {
            threshold: 1.1,
            score: 0.0,
            tp: 0,
            fp: 0,
        })
}

/// One file's raw score with detections at `anomaly ≥ threshold` (NAB's `scoreDataSet`).
pub fn file_score(file: &ScoredFile, cost: CostMatrix, threshold: f64) -> f64 {
    let flagged = ScoredFile {
        scores: file
            .scores
            .iter()
            .map(|s| if *s >= threshold { 1.0 } else { 0.0 })
            .collect(),
        ..file.clone()
    };
    let all = sweep(std::slice::from_ref(&flagged), cost);
    // Entries: 1.1 (nothing), then 1.0 (the flagged rows) if any, then 0.0.
    all.iter()
        .find(|t| t.threshold == 1.0)
        .or_else(|| all.first())
        .map_or(0.0, |t| t.score)
}

/// Raw totals for no detection (null) and for detecting every window at its first row.
pub fn null_and_perfect(files: &[ScoredFile], cost: CostMatrix) -> (f64, f64) {
    let mut null = 0.0;
    let mut perfect = 0.0;
    for file in files {
        let probation = probationary_length(file.scores.len());
        let scored = file.windows.iter().filter(|(_, r)| *r >= probation).count() as f64;
        null -= scored * cost.fn_;
        perfect += scored * cost.tp;
    }
    (null, perfect)
}

pub fn normalised(raw: f64, null: f64, perfect: f64) -> f64 {
    100.0 * (raw - null) / (perfect - null)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STANDARD: CostMatrix = CostMatrix {
        tp: 1.0,
        fp: 0.11,
        fn_: 1.0,
    };

    fn file(scores: Vec<f64>, windows: Vec<(usize, usize)>) -> ScoredFile {
        ScoredFile {
            name: "f".into(),
            scores,
            windows,
        }
    }

    #[test]
    fn sigmoid_matches_the_documented_points() {
        assert!((scaled_sigmoid(-1.0) - 0.98661).abs() < 1e-5);
        assert!((scaled_sigmoid(-0.5) - 0.84828).abs() < 1e-5);
        assert_eq!(scaled_sigmoid(0.0), 0.0);
        assert!((scaled_sigmoid(1.0) + 0.98661).abs() < 1e-5);
        assert_eq!(scaled_sigmoid(3.5), -1.0);
        assert_eq!(probationary_length(1000), 150);
        assert_eq!(probationary_length(10_000), 750);
    }

    #[test]
    fn earliest_detection_in_a_window_counts_and_false_positives_cost() {
        // 100 rows, probation 15, one window 40..=59.
        let mut scores = vec![0.0; 100];
        scores[40] = 1.0; // first row of the window: worth exactly tp
        let f = file(scores.clone(), vec![(40, 59)]);
        assert!((file_score(&f, STANDARD, 0.5) - 1.0).abs() < 1e-12);
        // Detection at the last row: position −1/20.
        let mut late = vec![0.0; 100];
        late[59] = 1.0;
        let expected = scaled_sigmoid(-1.0 / 20.0) / scaled_sigmoid(-1.0);
        let got = file_score(&file(late, vec![(40, 59)]), STANDARD, 0.5);
        assert!((got - expected).abs() < 1e-12, "{got} vs {expected}");
        // A false positive before any window costs fp; one in probation costs nothing.
        scores[20] = 1.0;
        scores[5] = 1.0;
        let got = file_score(&file(scores.clone(), vec![(40, 59)]), STANDARD, 0.5);
        assert!((got - (1.0 - 0.11)).abs() < 1e-12, "{got}");
        // Just after the window: 0.11 · σ(1/19), small.
        scores[20] = 0.0;
        scores[60] = 1.0;
        let got = file_score(&file(scores, vec![(40, 59)]), STANDARD, 0.5);
        let after = 0.11 * scaled_sigmoid(1.0 / 19.0);
        assert!((got - (1.0 + after)).abs() < 1e-12, "{got}");
        // Nothing detected: −fn per window.
        assert_eq!(
            file_score(&file(vec![0.0; 100], vec![(40, 59)]), STANDARD, 0.5),
            -1.0
        );
    }

    #[test]
    fn sweep_picks_the_threshold_with_the_best_corpus_total() {
        let mut scores = vec![0.1; 100];
        scores[45] = 0.9; // in the window
        scores[80] = 0.95; // a false positive well after it
        let files = vec![file(scores, vec![(40, 59)])];
        let best = best_threshold(&files, STANDARD);
        // At 0.9 both flagged: TP (position −15/20) and the FP; at 0.95 only the FP.
        let tp = scaled_sigmoid(-15.0 / 20.0) / scaled_sigmoid(-1.0);
        let fp = 0.11 * scaled_sigmoid(21.0 / 19.0);
        assert_eq!(best.threshold, 0.9);
        assert!((best.score - (tp + fp)).abs() < 1e-12);
        assert!((file_score(&files[0], STANDARD, best.threshold) - best.score).abs() < 1e-12);
        let (null, perfect) = null_and_perfect(&files, STANDARD);
        assert_eq!((null, perfect), (-1.0, 1.0));
        assert_eq!(normalised(null, null, perfect), 0.0);
        assert_eq!(normalised(perfect, null, perfect), 100.0);
    }
}
