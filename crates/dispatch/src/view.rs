//! What a message says, vendor-neutral: a title, a summary, label/value facts, tables (root
//! causes, movers, budgets) and links, built from one envelope or a digest of several. Slack,
//! Teams and Discord lay the same view out in their own markup, so the figures each kind shows
//! are decided once, and money is written once, by [`costwatch_core::money::display`] in the
//! envelope's currency. Strings here are raw (user text included); each encoder escapes for its
//! markup.

use costwatch_core::Notification;
use costwatch_core::envelopes::day_span;
use costwatch_core::findings::{BudgetPeriod, Drivers, ResourceCause, RootCause};
use costwatch_core::money::{Money, display, display_percent_used, display_signed};
use costwatch_core::notification::{
    Link, NotificationBody, ReportPeriod, ScopeRef, Severity, State,
};
use costwatch_core::scope::ScopeKind;

#[derive(Debug, Clone, PartialEq)]
pub struct View {
    pub severity: Severity,
    pub state: State,
    /// `anomaly`, `budget` … or `digest`.
    pub kind: &'static str,
    pub title: String,
    pub summary: String,
    pub facts: Vec<(String, String)>,
    pub tables: Vec<Table>,
    pub links: Vec<Link>,
    /// Envelope id(s): what support asks for.
    pub reference: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub heading: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// What a row is, for "… and 7 more root causes".
    pub what: String,
}

/// Usage or rate, in words a reader acts on: "usage +$367.20" (more was used), "rate +$1.20"
/// (each unit cost more), both when neither dominates.
fn driven_by(r: &ResourceCause, signed: &impl Fn(Money) -> String) -> String {
    match r.driver.as_str() {
        "usage" => format!("usage {}", signed(r.usage_effect)),
        "rate" => format!("unit price {}", signed(r.rate_effect)),
        "charge" => "a fee, tax or credit".into(),
        _ => format!(
            "usage {} · unit price {}",
            signed(r.usage_effect),
            signed(r.rate_effect)
        ),
    }
}

/// Dimension, value, change and share, one row per cause (an anomaly's root causes, an alert's
/// drivers). An empty tag or cost category value is the spend without one.
fn causes_table(
    heading: String,
    causes: &[RootCause],
    (change, what): (&str, &str),
    signed: &impl Fn(Money) -> String,
) -> Table {
    let value = |rc: &RootCause| match rc.value.is_empty() {
        true => {
            let kind = match rc.dimension.starts_with("cost_category:") {
                true => ScopeKind::CostCategory,
                false => ScopeKind::Tag,
            };
            format!("({})", kind.missing_value())
        }
        false => rc.value.clone(),
    };
    Table {
        heading,
        headers: vec![
            "Dimension".into(),
            "Value".into(),
            change.into(),
            "Share".into(),
        ],
        rows: causes
            .iter()
            .map(|rc| {
                vec![
                    rc.dimension.clone(),
                    value(rc),
                    signed(rc.contribution),
                    format!("{:.0}%", rc.share * 100.0),
                ]
            })
            .collect(),
        what: what.into(),
    }
}

/// What moved the scope's spend: "Drivers: 1–20 November against 1–20 October (+$2,345.67)".
fn drivers_table(d: &Drivers, signed: &impl Fn(Money) -> String) -> Table {
    let heading = format!(
        "Drivers: {} against {} ({})",
        day_span(d.from, d.to),
        day_span(d.compared_from, d.compared_to),
        signed(d.change)
    );
    causes_table(heading, &d.causes, ("Change", "drivers"), signed)
}

impl View {
    pub fn of(n: &Notification) -> View {
        let money = |m: Money| display(m, &n.currency);
        let signed = |m: Money| display_signed(m, &n.currency);
        let mut facts: Vec<(String, String)> = vec![("Scope".into(), n.scope.label.clone())];
        let mut tables = Vec::new();
        match &n.body {
            NotificationBody::Anomaly(f) => {
                facts.push(("Date".into(), date_range(f.start_date, f.date)));
                facts.push(("Actual".into(), money(f.actual)));
                facts.push((
                    "Expected".into(),
                    format!(
                        "{} (usual range {}–{})",
                        money(f.expected),
                        money(f.expected_low),
                        money(f.expected_high)
                    ),
                ));
                let pct = f
                    .impact_pct
                    .map(|p| format!(" ({})", percent_change(p)))
                    .unwrap_or_default();
                facts.push(("Impact".into(), format!("{}{pct}", signed(f.impact))));
                facts.push(("Score".into(), format!("{:.2}", f.score)));
                if !f.root_causes.is_empty() {
                    let heading = "Root cause".to_owned();
                    let columns = ("Contribution", "root causes");
                    tables.push(causes_table(heading, &f.root_causes, columns, &signed));
                }
                if !f.resources.is_empty() {
                    tables.push(Table {
                        heading: "Resources".into(),
                        headers: vec![
                            "Resource".into(),
                            "Usage type".into(),
                            "Owner".into(),
                            "Change".into(),
                            "Driven by".into(),
                        ],
                        rows: f
                            .resources
                            .iter()
                            .map(|r| {
                                vec![
                                    r.resource_id.clone().unwrap_or_else(|| {
                                        format!("{} (no resource id)", r.product_code)
                                    }),
                                    r.usage_type.clone(),
                                    r.owner.clone().unwrap_or_else(|| "—".into()),
                                    signed(r.contribution),
                                    driven_by(r, &signed),
                                ]
                            })
                            .collect(),
                        what: "resources".into(),
                    });
                }
            }
            NotificationBody::Budget(f) => {
                facts.push(("Budget".into(), f.budget.clone()));
                facts.push(("Period".into(), date_range(f.period_start, f.period_end)));
                facts.push((
                    "Spent".into(),
                    format!(
                        "{} of {} ({})",
                        money(f.actual),
                        money(f.limit),
                        display_percent_used(f.percent_of_limit)
                    ),
                ));
                let period = f.period();
                if let Some(months) = f.auto_adjusted_months {
                    let basis = costwatch_core::findings::auto_amount_basis(period, months);
                    facts.push((
                        "Budget amount".into(),
                        format!("{}: auto-adjusting, {basis}", money(f.limit)),
                    ));
                }
                let forecast = match f.forecast_pending {
                    true => "not yet (too little history)".to_owned(),
                    false => money(f.forecast),
                };
                // A day is complete when its budget is checked: no forecast to show.
                if !period.is_daily() {
                    facts.push((period.end_forecast_label().into(), forecast));
                }
                facts.push((
                    "Threshold".into(),
                    format!("{}% of {:?} spend", f.threshold_percent, f.basis).to_lowercase(),
                ));
                if let Some(day) = f.breach_date {
                    facts.push(("Budget reached".into(), day.to_string()));
                }
                if let Some(daily) = f.allowed_daily_spend {
                    facts.push(("Allowed daily spend".into(), money(daily)));
                }
                facts.push(("As of".into(), f.as_of.to_string()));
                tables.extend(f.drivers.as_ref().map(|d| drivers_table(d, &signed)));
            }
            NotificationBody::Forecast(f) => {
                facts.push(("Month".into(), f.month.format("%B %Y").to_string()));
                facts.push((
                    "Spent to date".into(),
                    format!("{} (to {})", money(f.actual_to_date), f.as_of),
                ));
                facts.push(("Month-end forecast".into(), money(f.forecast_total)));
                facts.push((
                    "80% interval".into(),
                    format!("{}–{}", money(f.lo80), money(f.hi80)),
                ));
                facts.push((
                    "95% interval".into(),
                    format!("{}–{}", money(f.lo95), money(f.hi95)),
                ));
                if let Some(prev) = f.previous_month_total {
                    let change = f
                        .change_pct
                        .map(|p| format!(" ({})", percent_change(p)))
                        .unwrap_or_default();
                    facts.push(("Last month".into(), format!("{}{change}", money(prev))));
                }
                tables.extend(f.drivers.as_ref().map(|d| drivers_table(d, &signed)));
            }
            NotificationBody::Recommendation(f) => {
                facts.push(("Category".into(), f.category.clone()));
                facts.push(("Action".into(), f.action.clone()));
                if let Some(id) = &f.resource_id {
                    facts.push(("Resource".into(), id.clone()));
                }
                facts.push((
                    "Cost today".into(),
                    format!("{} a month", money(f.current_monthly_cost)),
                ));
                facts.push((
                    "Saving".into(),
                    format!(
                        "{} a month ({} a year)",
                        money(f.monthly_savings),
                        money(f.annual_savings)
                    ),
                ));
            }
            NotificationBody::Report(f) => {
                let period = match f.period {
                    ReportPeriod::Daily => "Day",
                    ReportPeriod::Weekly => "Week",
                };
                facts.push((period.into(), date_range(f.start, f.end)));
                let change = f
                    .change_pct
                    .map(|p| format!(", {}", percent_change(p)))
                    .unwrap_or_default();
                facts.push((
                    "Total".into(),
                    format!(
                        "{} (previous {}{change})",
                        money(f.total),
                        money(f.previous_total)
                    ),
                ));
                facts.push(("Month to date".into(), money(f.month_to_date)));
                if let Some(end) = f.forecast_month_end {
                    facts.push(("Month-end forecast".into(), money(end)));
                }
                facts.push(("Open anomalies".into(), f.open_anomalies.to_string()));
                if let Some(saved) = f.saved_so_far {
                    facts.push(("Saved so far".into(), format!("{}/month", money(saved))));
                }
                let movers =
                    |heading: &str, what: &str, list: &[costwatch_core::notification::Mover]| {
                        Table {
                            heading: heading.into(),
                            headers: vec!["Scope".into(), "Cost".into(), "Change".into()],
                            rows: list
                                .iter()
                                .map(|m| vec![m.label.clone(), money(m.amount), signed(m.change)])
                                .collect(),
                            what: what.into(),
                        }
                    };
                if !f.top_movers.is_empty() {
                    tables.push(movers("Top movers", "movers", &f.top_movers));
                }
                if !f.top_services.is_empty() {
                    tables.push(movers("Top services", "services", &f.top_services));
                }
                if !f.budgets.is_empty() {
                    tables.push(Table {
                        heading: "Budgets".into(),
                        headers: vec![
                            "Budget".into(),
                            "Spent".into(),
                            "Forecast".into(),
                            "Used".into(),
                        ],
                        rows: f
                            .budgets
                            .iter()
                            .map(|b| {
                                let budget = match b.period {
                                    BudgetPeriod::Monthly => b.budget.clone(),
                                    period => format!("{} ({})", b.budget, period.name()),
                                };
                                vec![
                                    budget,
                                    format!("{} of {}", money(b.actual), money(b.limit)),
                                    match b.forecast_pending {
                                        true => "not yet".to_owned(),
                                        false => money(b.forecast),
                                    },
                                    display_percent_used(b.percent_used),
                                ]
                            })
                            .collect(),
                        what: "budgets".into(),
                    });
                }
                if !f.allocation.is_empty() {
                    tables.push(Table {
                        heading: "Allocation, month to date".into(),
                        headers: vec!["Key".into(), "Allocated".into(), "Unallocated".into()],
                        rows: f
                            .allocation
                            .iter()
                            .map(|a| {
                                vec![
                                    a.kind.key_label(&a.key),
                                    a.coverage_pct
                                        .map(|p| format!("{p:.1}%"))
                                        .unwrap_or_else(|| "–".into()),
                                    format!("{} {}", money(a.unallocated), a.kind.missing_value()),
                                ]
                            })
                            .collect(),
                        what: "keys".into(),
                    });
                }
            }
            NotificationBody::Test(f) => {
                facts = vec![("Message".into(), f.message.clone())];
            }
        }
        if !matches!(n.body, NotificationBody::Test(_)) {
            facts.extend(scope_facts(&n.scope));
        }
        View {
            severity: n.severity,
            state: n.state,
            kind: n.kind(),
            title: with_state(&n.title, n.state),
            summary: n.summary.clone(),
            facts,
            tables,
            links: n.links.clone(),
            reference: n.id.clone(),
        }
    }

    /// One message for an alert storm: the most severe first (the framework's order).
    pub fn digest(all: &[Notification]) -> View {
        let severity = all
            .iter()
            .map(|n| n.severity)
            .max()
            .unwrap_or(Severity::Info);
        let impact_of = |n: &Notification| match &n.body {
            NotificationBody::Anomaly(f) => display_signed(f.impact, &n.currency),
            NotificationBody::Budget(f) => {
                format!("{} of budget", display_percent_used(f.percent_of_limit))
            }
            NotificationBody::Forecast(f) => display(f.forecast_total, &n.currency),
            NotificationBody::Recommendation(f) => {
                format!("{} a month", display(f.monthly_savings, &n.currency))
            }
            NotificationBody::Report(f) => display(f.total, &n.currency),
            NotificationBody::Test(_) => String::new(),
        };
        let mut links: Vec<Link> = Vec::new();
        for l in all.iter().flat_map(|n| &n.links) {
            if !links.iter().any(|k| k.url == l.url) {
                links.push(l.clone());
            }
        }
        View {
            severity,
            state: State::Open,
            kind: "digest",
            title: format!("{} cost notifications", all.len()),
            summary: format!(
                "{} notifications arrived together; the most severe is {}.",
                all.len(),
                severity_word(severity)
            ),
            facts: Vec::new(),
            tables: vec![Table {
                heading: "Notifications".into(),
                headers: vec!["Severity".into(), "What".into(), "Figure".into()],
                rows: all
                    .iter()
                    .map(|n| {
                        vec![
                            severity_word(n.severity).into(),
                            with_state(&n.title, n.state),
                            impact_of(n),
                        ]
                    })
                    .collect(),
                what: "notifications".into(),
            }],
            links,
            reference: digest_reference(all),
        }
    }

    /// The first link with an http(s) URL: where "see the rest" points.
    pub fn details_link(&self) -> Option<&Link> {
        self.links.iter().find(|l| is_web_url(&l.url))
    }
}

/// The ids a digest's reference lists before it only counts the rest: a storm's digest can hold
/// thousands (crates/dispatch/src/storm.rs), which would fill a Teams card or a Discord footer.
pub const DIGEST_REFERENCE_IDS: usize = 20;

/// A digest's envelope ids, the first [`DIGEST_REFERENCE_IDS`] of them and how many more.
fn digest_reference(all: &[Notification]) -> String {
    let shown: Vec<&str> = all
        .iter()
        .take(DIGEST_REFERENCE_IDS)
        .map(|n| n.id.as_str())
        .collect();
    let more = all.len().saturating_sub(DIGEST_REFERENCE_IDS);
    if more == 0 {
        shown.join(", ")
    } else {
        format!("{} and {more} more", shown.join(", "))
    }
}

pub fn is_web_url(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

pub fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Info => "info",
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
        Severity::Critical => "critical",
    }
}

/// The title with its state in front, unless the title already starts with it (a resolved
/// anomaly's title says "Resolved: …" itself).
fn with_state(title: &str, state: State) -> String {
    let prefix = match state {
        State::Open => return title.to_owned(),
        State::Ongoing => "Ongoing: ",
        State::Acknowledged => "Acknowledged: ",
        State::Resolved => "Resolved: ",
    };
    if title.starts_with(prefix) {
        title.to_owned()
    } else {
        format!("{prefix}{title}")
    }
}

/// What the scope's label leaves out: the account's id beside its name, and the tags and cost
/// categories the label does not already say.
fn scope_facts(scope: &ScopeRef) -> Vec<(String, String)> {
    let mut facts = Vec::new();
    if let (Some(id), Some(name)) = (&scope.account_id, &scope.account_name) {
        facts.push(("Account".into(), format!("{name} ({id})")));
    }
    let tags: Vec<String> = scope
        .tags
        .iter()
        .chain(&scope.cost_categories)
        .map(|(k, v)| format!("{k}={v}"))
        .filter(|t| !scope.label.contains(t.as_str()))
        .collect();
    if !tags.is_empty() {
        facts.push(("Tags".into(), tags.join(", ")));
    }
    facts
}

fn percent_change(p: f64) -> String {
    format!("{}{:.0}%", if p > 0.0 { "+" } else { "" }, p)
}

fn date_range(a: chrono::NaiveDate, b: chrono::NaiveDate) -> String {
    if a == b {
        a.to_string()
    } else {
        format!("{a} to {b}")
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_digest_reference_lists_twenty_ids_and_counts_the_rest() {
        let mut all = Vec::new();
        for i in 0..25 {
            let mut n = costwatch_core::samples::of_kind("anomaly");
            n.id = format!("ntf_{i:02}");
            all.push(n);
        }
        let reference = View::digest(&all).reference;
        assert!(reference.starts_with("ntf_00, ntf_01"), "{reference}");
        assert!(reference.ends_with("ntf_19 and 5 more"), "{reference}");
        assert_eq!(View::digest(&all[..3]).reference, "ntf_00, ntf_01, ntf_02");
    }

    use super::*;
    use costwatch_core::samples;

    /// A forecast alert shows what moved its scope's month as a table every chat and ticket
    /// lays out: the windows and the change in its heading, an untagged value named as such.
    #[test]
    fn a_forecast_alert_tables_its_drivers() {
        let view = View::of(&samples::of_kind("forecast"));
        let table = view
            .tables
            .iter()
            .find(|t| t.heading.starts_with("Drivers"))
            .expect("a drivers table");
        assert_eq!(
            table.heading,
            "Drivers: 1–20 November against 1–20 October (+$6,480.00)"
        );
        assert_eq!(
            table.rows[0],
            ["account", "data-platform", "+$5,210.00", "80%"].map(String::from)
        );
        assert_eq!(
            table.rows[2][..2],
            ["tag:team", "(untagged)"].map(String::from)
        );
        // Without drivers (last month not in the data), no table.
        let mut plain = samples::of_kind("forecast");
        if let NotificationBody::Forecast(f) = &mut plain.body {
            f.drivers = None;
        }
        assert!(View::of(&plain).tables.is_empty());
        let budget = View::of(&samples::of_kind("budget"));
        assert!(budget.tables.iter().any(|t| t.what == "drivers"));
    }

    /// A budget without a forecast yet (too little history) says so where every chat, ticket
    /// and page shows the forecast, rather than showing the spend to date as one.
    #[test]
    fn a_budget_without_a_forecast_shows_none() {
        let mut alert = samples::of_kind("budget");
        let NotificationBody::Budget(f) = &mut alert.body else {
            panic!("budget sample")
        };
        f.forecast_pending = true;
        let facts = View::of(&alert).facts;
        let forecast = facts
            .iter()
            .find(|(k, _)| k == "Month-end forecast")
            .unwrap();
        assert_eq!(forecast.1, "not yet (too little history)");

        let mut report = samples::of_kind("report");
        let NotificationBody::Report(r) = &mut report.body else {
            panic!("report sample")
        };
        r.budgets[0].forecast_pending = true;
        let tables = View::of(&report).tables;
        let budgets = tables.iter().find(|t| t.what == "budgets").unwrap();
        assert_eq!(budgets.rows[0][2], "not yet", "{:?}", budgets.rows);
    }

    /// A quarter's budget says so: its forecast is to the quarter's end, its amount three
    /// average months, and the report's row names its period.
    #[test]
    fn a_quarterly_budget_names_its_period() {
        let mut alert = samples::of_kind("budget");
        let NotificationBody::Budget(f) = &mut alert.body else {
            panic!("budget sample")
        };
        let day = |m, d| chrono::NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        (f.period_start, f.period_end) = (day(10, 1), day(12, 31));
        f.auto_adjusted_months = Some(6);
        let facts = View::of(&alert).facts;
        let label = |k: &str| {
            facts
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        assert!(label("Quarter-end forecast").is_some(), "{facts:?}");
        assert_eq!(label("Month-end forecast"), None);
        let amount = label("Budget amount").unwrap();
        assert!(
            amount.ends_with("auto-adjusting, 3 months at the average of the last 6 months"),
            "{amount}"
        );

        let mut report = samples::of_kind("report");
        let NotificationBody::Report(r) = &mut report.body else {
            panic!("report sample")
        };
        let name = r.budgets[0].budget.clone();
        r.budgets[0].period = BudgetPeriod::Quarterly;
        let tables = View::of(&report).tables;
        let budgets = tables.iter().find(|t| t.what == "budgets").unwrap();
        assert_eq!(budgets.rows[0][0], format!("{name} (quarterly)"));
        let doc = serde_json::to_value(&report).unwrap();
        assert_eq!(doc["figures"]["budgets"][0]["period"], "quarterly", "{doc}");
    }

    /// Every chat and ticket says an auto-adjusting budget's amount is an average.
    #[test]
    fn an_auto_adjusting_budget_says_its_amount_is_an_average() {
        let mut alert = samples::of_kind("budget");
        assert!(
            !View::of(&alert)
                .facts
                .iter()
                .any(|(k, _)| k == "Budget amount")
        );
        let NotificationBody::Budget(f) = &mut alert.body else {
            panic!("budget sample")
        };
        f.auto_adjusted_months = Some(3);
        let facts = View::of(&alert).facts;
        let amount = facts.iter().find(|(k, _)| k == "Budget amount").unwrap();
        assert_eq!(
            amount.1,
            "$10,000.00: auto-adjusting, the average of the last 3 months"
        );
    }

    /// A report says how much of the month's spend no team can be shown, per key, in the word
    /// of its kind.
    #[test]
    fn a_report_shows_each_keys_allocated_share_and_unallocated_spend() {
        let report = samples::of_kind("report");
        let tables = View::of(&report).tables;
        let allocation = tables.iter().find(|t| t.what == "keys").unwrap();
        assert_eq!(
            allocation.rows,
            [
                ["tag team", "91.7%", "$7,480.25 untagged"],
                [
                    "cost category Business Unit",
                    "100.0%",
                    "$0.00 uncategorised"
                ]
            ]
        );
        let mut none = report.clone();
        let NotificationBody::Report(r) = &mut none.body else {
            panic!("report sample")
        };
        r.allocation.clear();
        assert!(!View::of(&none).tables.iter().any(|t| t.what == "keys"));
    }

    #[test]
    fn a_resolved_title_says_resolved_once() {
        let mut n = samples::of_kind("anomaly");
        n.state = State::Resolved;
        n.title = "Resolved: Cost spike in Amazon SageMaker since 2026-11-20".into();
        assert_eq!(View::of(&n).title, n.title);
        n.title = "Back under 100%: Budget".into();
        assert_eq!(View::of(&n).title, "Resolved: Back under 100%: Budget");
    }

    #[test]
    fn the_account_id_and_tags_the_label_leaves_out_are_facts() {
        let mut n = samples::of_kind("anomaly");
        n.scope.tags.insert("team".into(), "ml".into());
        let facts = View::of(&n).facts;
        let fact = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        assert!(facts.contains(&fact("Account", "data-platform (444455556666)")));
        assert!(facts.contains(&fact("Tags", "team=ml")));
        // A tag scope's label already names its tag.
        let mut n = samples::of_kind("report");
        n.scope.label = "tag team=ml".into();
        n.scope.tags.insert("team".into(), "ml".into());
        assert!(!View::of(&n).facts.iter().any(|(k, _)| k == "Tags"));
    }

    #[test]
    fn money_is_in_the_envelopes_currency() {
        let mut n = samples::of_kind("anomaly");
        n.currency = "EUR".into();
        let view = View::of(&n);
        assert!(view.facts.contains(&("Actual".into(), "€558.00".into())));
        assert!(
            view.facts
                .contains(&("Impact".into(), "+€372.00 (+200%)".into()))
        );
        assert_eq!(view.tables[0].rows[0][2], "+€369.00");
    }
}
