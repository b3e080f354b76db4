//! What a user tunes: a minimum $ impact and/or a minimum %, a sensitivity, falls or not — once
//! for all scopes and overridden per scope kind or per scope.

use costwatch_core::Money;
use costwatch_core::scope::{Scope, ScopeKind};
use serde::{Deserialize, Serialize};

/// How the $ and % floors combine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Require {
    /// Impact ≥ `min_impact` **and** ≥ `min_pct` of expected (fewer alerts).
    #[default]
    Both,
    /// Impact ≥ `min_impact` **or** ≥ `min_pct` of expected.
    Either,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectorConfig {
    /// Smallest dollar impact (|actual − expected|) worth an alert.
    pub min_impact: Money,
    /// Smallest impact as a percent of expected worth an alert.
    pub min_pct: f64,
    /// Whether both floors must hold or either is enough.
    pub require: Require,
    /// Robust z (deviation over the model's own spread) an anomaly must reach: higher, fewer.
    pub sensitivity: f64,
    /// Alert on drops too (off by default: a drop is rarely a problem to chase).
    pub detect_falls: bool,
    /// Days of history the model's spread and weekly shape read (at least 14 are used).
    pub lookback_days: usize,
    /// A first charge on a scope with no history alerts at or above this.
    pub new_spend_floor: Money,
    /// Overrides, the most specific last: a scope kind (`service`) or one scope
    /// (`service=Amazon EC2`, `account=123456789012`).
    pub scopes: Vec<ScopeThresholds>,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self {
            min_impact: Money::from(25),
            min_pct: 20.0,
            require: Require::Both,
            sensitivity: 4.0,
            detect_falls: false,
            lookback_days: 56,
            new_spend_floor: Money::from(10),
            scopes: Vec::new(),
        }
    }
}

/// Per-scope thresholds: every field left out keeps the general value.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeThresholds {
    /// A scope kind (`org`, `account`, `service`, `account_service`, `tag`, `cost_category`) or
    /// a scope key (`account=123456789012`, `service=Amazon EC2`, `tag=team|value=web`).
    pub scope: String,
    #[serde(default)]
    pub min_impact: Option<Money>,
    #[serde(default)]
    pub min_pct: Option<f64>,
    #[serde(default)]
    pub require: Option<Require>,
    #[serde(default)]
    pub sensitivity: Option<f64>,
    #[serde(default)]
    pub detect_falls: Option<bool>,
}

impl ScopeThresholds {
    fn target(&self) -> Result<Target, String> {
        let kind = match self.scope.as_str() {
            "org" => Some(ScopeKind::Org),
            "account" => Some(ScopeKind::Account),
            "service" => Some(ScopeKind::Service),
            "account_service" => Some(ScopeKind::AccountService),
            "tag" => Some(ScopeKind::Tag),
            "cost_category" => Some(ScopeKind::CostCategory),
            _ => None,
        };
        if let Some(kind) = kind {
            return Ok(Target::Kind(kind));
        }
        self.scope
            .parse::<Scope>()
            .map(Target::Scope)
            .map_err(|e| format!("detector scope `{}`: {e}", self.scope))
    }
}

enum Target {
    Kind(ScopeKind),
    Scope(Scope),
}

impl DetectorConfig {
    pub(crate) fn lookback(&self) -> usize {
        self.lookback_days.max(14)
    }

    /// Checks values serde cannot, without I/O.
    pub fn validate(&self) -> Result<(), String> {
        let check = |what: &str, impact: Option<Money>, pct: Option<f64>, sens: Option<f64>| {
            if impact.is_some_and(|m| m < Money::ZERO) {
                return Err(format!("{what}: min_impact must not be negative"));
            }
            if pct.is_some_and(|p| !(p >= 0.0 && p.is_finite())) {
                return Err(format!("{what}: min_pct must be a percentage ≥ 0"));
            }
            if sens.is_some_and(|s| !(s > 0.0 && s.is_finite())) {
                return Err(format!("{what}: sensitivity must be above 0"));
            }
            Ok(())
        };
        check(
            "detector",
            Some(self.min_impact),
            Some(self.min_pct),
            Some(self.sensitivity),
        )?;
        if self.new_spend_floor < Money::ZERO {
            return Err("detector: new_spend_floor must not be negative".into());
        }
        for s in &self.scopes {
            s.target()?;
            check(&s.scope, s.min_impact, s.min_pct, s.sensitivity)?;
        }
        Ok(())
    }

    /// The thresholds in force for `scope`: the general ones, then every matching override in
    /// order (kinds and keys alike), so put a scope after its kind.
    pub fn for_scope(&self, scope: &Scope) -> DetectorConfig {
        let mut out = DetectorConfig {
            scopes: Vec::new(),
            ..self.clone()
        };
        for o in &self.scopes {
            let applies = match o.target() {
                Ok(Target::Kind(kind)) => scope.kind() == kind,
                Ok(Target::Scope(s)) => &s == scope,
                Err(_) => false,
            };
            if !applies {
                continue;
            }
            out.min_impact = o.min_impact.unwrap_or(out.min_impact);
            out.min_pct = o.min_pct.unwrap_or(out.min_pct);
            out.require = o.require.unwrap_or(out.require);
            out.sensitivity = o.sensitivity.unwrap_or(out.sensitivity);
            out.detect_falls = o.detect_falls.unwrap_or(out.detect_falls);
        }
        out
    }

    /// Half-width of the band around `expected` outside which a day is anomalous.
    pub(crate) fn half_band(&self, spread: f64, expected: f64) -> f64 {
        let dollars = costwatch_core::money::to_f64(self.min_impact);
        let percent = expected.max(0.0) * self.min_pct / 100.0;
        let floors = match self.require {
            Require::Both => dollars.max(percent),
            Require::Either => dollars.min(percent),
        };
        (self.sensitivity * spread).max(floors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_apply_by_kind_then_by_scope() {
        let cfg: DetectorConfig = serde_json::from_str(
            r#"{"min_pct": 30, "scopes": [
                {"scope": "service", "min_impact": "100"},
                {"scope": "service=Amazon EC2", "require": "either", "sensitivity": 6}
            ]}"#,
        )
        .expect("valid config");
        cfg.validate().expect("valid");
        let ec2 = cfg.for_scope(&Scope::Service("Amazon EC2".into()));
        assert_eq!(
            (ec2.min_impact, ec2.min_pct, ec2.require, ec2.sensitivity),
            (Money::from(100), 30.0, Require::Either, 6.0)
        );
        let s3 = cfg.for_scope(&Scope::Service("Amazon S3".into()));
        assert_eq!(
            (s3.min_impact, s3.require),
            (Money::from(100), Require::Both)
        );
        let org = cfg.for_scope(&Scope::Org);
        assert_eq!(org.min_impact, Money::from(25));
        // AND takes the larger floor, OR the smaller.
        assert_eq!(org.half_band(0.0, 1000.0), 300.0);
        assert_eq!(ec2.half_band(0.0, 1000.0), 100.0);
        assert!(serde_json::from_str::<DetectorConfig>(r#"{"sensitivty": 3}"#).is_err());
        let bad: DetectorConfig =
            serde_json::from_str(r#"{"scopes": [{"scope": "planet=mars"}]}"#).expect("parses");
        assert!(bad.validate().is_err());
    }
}
