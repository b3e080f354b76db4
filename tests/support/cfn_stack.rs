//! A costwatch-shaped CloudFormation stack on moto: the resources and outputs `costwatch doctor`
//! and `costwatch dlq` read (topics, queues, the lake bucket; the function ARNs as plain values,
//! since moto runs no Lambda here), with the same output names as template.yaml. Included by
//! several test binaries with `#[path]`; each uses a part.
#![allow(dead_code)]

use aws_sdk_cloudformation as cfn;
use costwatch_store::aws::sdk::aws_config::SdkConfig;
use serde_json::{Map, Value, json};

/// Integrations whose queue and DLQ the stack has, by their template.yaml prefix (`Slack`).
pub struct Shape<'a> {
    pub integrations: &'a [&'a str],
    /// Outputs left out, as in a stack deployed from an older template.
    pub without: &'a [&'a str],
    /// `PipelineConfigKey`, as in a stack deployed with it set (its output is conditional).
    pub pipeline_config_key: Option<&'a str>,
    /// Values of the template's parameters the stand-in declares ([`PARAMETERS`]), which
    /// DescribeStacks reports; the rest keep their defaults.
    pub parameters: &'a [(&'a str, &'a str)],
}

/// The template.yaml parameters the stand-in declares, with template.yaml's defaults.
const PARAMETERS: [(&str, &str); 8] = [
    ("CeTagKeys", ""),
    ("CeCostCategories", ""),
    ("PipelineConfigJson", ""),
    ("BudgetsJson", ""),
    ("EnableMetrics", "false"),
    ("WatchedMetrics", "[]"),
    ("CwMaxRequestsPerRun", "20"),
    ("MetricsHistoryHours", "168"),
];

pub fn template(shape: &Shape) -> Value {
    let mut resources = Map::new();
    let mut outputs = Map::new();
    let mut resource = |name: &str, kind: &str| {
        resources.insert(name.to_owned(), json!({"Type": kind}));
    };
    resource("LakeBucket", "AWS::S3::Bucket");
    resource("PipelineTopic", "AWS::SNS::Topic");
    resource("NotificationsTopic", "AWS::SNS::Topic");
    resource("PipelineDeadLetterQueue", "AWS::SQS::Queue");
    let mut output = |name: &str, value: Value| {
        if !shape.without.contains(&name) {
            outputs.insert(name.to_owned(), json!({ "Value": value }));
        }
    };
    output("LakeBucketName", json!({"Ref": "LakeBucket"}));
    if let Some(key) = shape.pipeline_config_key {
        output("PipelineConfigKey", json!(key));
    }
    output("PipelineTopicArn", json!({"Ref": "PipelineTopic"}));
    output(
        "NotificationsTopicArn",
        json!({"Ref": "NotificationsTopic"}),
    );
    output(
        "PipelineDeadLetterQueueUrl",
        json!({"Ref": "PipelineDeadLetterQueue"}),
    );
    for function in ["Collect", "Report"] {
        output(
            &format!("{function}FunctionArn"),
            json!(format!(
                "arn:aws:lambda:us-east-1:123456789012:function:costwatch-{function}"
            )),
        );
    }
    for name in shape.integrations {
        output(
            &format!("{name}QueueUrl"),
            json!({"Ref": format!("{name}Queue")}),
        );
        output(
            &format!("{name}DeadLetterQueueUrl"),
            json!({"Ref": format!("{name}DeadLetterQueue")}),
        );
    }
    for name in shape.integrations {
        resources.insert(format!("{name}Queue"), json!({"Type": "AWS::SQS::Queue"}));
        resources.insert(
            format!("{name}DeadLetterQueue"),
            json!({"Type": "AWS::SQS::Queue"}),
        );
    }
    let parameters: Map<String, Value> = PARAMETERS
        .iter()
        .map(|(name, default)| {
            (
                (*name).to_owned(),
                json!({"Type": "String", "Default": default}),
            )
        })
        .collect();
    json!({"Parameters": parameters, "Resources": resources, "Outputs": outputs})
}

/// Creates the stack and returns its outputs (moto creates it at once: CREATE_COMPLETE).
pub async fn create(sdk: &SdkConfig, name: &str, shape: &Shape<'_>) -> Map<String, Value> {
    let client = cfn::Client::new(sdk);
    client
        .create_stack()
        .stack_name(name)
        .template_body(template(shape).to_string())
        .set_parameters(Some(
            shape
                .parameters
                .iter()
                .map(|(key, value)| {
                    cfn::types::Parameter::builder()
                        .parameter_key(*key)
                        .parameter_value(*value)
                        .build()
                })
                .collect(),
        ))
        .send()
        .await
        .unwrap();
    let stack = client
        .describe_stacks()
        .stack_name(name)
        .send()
        .await
        .unwrap()
        .stacks
        .unwrap()
        .remove(0);
    assert_eq!(
        stack.stack_status.unwrap().as_str(),
        "CREATE_COMPLETE",
        "moto created the stack"
    );
    stack
        .outputs
        .unwrap_or_default()
        .into_iter()
        .map(|o| (o.output_key.unwrap(), json!(o.output_value.unwrap())))
        .collect()
}

/// The binary in `dir` with `aws` (moto) as its only AWS: no profile or credentials files, no
/// instance metadata, no config or data dir from the environment.
pub fn costwatch_on(dir: &std::path::Path, aws: &str) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("costwatch").unwrap();
    cmd.current_dir(dir)
        .env_remove("COSTWATCH_DATA_DIR")
        .env_remove("COSTWATCH_CONFIG")
        .env_remove("COSTWATCH_STACK")
        .env_remove("AWS_PROFILE")
        .env("AWS_ENDPOINT_URL", aws)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("no-aws-credentials"),
        );
    cmd
}

/// (success, stdout, stderr) of a run, off the async runtime (the binary blocks).
pub async fn output(mut cmd: assert_cmd::Command) -> (bool, String, String) {
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
