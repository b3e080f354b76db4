//! How unusual a value is against the stream's own history: a bounded, sorted history of past
//! values and a peaks-over-threshold tail (exponential excesses over the upper quantile), so the
//! probability keeps falling smoothly past the largest value seen instead of saturating.

use std::collections::VecDeque;

/// Sorted history of the last `capacity` values, with their arrival order to forget the oldest.
#[derive(Debug, Clone)]
pub(crate) struct Tail {
    capacity: usize,
    order: VecDeque<f64>,
    sorted: Vec<f64>,
}

impl Tail {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            order: VecDeque::new(),
            sorted: Vec::new(),
        }
    }

    pub fn push(&mut self, value: f64) {
        if self.order.len() == self.capacity
            && let Some(old) = self.order.pop_front()
        {
            let at = self.sorted.partition_point(|v| *v < old);
            if at < self.sorted.len() {
                self.sorted.remove(at);
            }
        }
        self.order.push_back(value);
        let at = self.sorted.partition_point(|v| *v < value);
        self.sorted.insert(at, value);
    }

    /// Values held.
    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// Share of the values held that lie below `x`, ties counted half (the mid-rank); 0.5 with
    /// no history.
    pub fn rank(&self, x: f64) -> f64 {
        let n = self.sorted.len();
        if n == 0 {
            return 0.5;
        }
        let below = self.sorted.partition_point(|v| *v < x);
        let not_above = self.sorted.partition_point(|v| *v <= x);
        (below + not_above) as f64 / (2 * n) as f64
    }

    /// Value at quantile `q` (nearest rank).
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let n = self.sorted.len();
        if n == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * (n - 1) as f64).round()) as usize;
        self.sorted.get(rank).copied()
    }

    /// −ln P(X ≥ x): empirical below the `q` quantile, exponential tail (mean excess) above it.
    /// 0 with no history. The tail's scale is at least `min_scale`: metrics are quantised (CPU %
    /// in steps of 0.066, a median that sat on one value for days), and one step past a tail
    /// with no spread would otherwise read as impossible.
    pub fn surprise(&self, x: f64, q: f64, min_scale: f64) -> f64 {
        let n = self.sorted.len();
        if n == 0 {
            return 0.0;
        }
        let Some(u) = self.quantile(q) else {
            return 0.0;
        };
        let above_at = self.sorted.partition_point(|v| *v <= u);
        let above = &self.sorted[above_at..];
        let tail_share = (above.len().max(1) as f64) / (n + 1) as f64;
        if x <= u {
            let at_least = n - self.sorted.partition_point(|v| *v < x);
            return -((at_least as f64 + 1.0) / (n as f64 + 1.0)).min(1.0).ln();
        }
        let excess = if above.is_empty() {
            0.0
        } else {
            above.iter().map(|v| v - u).sum::<f64>() / above.len() as f64
        };
        let scale = excess.max(min_scale).max(1e-12 + u.abs() * 1e-6);
        -tail_share.ln() + (x - u) / scale
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_is_bounded_and_surprise_grows_past_the_largest_value() {
        let mut t = Tail::new(100);
        for i in 0..300 {
            t.push(f64::from(i % 100));
        }
        assert_eq!(t.sorted.len(), 100);
        assert_eq!(t.quantile(0.0), Some(0.0));
        assert_eq!(t.quantile(1.0), Some(99.0));
        let (a, b, c) = (
            t.surprise(50.0, 0.95, 0.0),
            t.surprise(99.0, 0.95, 0.0),
            t.surprise(200.0, 0.95, 0.0),
        );
        assert!(a < b && b < c, "{a} {b} {c}");
        assert!(t.surprise(-5.0, 0.95, 0.0) < 1e-9);
    }

    #[test]
    fn rank_counts_ties_half() {
        let mut t = Tail::new(10);
        assert_eq!(t.rank(3.0), 0.5);
        for v in [0.0, 0.0, 0.0, 5.0] {
            t.push(v);
        }
        assert_eq!(t.rank(0.0), 0.375); // three ties of four: half of them below
        assert_eq!(t.rank(1.0), 0.75);
        assert_eq!(t.rank(9.0), 1.0);
        assert_eq!(t.rank(-1.0), 0.0);
    }

    #[test]
    fn a_scale_floor_keeps_one_quantisation_step_ordinary() {
        // A flat, quantised history: every value 0.134, then one point a step above.
        let mut t = Tail::new(100);
        for _ in 0..100 {
            t.push(0.134);
        }
        let bare = t.surprise(0.2, 0.99, 0.0);
        let floored = t.surprise(0.2, 0.99, 0.05);
        assert!(bare > 1e3, "{bare}");
        assert!(floored < 10.0 && floored > 1.0, "{floored}");
    }
}
