//! `costwatch doctor`: what a first deploy needs, one line per check (ok / fail / skip) with what
//! to fix. The config file; AWS credentials and region (the SDK's default chain); Cost Explorer
//! enabled and `ce:GetCostAndUsage` allowed, by one request ($0.01, said before it is made and
//! made only when allowed); the stack (CloudFormation DescribeStacks: a complete state that did
//! not roll back, and every output `make smoke` and `costwatch dlq` read, deployed.rs); every
//! credential of every `[integrations.<name>]` table, references read through the same Secrets
//! Manager / SSM adapters the dispatcher Lambdas use (values never printed); every `[metrics]`
//! series has CloudWatch data (one GetMetricData pull, as `run --aws` makes it); with
//! `--send-test`, the `test` envelope through the real dispatcher to every destination. Exit code
//! 1 when a check fails.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Result, bail};
use chrono::Utc;
use clap::Args;
use costwatch_dispatch::dispatcher::{Dispatcher, Incoming, Verdict};
use costwatch_dispatch::{Configured, Secret, SecretStores};
use costwatch_pipeline::metrics::{MetricsSettings, ledger_line as metrics_ledger_line};
use costwatch_store::aws::sdk::aws_config::{Region, SdkConfig};
use costwatch_store::aws::sdk::aws_sdk_costexplorer as ce;
use costwatch_store::aws::{CloudWatchMetrics, SecretsManagerSecrets, SsmSecrets};
use costwatch_store::memory::MemoryState;
use costwatch_store::{MetricQuery, MetricSource, RequestBudget};
use serde::Serialize;

use crate::config::Settings;
use crate::credentials;
use crate::deployed::{self, StackArgs, sdk_config};
use crate::integrations;

/// What one GetCostAndUsage request costs.
const CE_REQUEST_COST: &str = "$0.01";
/// Cost Explorer has one endpoint, in us-east-1.
const CE_REGION: &str = "us-east-1";
const AWS_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Args)]
pub struct DoctorArgs {
    /// Make the Cost Explorer check's one request ($0.01) without asking. Without it the check
    /// asks on a terminal and is skipped otherwise (--json, no terminal).
    #[arg(long)]
    yes: bool,
    /// Also send the `test` envelope to every destination of every configured integration,
    /// through the same dispatcher as `notify` (routing rules are not applied).
    #[arg(long)]
    send_test: bool,
    #[command(flatten)]
    stack: StackArgs,
    /// Send --send-test's requests to this scheme://host:port instead (a local fake).
    #[arg(long, hide = true, requires = "send_test")]
    endpoint: Option<url::Url>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Status {
    Ok,
    Fail,
    Skip,
}

#[derive(Debug, Serialize)]
struct Check {
    check: String,
    status: Status,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<String>,
}

#[derive(Default)]
struct Report {
    checks: Vec<Check>,
}

impl Report {
    fn add(&mut self, check: impl Into<String>, status: Status, detail: impl Into<String>) {
        self.checks.push(Check {
            check: check.into(),
            status,
            detail: detail.into(),
            fix: None,
        });
    }

    fn fail(
        &mut self,
        check: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.with_fix(check.into(), Status::Fail, detail.into(), fix.into());
    }

    fn skip(
        &mut self,
        check: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.with_fix(check.into(), Status::Skip, detail.into(), fix.into());
    }

    fn with_fix(&mut self, check: String, status: Status, detail: String, fix: String) {
        self.checks.push(Check {
            check,
            status,
            detail,
            fix: Some(fix),
        });
    }
}

/// The config file `Settings::load` would read: `--config`, else ./costwatch.toml when present.
fn config_path(flag: Option<&Path>) -> Option<PathBuf> {
    let default = Path::new("costwatch.toml");
    match flag {
        Some(p) => Some(p.to_path_buf()),
        None if default.is_file() => Some(default.to_path_buf()),
        None => None,
    }
}

/// The config through the real loader: the settings, and the `[integrations]` tables when the
/// file parses.
fn check_config(
    report: &mut Report,
    flag: Option<&Path>,
    data_dir: Option<PathBuf>,
) -> (Option<Settings>, Option<toml::Table>) {
    let path = config_path(flag);
    let name = path
        .as_ref()
        .map_or("(none)".to_owned(), |p| p.display().to_string());
    let settings = match Settings::load(flag, data_dir) {
        Ok(settings) => settings,
        Err(e) => {
            report.fail(
                "config",
                format!("{name}: {e:#}"),
                "correct the file (every option: docs/configuration.md); `costwatch init --path new.toml` writes a commented one",
            );
            return (None, None);
        }
    };
    let Some(path) = path else {
        report.add(
            "config",
            Status::Ok,
            "no costwatch.toml: the defaults apply and no integration is configured (`costwatch init` writes one)",
        );
        return (Some(settings), None);
    };
    report.add("config", Status::Ok, format!("{name}: valid"));
    let tables = std::fs::read_to_string(&path)
        .ok()
        .and_then(|text| toml::from_str::<toml::Table>(&text).ok())
        .map(|mut file| match file.remove("integrations") {
            Some(toml::Value::Table(t)) => t,
            _ => toml::Table::new(),
        });
    (Some(settings), tables)
}

/// Whether the chain yields credentials; the region is checked on its own.
async fn check_aws(report: &mut Report, sdk: &SdkConfig) -> bool {
    let credentials = match credentials::resolve(sdk).await {
        Ok(()) => {
            report.add(
                "aws credentials",
                Status::Ok,
                "resolved through the default chain",
            );
            true
        }
        Err(why) => {
            let fix = format!("{} for the account that will deploy", credentials::FIX);
            report.fail("aws credentials", why, fix);
            false
        }
    };
    match sdk.region() {
        Some(region) => report.add("aws region", Status::Ok, region.to_string()),
        None => report.fail(
            "aws region",
            "none configured",
            "set AWS_REGION or `region` in ~/.aws/config to the region the stack goes to",
        ),
    }
    credentials
}

/// Whether the Cost Explorer request may be made: `--yes`, or a "y" on a terminal.
fn allowed_to_spend(args: &DoctorArgs, json: bool) -> Result<bool, &'static str> {
    if args.yes {
        return Ok(true);
    }
    if json || !std::io::stdin().is_terminal() {
        return Err("not interactive");
    }
    eprint!(
        "The Cost Explorer check makes one GetCostAndUsage request, which AWS bills at {CE_REQUEST_COST}. Make it? [y/N] "
    );
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).is_err() {
        return Err("no answer");
    }
    match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(true),
        _ => Err("declined"),
    }
}

/// One GetCostAndUsage request (yesterday's total), retries off so it is never more than one.
async fn check_cost_explorer(
    report: &mut Report,
    sdk: &SdkConfig,
    args: &DoctorArgs,
    json: bool,
) -> u32 {
    const CHECK: &str = "cost explorer";
    match allowed_to_spend(args, json) {
        Ok(true) => {}
        Ok(false) | Err(_) => {
            report.skip(
                CHECK,
                format!(
                    "one GetCostAndUsage request costs {CE_REQUEST_COST}: not made without --yes{}",
                    if json { "" } else { " or a yes on a terminal" }
                ),
                "run `costwatch doctor --yes` to make it",
            );
            return 0;
        }
    }
    let config = ce::config::Builder::from(sdk)
        .region(Region::new(CE_REGION))
        .retry_config(ce::config::retry::RetryConfig::disabled())
        .build();
    let client = ce::Client::from_conf(config);
    let today = Utc::now().date_naive();
    let yesterday = today - chrono::Days::new(1);
    let request = client
        .get_cost_and_usage()
        .time_period(
            ce::types::DateInterval::builder()
                .start(yesterday.to_string())
                .end(today.to_string())
                .build()
                .expect("start and end are set"),
        )
        .granularity(ce::types::Granularity::Daily)
        .metrics("UnblendedCost")
        .send();
    let cost = format!("1 request = {CE_REQUEST_COST}");
    match tokio::time::timeout(AWS_TIMEOUT, request).await {
        Ok(Ok(_)) => report.add(
            CHECK,
            Status::Ok,
            format!("enabled, ce:GetCostAndUsage allowed ({cost})"),
        ),
        Ok(Err(e)) => {
            use ce::error::ProvideErrorMetadata;
            let code = e.code().unwrap_or_default().to_owned();
            let fix = match code.as_str() {
                "AccessDeniedException" => {
                    "allow ce:GetCostAndUsage to the caller (and to the stack's collect role)"
                }
                "DataUnavailableException" => {
                    "enable Cost Explorer (Billing console → Cost Explorer → Launch); data appears within 24 hours"
                }
                _ => {
                    "check that Cost Explorer is enabled for the account and ce:GetCostAndUsage is allowed"
                }
            };
            report.fail(
                CHECK,
                format!(
                    "GetCostAndUsage failed ({cost}): {}",
                    ce::error::DisplayErrorContext(&e)
                ),
                fix,
            );
        }
        Err(_) => report.fail(
            CHECK,
            format!("no answer within {AWS_TIMEOUT:?} ({cost})"),
            "check network access to ce.us-east-1.amazonaws.com",
        ),
    }
    1
}

/// Every `[metrics]` series has data in the window a first pull reads (`backfill_hours`): one
/// GetMetricData pull through the metrics source `run --aws` uses, within its request cap.
/// CloudWatch answers a misspelt namespace, name, dimension or statistic with no data, not an
/// error, so a series watched that way would never alert and never say why. Nothing when no
/// series is watched.
async fn check_metrics(
    report: &mut Report,
    sdk: &SdkConfig,
    metrics: &MetricsSettings,
) -> Option<(u32, u64)> {
    const CHECK: &str = "cloudwatch metrics";
    if metrics.watch.is_empty() {
        return None;
    }
    let hours = metrics.backfill_hours;
    let end = Utc::now();
    let start = end - chrono::Duration::hours(i64::from(hours));
    let budget = RequestBudget::new(metrics.max_requests_per_run);
    let source = CloudWatchMetrics::new(sdk);
    let pull = tokio::time::timeout(
        AWS_TIMEOUT,
        source.fetch(&metrics.watch, start, end, &budget),
    );
    let pulled = match pull.await {
        Ok(Ok(pulled)) => pulled,
        Ok(Err(e)) => {
            report.fail(
                CHECK,
                format!("GetMetricData failed: {e}"),
                "allow cloudwatch:GetMetricData to the caller (and to the stack's metrics role)",
            );
            return None;
        }
        Err(_) => {
            report.fail(
                CHECK,
                format!("no answer within {AWS_TIMEOUT:?}"),
                "check network access to monitoring.<region>.amazonaws.com",
            );
            return None;
        }
    };
    let made = (budget.used(), pulled.metrics_requested);
    let cost = metrics_ledger_line(made.0, made.1);
    if !pulled.complete {
        report.fail(
            CHECK,
            format!("the request cap stopped the pull ({cost})"),
            "raise [metrics] max_requests_per_run: a first pull needs as many pages",
        );
        return Some(made);
    }
    let answered = pulled.series.iter().filter(|s| !s.points.is_empty());
    let with_data: Vec<&MetricQuery> = answered.map(|s| &s.query).collect();
    let silent = metrics.watch.iter().filter(|q| !with_data.contains(q));
    let mut silent = silent.peekable();
    if silent.peek().is_none() {
        let n = metrics.watch.len();
        report.add(
            CHECK,
            Status::Ok,
            format!("{n} series, each with data in the last {hours} hours ({cost})"),
        );
    }
    for query in silent {
        report.fail(
            format!("{CHECK} {} {}", query.metric, query.stat),
            format!("no data in the last {hours} hours ({cost})"),
            format!(
                "check the namespace, name, dimensions and statistic against `aws cloudwatch \
                 list-metrics --namespace {}`: CloudWatch answers a metric it does not have \
                 with no data, not an error",
                query.metric.namespace
            ),
        );
    }
    Some(made)
}

/// The stack's status and every output something outside it reads (deployed.rs), one failed
/// check per missing output with its reader.
async fn check_stack(
    report: &mut Report,
    sdk: &SdkConfig,
    args: &StackArgs,
    credentials: bool,
    metrics: Option<&MetricsSettings>,
) {
    const CHECK: &str = "stack";
    let (name, from) = args.name();
    if !credentials {
        report.skip(
            CHECK,
            format!("`{name}` ({from}): needs AWS credentials"),
            "fix the aws credentials check first",
        );
        return;
    }
    let region = sdk
        .region()
        .map_or_else(|| "(no region)".to_owned(), ToString::to_string);
    let found = tokio::time::timeout(AWS_TIMEOUT, deployed::describe(sdk, &name)).await;
    let stack = match found {
        Ok(Ok(stack)) => stack,
        Ok(Err(deployed::Missing::Absent)) => {
            report.fail(
                CHECK,
                format!("no stack `{name}` ({from}) in {region}"),
                "deploy it with `make deploy`, or name the deployed one with --stack (and its region with AWS_REGION)",
            );
            return;
        }
        Ok(Err(deployed::Missing::Failed(code, error))) => {
            let fix = if code.contains("AccessDenied") {
                "allow cloudformation:DescribeStacks on the stack to the caller"
            } else {
                "check network access to CloudFormation in the stack's region"
            };
            report.fail(CHECK, format!("DescribeStacks `{name}`: {error}"), fix);
            return;
        }
        Err(_) => {
            report.fail(
                CHECK,
                format!("DescribeStacks `{name}`: no answer within {AWS_TIMEOUT:?}"),
                "check network access to CloudFormation in the stack's region",
            );
            return;
        }
    };
    match deployed::status_fix(&stack.name, &stack.status) {
        None => report.add(
            CHECK,
            Status::Ok,
            format!("`{}` ({from}) in {region}: {}", stack.name, stack.status),
        ),
        Some(fix) => report.fail(
            CHECK,
            format!("`{}` ({from}) in {region}: {}", stack.name, stack.status),
            fix,
        ),
    }
    let missing = stack.missing_outputs();
    for (output, reader) in &missing {
        report.fail(
            format!("stack output {output}"),
            format!("missing: {reader}"),
            "deploy this version of template.yaml (`make deploy`): it declares the output",
        );
    }
    if missing.is_empty() {
        let dlqs: Vec<String> = stack
            .dead_letter_queues()
            .into_iter()
            .map(|(label, ..)| label)
            .collect();
        report.add(
            "stack outputs",
            Status::Ok,
            format!(
                "all {} needed present; dead-letter queues: {}",
                deployed::NEEDED_OUTPUTS.len(),
                dlqs.join(", ")
            ),
        );
    }
    if let Some(drift) = metrics.and_then(|m| crate::stack_metrics::drift(m, &stack)) {
        report.fail(
            "stack metrics",
            drift,
            "deploy with the overrides above, or change [metrics] to what the stack runs",
        );
    }
    match crate::deploy_config::check_running(sdk, &stack).await {
        None => {}
        Some(Ok(found)) => report.add(CONFIG_OBJECT, Status::Ok, found),
        Some(Err(why)) => report.fail(
            CONFIG_OBJECT,
            why,
            "`costwatch config push` writes it from costwatch.toml's [pipeline]; until then every run of the functions fails",
        ),
    }
}

/// The check of the lake object a stack deployed with PipelineConfigKey reads its settings from.
const CONFIG_OBJECT: &str = "pipeline config object";

/// Loads each configured integration and reads each of its credentials; returns the ones whose
/// every credential resolved (with the values in them), ready for `--send-test`.
async fn check_integrations(
    report: &mut Report,
    tables: &toml::Table,
    stores: Option<&SecretStores<'_>>,
) -> Vec<(Box<dyn Configured>, serde_json::Value)> {
    let mut ready = Vec::new();
    for entry in integrations::all() {
        let Some(table) = tables.get(entry.name()) else {
            continue;
        };
        let check = format!("integration {}", entry.name());
        let json = match serde_json::to_value(table) {
            Ok(j) => j,
            Err(e) => {
                report.fail(check, e.to_string(), "correct the table");
                continue;
            }
        };
        let configured = match entry.load(json.clone()) {
            Ok(c) => c,
            Err(e) => {
                report.fail(
                    check,
                    e.to_string(),
                    format!(
                        "correct [integrations.{}] (docs/integrations/{}.md)",
                        entry.name(),
                        entry.name()
                    ),
                );
                continue;
            }
        };
        let mut references = Vec::new();
        let mut inline = 0;
        configured.with_secrets(&mut |s| match s.reference_name() {
            Some(r) => references.push(Secret::reference(r.clone())),
            None => inline += 1,
        });
        report.add(
            check,
            Status::Ok,
            format!(
                "{} destination(s); {} referenced and {inline} inline credential(s){}",
                configured.destinations().len(),
                references.len(),
                if inline > 0 {
                    " (inline ones work locally only: the dispatcher Lambdas take references)"
                } else {
                    ""
                }
            ),
        );
        let mut all_resolved = true;
        for mut secret in references {
            let check = format!("{} {}", entry.name(), secret.describe());
            let Some(stores) = stores else {
                report.skip(
                    check,
                    "needs AWS credentials",
                    "fix the aws credentials check first",
                );
                all_resolved = false;
                continue;
            };
            let read =
                match tokio::time::timeout(AWS_TIMEOUT, secret.resolve_with(stores, true)).await {
                    Ok(read) => read.map_err(|e| e.to_string()),
                    Err(_) => Err(format!("no answer within {AWS_TIMEOUT:?}")),
                };
            match read.and_then(|()| configured.check_secret(&secret).map_err(|e| e.to_string())) {
                Ok(()) => report.add(check, Status::Ok, "resolved"),
                Err(why) => {
                    all_resolved = false;
                    report.fail(
                        check,
                        why,
                        "create it (or correct the name) in the stack's region, under the stack's SecretNamePrefix (default costwatch/), readable by the caller",
                    );
                }
            }
        }
        if all_resolved {
            ready.push((configured, json));
        }
    }
    ready
}

/// The `test` envelope to every destination of each ready integration, through the dispatcher.
async fn send_tests(
    report: &mut Report,
    ready: Vec<(Box<dyn Configured>, serde_json::Value)>,
    stores: Option<SecretStores<'_>>,
    endpoint: Option<url::Url>,
) {
    let envelope = costwatch_core::envelopes::test(
        "Hello from `costwatch doctor --send-test`: if you can read this, the integration works.",
        Utc::now(),
    );
    let message = match Incoming::of(&envelope) {
        Ok(m) => m,
        Err(e) => {
            report.fail("send test", e.to_string(), "report this as a bug");
            return;
        }
    };
    if ready.is_empty() {
        report.skip(
            "send test",
            "no integration with every credential resolved",
            "configure an [integrations.<name>] table and fix its checks above",
        );
        return;
    }
    for (configured, mut table) in ready {
        let name = configured.name();
        let check = format!("send test {name}");
        // Without routing every destination gets every envelope, quiet hours included.
        if let Some(t) = table.as_object_mut() {
            t.remove("routing");
        }
        let entry = integrations::all().into_iter().find(|e| e.name() == name);
        let Some(Ok(unrouted)) = entry.map(|e| e.load(table)) else {
            report.fail(check, "cannot reload the table", "report this as a bug");
            continue;
        };
        let destinations = unrouted.destinations();
        let state = MemoryState::default();
        let mut builder = Dispatcher::builder(unrouted, &state)
            .endpoint(endpoint.clone())
            .digest_from(usize::MAX);
        if let Some(stores) = stores {
            builder = builder.secret_stores(stores, Duration::from_secs(300));
        }
        let dispatcher = match builder.build().await {
            Ok(d) => d,
            Err(e) => {
                report.fail(check, e.to_string(), "fix the secret checks above");
                continue;
            }
        };
        let batch = [message.clone()];
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        let verdicts = dispatcher.dispatch(&batch, Utc::now(), deadline).await;
        match verdicts.first().map(|(_, v)| v) {
            Some(Verdict::Done) => report.add(
                check,
                Status::Ok,
                format!("sent to {}", destinations.join(", ")),
            ),
            Some(Verdict::Retry { reason, .. } | Verdict::Dead { reason }) => report.fail(
                check,
                format!("not delivered to every destination: {reason}"),
                format!("see docs/integrations/{name}.md for what the vendor's answer means"),
            ),
            None => report.fail(check, "no verdict", "report this as a bug"),
        }
    }
}

pub async fn doctor(
    args: DoctorArgs,
    config: Option<&Path>,
    data_dir: Option<PathBuf>,
    json: bool,
) -> Result<()> {
    let mut report = Report::default();
    let (settings, tables) = check_config(&mut report, config, data_dir);
    let sdk = sdk_config(args.stack.profile.as_deref()).await;
    let credentials = check_aws(&mut report, &sdk).await;
    let requests = if credentials {
        check_cost_explorer(&mut report, &sdk, &args, json).await
    } else {
        report.skip(
            "cost explorer",
            "needs AWS credentials",
            "fix the aws credentials check first",
        );
        0
    };
    let metrics = settings.as_ref().map(|s| &s.metrics);
    check_stack(&mut report, &sdk, &args.stack, credentials, metrics).await;
    let pulled = match settings.filter(|_| credentials) {
        Some(settings) => check_metrics(&mut report, &sdk, &settings.metrics).await,
        None => None,
    };
    // The dispatcher Lambdas' adapters: names are used as written, no prefix added.
    let secrets_manager = SecretsManagerSecrets::new(&sdk, "");
    let ssm = SsmSecrets::new(&sdk, "");
    let stores = credentials.then_some(SecretStores {
        secrets_manager: Some(&secrets_manager),
        ssm: Some(&ssm),
    });
    let ready = match &tables {
        Some(tables) if !tables.is_empty() => {
            check_integrations(&mut report, tables, stores.as_ref()).await
        }
        _ => {
            report.skip(
                "integrations",
                "no [integrations.<name>] table in the config",
                "add one (`costwatch init` writes them all, commented out)",
            );
            Vec::new()
        }
    };
    if args.send_test {
        send_tests(&mut report, ready, stores, args.endpoint.clone()).await;
    }
    let failed = report
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .count();
    print(&report, (requests, pulled), failed, json)?;
    if failed > 0 {
        bail!("{failed} check(s) failed");
    }
    Ok(())
}

/// The report, then what its requests cost: `requests` to Cost Explorer, and the
/// GetMetricData requests and metrics of the `[metrics]` check (`None`: none made).
fn print(
    report: &Report,
    (requests, pulled): (u32, Option<(u32, u64)>),
    failed: usize,
    json: bool,
) -> Result<()> {
    if json {
        let out = serde_json::json!({
            "command": "doctor",
            "ok": failed == 0,
            "failed": failed,
            "cost_explorer_requests": requests,
            "cost_explorer_dollars": format!("${}.{:02}", requests / 100, requests % 100),
            "cloudwatch_requests": pulled.map_or(0, |(made, _)| made),
            "cloudwatch_metrics": pulled.map_or(0, |(_, metrics)| metrics),
            "checks": report.checks,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    let width = report
        .checks
        .iter()
        .map(|c| c.check.len())
        .max()
        .unwrap_or(0);
    for c in &report.checks {
        let status = match c.status {
            Status::Ok => "ok  ",
            Status::Fail => "FAIL",
            Status::Skip => "skip",
        };
        println!("{status}  {:width$}  {}", c.check, c.detail);
        if let (Some(fix), Status::Fail | Status::Skip) = (&c.fix, c.status) {
            println!("      {:width$}  fix: {fix}", "");
        }
    }
    let cloudwatch = pulled.map_or(String::new(), |(made, metrics)| {
        format!(", {}", metrics_ledger_line(made, metrics))
    });
    println!(
        "{} Cost Explorer request(s) = ${}.{:02}{cloudwatch}; {}",
        requests,
        requests / 100,
        requests % 100,
        if failed == 0 {
            "nothing failed".to_owned()
        } else {
            format!("{failed} check(s) failed")
        }
    );
    Ok(())
}
