//! The deployed stack as the CLI finds it: its name (`--stack`, else `COSTWATCH_STACK`, else
//! `stack_name` in ./samconfig.toml — what `make deploy` deployed — else `costwatch`), its status
//! and its outputs (CloudFormation DescribeStacks). `doctor` checks them; `dlq` finds its queues
//! and topics in them.

use std::collections::BTreeMap;
use std::path::Path;

use aws_sdk_cloudformation as cfn;
use clap::Args;
use costwatch_store::aws::config_loader;
use costwatch_store::aws::sdk::aws_config::{ConfigLoader, Region, SdkConfig};

/// The stack name `make deploy` uses when samconfig.toml names none.
pub const DEFAULT_STACK: &str = "costwatch";

/// The outputs something outside the stack reads, each with its reader. Every one is declared
/// unconditionally in template.yaml and `make smoke`'s list is a subset of this one (both
/// checked by the tests below), so the list cannot drift from either.
pub const NEEDED_OUTPUTS: &[(&str, &str)] = &[
    (
        "LakeBucketName",
        "`make smoke` reads the report it wrote there",
    ),
    ("CollectFunctionArn", "`make smoke` invokes collect"),
    ("ReportFunctionArn", "`make smoke` invokes report"),
    (
        "PipelineTopicArn",
        "`costwatch dlq redrive` publishes pipeline events back to it",
    ),
    (
        "PipelineDeadLetterQueueUrl",
        "`costwatch dlq redrive` reads the pipeline's dead letters there",
    ),
];

/// Output names of the dead-letter queues end so (`PipelineDeadLetterQueueUrl`,
/// `SlackDeadLetterQueueUrl`, …); a DLQ's source queue, when it has one, is the same prefix
/// with `QueueUrl` (`SlackQueueUrl`).
pub const DLQ_SUFFIX: &str = "DeadLetterQueueUrl";
pub const QUEUE_SUFFIX: &str = "QueueUrl";

#[derive(Args, Clone, Debug)]
pub struct StackArgs {
    /// The CloudFormation stack. Default: COSTWATCH_STACK, else `stack_name` in
    /// ./samconfig.toml (what `make deploy` deployed), else `costwatch`.
    #[arg(long, env = "COSTWATCH_STACK")]
    pub stack: Option<String>,
    /// AWS profile from ~/.aws/config.
    #[arg(long)]
    pub profile: Option<String>,
}

impl StackArgs {
    /// The stack's name and where it came from.
    pub fn name(&self) -> (String, &'static str) {
        if let Some(name) = &self.stack {
            return (name.clone(), "--stack / COSTWATCH_STACK");
        }
        match samconfig_stack_name(Path::new("samconfig.toml")) {
            Some(name) => (name, "samconfig.toml"),
            None => (DEFAULT_STACK.to_owned(), "default"),
        }
    }
}

/// `stack_name` of samconfig.toml's default environment: the deploy section's, else the global
/// one (`sam deploy --guided` writes either).
fn samconfig_stack_name(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let config: toml::Table = toml::from_str(&text).ok()?;
    let default = config.get("default")?;
    ["deploy", "global"].iter().find_map(|section| {
        default
            .get(*section)?
            .get("parameters")?
            .get("stack_name")?
            .as_str()
            .map(str::to_owned)
    })
}

/// The SDK's default chain (environment, profile files with IAM Identity Center sessions and
/// `credential_process`, web identity, container and instance roles), with the named profile
/// when given and the timeouts every costwatch AWS client has; its credentials fetched once a
/// command.
pub async fn sdk_config(profile: Option<&str>) -> SdkConfig {
    crate::credentials::fetched_once(loader(profile).load().await)
}

/// [`sdk_config`], in `region` when none is configured.
pub async fn sdk_config_or(profile: Option<&str>, region: &'static str) -> SdkConfig {
    let config = match loader(profile).load().await {
        config if config.region().is_some() => config,
        _ => loader(profile).region(Region::new(region)).load().await,
    };
    crate::credentials::fetched_once(config)
}

fn loader(profile: Option<&str>) -> ConfigLoader {
    match profile {
        Some(name) => config_loader().profile_name(name),
        None => config_loader(),
    }
}

#[derive(Debug, Clone)]
pub struct Stack {
    pub name: String,
    pub status: String,
    pub outputs: BTreeMap<String, String>,
    /// The values it was deployed with (NoEcho ones masked as `****`).
    pub parameters: BTreeMap<String, String>,
}

/// Why a stack could not be read.
#[derive(Debug)]
pub enum Missing {
    /// No stack of that name in the region.
    Absent,
    /// DescribeStacks failed: (error code, the whole error).
    Failed(String, String),
}

pub async fn describe(sdk: &SdkConfig, name: &str) -> Result<Stack, Missing> {
    use cfn::error::ProvideErrorMetadata;
    let client = cfn::Client::new(sdk);
    let answer = client.describe_stacks().stack_name(name).send().await;
    let stacks = match answer {
        Ok(a) => a.stacks.unwrap_or_default(),
        // CloudFormation answers a stack that does not exist with a ValidationError.
        Err(e) if e.message().is_some_and(|m| m.contains("does not exist")) => {
            return Err(Missing::Absent);
        }
        Err(e) => {
            let code = e.code().unwrap_or_default().to_owned();
            return Err(Missing::Failed(
                code,
                cfn::error::DisplayErrorContext(&e).to_string(),
            ));
        }
    };
    let Some(stack) = stacks.into_iter().next() else {
        return Err(Missing::Absent);
    };
    let outputs = stack
        .outputs
        .unwrap_or_default()
        .into_iter()
        .filter_map(|o| Some((o.output_key?, o.output_value?)))
        .collect();
    let parameters = stack
        .parameters
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| Some((p.parameter_key?, p.parameter_value.unwrap_or_default())))
        .collect();
    Ok(Stack {
        parameters,
        name: stack.stack_name.unwrap_or_else(|| name.to_owned()),
        status: stack
            .stack_status
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        outputs,
    })
}

/// `None` when the stack is in a state its outputs can be trusted in; otherwise what to do.
pub fn status_fix(stack: &str, status: &str) -> Option<String> {
    let events = format!(
        "read why in `aws cloudformation describe-stack-events --stack-name {stack}` (or the console's Events tab)"
    );
    match status {
        "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "IMPORT_COMPLETE" => None,
        s if s.ends_with("_IN_PROGRESS") => {
            Some("a change is under way: wait for it to finish and run doctor again".to_owned())
        }
        "ROLLBACK_COMPLETE" => Some(format!(
            "the first deploy failed and was rolled back, and such a stack cannot be updated: {events}, delete it (`make destroy`) and `make deploy` again"
        )),
        "UPDATE_ROLLBACK_COMPLETE" => Some(format!(
            "the last update failed and was rolled back (the previous version still runs): {events}, fix it and `make deploy`"
        )),
        "DELETE_COMPLETE" => Some("the stack was deleted: `make deploy`".to_owned()),
        _ => Some(format!("{events}, fix it and `make deploy`")),
    }
}

impl Stack {
    /// A stack `costwatch` deployed with `parameters` and no outputs, for unit tests.
    #[cfg(test)]
    pub fn with_parameters(parameters: &[(&str, &str)]) -> Self {
        Self {
            name: "costwatch".into(),
            status: "UPDATE_COMPLETE".into(),
            outputs: BTreeMap::new(),
            parameters: (parameters.iter())
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    /// The needed outputs the stack does not have.
    pub fn missing_outputs(&self) -> Vec<(&'static str, &'static str)> {
        NEEDED_OUTPUTS
            .iter()
            .filter(|(name, _)| !self.outputs.contains_key(*name))
            .copied()
            .collect()
    }

    /// The stack's dead-letter queues: (label, DLQ URL, the source queue's URL when it has
    /// one). The label is the output's prefix (`Pipeline`, `Slack`, `PagerDuty`, …).
    pub fn dead_letter_queues(&self) -> Vec<(String, String, Option<String>)> {
        self.outputs
            .iter()
            .filter_map(|(key, url)| {
                let label = key.strip_suffix(DLQ_SUFFIX)?;
                let source = self.outputs.get(&format!("{label}{QUEUE_SUFFIX}")).cloned();
                Some((label.to_owned(), url.clone(), source))
            })
            .collect()
    }

    /// The topics the stack declares (outputs ending `TopicArn`), the only ones a dead letter
    /// may be published back to.
    pub fn topics(&self) -> Vec<&str> {
        self.outputs
            .iter()
            .filter(|(key, _)| key.ends_with("TopicArn"))
            .map(|(_, arn)| arn.as_str())
            .collect()
    }
}

/// An output label matched against what a user types (`pagerduty`, `azure-blob`, `Slack`).
pub fn same_label(label: &str, typed: &str) -> bool {
    let fold = |s: &str| {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect::<String>()
    };
    fold(label) == fold(typed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo_file(relative: &str) -> String {
        let path = format!("{}/../../{relative}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// template.yaml's Outputs: each name with its block's lines.
    fn template_outputs() -> BTreeMap<String, Vec<String>> {
        let template = repo_file("template.yaml");
        let mut outputs: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut current = None;
        for line in template.lines().skip_while(|l| *l != "Outputs:").skip(1) {
            if !line.is_empty() && !line.starts_with(' ') {
                break; // the next top-level section
            }
            if let Some(name) = line
                .strip_prefix("  ")
                .filter(|l| !l.starts_with(' ') && !l.starts_with('#'))
                .and_then(|l| l.strip_suffix(':'))
            {
                current = Some(name.to_owned());
                outputs.entry(name.to_owned()).or_default();
            } else if let Some(name) = &current {
                outputs
                    .entry(name.clone())
                    .or_default()
                    .push(line.to_owned());
            }
        }
        outputs
    }

    #[test]
    fn template_declares_every_needed_output_unconditionally() {
        let outputs = template_outputs();
        assert!(outputs.len() > NEEDED_OUTPUTS.len(), "{outputs:?}");
        for (name, _) in NEEDED_OUTPUTS {
            let block = outputs
                .get(*name)
                .unwrap_or_else(|| panic!("template.yaml has no output {name}"));
            assert!(
                !block
                    .iter()
                    .any(|l| l.trim_start().starts_with("Condition:")),
                "output {name} is conditional: a stack may lack it"
            );
        }
        // Every DLQ the template declares is found by the suffix rule, with its source queue.
        let dlqs: Vec<_> = outputs
            .keys()
            .filter_map(|k| k.strip_suffix(DLQ_SUFFIX))
            .collect();
        assert!(
            dlqs.contains(&"Pipeline") && dlqs.contains(&"Slack"),
            "{dlqs:?}"
        );
        for label in dlqs.iter().filter(|l| **l != "Pipeline") {
            assert!(
                outputs.contains_key(&format!("{label}{QUEUE_SUFFIX}")),
                "{label}{DLQ_SUFFIX} without {label}{QUEUE_SUFFIX}"
            );
        }
    }

    #[test]
    fn smoke_needs_no_output_doctor_does_not_check() {
        let smoke = repo_file("scripts/smoke.py");
        let line = smoke
            .lines()
            .find(|l| l.starts_with("NEEDED_OUTPUTS = ("))
            .expect("scripts/smoke.py: NEEDED_OUTPUTS = (…) on one line");
        let names: Vec<&str> = line
            .split('"')
            .skip(1)
            .step_by(2)
            .filter(|n| !n.is_empty())
            .collect();
        assert!(!names.is_empty(), "{line}");
        for name in names {
            assert!(
                NEEDED_OUTPUTS.iter().any(|(n, _)| *n == name),
                "make smoke needs {name}, which doctor does not check"
            );
        }
    }

    #[test]
    fn samconfig_names_the_stack() {
        assert_eq!(
            samconfig_stack_name(Path::new(&format!(
                "{}/../../samconfig.toml",
                env!("CARGO_MANIFEST_DIR")
            ))),
            Some(DEFAULT_STACK.to_owned())
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("samconfig.toml");
        std::fs::write(
            &path,
            "version = 0.1\n[default.global.parameters]\nstack_name = \"g\"\n\
             [default.deploy.parameters]\nstack_name = \"cw-prod\"\n",
        )
        .unwrap();
        assert_eq!(samconfig_stack_name(&path), Some("cw-prod".to_owned()));
        assert_eq!(samconfig_stack_name(&dir.path().join("none.toml")), None);
    }

    #[test]
    fn only_complete_states_that_did_not_roll_back_pass() {
        for ok in ["CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"] {
            assert_eq!(status_fix("s", ok), None, "{ok}");
        }
        for bad in [
            "ROLLBACK_COMPLETE",
            "UPDATE_ROLLBACK_COMPLETE",
            "DELETE_COMPLETE",
            "CREATE_FAILED",
            "UPDATE_IN_PROGRESS",
            "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
        ] {
            assert!(status_fix("s", bad).is_some(), "{bad}");
        }
        assert!(
            status_fix("s", "ROLLBACK_COMPLETE")
                .unwrap()
                .contains("make destroy")
        );
    }

    #[test]
    fn labels_match_registry_names() {
        assert!(same_label("PagerDuty", "pagerduty"));
        assert!(same_label("AzureBlob", "azure-blob"));
        assert!(same_label("Pipeline", "pipeline"));
        assert!(!same_label("Slack", "teams"));
    }
}
