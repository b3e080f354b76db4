//! template.yaml, deployed on moto by the template harness (costwatch_testkit::template), does
//! what it declares: the resources carry the template's settings, each function's environment
//! points at them, and the integrations' own filter policies decide what reaches their queues —
//! so a change to a filter policy in the template that would keep anomalies from Slack fails
//! here — and, with `PipelineConfigKey`, that every function reading the pipeline configuration
//! reads the pushed object.

use costwatch_core::Notification;
use costwatch_lambda::deps::Aws;
use costwatch_lambda::env::Env;
use costwatch_pipeline::PipelineConfig;
use costwatch_pipeline::config_source::to_object;
use costwatch_store::aws::sdk::aws_sdk_s3::types::TransitionStorageClass;
use costwatch_store::aws::sdk::aws_sdk_sns;
use costwatch_store::{LakeWriter, NotificationBus};
use costwatch_testkit::moto::Moto;
use costwatch_testkit::repo_file;
use costwatch_testkit::stack::{drain, s3};
use costwatch_testkit::template::{ACCOUNT_ID, Deployment, Template};
use serde_json::{Value, json};

const STACK: &str = "costwatch";

fn sample(kind: &str) -> Notification {
    serde_json::from_str(&repo_file(&format!("events/notifications/{kind}.json"))).unwrap()
}

/// Deploys `template` with Slack on, publishes an anomaly and then a report envelope the way
/// detect and report do (SnsBus: `kind` and `severity` attributes), and returns the kinds that
/// reached the Slack queue. moto fans SNS out to SQS inside Publish, so once both publishes
/// have returned the queue holds all it will: the report, which every Slack filter lets
/// through, is the control that delivery happened at all.
async fn kinds_reaching_slack(template: &Template) -> Vec<String> {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    let stack = Deployment::deploy(&config, template, STACK, &[("EnableSlack", "true")]).await;
    let env = Env::from_pairs(stack.function("DetectFunction").env());
    let bus = Aws::with_config(config.clone(), env)
        .notifications()
        .unwrap();
    for kind in ["anomaly", "report"] {
        bus.publish(&sample(kind)).await.unwrap();
    }
    let mut kinds: Vec<String> = drain(&config, stack.output("SlackQueueUrl"))
        .await
        .iter()
        .map(|m| {
            let envelope: Value = serde_json::from_str(&m.body).unwrap();
            envelope["kind"].as_str().unwrap().to_owned()
        })
        .collect();
    kinds.sort();
    kinds
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_anomaly_reaches_slack_through_the_templates_own_filter_policy() {
    let template = Template::load("template.yaml");
    assert_eq!(kinds_reaching_slack(&template).await, ["anomaly", "report"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slack_filter_policy_without_anomalies_keeps_them_from_slack() {
    let mut template = Template::load("template.yaml");
    let kinds = template
        .nested_mut("SlackDispatcher")
        .body
        .pointer_mut("/Resources/Subscription/Properties/FilterPolicy/$or/1/kind")
        .expect("the dispatcher template's severity-filtered kinds");
    kinds
        .as_array_mut()
        .unwrap()
        .retain(|k| *k != json!("anomaly"));
    // Only the control arrives: the template, not the test, decided.
    assert_eq!(kinds_reaching_slack(&template).await, ["report"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deployed_resources_carry_the_templates_settings() {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    let template = Template::load("template.yaml");
    let stack = Deployment::deploy(
        &config,
        &template,
        STACK,
        &[
            ("EnableSlack", "true"),
            ("ReportArchiveGlacierDays", "45"),
            ("CeRestateDays", "5"),
        ],
    )
    .await;

    // The lake's lifecycle, the parameter resolved.
    let lifecycle = s3(&config)
        .get_bucket_lifecycle_configuration()
        .bucket(stack.reference("LakeBucket"))
        .send()
        .await
        .unwrap();
    let rules = lifecycle.rules();
    assert_eq!(rules.len(), 4, "{rules:?}");
    let archive = rules
        .iter()
        .find(|r| r.id() == Some("archive-reports-to-glacier-ir"))
        .unwrap();
    let transition = &archive.transitions()[0];
    assert_eq!(transition.days(), Some(45));
    assert_eq!(
        transition.storage_class(),
        Some(&TransitionStorageClass::GlacierIr)
    );

    // Slack's queue redrives to its own DLQ after 5 receives; its subscription is raw, with the
    // nested template's filter policy, severities resolved from the mapping (one subscription
    // per `$or` branch: moto refuses the `$or` whole, see the harness).
    let slack = stack.nested("SlackDispatcher");
    let attributes = aws_sdk_sqs::Client::new(&config)
        .get_queue_attributes()
        .queue_url(slack.reference("Queue"))
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    let redrive: Value =
        serde_json::from_str(&attributes[&aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy])
            .unwrap();
    assert_eq!(
        redrive["maxReceiveCount"].to_string().trim_matches('"'),
        "5"
    );
    assert!(
        redrive["deadLetterTargetArn"]
            .as_str()
            .unwrap()
            .ends_with(&format!("{STACK}-SlackDispatcher-DeadLetterQueue"))
    );
    let sns = aws_sdk_sns::Client::new(&config);
    let subscriptions = sns
        .list_subscriptions_by_topic()
        .topic_arn(stack.reference("NotificationsTopic"))
        .send()
        .await
        .unwrap();
    let mut policies = Vec::new();
    for subscription in subscriptions.subscriptions() {
        let got = sns
            .get_subscription_attributes()
            .subscription_arn(subscription.subscription_arn().unwrap())
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap();
        assert_eq!(got["RawMessageDelivery"], "true");
        policies.push(serde_json::from_str::<Value>(&got["FilterPolicy"]).unwrap());
    }
    policies.sort_by_key(|p| p.to_string());
    assert_eq!(
        policies,
        [
            json!({"kind": ["anomaly", "budget", "forecast", "recommendation"],
                   "severity": ["info", "low", "medium", "high", "critical"]}),
            json!({"kind": ["report", "test"]}),
        ]
    );

    // Environments name the moto resources; schedules keep their inputs.
    let collect = stack.function("CollectFunction");
    assert_eq!(
        collect.environment["COSTWATCH_BILLING_ACCOUNT_ID"],
        ACCOUNT_ID
    );
    assert_eq!(
        collect.environment["COSTWATCH_CE_MAX_REQUESTS_PER_RUN"],
        "20"
    );
    assert_eq!(
        collect.environment["COSTWATCH_DEAD_LETTER_QUEUE_URL"],
        stack.reference("PipelineDeadLetterQueue")
    );
    // The days collection restates are the days detection and daily budgets look at again.
    assert_eq!(collect.environment["COSTWATCH_CE_RESTATE_DAYS"], "5");
    for function in ["DetectFunction", "ForecastFunction"] {
        let env = Env::from_pairs(stack.function(function).env());
        assert_eq!(env.pipeline_config().unwrap().recheck_days, 5, "{function}");
    }
    let report = stack.function("ReportFunction");
    assert_eq!(report.schedules["Daily"], json!({"period": "daily"}));
    assert_eq!(report.schedules["Weekly"], json!({"period": "weekly"}));
    assert_eq!(
        report.environment["COSTWATCH_BUCKET"],
        stack.reference("LakeBucket")
    );
}

/// A stack deployed with `PipelineConfigKey`: every function that runs with the pipeline
/// configuration reads it from that lake object (budgets beyond what 4 KB of environment holds),
/// may read exactly that object, fails with the object's name before it is pushed, and refuses
/// settings left in `BudgetsJson` beside it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stack_with_a_configuration_key_runs_with_the_pushed_object() {
    const KEY: &str = "config/pipeline.json";
    let template = Template::load("template.yaml");
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    let stack = Deployment::deploy(
        &config,
        &template,
        STACK,
        &[
            ("PipelineConfigKey", KEY),
            ("DashboardUrl", "https://costs.example.com"),
            ("CeRestateDays", "5"),
            // The two conditional readers deployed too.
            ("EnableSlackChat", "true"),
            ("EnableMetrics", "true"),
        ],
    )
    .await;
    assert_eq!(stack.output("PipelineConfigKey"), KEY);

    // Which functions read the configuration, from the template: each has the key and the
    // policy that lets it read that one object.
    let resources = template.body["Resources"].as_object().unwrap();
    let readers: Vec<&String> = resources
        .iter()
        .filter(|(_, r)| {
            r["Properties"]["Environment"]["Variables"]
                .get("COSTWATCH_PIPELINE_CONFIG")
                .is_some()
        })
        .map(|(name, _)| name)
        .collect();
    assert_eq!(readers.len(), 8, "{readers:?}");
    let read_grant = json!({"Fn::If": ["PipelineConfigFromLake", {"Ref": "PipelineConfigRead"},
                                       {"Ref": "AWS::NoValue"}]});
    for name in &readers {
        let props = &resources[name.as_str()]["Properties"];
        assert!(
            props["Policies"].as_array().unwrap().contains(&read_grant),
            "{name} cannot read the configuration object"
        );
        assert_eq!(
            stack.function(name).environment["COSTWATCH_PIPELINE_CONFIG_KEY"],
            KEY
        );
    }
    let grant = &resources["PipelineConfigRead"]["Properties"]["PolicyDocument"]["Statement"][0];
    assert_eq!(grant["Action"], "s3:GetObject");
    assert_eq!(
        grant["Resource"],
        json!({"Fn::Sub": "${LakeBucket.Arn}/${PipelineConfigKey}"})
    );

    let aws = |function: &str| {
        Aws::with_config(
            config.clone(),
            Env::from_pairs(stack.function(function).env()),
        )
    };
    // Before `costwatch config push`: the run fails, saying what to do.
    let missing = aws("ForecastFunction")
        .config_source()
        .unwrap()
        .current()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        missing.contains(KEY) && missing.contains("costwatch config push"),
        "{missing}"
    );

    // What `costwatch config push` writes (tests/cli_config.rs pushes through the CLI).
    let budgets: Vec<Value> = (0..150)
        .map(|i| {
            json!({"name": format!("team-{i}"), "scope": format!("tag=team|value=team-{i}"),
                        "amount": "2500"})
        })
        .collect();
    let pushed: PipelineConfig =
        serde_json::from_value(json!({"budgets": budgets, "history_days": 90})).unwrap();
    let object = to_object(&pushed).unwrap();
    assert!(object.len() > 4096, "{} bytes", object.len());
    aws("ForecastFunction")
        .lake()
        .unwrap()
        .put(KEY, object)
        .await
        .unwrap();
    assert!(readers.iter().any(|name| {
        stack
            .function(name)
            .environment
            .contains_key("COSTWATCH_DASHBOARD_URL")
    }));
    for name in &readers {
        let read = aws(name).config_source().unwrap().current().await.unwrap();
        assert_eq!(read.budgets.len(), 150, "{name}");
        assert_eq!(read.history_days, 90, "{name}");
        // DashboardUrl laid over the object where the function is given it, as over the
        // environment's configuration.
        let given = stack
            .function(name)
            .environment
            .get("COSTWATCH_DASHBOARD_URL");
        assert_eq!(read.dashboard_url.as_ref(), given, "{name}");
        // And CeRestateDays where the function looks at days again (detect, forecast).
        let restated = stack
            .function(name)
            .environment
            .get("COSTWATCH_CE_RESTATE_DAYS")
            .map(|days| days.parse::<u32>().unwrap());
        assert_eq!(read.recheck_days, restated.unwrap_or(3), "{name}");
        if ["DetectFunction", "ForecastFunction"].contains(&name.as_str()) {
            assert_eq!(restated, Some(5), "{name}");
        }
    }

    // Budgets left in BudgetsJson beside the key: the deploy is refused by the template's rule
    // (and the other rule still holds its own); without the key, or with both at their
    // defaults, it goes ahead.
    let org = r#"[{"name":"org","scope":"org","amount":"100"}]"#;
    let refused = template
        .check_rules(&[("PipelineConfigKey", KEY), ("BudgetsJson", org)])
        .unwrap_err();
    assert!(
        refused.starts_with("PipelineConfigInOnePlace") && refused.contains("config push"),
        "{refused}"
    );
    let settings = r#"{"history_days": 90}"#;
    assert!(
        template
            .check_rules(&[("PipelineConfigKey", KEY), ("PipelineConfigJson", settings)])
            .is_err()
    );
    assert_eq!(template.check_rules(&[("BudgetsJson", org)]), Ok(()));
    assert_eq!(template.check_rules(&[("PipelineConfigKey", KEY)]), Ok(()));
    let refused = template
        .check_rules(&[("CostSource", "DataExports")])
        .unwrap_err();
    assert!(refused.starts_with("DataExportsNeedCurPrefix"), "{refused}");

    // A function given budgets beside the object anyway (a stack updated by hand): refused at
    // its start, naming the parameter.
    let mut env = stack.function("ReportFunction").environment.clone();
    env.insert(
        "COSTWATCH_BUDGETS".into(),
        r#"[{"name":"org","scope":"org","amount":"100"}]"#.into(),
    );
    let both = Aws::with_config(config.clone(), Env::from_pairs(env))
        .config_source()
        .err()
        .expect("budgets in both were accepted")
        .to_string();
    assert!(both.contains("BudgetsJson") && both.contains(KEY), "{both}");
}
