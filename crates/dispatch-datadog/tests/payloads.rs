//! Every request the Datadog dispatcher renders validates against Datadog's own OpenAPI documents
//! (`specs/datadog/v2-openapi.yaml` for `SubmitMetrics`, `v1-openapi.yaml` for `CreateEvent`,
//! $refs resolved against their components, and no property the spec does not define): every
//! sample envelope in every state, digests, hostile values; tags follow Datadog's tag rules and
//! event text can neither mention anyone nor turn Markdown on.

use chrono::NaiveDate;
use costwatch_core::Notification;
use costwatch_core::notification::{Link, NotificationBody, State};
use costwatch_core::samples::of_kind as sample;
use costwatch_dispatch::escape::HOSTILE;
use costwatch_dispatch::request::REDACTED;
use costwatch_dispatch::{
    Body, Integration, Message, RenderContext, Text, VendorRequest, entry, load_config,
};
use costwatch_dispatch_datadog::encoder::{
    EVENTS_PATH, MAX_EVENT_TEXT, MAX_EVENT_TITLE, MAX_PAYLOAD_BYTES, SERIES_PATH, aggregation_key,
};
use costwatch_dispatch_datadog::series::{self, NAMES};
use costwatch_dispatch_datadog::{Datadog, DatadogConfig, Site};
use serde_json::{Value, json};

/// The JSON body of a request (every Datadog request is one).
fn json_of(request: &VendorRequest) -> &Value {
    match &request.body {
        Body::Json(v) => v,
        other => panic!("not a JSON body: {other:?}"),
    }
}

mod support;

const KEY: &str = "0123456789abcdef0123456789abcdef";

fn config(extra: Value) -> DatadogConfig {
    let mut d = json!({"api_key": KEY});
    if let (Some(d), Some(extra)) = (d.as_object_mut(), extra.as_object()) {
        d.extend(extra.clone());
    }
    load_config::<Datadog>(json!({"destinations": {"prod": d}})).unwrap()
}

fn render_with(config: &DatadogConfig, message: Message<'_>) -> Vec<VendorRequest> {
    Datadog::render(config, "prod", message, &RenderContext::default()).unwrap()
}

fn render(message: Message<'_>) -> Vec<VendorRequest> {
    render_with(&config(json!({})), message)
}

/// What Datadog keeps as a tag without changing it.
fn valid_tag(tag: &str) -> bool {
    tag.chars().count() <= 200
        && tag.chars().next().is_some_and(char::is_alphabetic)
        && !tag.ends_with(':')
        && tag
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | ':' | '.' | '/'))
        && tag.to_lowercase() == tag
}

/// `@` followed by something a handle could start with.
fn mentions(text: &str) -> bool {
    text.char_indices().any(|(i, c)| {
        c == '@'
            && text[i + 1..]
                .chars()
                .next()
                .is_some_and(|n| n.is_alphanumeric() || n == '-' || n == '_')
    })
}

/// Checks one request against the spec and Datadog's rules; returns its JSON body.
fn check(request: &VendorRequest) -> Value {
    let url = url::Url::parse(request.url.expose()).unwrap();
    let body = json_of(request).clone();
    if let Err(errors) = support::check_schema(request) {
        panic!("{errors}\n{body:#}");
    }
    assert!(request.body.encode().len() <= MAX_PAYLOAD_BYTES);
    let [(name, Text::Secret(_))] = request.headers.as_slice() else {
        panic!(
            "the API key travels as a secret header: {:?}",
            request.headers
        )
    };
    assert_eq!(name, "DD-API-KEY");
    let tags: Vec<&Value> = if url.path() == SERIES_PATH {
        body["series"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["tags"].as_array().unwrap())
            .collect()
    } else {
        body["tags"].as_array().unwrap().iter().collect()
    };
    for t in tags {
        assert!(valid_tag(t.as_str().unwrap()), "{t}");
    }
    if url.path() == EVENTS_PATH {
        for field in ["title", "text"] {
            let text = body[field].as_str().unwrap();
            assert!(!mentions(text), "{field}: {text:?}");
            assert!(!text.contains("%%"), "{field}: {text:?}");
            assert!(
                !text.contains('\u{202E}') && !text.contains('\u{7}'),
                "{text:?}"
            );
        }
        assert!(body["text"].as_str().unwrap().chars().count() <= MAX_EVENT_TEXT);
        assert!(body["title"].as_str().unwrap().chars().count() <= MAX_EVENT_TITLE);
    }
    body
}

fn metrics_of(requests: &[VendorRequest]) -> Vec<Value> {
    requests
        .iter()
        .filter(|r| r.step == "series")
        .flat_map(|r| json_of(r)["series"].as_array().unwrap().clone())
        .collect()
}

fn events_of(requests: &[VendorRequest]) -> Vec<Value> {
    requests
        .iter()
        .filter(|r| r.step == "event")
        .map(|r| json_of(r).clone())
        .collect()
}

fn in_every_state(n: &Notification) -> Vec<Notification> {
    [State::Open, State::Ongoing, State::Resolved]
        .into_iter()
        .map(|state| {
            let mut copy = n.clone();
            copy.state = state;
            copy
        })
        .collect()
}

fn midnight(day: NaiveDate) -> i64 {
    day.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp()
}

#[test]
fn every_sample_in_every_state_renders_what_the_spec_accepts() {
    for (stem, n) in costwatch_core::samples::all() {
        for n in in_every_state(&n) {
            let requests = render(Message::One(&n));
            assert!(!requests.is_empty(), "{stem}");
            for r in &requests {
                check(r);
                assert!(r.url.expose().starts_with("https://api.datadoghq.com/"));
            }
            // The event, if any, is the last request.
            let events = events_of(&requests);
            assert!(
                requests
                    .iter()
                    .rev()
                    .skip(events.len())
                    .all(|r| r.step == "series")
            );
            let expect_event = matches!(stem, "anomaly" | "budget" | "test");
            assert_eq!(events.len(), usize::from(expect_event), "{stem}");
            for s in metrics_of(&requests) {
                assert_eq!(s["type"], 3);
                assert!(NAMES.contains(&s["metric"].as_str().unwrap()), "{s}");
                let tags: Vec<&str> = s["tags"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t.as_str().unwrap())
                    .collect();
                assert!(tags.contains(&"currency:usd"), "{tags:?}");
                assert!(tags.contains(&format!("kind:{stem}").as_str()), "{tags:?}");
                assert!(tags.iter().any(|t| t.starts_with("scope:")), "{tags:?}");
            }
        }
    }
}

#[test]
fn each_kind_sends_its_figures_at_the_cost_day() {
    let find = |n: &Notification, metric: &str| -> Value {
        metrics_of(&render(Message::One(n)))
            .into_iter()
            .find(|s| s["metric"] == metric)
            .unwrap_or_else(|| panic!("no {metric}"))
    };
    let point = |s: &Value| {
        (
            s["points"][0]["timestamp"].as_i64().unwrap(),
            s["points"][0]["value"].as_f64().unwrap(),
        )
    };
    let report = sample("report");
    let NotificationBody::Report(f) = &report.body else {
        panic!()
    };
    assert_eq!(
        point(&find(&report, series::COST_DAILY)),
        (midnight(f.end), costwatch_core::money::to_f64(f.total))
    );
    // Each key's unallocated spend and coverage, one series per key.
    let all = metrics_of(&render(Message::One(&report)));
    let per_key = |metric: &str| -> Vec<(String, f64)> {
        all.iter()
            .filter(|s| s["metric"] == metric)
            .map(|s| {
                let key = s["tags"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(Value::as_str)
                    .find(|t| t.starts_with("tag_key:") || t.starts_with("cost_category:"))
                    .unwrap()
                    .to_owned();
                (key, point(s).1)
            })
            .collect()
    };
    assert_eq!(
        f.allocation.len(),
        2,
        "the sample has a tag and a cost category"
    );
    assert_eq!(
        per_key(series::ALLOCATION_UNALLOCATED),
        [
            ("tag_key:team".to_owned(), 7480.25),
            ("cost_category:business_unit".to_owned(), 0.0)
        ]
    );
    assert_eq!(
        per_key(series::ALLOCATION_COVERAGE),
        [
            ("tag_key:team".to_owned(), 91.7),
            ("cost_category:business_unit".to_owned(), 100.0)
        ]
    );
    let mut weekly = report.clone();
    if let NotificationBody::Report(w) = &mut weekly.body {
        w.period = costwatch_core::notification::ReportPeriod::Weekly;
    }
    let weekly_series = metrics_of(&render(Message::One(&weekly)));
    assert!(
        !weekly_series
            .iter()
            .any(|s| s["metric"] == series::ALLOCATION_COVERAGE),
        "month to date: the daily report's alone"
    );
    let forecast = sample("forecast");
    let NotificationBody::Forecast(f) = &forecast.body else {
        panic!()
    };
    for (metric, value) in [
        (series::FORECAST_MONTH_END, f.forecast_total),
        (series::FORECAST_LOWER, f.lo80),
        (series::FORECAST_UPPER, f.hi80),
    ] {
        let s = find(&forecast, metric);
        assert_eq!(
            point(&s),
            (midnight(f.as_of), costwatch_core::money::to_f64(value))
        );
    }
    let budget = sample("budget");
    let NotificationBody::Budget(f) = &budget.body else {
        panic!()
    };
    let used = find(&budget, series::BUDGET_PERCENT_USED);
    assert_eq!(point(&used), (midnight(f.as_of), f.percent_of_limit));
    assert_eq!(used["unit"], "percent");
    let actual = find(&budget, series::BUDGET_ACTUAL);
    assert_eq!(point(&actual).1, costwatch_core::money::to_f64(f.actual));
    assert_eq!(
        point(&find(&budget, series::BUDGET_LIMIT)).1,
        costwatch_core::money::to_f64(f.limit)
    );
    assert!(
        used["tags"].to_string().contains("budget_period:monthly"),
        "{used}"
    );
    // A quarter's budget is tagged as one, in its alert and in the report's line.
    let mut quarter = budget.clone();
    if let NotificationBody::Budget(f) = &mut quarter.body {
        let day = |m, d| chrono::NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        (f.period_start, f.period_end) = (day(10, 1), day(12, 31));
    }
    let tags = find(&quarter, series::BUDGET_ACTUAL)["tags"].to_string();
    assert!(tags.contains("budget_period:quarterly"), "{tags}");
    let mut report = sample("report");
    if let NotificationBody::Report(r) = &mut report.body {
        r.budgets[0].period = costwatch_core::findings::BudgetPeriod::Annually;
    }
    let tags = find(&report, series::BUDGET_PERCENT_USED)["tags"].to_string();
    assert!(tags.contains("budget_period:annually"), "{tags}");
    let anomaly = sample("anomaly");
    let NotificationBody::Anomaly(f) = &anomaly.body else {
        panic!()
    };
    let impact = find(&anomaly, series::ANOMALY_IMPACT);
    assert_eq!(
        point(&impact),
        (midnight(f.date), costwatch_core::money::to_f64(f.impact))
    );
    assert_eq!(impact["unit"], "dollar");
    let tags = impact["tags"].to_string();
    for t in [
        "account:444455556666",
        "account_name:data-platform",
        "service:amazon_sagemaker",
        "severity:",
        "state:open",
    ] {
        assert!(tags.contains(t), "{t} in {tags}");
    }
    // A saving has no day: it is stamped when it was found.
    let rec = sample("recommendation");
    let NotificationBody::Recommendation(f) = &rec.body else {
        panic!()
    };
    assert_eq!(
        point(&find(&rec, series::RECOMMENDATION_SAVINGS)),
        (
            rec.created_at.timestamp(),
            costwatch_core::money::to_f64(f.monthly_savings)
        )
    );
    // `timestamp = "created_at"` stamps everything at notification time.
    let at_creation = config(json!({"timestamp": "created_at"}));
    let s = metrics_of(&render_with(&at_creation, Message::One(&anomaly)));
    assert!(
        s.iter()
            .all(|s| s["points"][0]["timestamp"] == anomaly.created_at.timestamp())
    );
}

#[test]
fn events_group_by_subject_and_say_how_bad() {
    let anomaly = sample("anomaly");
    let states = in_every_state(&anomaly);
    let events: Vec<Value> = states
        .iter()
        .flat_map(|n| events_of(&render(Message::One(n))))
        .collect();
    assert_eq!(events.len(), 3);
    let key = aggregation_key(&[anomaly.subject_id.as_str()]);
    assert!(events.iter().all(|e| e["aggregation_key"] == key.as_str()));
    assert_eq!(events[2]["alert_type"], "success");
    assert!(events[2]["title"].as_str().unwrap().starts_with("Resolved"));
    let mut critical = sample("budget");
    critical.severity = costwatch_core::notification::Severity::Critical;
    let e = &events_of(&render(Message::One(&critical)))[0];
    assert_eq!(
        (e["alert_type"].as_str(), e["priority"].as_str()),
        (Some("error"), Some("normal"))
    );
    assert_ne!(e["aggregation_key"], key.as_str());
    assert!(e["text"].as_str().unwrap().contains(&critical.id));
    // Events can be turned off; metrics still go.
    let quiet = config(json!({"events": false}));
    let requests = render_with(&quiet, Message::One(&anomaly));
    assert!(events_of(&requests).is_empty() && !metrics_of(&requests).is_empty());
}

/// `n` with `h` in every string a user or an AWS account controls.
fn hostile(n: &Notification, h: &str) -> Notification {
    let mut n = n.clone();
    n.title = format!("{h} {}", n.title);
    n.summary = format!("{h}\n%%% \n{h}\n %%%");
    n.scope.label = h.to_owned();
    n.scope.key = format!("account={h}");
    n.scope.account_name = Some(h.to_owned());
    n.scope.service = Some(h.to_owned());
    n.links.push(Link {
        label: h.to_owned(),
        url: "https://costs.example.com/x".into(),
    });
    match &mut n.body {
        NotificationBody::Anomaly(f) => {
            for rc in &mut f.root_causes {
                rc.value = h.to_owned();
            }
        }
        NotificationBody::Budget(f) => f.budget = h.to_owned(),
        NotificationBody::Recommendation(f) => {
            f.category = h.to_owned();
            f.action = h.to_owned();
            f.resource_id = Some(h.to_owned());
        }
        NotificationBody::Report(f) => {
            for m in f.top_services.iter_mut().chain(&mut f.top_movers) {
                m.label = h.to_owned();
                m.scope = h.to_owned();
            }
            for b in &mut f.budgets {
                b.budget = h.to_owned();
            }
        }
        NotificationBody::Forecast(_) => {}
        NotificationBody::Test(f) => f.message = h.to_owned(),
    }
    n
}

#[test]
fn hostile_values_stay_inert_and_valid() {
    let extra_hostile = [
        "@oncall-team please look",
        "ping @user@example.com",
        "%%%\n",
    ];
    for (_, n) in costwatch_core::samples::all() {
        for h in HOSTILE.iter().chain(&extra_hostile) {
            let n = hostile(&n, h);
            for r in render(Message::One(&n)) {
                check(&r);
            }
        }
    }
}

#[test]
fn a_large_digest_is_split_into_payloads_within_500_kb() {
    let base = sample("report");
    let storm: Vec<Notification> = (0..1500)
        .map(|i| {
            let mut n = base.clone();
            n.id = format!("ntf_storm_{i:04}");
            n.subject_id = format!("rep_storm_{i:04}");
            n.scope.account_name = Some(format!("account {i} {}", "x".repeat(150)));
            n
        })
        .collect();
    let mut all = storm.clone();
    all.push(sample("anomaly"));
    let requests = render(Message::Digest(&all));
    let series_requests = requests.iter().filter(|r| r.step == "series").count();
    assert!(series_requests >= 2, "{series_requests} series request(s)");
    for r in &requests {
        check(r);
    }
    let expected: usize = all
        .iter()
        .map(|n| {
            render(Message::One(n))
                .iter()
                .filter(|r| r.step == "series")
                .map(|r| json_of(r)["series"].as_array().unwrap().len())
                .sum::<usize>()
        })
        .sum();
    assert_eq!(metrics_of(&requests).len(), expected, "no series is lost");
    let events = events_of(&requests);
    assert_eq!(events.len(), 1, "one event for the digest");
    assert_eq!(requests.last().unwrap().step, "event");
    assert_eq!(events[0]["alert_type"], "error");
}

#[test]
fn every_site_sends_to_its_own_api_host() {
    let n = sample("anomaly");
    for (site, host) in [
        ("US1", "api.datadoghq.com"),
        ("US3", "api.us3.datadoghq.com"),
        ("US5", "api.us5.datadoghq.com"),
        ("EU1", "api.datadoghq.eu"),
        ("AP1", "api.ap1.datadoghq.com"),
        ("AP2", "api.ap2.datadoghq.com"),
        ("US1-FED", "api.ddog-gov.com"),
        ("datadoghq.eu", "api.datadoghq.eu"),
    ] {
        let requests = render_with(&config(json!({ "site": site })), Message::One(&n));
        for r in &requests {
            let url = url::Url::parse(r.url.expose()).unwrap();
            assert_eq!(url.host_str(), Some(host), "{site}");
            assert!(Datadog::ALLOWED_HOSTS.contains(&host));
        }
        assert_eq!(
            Site::of_host(host).map(|s| s.api_base()),
            Some(format!("https://{host}"))
        );
    }
}

#[test]
fn the_config_is_checked_without_echoing_the_key() {
    let load = |d: Value| entry::<Datadog>().load(json!({"destinations": {"prod": d}}));
    assert!(load(json!({"api_key": KEY})).is_ok());
    assert!(load(json!({"api_key": {"secrets_manager": "costwatch/datadog/prod"}})).is_ok());
    let err = load(json!({"api_key": "not-a-key-s3cr3t"}))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("32 hexadecimal"), "{err}");
    assert!(!err.contains("s3cr3t"), "{err}");
    assert!(load(json!({"api_key": KEY, "site": "EU2"})).is_err());
    assert!(
        load(json!({"api_key": KEY, "app_key": KEY})).is_err(),
        "unknown fields"
    );
    assert!(load(json!({"api_key": KEY, "tags": ["env:prod"]})).is_ok());
    let err = load(json!({"api_key": KEY, "tags": ["Env:Prod"]}))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("env:prod"), "{err}");
}

#[test]
fn printed_requests_never_show_the_api_key() {
    let requests = render(Message::One(&sample("anomaly")));
    for r in &requests {
        let printed = r.printable();
        assert_eq!(printed["headers"]["dd-api-key"], REDACTED);
        assert!(!printed.to_string().contains(KEY));
        assert!(!format!("{r:?}").contains(KEY));
        assert!(
            !r.body
                .encode()
                .windows(KEY.len())
                .any(|w| w == KEY.as_bytes())
        );
    }
}

#[test]
fn the_sqs_sample_event_renders_what_datadog_accepts() {
    // events/dispatch-datadog/sqs.json is what `sam local invoke` feeds the function.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../events/dispatch-datadog/sqs.json"
    );
    let event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let records = event["Records"].as_array().unwrap();
    assert_eq!(records.len(), 2);
    for r in records {
        assert_eq!(r["eventSource"], "aws:sqs");
        let n: Notification = serde_json::from_str(r["body"].as_str().unwrap()).unwrap();
        let requests = render(Message::One(&n));
        assert!(!events_of(&requests).is_empty(), "{}", n.kind());
        requests.iter().for_each(|r| {
            check(r);
        });
    }
}

#[test]
fn the_docs_page_lists_every_metric() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/integrations/datadog.md"
    );
    let docs = std::fs::read_to_string(path).unwrap();
    for name in NAMES {
        assert!(
            docs.contains(&format!("`{name}`")),
            "{name} is not documented"
        );
    }
}
