//! costwatch.toml's `[metrics]` against what a deployed stack's metrics function runs with.
//! There those settings are template parameters (`EnableMetrics`, `WatchedMetrics`,
//! `CwMaxRequestsPerRun`, `MetricsHistoryHours`), which `costwatch config push` cannot change:
//! `push` warns and `doctor` fails on each difference, with the parameter overrides that deploy
//! the file's settings, so a series added to the file is not believed watched on AWS.

use std::collections::BTreeSet;

use costwatch_pipeline::metrics::MetricsSettings;
use costwatch_store::MetricQuery;

use crate::deployed::Stack;

/// The differences, with how to deploy the file's settings; `None` when the file does not set
/// `[metrics]` (every field at its default), when the stack does not report the parameters
/// (deployed from an older template), or when the two agree.
pub fn drift(metrics: &MetricsSettings, stack: &Stack) -> Option<String> {
    let defaults = MetricsSettings::default();
    if *metrics == defaults {
        return None;
    }
    let parameter = |name: &str| stack.parameters.get(name).map(String::as_str);
    let enabled = parameter("EnableMetrics")? == "true";
    if !enabled && metrics.watch.is_empty() {
        return None;
    }
    let (mut differences, mut overrides): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    if !enabled {
        let off = "the stack does not run the metrics function (EnableMetrics is false)";
        differences.push(off.to_owned());
        overrides.push("EnableMetrics=true".to_owned());
    }
    let deployed = parameter("WatchedMetrics").unwrap_or("[]");
    match serde_json::from_str::<Vec<MetricQuery>>(deployed) {
        Ok(deployed) => {
            if let Some(difference) = series_difference(&metrics.watch, &deployed) {
                differences.push(difference);
                overrides.push(format!("WatchedMetrics={}", quoted(&metrics.watch)));
            }
        }
        Err(e) => {
            differences.push(format!("its WatchedMetrics does not parse ({e})"));
            overrides.push(format!("WatchedMetrics={}", quoted(&metrics.watch)));
        }
    }
    for (name, field, value) in [
        (
            "CwMaxRequestsPerRun",
            "max_requests_per_run",
            metrics.max_requests_per_run,
        ),
        (
            "MetricsHistoryHours",
            "history_hours",
            metrics.history_hours,
        ),
    ] {
        let Some(deployed) = parameter(name) else {
            continue;
        };
        if deployed.trim().parse::<u32>() != Ok(value) {
            differences.push(format!("its {name} is {deployed}, {field} {value}"));
            overrides.push(format!("{name}={value}"));
        }
    }
    if differences.is_empty() {
        return None;
    }
    let mut message = format!(
        "costwatch.toml's [metrics] is not what stack `{}` runs: {}. Those are template \
         parameters, which `config push` does not write: deploy with `make deploy \
         DEPLOY_FLAGS='--parameter-overrides {}'`",
        stack.name,
        differences.join("; "),
        overrides.join(" ")
    );
    let unset = unparameterised(metrics, &defaults);
    if !unset.is_empty() {
        message.push_str(&format!(
            " ({} {} no parameter: the function runs with the default)",
            unset.join(", "),
            if unset.len() == 1 { "has" } else { "have" },
        ));
    }
    Some(message)
}

/// How the file's series and the stack's differ, by name; `None` when they are the same set.
fn series_difference(file: &[MetricQuery], deployed: &[MetricQuery]) -> Option<String> {
    let (file, deployed): (BTreeSet<_>, BTreeSet<_>) =
        (file.iter().collect(), deployed.iter().collect());
    if file == deployed {
        return None;
    }
    let names = |of: &BTreeSet<&MetricQuery>, without: &BTreeSet<&MetricQuery>| -> Vec<String> {
        of.difference(without).map(|q| name(q)).collect()
    };
    let mut parts = Vec::new();
    let only_file = names(&file, &deployed);
    if !only_file.is_empty() {
        parts.push(format!("only in costwatch.toml: {}", only_file.join(", ")));
    }
    let only_stack = names(&deployed, &file);
    if !only_stack.is_empty() {
        parts.push(format!("only on the stack: {}", only_stack.join(", ")));
    }
    Some(format!(
        "its WatchedMetrics has {} series, [metrics] {} ({})",
        deployed.len(),
        file.len(),
        parts.join("; ")
    ))
}

/// A series as `doctor` names it: the metric, its statistic and period.
fn name(query: &MetricQuery) -> String {
    format!("{} {} {} s", query.metric, query.stat, query.period_secs)
}

/// The series as a parameter value on the command line: JSON in double quotes, its own quotes
/// escaped (docs/configuration.md, "JSON values in parameters").
fn quoted(watch: &[MetricQuery]) -> String {
    let json = serde_json::to_string(watch).expect("metric queries serialise");
    format!("\"{}\"", json.replace('"', "\\\""))
}

/// The `[metrics]` fields set away from their defaults that the template has no parameter for.
fn unparameterised(metrics: &MetricsSettings, defaults: &MetricsSettings) -> Vec<&'static str> {
    [
        (
            "backfill_hours",
            metrics.backfill_hours != defaults.backfill_hours,
        ),
        (
            "overlap_minutes",
            metrics.overlap_minutes != defaults.overlap_minutes,
        ),
        ("threshold", metrics.threshold != defaults.threshold),
    ]
    .into_iter()
    .filter_map(|(field, set)| set.then_some(field))
    .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use costwatch_core::metric::MetricId;

    use super::*;

    fn cpu(instance: &str) -> MetricQuery {
        MetricQuery {
            metric: MetricId {
                namespace: "AWS/EC2".into(),
                name: "CPUUtilization".into(),
                dimensions: BTreeMap::from([("InstanceId".into(), instance.into())]),
            },
            stat: "Average".into(),
            period_secs: 300,
        }
    }

    fn stack(parameters: &[(&str, &str)]) -> Stack {
        Stack::with_parameters(parameters)
    }

    fn watching(watch: Vec<MetricQuery>) -> MetricsSettings {
        MetricsSettings {
            watch,
            ..MetricsSettings::default()
        }
    }

    /// The override the message gives, as the function's own parser reads it back.
    fn watched_override(message: &str) -> Vec<MetricQuery> {
        let value = message
            .split("WatchedMetrics=\"")
            .nth(1)
            .and_then(|rest| rest.split("\"'").next().or(Some(rest)))
            .and_then(|rest| rest.split("\" ").next())
            .unwrap_or_else(|| panic!("no WatchedMetrics override: {message}"));
        // What the function's environment holds once the shell has taken the escapes off, read
        // as the function reads it (lambda handlers/metrics.rs).
        serde_json::from_str(&value.replace("\\\"", "\"")).expect("the override parses")
    }

    #[test]
    fn a_file_without_metrics_or_a_stack_that_agrees_says_nothing() {
        let on = |watched: &str| stack(&[("EnableMetrics", "true"), ("WatchedMetrics", watched)]);
        assert_eq!(drift(&MetricsSettings::default(), &on("[]")), None);
        let one = watching(vec![cpu("i-0a")]);
        let deployed = serde_json::to_string(&one.watch).unwrap();
        assert_eq!(drift(&one, &on(&deployed)), None);
        // A stack from before the metrics parameters: nothing to compare with.
        assert_eq!(drift(&one, &stack(&[])), None);
    }

    #[test]
    fn series_the_stack_does_not_watch_are_named_with_the_overrides_to_deploy() {
        let file = watching(vec![cpu("i-0a"), cpu("i-0b")]);
        let deployed = serde_json::to_string(&[cpu("i-0a"), cpu("i-0c")]).unwrap();
        let enabled = stack(&[
            ("EnableMetrics", "true"),
            ("WatchedMetrics", &deployed),
            ("CwMaxRequestsPerRun", "20"),
            ("MetricsHistoryHours", "168"),
        ]);
        let message = drift(&file, &enabled).expect("they differ");
        assert!(
            message.contains(
                "its WatchedMetrics has 2 series, [metrics] 2 (only in costwatch.toml: \
                 CPUUtilization (AWS/EC2, InstanceId=i-0b) Average 300 s; only on the stack: \
                 CPUUtilization (AWS/EC2, InstanceId=i-0c) Average 300 s)"
            ),
            "{message}"
        );
        assert!(!message.contains("EnableMetrics=true"), "{message}");
        assert!(!message.contains("CwMaxRequestsPerRun="), "{message}");
        assert_eq!(watched_override(&message), file.watch);
    }

    #[test]
    fn a_stack_without_the_function_and_other_settings_are_named() {
        let file = MetricsSettings {
            history_hours: 576,
            threshold: 0.6,
            ..watching(vec![cpu("i-0a")])
        };
        let disabled = stack(&[
            ("EnableMetrics", "false"),
            ("WatchedMetrics", "[]"),
            ("CwMaxRequestsPerRun", "20"),
            ("MetricsHistoryHours", "168"),
        ]);
        let message = drift(&file, &disabled).expect("they differ");
        for expected in [
            "the stack does not run the metrics function (EnableMetrics is false)",
            "its MetricsHistoryHours is 168, history_hours 576",
            "--parameter-overrides EnableMetrics=true WatchedMetrics=",
            " MetricsHistoryHours=576'`",
            "(threshold has no parameter: the function runs with the default)",
        ] {
            assert!(message.contains(expected), "{expected:?} in {message}");
        }
        assert_eq!(watched_override(&message), file.watch);
        // Nothing watched and no function: nothing runs that could differ.
        let quiet = MetricsSettings {
            history_hours: 576,
            ..MetricsSettings::default()
        };
        assert_eq!(drift(&quiet, &disabled), None);
    }
}
