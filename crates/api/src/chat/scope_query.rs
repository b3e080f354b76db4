//! What `/cost <text>` asks about: nothing for the organisation; an account by its id or name; a
//! service by its name or a part of it; a tag or cost category value (`team=web`, `team=` for
//! the spend without a team tag); or a scope key as the API writes it (`account=…|service=…`).
//! Names are matched, ignoring case, against the scopes with costs on the latest day and every
//! account the pipeline has a name for, so a typo gets the names it is near rather than a
//! confident $0.00.

use std::collections::{BTreeMap, BTreeSet};

use costwatch_core::Scope;

/// Names listed when a text matches several, or none.
const SUGGESTED: usize = 5;

/// The scopes a text is matched against.
#[derive(Debug, Default)]
pub struct Known {
    /// Account id → name ("" when the source gave none).
    pub accounts: BTreeMap<String, String>,
    pub services: BTreeSet<String>,
    pub tag_keys: BTreeSet<String>,
    pub cost_categories: BTreeSet<String>,
}

impl Known {
    /// From the scopes with costs on a day and the account names the pipeline keeps: every
    /// named account is known, so one quiet that day is still found by its name.
    pub fn new<'a>(
        scopes: impl IntoIterator<Item = &'a Scope>,
        names: &BTreeMap<String, String>,
    ) -> Self {
        let mut known = Known {
            accounts: names.clone(),
            ..Known::default()
        };
        for scope in scopes {
            match scope {
                Scope::Account(id) => {
                    let name = names.get(id).cloned().unwrap_or_default();
                    known.accounts.insert(id.clone(), name);
                }
                Scope::Service(s) => {
                    known.services.insert(s.clone());
                }
                Scope::Tag { key, .. } => {
                    known.tag_keys.insert(key.clone());
                }
                Scope::CostCategory { name, .. } => {
                    known.cost_categories.insert(name.clone());
                }
                _ => {}
            }
        }
        known
    }
}

/// The scope a text names, or the sentence to answer instead (plain text: the chat escapes it).
pub fn resolve(text: &str, known: &Known) -> Result<Scope, String> {
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("org") {
        return Ok(Scope::Org);
    }
    if let Some((key, value)) = text.split_once('=') {
        if let Ok(scope) = text.parse::<Scope>() {
            return Ok(scope);
        }
        return labelled(key.trim(), value.trim(), known);
    }
    if text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Scope::Account(text.to_owned()));
    }
    named(text, known)
}

/// `KEY=VALUE` for a tag key or cost category with costs; an empty value is its untagged spend.
fn labelled(key: &str, value: &str, known: &Known) -> Result<Scope, String> {
    let find = |set: &BTreeSet<String>| set.iter().find(|k| k.eq_ignore_ascii_case(key)).cloned();
    if let Some(key) = find(&known.tag_keys) {
        return Ok(Scope::Tag {
            key,
            value: value.to_owned(),
        });
    }
    if let Some(name) = find(&known.cost_categories) {
        return Ok(Scope::CostCategory {
            name,
            value: value.to_owned(),
        });
    }
    let keys: Vec<&str> = known
        .tag_keys
        .iter()
        .chain(&known.cost_categories)
        .map(String::as_str)
        .collect();
    Err(match keys.as_slice() {
        [] => format!("No tag key or cost category \"{key}\": the latest day's costs carry none."),
        keys => format!(
            "No tag key or cost category \"{key}\" in the latest day's costs; they carry {}.",
            list(keys)
        ),
    })
}

/// An account by name, or a service by name or part of it: an exact name wins, then a single
/// partial match; several are listed to choose from.
fn named(text: &str, known: &Known) -> Result<Scope, String> {
    let wanted = text.to_lowercase();
    let accounts = known.accounts.iter().filter(|(_, name)| !name.is_empty());
    let candidates: Vec<(String, Scope)> = accounts
        .map(|(id, name)| (name.clone(), Scope::Account(id.clone())))
        .chain(
            known
                .services
                .iter()
                .map(|s| (s.clone(), Scope::Service(s.clone()))),
        )
        .collect();
    if let Some((_, scope)) = candidates.iter().find(|(n, _)| n.to_lowercase() == wanted) {
        return Ok(scope.clone());
    }
    let partial: Vec<&(String, Scope)> = candidates
        .iter()
        .filter(|(n, _)| n.to_lowercase().contains(&wanted))
        .collect();
    match partial.as_slice() {
        [(_, scope)] => Ok(scope.clone()),
        [] => Err(format!(
            "Nothing with costs on the latest day is called \"{text}\". Ask for an account id or \
             name, a service, TAG=VALUE, or nothing for the whole organisation."
        )),
        several => {
            let names: Vec<&str> = several
                .iter()
                .take(SUGGESTED)
                .map(|(n, _)| n.as_str())
                .collect();
            let more = several.len().saturating_sub(SUGGESTED);
            Err(format!(
                "\"{text}\" matches {}: {}{}. Which one?",
                several.len(),
                names.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            ))
        }
    }
}

fn list(items: &[&str]) -> String {
    match items {
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
        [] => String::new(),
    }
}

/// Whether an anomaly's scope lies within the asked one (an account's services, a service in
/// every account), so `/cost web-prod` lists what is open there.
pub fn within(scope: &Scope, asked: &Scope) -> bool {
    match asked {
        Scope::Org => true,
        Scope::Account(a) => scope.account() == Some(a.as_str()),
        Scope::Service(s) => scope.service() == Some(s.as_str()),
        other => scope == other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Known {
        let scopes: Vec<Scope> = [
            "account=222233334444",
            "account=333344445555",
            "account=999900001111",
            "service=Amazon Elastic Compute Cloud - Compute",
            "service=Amazon Relational Database Service",
            "service=Amazon Simple Storage Service",
            "service=AWS Lambda",
            "tag=team|value=web",
            "costcategory=Environment|value=prod",
        ]
        .iter()
        .map(|k| k.parse().unwrap())
        .collect();
        let names = BTreeMap::from([
            ("222233334444".to_owned(), "web-prod".to_owned()),
            ("333344445555".to_owned(), "web-staging".to_owned()),
            // No costs on the latest day: still asked for by name.
            ("444455556666".to_owned(), "data-platform".to_owned()),
        ]);
        Known::new(&scopes, &names)
    }

    #[test]
    fn each_way_of_asking_names_its_scope() {
        let k = known();
        let asked = |text: &str| resolve(text, &k).map(|s| s.key());
        assert_eq!(asked(""), Ok("org".into()));
        assert_eq!(asked("  ORG "), Ok("org".into()));
        assert_eq!(asked("Web-Prod"), Ok("account=222233334444".into()));
        assert_eq!(asked("999900001111"), Ok("account=999900001111".into()));
        assert_eq!(
            asked("data-platform"),
            Ok("account=444455556666".into()),
            "an account quiet on the latest day"
        );
        assert_eq!(
            asked("relational"),
            Ok("service=Amazon Relational Database Service".into())
        );
        assert_eq!(asked("aws lambda"), Ok("service=AWS Lambda".into()));
        assert_eq!(asked("Team=web"), Ok("tag=team|value=web".into()));
        assert_eq!(asked("team="), Ok("tag=team|value=".into()), "untagged");
        assert_eq!(
            asked("environment = prod"),
            Ok("costcategory=Environment|value=prod".into())
        );
        assert_eq!(
            asked("account=222233334444|service=AWS Lambda"),
            Ok("account=222233334444|service=AWS Lambda".into())
        );
    }

    #[test]
    fn several_or_no_matches_are_answered_with_what_there_is() {
        let k = known();
        let several = resolve("web", &k).unwrap_err();
        assert_eq!(
            several,
            "\"web\" matches 2: web-prod, web-staging. Which one?"
        );
        let amazon = resolve("amazon", &k).unwrap_err();
        assert!(amazon.starts_with("\"amazon\" matches 3: "), "{amazon}");
        let none = resolve("glue", &k).unwrap_err();
        assert!(none.contains("called \"glue\""), "{none}");
        let key = resolve("owner=ana", &k).unwrap_err();
        assert!(key.contains("they carry team and Environment"), "{key}");
    }

    #[test]
    fn an_accounts_services_and_a_services_accounts_are_within_it() {
        let pair: Scope = "account=1|service=S3".parse().unwrap();
        assert!(within(&pair, &Scope::Account("1".into())));
        assert!(within(&pair, &Scope::Service("S3".into())));
        assert!(!within(&pair, &Scope::Account("2".into())));
        assert!(within(&pair, &Scope::Org));
        let web: Scope = "tag=team|value=web".parse().unwrap();
        assert!(within(&web, &web) && !within(&pair, &web));
    }
}
