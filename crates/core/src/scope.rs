//! A scope is what a daily series, an anomaly or a budget is about: the whole organisation, an
//! account, a service, an account × service pair, a tag value or a cost category value.
//! Its key is a stable, reversible string used in storage keys and ids.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::CoreError;
use crate::metric::MetricId;
use crate::record::CostRecord;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Org,
    Account(String),
    Service(String),
    AccountService {
        account: String,
        service: String,
    },
    Tag {
        key: String,
        value: String,
    },
    CostCategory {
        name: String,
        value: String,
    },
    /// A CloudWatch metric series (the metrics source's anomalies).
    Metric(MetricId),
}

/// The dimension a scope is cut along, for configuration ("detect on account_service scopes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeKind {
    Org,
    Account,
    Service,
    AccountService,
    Tag,
    CostCategory,
    Metric,
}

impl ScopeKind {
    /// What spend without a value of a key is called: "untagged" for a tag key, "uncategorised"
    /// for a cost category (the word every label, note, report and card uses).
    pub fn missing_value(self) -> &'static str {
        match self {
            ScopeKind::CostCategory => "uncategorised",
            _ => "untagged",
        }
    }

    /// What a key of this kind is called in a sentence: "tag key", "cost category".
    pub fn key_noun(self) -> &'static str {
        match self {
            ScopeKind::CostCategory => "cost category",
            _ => "tag key",
        }
    }

    /// A key named for a reader: "tag team", "cost category Business Unit".
    pub fn key_label(self, key: &str) -> String {
        match self {
            ScopeKind::CostCategory => format!("cost category {key}"),
            _ => format!("tag {key}"),
        }
    }
}

impl Scope {
    pub fn kind(&self) -> ScopeKind {
        match self {
            Scope::Org => ScopeKind::Org,
            Scope::Account(_) => ScopeKind::Account,
            Scope::Service(_) => ScopeKind::Service,
            Scope::AccountService { .. } => ScopeKind::AccountService,
            Scope::Tag { .. } => ScopeKind::Tag,
            Scope::CostCategory { .. } => ScopeKind::CostCategory,
            Scope::Metric(_) => ScopeKind::Metric,
        }
    }

    /// Every scope a record contributes to, org first. Tag and cost-category scopes come from the
    /// record's own tags and categories, never with an empty value: that key means the spend
    /// without the tag ([`Scope::unallocated`]), which is derived when read, not stored.
    pub fn all_for(record: &CostRecord) -> Vec<Scope> {
        let mut scopes = Vec::with_capacity(4 + record.tags.len() + record.x_cost_categories.len());
        scopes.push(Scope::Org);
        scopes.push(Scope::Account(record.sub_account_id.clone()));
        scopes.push(Scope::Service(record.service_name.clone()));
        scopes.push(Scope::AccountService {
            account: record.sub_account_id.clone(),
            service: record.service_name.clone(),
        });
        for (key, value) in record.tags.iter().filter(|(_, v)| !v.is_empty()) {
            scopes.push(Scope::Tag {
                key: key.clone(),
                value: value.clone(),
            });
        }
        for (name, value) in record
            .x_cost_categories
            .iter()
            .filter(|(_, v)| !v.is_empty())
        {
            scopes.push(Scope::CostCategory {
                name: name.clone(),
                value: value.clone(),
            });
        }
        scopes
    }

    /// Stable storage key, e.g. `account=123|service=Amazon EC2`. Only `%`, `|` and `=` are
    /// escaped, so keys stay readable and still parse back to the same scope.
    pub fn key(&self) -> String {
        match self {
            Scope::Org => "org".to_owned(),
            Scope::Account(a) => format!("account={}", escape(a)),
            Scope::Service(s) => format!("service={}", escape(s)),
            Scope::AccountService { account, service } => {
                format!("account={}|service={}", escape(account), escape(service))
            }
            Scope::Tag { key, value } => format!("tag={}|value={}", escape(key), escape(value)),
            Scope::CostCategory { name, value } => {
                format!("costcategory={}|value={}", escape(name), escape(value))
            }
            // `namespace=AWS/EC2|metric=CPUUtilization|dim.InstanceId=i-1`, dimensions sorted.
            Scope::Metric(m) => {
                let mut key = format!(
                    "namespace={}|metric={}",
                    escape(&m.namespace),
                    escape(&m.name)
                );
                for (name, value) in &m.dimensions {
                    key.push_str(&format!("|dim.{}={}", escape(name), escape(value)));
                }
                key
            }
        }
    }

    /// Human label for messages and charts: "Org", "Account 123", "Amazon EC2 in 123", "team=web".
    pub fn label(&self) -> String {
        match self {
            Scope::Org => "Organisation".to_owned(),
            Scope::Account(a) => format!("Account {a}"),
            Scope::Service(s) => s.clone(),
            Scope::AccountService { account, service } => format!("{service} in account {account}"),
            Scope::Tag { key: k, value: v } | Scope::CostCategory { name: k, value: v } => {
                let kind = self.kind();
                match v.is_empty() {
                    true => format!("{} ({})", kind.key_label(k), kind.missing_value()),
                    false => format!("{}={v}", kind.key_label(k)),
                }
            }
            Scope::Metric(m) => m.to_string(),
        }
    }

    /// The spend that carries no value of a tag key or cost category (`tag=team|value=`, as
    /// Cost Explorer writes untagged spend `team$`): the whole organisation's less every
    /// value's. Never stored; the rollup store derives it when read.
    pub fn unallocated(&self) -> Option<Scope> {
        match self {
            Scope::Tag { key, .. } => Scope::unallocated_of(ScopeKind::Tag, key),
            Scope::CostCategory { name, .. } => {
                Scope::unallocated_of(ScopeKind::CostCategory, name)
            }
            _ => None,
        }
    }

    /// The unallocated scope of a tag key or cost category named by its kind and key
    /// (`tag=team|value=`); `None` for the other kinds, which have no key.
    pub fn unallocated_of(kind: ScopeKind, key: &str) -> Option<Scope> {
        match kind {
            ScopeKind::Tag => Some(Scope::Tag {
                key: key.to_owned(),
                value: String::new(),
            }),
            ScopeKind::CostCategory => Some(Scope::CostCategory {
                name: key.to_owned(),
                value: String::new(),
            }),
            _ => None,
        }
    }

    /// Whether this is a key's [`unallocated`](Self::unallocated) scope.
    pub fn is_unallocated(&self) -> bool {
        matches!(self, Scope::Tag { value, .. } | Scope::CostCategory { value, .. } if value.is_empty())
    }

    pub fn account(&self) -> Option<&str> {
        match self {
            Scope::Account(a) | Scope::AccountService { account: a, .. } => Some(a),
            _ => None,
        }
    }

    pub fn service(&self) -> Option<&str> {
        match self {
            Scope::Service(s) | Scope::AccountService { service: s, .. } => Some(s),
            _ => None,
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('%', "%25")
        .replace('|', "%7C")
        .replace('=', "%3D")
}

fn unescape(s: &str) -> String {
    s.replace("%3D", "=")
        .replace("%7C", "|")
        .replace("%25", "%")
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

impl FromStr for Scope {
    type Err = CoreError;

    fn from_str(key: &str) -> Result<Self, Self::Err> {
        if key == "org" {
            return Ok(Scope::Org);
        }
        let parts: Vec<(&str, String)> = key
            .split('|')
            .map(|part| {
                part.split_once('=')
                    .map(|(k, v)| (k, unescape(v)))
                    .ok_or_else(|| CoreError::InvalidScope(key.to_owned(), "expected name=value"))
            })
            .collect::<Result<_, _>>()?;
        match parts.as_slice() {
            [("account", a)] => Ok(Scope::Account(a.clone())),
            [("service", s)] => Ok(Scope::Service(s.clone())),
            [("account", a), ("service", s)] => Ok(Scope::AccountService {
                account: a.clone(),
                service: s.clone(),
            }),
            [("tag", k), ("value", v)] => Ok(Scope::Tag {
                key: k.clone(),
                value: v.clone(),
            }),
            [("costcategory", n), ("value", v)] => Ok(Scope::CostCategory {
                name: n.clone(),
                value: v.clone(),
            }),
            [("namespace", ns), ("metric", name), dims @ ..] => parse_metric(key, ns, name, dims),
            // The shapes a person writes (budgets, the API's `scope`); metric scopes are the
            // metrics Lambda's own.
            _ => Err(CoreError::InvalidScope(
                key.to_owned(),
                "not one of org, account=ID, service=NAME, account=ID|service=NAME, \
                 tag=KEY|value=VALUE, costcategory=NAME|value=VALUE",
            )),
        }
    }
}

/// The `dim.<name>=<value>` parts of a metric scope's key (names escaped like values).
fn parse_metric(
    key: &str,
    namespace: &str,
    name: &str,
    dims: &[(&str, String)],
) -> Result<Scope, CoreError> {
    let mut dimensions = std::collections::BTreeMap::new();
    for (k, v) in dims {
        let dim = k
            .strip_prefix("dim.")
            .ok_or_else(|| CoreError::InvalidScope(key.to_owned(), "expected dim.<name>=value"))?;
        dimensions.insert(unescape(dim), v.clone());
    }
    Ok(Scope::Metric(MetricId {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        dimensions,
    }))
}

impl Serialize for Scope {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.key())
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let key = String::deserialize(d)?;
        key.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn keys_are_readable() {
        let s = Scope::AccountService {
            account: "123".into(),
            service: "Amazon EC2".into(),
        };
        assert_eq!(s.key(), "account=123|service=Amazon EC2");
        assert_eq!(s.label(), "Amazon EC2 in account 123");
    }

    #[test]
    fn a_key_without_a_value_is_the_spend_without_the_tag() {
        let web = Scope::Tag {
            key: "team".into(),
            value: "web".into(),
        };
        let untagged = web.unallocated().unwrap();
        assert_eq!(untagged.key(), "tag=team|value=");
        assert_eq!("tag=team|value=".parse::<Scope>().unwrap(), untagged);
        assert_eq!(untagged.label(), "tag team (untagged)");
        assert!(untagged.is_unallocated() && !web.is_unallocated());
        let category = "costcategory=Unit|value=".parse::<Scope>().unwrap();
        assert!(category.is_unallocated());
        assert_eq!(category.label(), "cost category Unit (uncategorised)");
        assert_eq!(Scope::Org.unallocated(), None);
        // An empty tag value on a line is no value: it never becomes a stored scope.
        let mut record = crate::record::tests::sample();
        record.tags.insert("owner".into(), String::new());
        record
            .x_cost_categories
            .insert("Unit".into(), String::new());
        let scopes = Scope::all_for(&record);
        assert!(!scopes.iter().any(Scope::is_unallocated), "{scopes:?}");
    }

    #[test]
    fn malformed_keys_are_rejected() {
        assert!("account".parse::<Scope>().is_err());
        assert!("region=us-east-1".parse::<Scope>().is_err());
        // A near miss lists the shapes that parse (a tag needs its value).
        let e = "tag=team".parse::<Scope>().unwrap_err().to_string();
        assert!(
            e.contains("tag=team") && e.contains("tag=KEY|value=VALUE"),
            "{e}"
        );
    }

    proptest! {
        #[test]
        fn key_round_trips_for_any_text(k in ".*", v in ".*") {
            for scope in [
                Scope::Tag { key: k.clone(), value: v.clone() },
                Scope::AccountService { account: k.clone(), service: v.clone() },
                Scope::CostCategory { name: k.clone(), value: v.clone() },
                Scope::Service(v.clone()),
                Scope::Metric(MetricId::new(&k, &v, &[(&v, &k), ("InstanceId", &v)])),
            ] {
                prop_assert_eq!(scope.key().parse::<Scope>().unwrap(), scope);
            }
        }
    }
}
