//! The API in process over the seeded in-memory store: every route against openapi.json (both
//! ways, and every answer against its schema), ETags, problems, the bearer token, and acting on
//! an anomaly through the pipeline's own feedback code.

#[allow(dead_code)] // each test binary uses part of the support
mod support;

use axum::http::{Request, StatusCode, header};
use costwatch_api::{Auth, routes};
use costwatch_core::NotificationBody;
use costwatch_store::memory::MemorySecrets;
use serde_json::json;
use support::contract::Contract;
use support::{call, get, post, seeded};

#[test]
fn the_route_table_and_the_document_list_the_same_operations() {
    let mut code: Vec<(String, String)> = routes::routes()
        .table()
        .iter()
        .map(|(m, p)| (m.to_string(), (*p).to_owned()))
        .collect();
    code.sort();
    assert_eq!(code, Contract::load().operations());
}

#[test]
fn the_served_document_is_the_committed_one() {
    let served: serde_json::Value = serde_json::from_str(costwatch_api::OPENAPI).unwrap();
    assert_eq!(&served, Contract::load().doc());
    assert_eq!(served["openapi"], "3.1.0");
}

#[tokio::test]
async fn every_route_answers_as_documented() {
    let s = seeded().await;
    let api = s.open();
    let contract = Contract::load();
    let anomalies = call(&api, get("/v1/anomalies?state=all")).await;
    contract.check(
        "GET",
        "/v1/anomalies",
        200,
        &anomalies.content_type,
        &anomalies.body,
    );
    let listed = anomalies.json();
    let spike = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| {
            a["label"]
                .as_str()
                .unwrap()
                .contains(s.spike_service.as_str())
        })
        .unwrap_or_else(|| {
            panic!(
                "the planted spike on {} is listed: {listed:#}",
                s.spike_service
            )
        })
        .clone();
    assert_eq!(spike["direction"], "rise");
    assert_eq!(spike["date"], s.end.to_string());
    let id = spike["id"].as_str().unwrap().to_owned();
    let report_date = s.end.to_string();
    // (template, uri, expected status)
    let cases: Vec<(&str, String, u16)> = vec![
        ("/", "/".into(), 200),
        ("/assets/app.js", "/assets/app.js".into(), 200),
        ("/assets/app.css", "/assets/app.css".into(), 200),
        ("/openapi.json", "/openapi.json".into(), 200),
        ("/v1/costs", "/v1/costs".into(), 200),
        (
            "/v1/costs",
            format!(
                "/v1/costs?scope=service%3D{}&limit=5",
                s.spike_service.replace(' ', "%20")
            ),
            200,
        ),
        ("/v1/costs", "/v1/costs?scope=nonsense%3Dx".into(), 400),
        (
            "/v1/costs",
            "/v1/costs?start=2026-11-20&end=2026-11-01".into(),
            400,
        ),
        ("/v1/costs", "/v1/costs?limit=0".into(), 400),
        ("/v1/costs", "/v1/costs?cursor=abc".into(), 400),
        ("/v1/costs", "/v1/costs?start=yesterday".into(), 400),
        (
            "/v1/costs/breakdown",
            "/v1/costs/breakdown?kind=service&sort=change&limit=3".into(),
            200,
        ),
        (
            "/v1/costs/breakdown",
            "/v1/costs/breakdown?kind=account".into(),
            200,
        ),
        ("/v1/costs/breakdown", "/v1/costs/breakdown".into(), 400),
        ("/v1/costs/allocation", "/v1/costs/allocation".into(), 200),
        (
            "/v1/costs/allocation",
            "/v1/costs/allocation?as_of=2026-11-05".into(),
            200,
        ),
        (
            "/v1/costs/allocation",
            "/v1/costs/allocation?as_of=1999-01-01".into(),
            200,
        ),
        (
            "/v1/costs/allocation",
            "/v1/costs/allocation?as_of=soon".into(),
            400,
        ),
        (
            "/v1/anomalies",
            "/v1/anomalies?state=active&scope_kind=service".into(),
            200,
        ),
        ("/v1/anomalies", "/v1/anomalies?state=bogus".into(), 400),
        ("/v1/anomalies/{id}", format!("/v1/anomalies/{id}"), 200),
        ("/v1/anomalies/{id}", "/v1/anomalies/an_missing".into(), 404),
        ("/v1/forecasts", "/v1/forecasts".into(), 200),
        ("/v1/budgets", "/v1/budgets".into(), 200),
        ("/v1/reports", "/v1/reports".into(), 200),
        (
            "/v1/reports/{period}/{date}/{file}",
            format!("/v1/reports/daily/{report_date}/report.html"),
            200,
        ),
        (
            "/v1/reports/{period}/{date}/{file}",
            format!("/v1/reports/daily/{report_date}/report.json"),
            200,
        ),
        (
            "/v1/reports/{period}/{date}/{file}",
            format!("/v1/reports/weekly/{report_date}/report.csv"),
            404,
        ),
        (
            "/v1/reports/{period}/{date}/{file}",
            format!("/v1/reports/daily/{report_date}/report.pdf"),
            404,
        ),
        (
            "/v1/reports/{period}/{date}/{file}",
            format!("/v1/reports/hourly/{report_date}/report.html"),
            404,
        ),
        ("/reports/{date}", format!("/reports/{report_date}"), 200),
        ("/reports/{date}", "/reports/2020-01-01".into(), 404),
        ("/v1/usage", "/v1/usage".into(), 200),
        ("/v1/usage", "/v1/usage?month=2026-13".into(), 400),
    ];
    for (template, uri, expected) in cases {
        let a = call(&api, get(&uri)).await;
        assert_eq!(
            a.status.as_u16(),
            expected,
            "GET {uri}: {}",
            String::from_utf8_lossy(&a.body)
        );
        contract.check("GET", template, a.status.as_u16(), &a.content_type, &a.body);
    }
    let posts = [
        ("/v1/anomalies/{id}/acknowledge", json!({"by": "ops"}), 200),
        ("/v1/anomalies/{id}/acknowledge", json!({"who": "ops"}), 400),
        (
            "/v1/anomalies/{id}/snooze",
            json!({"until": "2026-12-31"}),
            200,
        ),
        (
            "/v1/anomalies/{id}/snooze",
            json!({"until": "2020-01-01"}),
            400,
        ),
        (
            "/v1/anomalies/{id}/feedback",
            json!({"verdict": "not-an-anomaly"}),
            200,
        ),
        (
            "/v1/anomalies/{id}/feedback",
            json!({"verdict": "maybe"}),
            400,
        ),
    ];
    for (template, body, expected) in posts {
        let uri = template.replace("{id}", &id);
        let a = call(&api, post(&uri, body)).await;
        assert_eq!(
            a.status.as_u16(),
            expected,
            "POST {uri}: {}",
            String::from_utf8_lossy(&a.body)
        );
        contract.check(
            "POST",
            template,
            a.status.as_u16(),
            &a.content_type,
            &a.body,
        );
    }
    let missing = call(
        &api,
        post("/v1/anomalies/an_missing/acknowledge", json!({})),
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    contract.check(
        "POST",
        "/v1/anomalies/{id}/acknowledge",
        404,
        &missing.content_type,
        &missing.body,
    );
}

#[tokio::test]
async fn figures_say_what_the_store_holds() {
    let s = seeded().await;
    let api = s.open();
    let costs = call(&api, get("/v1/costs?limit=10")).await.json();
    assert_eq!(costs["scope"], "org");
    assert_eq!(costs["items"].as_array().unwrap().len(), 10);
    assert_eq!(costs["next_cursor"], "10", "30 days by default, 10 a page");
    let rest = call(&api, get("/v1/costs?limit=100&cursor=10"))
        .await
        .json();
    let rest = rest["items"].as_array().unwrap();
    assert_eq!(rest.len(), 20);
    assert_eq!(rest.last().unwrap()["date"], s.end.to_string());

    let budgets = call(&api, get("/v1/budgets")).await.json();
    let over: Vec<_> = budgets["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["status"] == "over")
        .collect();
    assert_eq!(over.len(), 1, "the planted budget at 150 %: {budgets:#}");
    // Every planted budget watches a scope with costs: none carries a note.
    assert!(
        budgets["items"].as_array().unwrap().iter().all(|b| b
            .as_object()
            .unwrap()
            .contains_key("note")
            && b["note"].is_null()),
        "{budgets:#}"
    );
    // Sixty days of history: every budget is forecast.
    assert!(
        budgets["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["forecast_pending"] == false),
        "{budgets:#}"
    );
    let b = over[0];
    assert!(b["breach_date"].as_str().unwrap() <= s.end.to_string().as_str());
    assert_eq!(
        b["allowed_daily_spend"], "0",
        "nothing left to spend once over"
    );
    assert_eq!(b["days_left"], 10);

    let movers = call(
        &api,
        get("/v1/costs/breakdown?kind=service&sort=change&start=2026-11-20&end=2026-11-20&limit=1"),
    )
    .await
    .json();
    assert_eq!(
        movers["items"][0]["label"],
        s.spike_service.as_str(),
        "the spike moves most"
    );
}

#[tokio::test]
async fn reports_are_listed_with_their_files() {
    let s = seeded().await;
    let api = s.open();
    let list = call(&api, get("/v1/reports")).await.json();
    let first = &list["items"][0];
    assert_eq!(first["period"], "daily");
    assert_eq!(first["date"], s.end.to_string());
    let html = first["files"]["report.html"].as_str().unwrap();
    assert_eq!(html, format!("/v1/reports/daily/{}/report.html", s.end));
    let page = call(&api, get(html)).await;
    assert_eq!(page.content_type, "text/html; charset=utf-8");
    assert!(String::from_utf8_lossy(&page.body).contains("<svg"));
}

#[tokio::test]
async fn reads_carry_etags_and_answer_304() {
    let s = seeded().await;
    let api = s.open();
    let first = call(&api, get("/v1/budgets")).await;
    let etag = first.etag.clone().expect("an ETag on a read");
    let again = Request::get("/v1/budgets")
        .header(header::IF_NONE_MATCH, &etag)
        .body(axum::body::Body::empty())
        .unwrap();
    let not_modified = call(&api, again).await;
    assert_eq!(not_modified.status, StatusCode::NOT_MODIFIED);
    assert!(not_modified.body.is_empty());
    assert_eq!(not_modified.etag.as_deref(), Some(etag.as_str()));
    let stale = Request::get("/v1/budgets")
        .header(header::IF_NONE_MATCH, "\"something-else\"")
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(call(&api, stale).await.status, StatusCode::OK);
}

#[tokio::test]
async fn errors_are_problems() {
    let s = seeded().await;
    let api = s.open();
    for (request, status) in [
        (get("/nowhere"), StatusCode::NOT_FOUND),
        (get("/v1/costs?limit=ten"), StatusCode::BAD_REQUEST),
        // A name the route does not declare (its range is `start`/`end`) is refused, not ignored.
        (get("/v1/costs?from=2026-11-01"), StatusCode::BAD_REQUEST),
        (post("/v1/costs", json!({})), StatusCode::METHOD_NOT_ALLOWED),
    ] {
        let a = call(&api, request).await;
        assert_eq!(a.status, status);
        assert_eq!(a.content_type, "application/problem+json");
        let p = a.json();
        assert_eq!(p["status"], status.as_u16());
        assert!(!p["detail"].as_str().unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_bearer_token_guards_the_data() {
    let s = seeded().await;
    let secrets = MemorySecrets::new().with("api-token", "correct horse battery staple");
    let api = s.router(
        Auth::Bearer {
            secret: "api-token".into(),
        },
        secrets,
    );
    let bare = call(&api, get("/v1/costs")).await;
    assert_eq!(bare.status, StatusCode::UNAUTHORIZED);
    assert_eq!(bare.content_type, "application/problem+json");
    assert_eq!(bare.headers[header::WWW_AUTHENTICATE], "Bearer");
    let with = |token: &str| {
        Request::get("/v1/costs")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(axum::body::Body::empty())
            .unwrap()
    };
    assert_eq!(
        call(&api, with("wrong")).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        call(&api, with("correct horse battery staple"))
            .await
            .status,
        StatusCode::OK
    );
    // The page and the document hold no data.
    assert_eq!(call(&api, get("/")).await.status, StatusCode::OK);
    assert_eq!(
        call(&api, get("/openapi.json")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        call(&api, get("/reports/2026-11-20")).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn acknowledge_and_feedback_are_announced_once_and_close_the_anomaly() {
    let s = seeded().await;
    let api = s.open();
    let open = call(&api, get("/v1/anomalies")).await.json();
    let spike = open["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| {
            a["label"]
                .as_str()
                .unwrap()
                .contains(s.spike_service.as_str())
        })
        .unwrap()
        .clone();
    let id = spike["id"].as_str().unwrap();
    assert_eq!(spike["feedback"], serde_json::Value::Null);

    let acked = call(
        &api,
        post(
            &format!("/v1/anomalies/{id}/acknowledge"),
            json!({"by": "ops"}),
        ),
    )
    .await
    .json();
    assert_eq!(acked["acknowledged"]["by"], "ops");
    let judged = call(
        &api,
        post(
            &format!("/v1/anomalies/{id}/feedback"),
            json!({"verdict": "expected"}),
        ),
    )
    .await
    .json();
    assert_eq!(judged["feedback"], "expected");
    assert_eq!(acked["state"], "acknowledged", "{acked:#}");
    assert_eq!(judged["state"], "resolved", "feedback closes it at once");
    // Every integration hears each change once: the acknowledgement, then the resolve.
    let announced: Vec<(String, String)> = s
        .bus
        .published()
        .iter()
        .filter(|n| n.subject_id == id)
        .map(|n| (format!("{:?}", n.state), n.summary.clone()))
        .collect();
    assert_eq!(announced.len(), 3, "{announced:?}");
    assert_eq!(announced[1].0, "Acknowledged");
    assert!(
        announced[1].1.starts_with("Acknowledged by ops."),
        "{announced:?}"
    );
    assert_eq!(announced[2].0, "Resolved");
    assert!(
        announced[2].1.starts_with("Marked expected;"),
        "{announced:?}"
    );

    // The next day's run finds it resolved and says nothing more about it.
    s.next_day().await;
    let detail = call(&api, get(&format!("/v1/anomalies/{id}"))).await.json();
    assert_eq!(detail["state"], "resolved", "{detail:#}");
    assert_eq!(
        s.bus
            .published()
            .iter()
            .filter(|n| n.subject_id == id)
            .count(),
        3,
        "nothing twice"
    );
    let still_open = call(&api, get("/v1/anomalies")).await.json();
    assert!(
        still_open["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["id"] != id),
        "no longer listed as active"
    );
}

#[tokio::test]
async fn usage_prices_the_cost_explorer_ledger() {
    use costwatch_store::RequestBudget;
    let s = seeded().await;
    let budget = RequestBudget::new(10);
    for _ in 0..3 {
        assert!(budget.try_take());
    }
    let now = support::morning_after(s.end);
    costwatch_pipeline::incremental::record_ledger(s.state.as_ref(), &budget, &[], now)
        .await
        .unwrap();
    let api = s.open();
    let usage = call(&api, get("/v1/usage?month=2026-11")).await;
    Contract::load().check("GET", "/v1/usage", 200, &usage.content_type, &usage.body);
    let usage = usage.json();
    assert_eq!(usage["sources"][0]["source"], "cost-explorer");
    assert_eq!(usage["sources"][0]["requests"], 3);
    assert_eq!(usage["total"], "0.03");
    assert!(usage["not_counted"].as_str().unwrap().contains("Lambda"));
    let other = call(&api, get("/v1/usage?month=2026-10")).await.json();
    assert_eq!(other["total"], "0");
}

#[tokio::test]
async fn usage_prices_athena_queries_to_fractions_of_a_cent() {
    use costwatch_pipeline::data_exports::{QueryUsage, record_ledger};
    let s = seeded().await;
    let now = support::morning_after(s.end);
    // Two queries: one of 3 GB, one under Athena's 10 MB minimum.
    let usage = QueryUsage {
        queries: 2,
        bytes_scanned: 3_000_000_000 + 1_000,
        billed_bytes: 3_000_000_000 + 10_000_000,
    };
    record_ledger(s.state.as_ref(), usage, &[], "2 Athena queries", now)
        .await
        .unwrap();
    let api = s.open();
    let usage = call(&api, get("/v1/usage?month=2026-11")).await;
    Contract::load().check("GET", "/v1/usage", 200, &usage.content_type, &usage.body);
    let usage = usage.json();
    let athena = usage["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == "athena")
        .expect("the Athena ledger is a source");
    assert_eq!(athena["requests"], 2);
    // 3.01 GB at $5 per TB.
    assert_eq!(athena["cost"], "0.01505");
    assert_eq!(usage["total"], "0.01505");
}

/// The seeded organisation's purchases on the 1st carry no team tag: the breakdown by tag lists
/// that untagged spend beside the teams (the rows of a key make the organisation's total), and
/// its daily series answers like any scope's.
#[tokio::test]
async fn untagged_spend_is_the_organisations_less_every_team() {
    let s = seeded().await;
    let api = s.open();
    let contract = Contract::load();
    let month = "start=2026-11-01&end=2026-11-20&limit=1000";
    let money = |v: &serde_json::Value| {
        v.as_str()
            .unwrap()
            .parse::<costwatch_core::Money>()
            .unwrap()
    };
    let days = |body: &serde_json::Value| -> Vec<costwatch_core::Money> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| money(&d["total"]))
            .collect()
    };

    let tags = call(&api, get(&format!("/v1/costs/breakdown?kind=tag&{month}"))).await;
    contract.check(
        "GET",
        "/v1/costs/breakdown",
        200,
        &tags.content_type,
        &tags.body,
    );
    let tags = tags.json();
    let rows = tags["items"].as_array().unwrap();
    let untagged = rows
        .iter()
        .find(|r| r["scope"] == "tag=team|value=")
        .unwrap_or_else(|| panic!("an untagged row: {tags:#}"));
    assert_eq!(untagged["label"], "tag team (untagged)");
    assert!(
        money(&untagged["total"]) > costwatch_core::Money::ZERO,
        "{tags:#}"
    );
    let org = call(&api, get(&format!("/v1/costs?scope=org&{month}")))
        .await
        .json();
    let org_total: costwatch_core::Money = days(&org).into_iter().sum();
    let team_total: costwatch_core::Money = rows.iter().map(|r| money(&r["total"])).sum();
    assert_eq!(
        team_total, org_total,
        "the team rows, untagged included, make the whole"
    );

    let series = call(
        &api,
        get(&format!("/v1/costs?scope=tag%3Dteam%7Cvalue%3D&{month}")),
    )
    .await;
    contract.check("GET", "/v1/costs", 200, &series.content_type, &series.body);
    let series = series.json();
    assert_eq!(series["label"], "tag team (untagged)");
    let daily = days(&series);
    assert_eq!(
        daily.iter().copied().sum::<costwatch_core::Money>(),
        money(&untagged["total"])
    );
    assert!(
        daily[1..].iter().all(|d| d.is_zero()),
        "only the 1st's purchases are untagged: {series:#}"
    );

    // The month's allocation says the same: team's untagged line and its total.
    let allocation = call(&api, get("/v1/costs/allocation?as_of=2026-11-20")).await;
    contract.check(
        "GET",
        "/v1/costs/allocation",
        200,
        &allocation.content_type,
        &allocation.body,
    );
    let allocation = allocation.json();
    assert_eq!(allocation["start"], "2026-11-01");
    let team = allocation["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kind"] == "tag" && k["key"] == "team")
        .unwrap_or_else(|| panic!("{allocation:#}"));
    assert_eq!(team["unallocated"]["scope"], "tag=team|value=");
    assert_eq!(
        money(&team["unallocated"]["amount"]),
        money(&untagged["total"])
    );
    assert_eq!(money(&team["total"]), org_total);
    let coverage = team["coverage_pct"].as_f64().unwrap();
    assert!(coverage > 50.0 && coverage < 100.0, "{team:#}");
}

/// A quarterly budget's card: the quarter's spend from 1 October, burnt down to 31 December,
/// as documented.
#[tokio::test]
async fn a_quarterly_budget_burns_down_to_the_quarters_end() {
    let mut s = seeded().await;
    let quarterly: costwatch_analytics::budget::Budget = serde_json::from_value(json!({
        "name": "org-q4",
        "scope": "org",
        "period": "quarterly",
        "amount": "1000000",
    }))
    .unwrap();
    let auto = serde_json::from_value(json!({
        "name": "org-q-auto",
        "scope": "org",
        "period": "quarterly",
        "auto_adjust_months": 3,
    }))
    .unwrap();
    s.config.budgets = vec![quarterly, auto];
    s.config.validate().unwrap();
    let api = s.open();
    let answer = call(&api, get("/v1/budgets")).await;
    Contract::load().check(
        "GET",
        "/v1/budgets",
        200,
        &answer.content_type,
        &answer.body,
    );
    let b = &answer.json()["items"][0];
    assert_eq!(b["period"], "quarterly");
    assert_eq!(
        (b["period_start"].as_str(), b["period_end"].as_str()),
        (Some("2026-10-01"), Some("2026-12-31"))
    );
    assert_eq!(b["days_left"], 41, "20 November to 31 December");
    let burn = |k: &str| b[k].as_array().unwrap().clone();
    assert_eq!(burn("actual_burn")[0]["date"], "2026-10-01");
    assert_eq!(burn("actual_burn").len(), 51);
    assert_eq!(burn("forecast_burn").last().unwrap()["date"], "2026-12-31");
    assert_eq!(b["forecast_pending"], false, "{b:#}");
    // The data begins in late August: September is the one full month before October.
    let auto = &answer.json()["items"][1];
    assert_eq!(auto["auto_adjust"]["averaged_months"], 1, "{auto:#}");
    assert_eq!(auto["auto_adjust"]["since"], "2026-09-01");
    assert_eq!(
        auto["auto_adjust"]["basis"],
        "3 months at the average of the last month"
    );
}

/// `/v1/drivers` says what the budget alerts said, and its organisation's change is the two
/// windows' difference as `/v1/costs` gives their days.
#[tokio::test]
async fn drivers_say_what_moved_the_month_as_the_budget_alerts_do() {
    let s = seeded().await;
    let api = s.open();
    let contract = Contract::load();
    let alerts: Vec<_> = s
        .bus
        .published()
        .into_iter()
        .filter_map(|n| match n.body {
            NotificationBody::Budget(b) => b.drivers.map(|d| (n.scope.key.clone(), d)),
            _ => None,
        })
        .collect();
    assert!(!alerts.is_empty(), "a budget alert with drivers");
    for (scope, sent) in &alerts {
        let query =
            serde_urlencoded::to_string([("scope", scope.clone()), ("as_of", sent.to.to_string())])
                .unwrap();
        let uri = format!("/v1/drivers?{query}");
        let a = call(&api, get(&uri)).await;
        contract.check("GET", "/v1/drivers", 200, &a.content_type, &a.body);
        let answer = a.json();
        assert_eq!(answer["scope"], scope.as_str(), "{answer:#}");
        assert_eq!(
            answer["drivers"],
            serde_json::to_value(sent).unwrap(),
            "{scope}: {answer:#}"
        );
    }

    let org = call(&api, get("/v1/drivers")).await.json();
    assert_eq!(org["as_of"], s.end.to_string(), "{org:#}");
    let d = &org["drivers"];
    let mut totals = Vec::new();
    for (from, to) in [("from", "to"), ("compared_from", "compared_to")] {
        let uri = format!(
            "/v1/costs?start={}&end={}&limit=100",
            d[from].as_str().unwrap(),
            d[to].as_str().unwrap()
        );
        let days = call(&api, get(&uri)).await.json();
        totals.push(
            days["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|day| day["total"].as_str().unwrap().parse::<f64>().unwrap())
                .sum::<f64>(),
        );
    }
    let change = totals[0] - totals[1];
    let stated: f64 = d["change"].as_str().unwrap().parse().unwrap();
    assert!((change - stated).abs() < 0.01, "{change} against {org:#}");
    assert_eq!(d["to"], s.end.to_string(), "{org:#}");
    assert!(!d["causes"].as_array().unwrap().is_empty(), "{org:#}");

    // After the data the month so far ends with them; before, there is nothing to tell; a
    // scope that does not parse is a problem.
    let later = call(&api, get("/v1/drivers?as_of=2099-01-01")).await.json();
    assert_eq!(later, org);
    let early = call(&api, get("/v1/drivers?as_of=1999-01-01")).await;
    contract.check("GET", "/v1/drivers", 200, &early.content_type, &early.body);
    assert_eq!(early.json()["drivers"], serde_json::Value::Null);
    let bad = call(&api, get("/v1/drivers?scope=nonsense%3Dx")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    contract.check("GET", "/v1/drivers", 400, &bad.content_type, &bad.body);

    // A daily budget's span: the day against the same weekday a week before, by the same
    // days `/v1/costs` gives.
    let a = call(&api, get("/v1/drivers?span=day")).await;
    contract.check("GET", "/v1/drivers", 200, &a.content_type, &a.body);
    let day = a.json();
    let d = &day["drivers"];
    let week_before = (s.end - chrono::Days::new(7)).to_string();
    let windows = [&d["from"], &d["to"], &d["compared_from"], &d["compared_to"]];
    let end = s.end.to_string();
    assert_eq!(windows, [&end, &end, &week_before, &week_before], "{day:#}");
    let total_on = |items: &serde_json::Value, date: &str| -> f64 {
        let items = items["items"].as_array().unwrap();
        let on_day = items.iter().find(|i| i["date"] == date).unwrap();
        on_day["total"].as_str().unwrap().parse().unwrap()
    };
    let uri = format!("/v1/costs?start={week_before}&end={end}&limit=100");
    let days = call(&api, get(&uri)).await.json();
    let change = total_on(&days, &end) - total_on(&days, &week_before);
    let stated: f64 = d["change"].as_str().unwrap().parse().unwrap();
    assert!((change - stated).abs() < 0.01, "{change} against {day:#}");
    let bad = call(&api, get("/v1/drivers?span=week")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    contract.check("GET", "/v1/drivers", 400, &bad.content_type, &bad.body);
}

/// `/v1/budgets` gives the breach date and the allowed daily spend each budget alert gave on
/// its day: both come from `costwatch_analytics::budget`, so a Slack message and the dashboard
/// cannot disagree.
#[tokio::test]
async fn budgets_give_the_breach_date_and_allowed_spend_the_alerts_gave() {
    let s = seeded().await;
    let api = s.open();
    let mut compared = 0;
    for n in s.bus.published() {
        let NotificationBody::Budget(sent) = n.body else {
            continue;
        };
        let uri = format!("/v1/budgets?as_of={}", sent.as_of);
        let budgets = call(&api, get(&uri)).await.json();
        let item = budgets["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["name"] == sent.budget.as_str())
            .unwrap_or_else(|| panic!("{} in {budgets:#}", sent.budget));
        let expected = serde_json::to_value(&sent).unwrap();
        for field in ["breach_date", "allowed_daily_spend"] {
            let want = expected.get(field).cloned().unwrap_or_default();
            assert_eq!(item[field], want, "{field} of {}: {item:#}", sent.budget);
        }
        compared += 1;
    }
    assert!(compared > 0, "budget alerts were published");
}

/// A daily budget is listed for its day: one day's period, its spend as its forecast, nothing
/// left to allow, and over on the day it passed its amount.
#[tokio::test]
async fn a_daily_budget_is_listed_for_its_day() {
    use costwatch_core::findings::BudgetPeriod;
    let mut s = seeded().await;
    let mut daily = s.config.budgets[0].clone();
    (daily.name, daily.period, daily.amount) = (
        "daily".into(),
        BudgetPeriod::Daily,
        costwatch_core::Money::ONE,
    );
    s.config.budgets.push(daily);
    s.config.validate().unwrap();
    let api = s.open();
    let a = call(&api, get("/v1/budgets")).await;
    Contract::load().check("GET", "/v1/budgets", 200, &a.content_type, &a.body);
    let budgets = a.json();
    let b = budgets["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "daily")
        .unwrap_or_else(|| panic!("{budgets:#}"));
    let day = s.end.to_string();
    assert_eq!(b["period"], "daily", "{b:#}");
    assert_eq!(
        (&b["period_start"], &b["period_end"]),
        (&json!(day), &json!(day))
    );
    assert_eq!(b["forecast"], b["actual"], "{b:#}");
    assert_eq!(b["forecast_pending"], false, "{b:#}");
    assert_eq!(b["status"], "over", "{b:#}");
    assert_eq!(b["breach_date"], json!(day), "{b:#}");
    assert_eq!(b["allowed_daily_spend"], serde_json::Value::Null, "{b:#}");
    assert_eq!(b["days_left"], 0, "{b:#}");
}
