//! `costwatch serve` as a user runs it: the built binary on the demo's data, every documented
//! route over HTTP held against crates/api/openapi.json, the refusal of a non-loopback address
//! without a token, and the dashboard in headless Chromium (driven through chromedriver): it
//! loads without console errors, its chart marks the demo's spike, and acting on the anomaly
//! changes its state. The screenshot is kept under the target dir (CARGO_TARGET_TMPDIR).

#[path = "../crates/api/tests/support/contract.rs"]
mod contract;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use base64::Engine;
use contract::Contract;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_costwatch");

/// A child process killed when the test ends, pass or fail.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts a process and returns it with the first stdout line that contains `marker` (the
/// program says it is ready: no sleeping, no polling).
fn start(cmd: &mut Command, marker: &str) -> (Running, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the process starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let line = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|l| l.contains(marker))
        .unwrap_or_else(|| panic!("the process exited before saying `{marker}`"));
    // Keep draining stdout so the child never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (Running(child), line)
}

fn demo(out: &Path) {
    let status = Command::new(BIN)
        .args(["demo", "--out"])
        .arg(out)
        .stdout(Stdio::null())
        .status()
        .expect("costwatch demo runs");
    assert!(status.success());
}

fn serve(args: &[&str], envs: &[(&str, &str)]) -> (Running, String) {
    let mut cmd = Command::new(BIN);
    cmd.arg("serve").args(args).env_remove("COSTWATCH_CONFIG");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let (child, line) = start(&mut cmd, "open http://");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("a URL")
        .trim_end_matches('/')
        .to_owned();
    (child, url)
}

async fn get(client: &reqwest::Client, url: &str) -> (u16, String, Vec<u8>) {
    let r = client.get(url).send().await.expect("the server answers");
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, ct, r.bytes().await.unwrap().to_vec())
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_runs_the_api_and_the_dashboard_on_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    demo(dir.path());
    let (_server, base) = serve(
        &[
            "--demo",
            dir.path().to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ],
        &[],
    );
    let client = costwatch_store::outbound::http_client_builder()
        .build()
        .unwrap();
    let contract = Contract::load();

    let (status, ct, body) = get(&client, &format!("{base}/v1/anomalies?state=all")).await;
    contract.check("GET", "/v1/anomalies", status, &ct, &body);
    let listed: Value = serde_json::from_slice(&body).unwrap();
    let spike = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["label"].as_str().unwrap().contains("SageMaker") && a["state"] != "resolved")
        .unwrap_or_else(|| panic!("the demo's SageMaker spike is listed: {listed:#}"))
        .clone();
    let id = spike["id"].as_str().unwrap().to_owned();
    // `costwatch demo` archives its report in the lake's reports/ as the report Lambda does (and
    // writes it to --out): the dashboard lists it and its files open.
    let (status, ct, body) = get(&client, &format!("{base}/v1/reports")).await;
    contract.check("GET", "/v1/reports", status, &ct, &body);
    let reports: Value = serde_json::from_slice(&body).unwrap();
    let [report] = reports["items"].as_array().unwrap().as_slice() else {
        panic!("one archived report: {reports:#}");
    };
    assert_eq!(report["period"], "daily", "{report:#}");
    let day = report["date"].as_str().unwrap().to_owned();
    let routes = [
        ("/", "/".to_owned(), 200),
        ("/openapi.json", "/openapi.json".to_owned(), 200),
        ("/assets/app.js", "/assets/app.js".to_owned(), 200),
        ("/assets/app.css", "/assets/app.css".to_owned(), 200),
        ("/v1/costs", "/v1/costs?scope=org&limit=7".to_owned(), 200),
        (
            "/v1/costs/breakdown",
            "/v1/costs/breakdown?kind=account".to_owned(),
            200,
        ),
        ("/v1/anomalies", "/v1/anomalies".to_owned(), 200),
        ("/v1/anomalies/{id}", format!("/v1/anomalies/{id}"), 200),
        ("/v1/forecasts", "/v1/forecasts".to_owned(), 200),
        ("/v1/budgets", "/v1/budgets".to_owned(), 200),
        ("/v1/reports", "/v1/reports".to_owned(), 200),
        ("/reports/{date}", format!("/reports/{day}"), 200),
        ("/reports/{date}", "/reports/1999-01-01".to_owned(), 404),
        (
            "/v1/reports/{period}/{date}/{file}",
            format!("/v1/reports/daily/{day}/report.json"),
            200,
        ),
        (
            "/v1/reports/{period}/{date}/{file}",
            "/v1/reports/daily/1999-01-01/report.json".to_owned(),
            404,
        ),
        ("/v1/usage", "/v1/usage".to_owned(), 200),
        ("/v1/costs", "/v1/costs?kind=nope&scope=x".to_owned(), 400),
    ];
    for (template, path, expected) in routes {
        let (status, ct, body) = get(&client, &format!("{base}{path}")).await;
        assert_eq!(
            status,
            expected,
            "GET {path}: {}",
            String::from_utf8_lossy(&body)
        );
        contract.check("GET", template, status, &ct, &body);
    }
    let budgets = get_json(&client, &format!("{base}/v1/budgets")).await;
    assert!(
        budgets["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["status"] == "over"),
        "the demo's planted budget is over: {budgets:#}"
    );

    dashboard(&base, &id, &client).await;
}

#[test]
fn a_non_loopback_address_needs_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--listen", "0.0.0.0:0", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("refusing to serve on 0.0.0.0:0 without a token"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_token_it_serves_any_address_to_bearers_only() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, base) = serve(
        &[
            "--listen",
            "0.0.0.0:0",
            "--token-secret",
            "api-token",
            "--data-dir",
            dir.path().to_str().unwrap(),
        ],
        &[("COSTWATCH_SECRET_API_TOKEN", "t0ken-for-the-test")],
    );
    let base = base.replace("0.0.0.0", "127.0.0.1");
    let client = costwatch_store::outbound::http_client_builder()
        .build()
        .unwrap();
    let (status, ct, body) = get(&client, &format!("{base}/v1/budgets")).await;
    assert_eq!(status, 401);
    Contract::load().check("GET", "/v1/budgets", status, &ct, &body);
    let ok = client
        .get(format!("{base}/v1/budgets"))
        .bearer_auth("t0ken-for-the-test")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
}

// --- the dashboard in headless Chromium, through chromedriver's WebDriver endpoint -----------

struct Driver {
    http: reqwest::Client,
    session: String,
    _process: Running,
}

impl Driver {
    async fn start(http: &reqwest::Client) -> Self {
        let chromedriver = ["chromedriver", "/usr/bin/chromedriver"]
            .into_iter()
            .find(|c| Command::new(c).arg("--version").output().is_ok())
            .expect("chromedriver is installed (Debian: chromium chromium-driver; `make test` installs them)");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let (process, _) = start(
            Command::new(chromedriver).arg(format!("--port={port}")),
            "started successfully",
        );
        let base = format!("http://127.0.0.1:{port}");
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                // A phone-sized window: the dashboard must work there.
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=412,1800"]
            },
            "goog:loggingPrefs": {"browser": "ALL"}
        }}});
        let created: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("a WebDriver session: {created:#}"))
            .to_owned();
        Self {
            http: http.clone(),
            session: format!("{base}/session/{session}"),
            _process: process,
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.session));
        // GET and DELETE carry no body: chromedriver refuses one.
        if !body.is_null() {
            request = request.json(&body);
        }
        let answer: Value = request.send().await.unwrap().json().await.unwrap();
        assert!(
            answer["value"]["error"].is_null(),
            "WebDriver {path}: {answer:#}"
        );
        answer["value"].clone()
    }

    /// Runs `script` in the page; it calls `done(value)` when it has its answer.
    async fn wait_for(&self, script: &str, args: Value) -> Value {
        let body = json!({"script": format!("const done = arguments[arguments.length - 1]; {script}"), "args": args});
        self.call(reqwest::Method::POST, "/execute/async", body)
            .await
    }

    async fn click(&self, css: &str) {
        let found = self
            .call(
                reqwest::Method::POST,
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        let element = found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap()
            .to_owned();
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/click"),
            json!({}),
        )
        .await;
    }
}

/// A route's JSON answer.
async fn get_json(http: &reqwest::Client, url: &str) -> Value {
    serde_json::from_slice(&get(http, url).await.2).expect("a JSON answer")
}

/// The last day with stored costs, as the dashboard reads it.
async fn as_of(http: &reqwest::Client, base: &str) -> String {
    let forecasts = get_json(http, &format!("{base}/v1/forecasts")).await;
    forecasts["as_of"].as_str().unwrap().to_owned()
}

async fn dashboard(base: &str, spike: &str, http: &reqwest::Client) {
    let driver = Driver::start(http).await;
    driver
        .call(reqwest::Method::POST, "/timeouts", json!({"script": 20000}))
        .await;
    driver
        .call(
            reqwest::Method::POST,
            "/url",
            json!({"url": format!("{base}/")}),
        )
        .await;
    // Loaded: the script sets data-loaded once every section is drawn.
    driver
        .wait_for(
            "(function check() { document.body.dataset.loaded ? done(true) : setTimeout(check, 25); })();",
            json!([]),
        )
        .await;
    // The recommendations and integration-health panels are drawn from their routes' JSON: the
    // demo stores no recommendations and configures no integration, and both panels say so.
    let panels = driver
        .wait_for(
            r#"done({off: document.querySelector('#integrations-off').textContent,
                     table_hidden: document.querySelector('#integrations').hidden,
                     recs: document.querySelector('#recs-total').textContent});"#,
            json!([]),
        )
        .await;
    let off = panels["off"].as_str().unwrap();
    assert!(
        off.contains("Not configured:") && off.contains("slack") && off.contains("pagerduty"),
        "{panels:#}"
    );
    assert_eq!(panels["table_hidden"], true, "{panels:#}");
    assert!(
        panels["recs"]
            .as_str()
            .unwrap()
            .contains("No open recommendations"),
        "{panels:#}"
    );
    // Allocation: a card per tag key and cost category, tags first. The demo's purchases on the
    // 1st carry no team tag: the team card's untagged row is the month's untagged spend as the
    // API derives it, and the shares of its rows make the whole month.
    let month_start = format!("{}01", &as_of(http, base).await[..8]);
    let breakdown = get_json(
        http,
        &format!("{base}/v1/costs/breakdown?kind=tag&start={month_start}&limit=1000"),
    )
    .await;
    let untagged = breakdown["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["scope"] == "tag=team|value=")
        .unwrap_or_else(|| panic!("the team key's untagged row: {breakdown:#}"))["total"]
        .as_str()
        .unwrap()
        .parse::<f64>()
        .unwrap();
    assert!(untagged > 0.0, "{breakdown:#}");
    let cards = driver
        .wait_for(
            r#"const cards = [...document.querySelectorAll('#allocation article')];
               done(cards.map(c => ({key: c.dataset.key,
                 coverage: c.querySelector('.coverage').textContent,
                 rows: [...c.querySelectorAll('tbody tr')].map(r => [...r.cells].map(td => td.textContent)),
                 unallocated: c.querySelector('tr.unallocated') ? c.querySelector('tr.unallocated').cells[1].textContent : null})));"#,
            json!([]),
        )
        .await;
    let keys: Vec<&str> = cards
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        ["tag=team|value=", "costcategory=Environment|value="],
        "{cards:#}"
    );
    let team = &cards[0];
    let dollars = |s: &str| s.replace(['$', ','], "").parse::<f64>().unwrap();
    assert!(
        (dollars(team["unallocated"].as_str().unwrap()) - untagged).abs() < 0.005,
        "{team:#} against {untagged}"
    );
    let shares: f64 = team["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r[2].as_str()
                .unwrap()
                .trim_end_matches('%')
                .parse::<f64>()
                .unwrap()
        })
        .sum();
    assert!((shares - 100.0).abs() < 0.3, "{team:#}");
    assert!(
        team["coverage"].as_str().unwrap().contains("is untagged"),
        "{team:#}"
    );
    assert!(
        cards[1]["unallocated"].is_null()
            && cards[1]["coverage"]
                .as_str()
                .unwrap()
                .contains("every cost carries it"),
        "every account is in an environment: {cards:#}"
    );
    // The organisation's chart marks the anomaly on its day; the anomaly's own chart shows the
    // spike as its highest day, marked.
    let chart = driver
        .wait_for(
            r#"const id = arguments[0];
               const points = (sel) => document.querySelector(sel).getAttribute('d').split(/[ML]/)
                 .filter(Boolean).map(p => p.trim().split(' ').map(Number));
               const marker = (sel) => [...document.querySelectorAll(sel)].find(m => m.dataset.id === id);
               const org = points('#daily-chart .cost-line');
               const own = points(`li[data-id="${id}"] .anomaly-chart .cost-line`);
               const orgMarker = marker('#daily-chart .anomaly-marker');
               const ownMarker = marker(`li[data-id="${id}"] .anomaly-marker`);
               done({org_points: org.length, org_last_x: org[org.length - 1][0],
                     org_marker_x: orgMarker ? Number(orgMarker.getAttribute('cx')) : null,
                     own_top: Math.min(...own.map(p => p[1])),
                     own_marker_y: ownMarker ? Number(ownMarker.getAttribute('cy')) : null});"#,
            json!([spike]),
        )
        .await;
    assert!(chart["org_points"].as_u64().unwrap() >= 60, "{chart:#}");
    let near =
        |a: &Value, b: &Value| (a.as_f64().expect("a marker") - b.as_f64().unwrap()).abs() < 0.5;
    assert!(
        near(&chart["org_marker_x"], &chart["org_last_x"]),
        "the spike is marked on the organisation's chart, on its last day: {chart:#}"
    );
    assert!(
        near(&chart["own_marker_y"], &chart["own_top"]),
        "the anomaly's chart draws the spike as its highest day, marked: {chart:#}"
    );

    // The most used budget's "What moved the month", opened: the route's drivers, in the
    // alerts' words, read only once opened.
    let budgets = get_json(http, &format!("{base}/v1/budgets")).await;
    let unread = driver
        .wait_for(
            "done(document.querySelector('#budgets .drivers').dataset.state || null);",
            json!([]),
        )
        .await;
    assert!(
        unread.is_null(),
        "nothing read before it is opened: {unread}"
    );
    driver.click("#budgets .drivers summary").await;
    let shown = driver
        .wait_for(
            r#"const panel = document.querySelector('#budgets .drivers');
               (function check() { panel.dataset.state === 'drawn'
                 ? done({card: panel.closest('article').querySelector('h3').textContent,
                         heading: panel.querySelector('p').textContent,
                         rows: [...panel.querySelectorAll('tbody tr')].map(r => [...r.cells].map(td => td.textContent))})
                 : setTimeout(check, 25); })();"#,
            json!([]),
        )
        .await;
    let card = shown["card"].as_str().unwrap();
    let budget = budgets["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| card.starts_with(&format!("{} (", b["name"].as_str().unwrap())))
        .unwrap_or_else(|| panic!("the card {card} is a budget: {budgets:#}"));
    let url = reqwest::Url::parse_with_params(
        &format!("{base}/v1/drivers"),
        [("scope", budget["scope"].as_str().unwrap())],
    )
    .unwrap();
    let answer = get_json(http, url.as_str()).await;
    let drivers = &answer["drivers"];
    let causes = drivers["causes"].as_array().unwrap();
    assert!(!causes.is_empty(), "{answer:#}");
    // "1–20 November against 1–20 October: +$6,480.00"
    let heading = shown["heading"].as_str().unwrap();
    let shown_change = heading
        .rsplit(' ')
        .next()
        .unwrap()
        .replace(['$', ',', '+'], "")
        .parse::<f64>()
        .unwrap_or_else(|e| panic!("{heading}: {e}"));
    let change = drivers["change"].as_str().unwrap().parse::<f64>().unwrap();
    assert!(
        heading.contains(" against ") && (shown_change - change).abs() < 0.005,
        "{heading} against {answer:#}"
    );
    let rows = shown["rows"].as_array().unwrap();
    assert_eq!(rows.len(), causes.len(), "{shown:#} against {answer:#}");
    for (row, cause) in rows.iter().zip(causes) {
        assert_eq!(row[0], cause["dimension"], "{shown:#}");
        let value = cause["value"].as_str().unwrap();
        assert!(
            value.is_empty() || row[1] == value,
            "{shown:#} against {answer:#}"
        );
    }

    driver
        .click(&format!(
            "li[data-id=\"{spike}\"] button[data-action=\"acknowledge\"]"
        ))
        .await;
    let state = driver
        .wait_for(
            r#"const id = arguments[0];
               const li = () => document.querySelector(`li[data-id="${id}"]`);
               (function check() { const t = li().querySelector('.state-line').textContent;
                 t.includes('acknowledged') ? done(t) : setTimeout(check, 25); })();"#,
            json!([spike]),
        )
        .await;
    assert!(state.as_str().unwrap().starts_with("State: "), "{state}");
    let detail = get_json(http, &format!("{base}/v1/anomalies/{spike}")).await;
    assert!(
        detail["acknowledged"]["at"].is_string(),
        "the API recorded it: {detail:#}"
    );

    driver
        .click(&format!(
            "li[data-id=\"{spike}\"] button[data-action=\"feedback\"]"
        ))
        .await;
    driver
        .wait_for(
            r#"const id = arguments[0];
               (function check() { const t = document.querySelector(`li[data-id="${id}"] .state-line`).textContent;
                 t.includes('marked expected') ? done(t) : setTimeout(check, 25); })();"#,
            json!([spike]),
        )
        .await;

    let shot = driver
        .call(reqwest::Method::GET, "/screenshot", Value::Null)
        .await;
    let png = base64::engine::general_purpose::STANDARD
        .decode(shot.as_str().unwrap())
        .unwrap();
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard.png");
    std::fs::write(&path, &png).unwrap();
    eprintln!("dashboard screenshot: {}", path.display());

    let logs = driver
        .call(reqwest::Method::POST, "/se/log", json!({"type": "browser"}))
        .await;
    let errors: Vec<&Value> = logs
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["level"] == "SEVERE")
        .collect();
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    driver.call(reqwest::Method::DELETE, "", Value::Null).await;
}

/// `costwatch serve` on one day of the shared Step1CUR (imported into a fresh store) with
/// `config` as costwatch.toml, and a browser on its dashboard once loaded.
async fn first_day_dashboard(
    config: &str,
) -> (tempfile::TempDir, Running, String, reqwest::Client, Driver) {
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("costwatch.toml");
    std::fs::write(&config_path, config).unwrap();
    let data = dir.path().join("data");
    let imported = Command::new(BIN)
        .arg("--data-dir")
        .arg(&data)
        .args(["import", "--cur"])
        .arg(costwatch_core::shared::shared_path(
            "data/cost/cur/Step1CUR.gz",
        ))
        .output()
        .unwrap();
    assert!(imported.status.success(), "{imported:?}");
    let (data, config) = (data.to_str().unwrap(), config_path.to_str().unwrap());
    let args = [
        "--data-dir",
        data,
        "--config",
        config,
        "--listen",
        "127.0.0.1:0",
    ];
    let (server, base) = serve(&args, &[]);
    let http = costwatch_store::outbound::http_client_builder()
        .build()
        .unwrap();
    let driver = Driver::start(&http).await;
    driver
        .call(reqwest::Method::POST, "/timeouts", json!({"script": 20000}))
        .await;
    let url = json!({"url": format!("{base}/")});
    driver.call(reqwest::Method::POST, "/url", url).await;
    (dir, server, base, http, driver)
}

/// A first look at the dashboard after importing one day of a real CUR: the chart shows the
/// day as a point, and the movers and the budget say what one day cannot tell yet instead of
/// calling every service a mover and the spend so far a forecast.
#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_on_a_first_day_says_what_it_cannot_know_yet() {
    let (_dir, _server, base, http, driver) = first_day_dashboard(
        "[[pipeline.budgets]]\nname = \"org\"\nscope = \"org\"\namount = \"1000\"\n",
    )
    .await;
    let page = driver
        .wait_for(
            r#"(function check() {
                 if (!document.body.dataset.loaded) return setTimeout(check, 25);
                 done({points: document.querySelectorAll('#daily-chart .cost-point').length,
                       movers: document.querySelector('#movers tbody').textContent,
                       budget: document.querySelector('#budgets p').textContent,
                       recs: document.querySelector('#recs-total').textContent});
               })();"#,
            json!([]),
        )
        .await;
    assert_eq!(page["points"], 1, "{page:#}");
    let text = |k: &str| page[k].as_str().unwrap().to_owned();
    assert_eq!(
        text("movers"),
        "No data for the 7 days before to compare with yet."
    );
    let budget = text("budget");
    assert!(
        budget.starts_with("$89.17 of $1,000.00 (8%). ") && budget.contains("No forecast yet"),
        "{budget}"
    );
    assert!(
        !budget.contains("forecast $") && !budget.contains("No breach"),
        "{budget}"
    );
    assert!(
        text("recs").contains("costwatch recommend --track"),
        "{page:#}"
    );
    driver.call(reqwest::Method::DELETE, "", Value::Null).await;
    // What the card read: the budget says it has no forecast, its spend standing in for one.
    let (_, _, body) = get(&http, &format!("{base}/v1/budgets")).await;
    let budgets: Value = serde_json::from_slice(&body).unwrap();
    let budget = &budgets["items"][0];
    assert_eq!(budget["forecast_pending"], true, "{budgets:#}");
    assert_eq!(budget["forecast"], budget["actual"], "{budgets:#}");
    assert_eq!(budget["forecast_burn"], json!([]), "{budgets:#}");
}

/// A daily budget's card: the day's spend against its amount, no forecast (the day is
/// complete), no one-point burn-down chart, and what moved the day rather than the month.
#[tokio::test(flavor = "multi_thread")]
async fn a_daily_budget_card_says_the_day_without_a_forecast_or_a_chart() {
    let (_dir, _server, _base, _http, driver) = first_day_dashboard(
        "[[pipeline.budgets]]\nname = \"sandbox\"\nscope = \"org\"\nperiod = \"daily\"\namount = \"50\"\n",
    )
    .await;
    let card = driver
        .wait_for(
            r#"(function check() {
                 if (!document.body.dataset.loaded) return setTimeout(check, 25);
                 const card = document.querySelector('#budgets article');
                 done({title: card.querySelector('h3').textContent,
                       text: card.querySelector('p').textContent,
                       charts: card.querySelectorAll('svg').length});
               })();"#,
            json!([]),
        )
        .await;
    let text = card["text"].as_str().unwrap();
    assert_eq!(card["title"], "sandbox (Organisation, daily)", "{card:#}");
    assert!(
        text.starts_with("$89.17 of $50.00 (178%). Breach date: "),
        "{text}"
    );
    assert!(!text.to_lowercase().contains("forecast"), "{text}");
    assert_eq!(card["charts"], 0, "{card:#}");
    // What moved the day, as its alert would say it: on the data's first day there is no
    // same weekday a week before to compare with.
    driver.click("#budgets .drivers summary").await;
    let panel = driver
        .wait_for(
            r#"const panel = document.querySelector('#budgets .drivers');
               (function check() { panel.dataset.state === 'drawn'
                 ? done({summary: panel.querySelector('summary').textContent,
                         text: panel.querySelector('div').textContent})
                 : setTimeout(check, 25); })();"#,
            json!([]),
        )
        .await;
    assert_eq!(panel["summary"], "What moved the day", "{panel:#}");
    let said = panel["text"].as_str().unwrap();
    assert!(said.contains("the same weekday a week before"), "{panel:#}");
    driver.call(reqwest::Method::DELETE, "", Value::Null).await;
}

/// Nine budgets on a first day: the six most used are drawn, most used first, and the other
/// three are folded under one line that says how far the largest of them is, drawn when opened.
#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_shows_the_budgets_most_at_risk_and_folds_the_rest() {
    // $89.17 spent: from 89 % of $100 down to 9 % of $900, listed safest first.
    let config: String = (1..=9)
        .rev()
        .map(|i| {
            format!(
                "[[pipeline.budgets]]\nname = \"org-{i}00\"\nscope = \"org\"\namount = \"{i}00\"\n"
            )
        })
        .collect();
    let (_dir, _server, _base, _http, driver) = first_day_dashboard(&config).await;
    let shown = driver
        .wait_for(
            r#"(function check() {
                 if (!document.body.dataset.loaded) return setTimeout(check, 25);
                 const more = document.getElementById('budgets-more');
                 done({cards: [...document.querySelectorAll('#budgets h3')].map(h => h.textContent),
                       hidden: more.hidden,
                       summary: more.querySelector('summary').textContent,
                       folded: more.querySelectorAll('.card').length});
               })();"#,
            json!([]),
        )
        .await;
    let cards: Vec<&str> = shown["cards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(
        cards,
        [
            "org-100", "org-200", "org-300", "org-400", "org-500", "org-600"
        ]
        .map(|n| format!("{n} (Organisation)")),
        "{shown:#}"
    );
    assert_eq!(shown["hidden"], false, "{shown:#}");
    assert_eq!(
        shown["summary"],
        "3 more budgets, each at most 12% of its limit spent or forecast"
    );
    assert_eq!(shown["folded"], 0, "drawn only when opened: {shown:#}");
    driver.click("#budgets-more summary").await;
    let opened = driver
        .wait_for(
            r#"(function check() {
                 const hs = [...document.querySelectorAll('#budgets-more h3')];
                 hs.length ? done(hs.map(h => h.textContent)) : setTimeout(check, 25);
               })();"#,
            json!([]),
        )
        .await;
    assert_eq!(
        opened,
        json!([
            "org-700 (Organisation)",
            "org-800 (Organisation)",
            "org-900 (Organisation)"
        ])
    );
    driver.call(reqwest::Method::DELETE, "", Value::Null).await;
}
