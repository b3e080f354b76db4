//! The stack as template.yaml declares it, on moto: the template (and the nested templates its
//! `AWS::Serverless::Application`s name) is read, its parameters take their defaults or a
//! test's values, its conditions are evaluated, and every resource moto serves is created from
//! its own properties — buckets with versioning and lifecycle, the table, topics, queues with
//! their redrive policies, subscriptions with their filter policies, queue and topic policies.
//!
//! Functions are not run by moto; each gets what Lambda would give it: its environment
//! (`Globals` + its own `Environment.Variables`, references resolved to the moto resources),
//! and for each SNS event source an *inbox* — an SQS queue subscribed to the topic with the
//! event's own filter policy, not raw, so it holds what SNS would hand the function; its
//! messages come back as Lambda SNS invocations ([`Deployment::invocations`]). Schedules keep their
//! constant `Input` ([`Function::schedules`]).
//!
//! A test may change the parsed template before deploying ([`Template::resource_mut`],
//! [`Template::nested_mut`]) to show that a test fails when the template is wrong.

mod create;
mod eval;

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;

use costwatch_store::aws::sdk::aws_config::SdkConfig;
use serde_json::{Map, Value, json};

pub use eval::{ACCOUNT_ID, REGION};
use eval::{Physical, Scope, references, scalar};

use crate::stack::drain;

/// A CloudFormation template in its JSON form (short-form tags such as `!Ref X` read as their
/// long form `{"Ref": "X"}`), with the nested templates it uses.
#[derive(Debug, Clone)]
pub struct Template {
    pub body: Value,
    /// Per `AWS::Serverless::Application` with a local `Location`: its own copy of that
    /// template, so changing one integration's leaves the others as they are.
    pub nested: BTreeMap<String, Template>,
}

impl Template {
    /// A template of the repository, e.g. `template.yaml`, with its nested templates.
    pub fn load(relative: &str) -> Template {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        Self::load_path(&root.join(relative))
    }

    fn load_path(path: &Path) -> Template {
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut template = Self::parse(&text);
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let resources = template.body["Resources"].as_object().cloned();
        for (logical, resource) in resources.into_iter().flatten() {
            let location = &resource["Properties"]["Location"];
            if resource["Type"] == "AWS::Serverless::Application"
                && let Some(file) = location.as_str()
            {
                let nested: PathBuf = dir.join(file);
                template.nested.insert(logical, Self::load_path(&nested));
            }
        }
        template
    }

    pub fn parse(text: &str) -> Template {
        let yaml: serde_norway::Value =
            serde_norway::from_str(text).unwrap_or_else(|e| panic!("template: {e}"));
        Template {
            body: to_json(yaml),
            nested: BTreeMap::new(),
        }
    }

    /// The template's `Rules` on `values` (over the defaults), as CloudFormation checks them
    /// before creating anything: each rule whose `RuleCondition` holds must have every
    /// `Assert` hold; else its `AssertDescription`, the refusal a deploy would get.
    pub fn check_rules(&self, values: &[(&str, &str)]) -> Result<(), String> {
        let overrides = values
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
            .collect();
        let parameters = parameters(&self.body, overrides, "stack");
        let conditions = conditions(&self.body, &parameters, "stack");
        rules(&self.body, &parameters, &conditions, "stack")
    }

    /// A resource's declaration, to change in a test.
    pub fn resource_mut(&mut self, logical: &str) -> &mut Value {
        self.body["Resources"]
            .get_mut(logical)
            .unwrap_or_else(|| panic!("no resource {logical}"))
    }

    /// The nested template of an `AWS::Serverless::Application`, to change in a test.
    pub fn nested_mut(&mut self, logical: &str) -> &mut Template {
        self.nested
            .get_mut(logical)
            .unwrap_or_else(|| panic!("no nested template for {logical}"))
    }
}

/// YAML → JSON; `!Ref`/`!Condition` become `{"Ref": …}`/`{"Condition": …}`, every other tag
/// `!X` becomes `{"Fn::X": …}`.
fn to_json(yaml: serde_norway::Value) -> Value {
    use serde_norway::Value as Y;
    match yaml {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => serde_json::to_value(&n).unwrap(),
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(to_json).collect()),
        Y::Mapping(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (scalar(&to_json(k)), to_json(v)))
                .collect(),
        ),
        Y::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let key = match name {
                "Ref" | "Condition" => name.to_owned(),
                other => format!("Fn::{other}"),
            };
            let mut map = Map::new();
            map.insert(key, to_json(tagged.value));
            Value::Object(map)
        }
    }
}

/// What a function gets from the template.
#[derive(Debug, Clone, Default)]
pub struct Function {
    /// `Globals.Function.Environment.Variables` overlaid with the function's own, resolved.
    pub environment: BTreeMap<String, String>,
    /// SNS event name → the URL of the inbox queue that stands in for Lambda's subscription.
    pub sns_inboxes: BTreeMap<String, String>,
    /// Schedule event name → its constant `Input` (JSON), `Null` when it has none.
    pub schedules: BTreeMap<String, Value>,
}

impl Function {
    /// The environment as pairs, for `Env::from_pairs`.
    pub fn env(&self) -> Vec<(String, String)> {
        self.environment.clone().into_iter().collect()
    }
}

/// A template deployed on moto.
pub struct Deployment {
    pub name: String,
    pub config: SdkConfig,
    resources: BTreeMap<String, Physical>,
    functions: BTreeMap<String, Function>,
    nested: BTreeMap<String, Deployment>,
    outputs: BTreeMap<String, String>,
}

impl Deployment {
    /// Creates `template` on the moto server `config` points at, as stack `name`, with
    /// `parameters` over the template's defaults.
    pub async fn deploy(
        config: &SdkConfig,
        template: &Template,
        name: &str,
        parameters: &[(&str, &str)],
    ) -> Deployment {
        let parameters = parameters
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
            .collect();
        deploy(
            config.clone(),
            template.clone(),
            name.to_owned(),
            parameters,
        )
        .await
    }

    /// What `Ref` gives for a resource: a queue's URL, a topic's ARN, a bucket's or table's name.
    pub fn reference(&self, logical: &str) -> &str {
        &self
            .resources
            .get(logical)
            .unwrap_or_else(|| panic!("{}: no resource {logical} was created", self.name))
            .reference
    }

    pub fn function(&self, logical: &str) -> &Function {
        self.functions
            .get(logical)
            .unwrap_or_else(|| panic!("{}: no function {logical}", self.name))
    }

    /// The nested stack of an `AWS::Serverless::Application` (created when its condition held).
    pub fn nested(&self, logical: &str) -> &Deployment {
        self.nested
            .get(logical)
            .unwrap_or_else(|| panic!("{}: no nested stack {logical}", self.name))
    }

    pub fn output(&self, name: &str) -> &str {
        self.outputs
            .get(name)
            .unwrap_or_else(|| panic!("{}: no output {name}", self.name))
    }

    /// What SNS delivered to `function`'s `event` source since the last call, each message as
    /// the SNS invocation Lambda would make of it (one record each).
    pub async fn invocations(&self, function: &str, event: &str) -> Vec<Value> {
        let inbox = self
            .function(function)
            .sns_inboxes
            .get(event)
            .unwrap_or_else(|| panic!("{function} has no SNS event {event}"));
        drain(&self.config, inbox)
            .await
            .iter()
            .map(|m| {
                let n: Value = serde_json::from_str(&m.body).unwrap();
                json!({"Records": [{
                    "EventSource": "aws:sns",
                    "EventVersion": "1.0",
                    "EventSubscriptionArn": format!("{}:{}", n["TopicArn"].as_str().unwrap(), function),
                    "Sns": {
                        "Type": n["Type"], "MessageId": n["MessageId"], "TopicArn": n["TopicArn"],
                        "Subject": n.get("Subject").cloned().unwrap_or(Value::Null),
                        "Message": n["Message"], "Timestamp": n["Timestamp"],
                        "SignatureVersion": n["SignatureVersion"], "Signature": n["Signature"],
                        "SigningCertUrl": n["SigningCertURL"], "UnsubscribeUrl": n["UnsubscribeURL"],
                        "MessageAttributes": n.get("MessageAttributes").cloned().unwrap_or(json!({})),
                    }
                }]})
            })
            .collect()
    }
}

type Boxed = Pin<Box<dyn Future<Output = Deployment> + Send>>;

/// Boxed: a nested application deploys its template the same way.
fn deploy(
    config: SdkConfig,
    template: Template,
    name: String,
    overrides: BTreeMap<String, Value>,
) -> Boxed {
    Box::pin(async move {
        let body = &template.body;
        let parameters = parameters(body, overrides, &name);
        let conditions = conditions(body, &parameters, &name);
        if let Err(refused) = rules(body, &parameters, &conditions, &name) {
            panic!("{name}: refused by a rule: {refused}");
        }
        let declared = body["Resources"].as_object().cloned().unwrap_or_default();
        // Resources whose condition is false are not created, as in CloudFormation.
        let wanted: BTreeMap<String, Value> = declared
            .into_iter()
            .filter(|(_, r)| r["Condition"].as_str().is_none_or(|c| conditions[c]))
            .collect();
        let mut deployed = Deployment {
            name: name.clone(),
            config: config.clone(),
            resources: BTreeMap::new(),
            functions: BTreeMap::new(),
            nested: BTreeMap::new(),
            outputs: BTreeMap::new(),
        };
        let mut pending: Vec<String> = wanted.keys().cloned().collect();
        while !pending.is_empty() {
            let ready: Vec<String> = pending
                .iter()
                .filter(|logical| {
                    depends_on(&wanted[*logical], &body["Globals"])
                        .iter()
                        .filter(|d| wanted.contains_key(*d) && d != logical)
                        .all(|d| deployed.resources.contains_key(d))
                })
                .cloned()
                .collect();
            assert!(
                !ready.is_empty(),
                "{name}: circular references among {pending:?}"
            );
            for logical in ready {
                let scope = Scope {
                    stack_name: &name,
                    parameters: &parameters,
                    conditions: &conditions,
                    mappings: &body["Mappings"],
                    resources: &deployed.resources,
                };
                let resource = &wanted[&logical];
                let kind = resource["Type"].as_str().unwrap().to_owned();
                let props = scope.eval(&resource["Properties"]).unwrap_or(Value::Null);
                let physical_name = format!("{name}-{logical}");
                let physical = match kind.as_str() {
                    "AWS::S3::Bucket" => create::bucket(&config, &physical_name, &props).await,
                    "AWS::DynamoDB::Table" => create::table(&config, &physical_name, &props).await,
                    "AWS::SNS::Topic" => create::topic(&config, &physical_name, &props).await,
                    "AWS::SQS::Queue" => create::queue(&config, &physical_name, &props).await,
                    "AWS::SNS::Subscription" => create::subscription(&config, &props).await,
                    "AWS::SQS::QueuePolicy" | "AWS::SNS::TopicPolicy" => {
                        create::policy(&config, &kind, &props).await;
                        create::stand_in(&kind, &physical_name)
                    }
                    "AWS::Serverless::Function" => {
                        let globals = scope
                            .eval(&body["Globals"]["Function"])
                            .unwrap_or(Value::Null);
                        let function = function(&config, &physical_name, &globals, &props).await;
                        deployed.functions.insert(logical.clone(), function);
                        create::stand_in("AWS::Lambda::Function", &physical_name)
                    }
                    "AWS::Serverless::Application" => {
                        let nested_template = template
                            .nested
                            .get(&logical)
                            .unwrap_or_else(|| panic!("{logical}: only local Locations"))
                            .clone();
                        let nested_parameters = props["Parameters"]
                            .as_object()
                            .cloned()
                            .unwrap_or_default()
                            .into_iter()
                            .collect();
                        let stack = deploy(
                            config.clone(),
                            nested_template,
                            physical_name.clone(),
                            nested_parameters,
                        )
                        .await;
                        let mut physical = create::stand_in(&kind, &physical_name);
                        for (output, value) in &stack.outputs {
                            physical
                                .attributes
                                .insert(format!("Outputs.{output}"), value.clone());
                        }
                        deployed.nested.insert(logical.clone(), stack);
                        physical
                    }
                    _ => create::stand_in(&kind, &physical_name),
                };
                deployed.resources.insert(logical.clone(), physical);
                pending.retain(|p| *p != logical);
            }
        }
        let scope = Scope {
            stack_name: &name,
            parameters: &parameters,
            conditions: &conditions,
            mappings: &body["Mappings"],
            resources: &deployed.resources,
        };
        for (output, declared) in body["Outputs"].as_object().into_iter().flatten() {
            // An output naming what the harness does not know (a resource SAM generates, such as
            // ServerlessHttpApi) is left out rather than failing every test.
            let mut named = Vec::new();
            references(&declared["Value"], &mut named);
            let known = named.iter().all(|n| {
                n.starts_with("AWS::")
                    || parameters.contains_key(n)
                    || deployed.resources.contains_key(n)
            });
            if known
                && declared["Condition"].as_str().is_none_or(|c| conditions[c])
                && let Some(value) = scope.eval_string(&declared["Value"])
            {
                deployed.outputs.insert(output.clone(), value);
            }
        }
        deployed
    })
}

/// What a resource names: its properties, `DependsOn`, and for a SAM function the Globals it
/// takes (the root's DLQ).
fn depends_on(resource: &Value, globals: &Value) -> Vec<String> {
    let mut found = Vec::new();
    references(&resource["Properties"], &mut found);
    if resource["Type"] == "AWS::Serverless::Function" {
        references(&globals["Function"], &mut found);
    }
    match &resource["DependsOn"] {
        Value::String(s) => found.push(s.clone()),
        Value::Array(a) => found.extend(a.iter().filter_map(|v| v.as_str().map(str::to_owned))),
        _ => {}
    }
    found
}

/// Each declared parameter: the test's value, else the default; a parameter with neither, or
/// a value for an undeclared one, is a mistake in the test.
/// See [`Template::check_rules`].
fn rules(
    body: &Value,
    parameters: &BTreeMap<String, Value>,
    conditions: &BTreeMap<String, bool>,
    stack: &str,
) -> Result<(), String> {
    let no_resources = BTreeMap::new();
    let scope = Scope {
        stack_name: stack,
        parameters,
        conditions,
        mappings: &body["Mappings"],
        resources: &no_resources,
    };
    for (name, rule) in body["Rules"].as_object().into_iter().flatten() {
        let applies = rule
            .get("RuleCondition")
            .is_none_or(|condition| scope.truth(condition));
        let assertions = rule["Assertions"].as_array().into_iter().flatten();
        for assertion in assertions.filter(|_| applies) {
            if !scope.truth(&assertion["Assert"]) {
                return Err(format!(
                    "{name}: {}",
                    assertion["AssertDescription"].as_str().unwrap_or_default()
                ));
            }
        }
    }
    Ok(())
}

fn parameters(
    body: &Value,
    mut overrides: BTreeMap<String, Value>,
    stack: &str,
) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for (name, declared) in body["Parameters"].as_object().into_iter().flatten() {
        let value = overrides
            .remove(name)
            .or_else(|| declared.get("Default").cloned())
            .unwrap_or_else(|| panic!("{stack}: parameter {name} has no default and no value"));
        if let Some(allowed) = declared["AllowedValues"].as_array() {
            assert!(
                allowed.iter().any(|a| scalar(a) == scalar(&value)),
                "{stack}: {name}={value} is not among {allowed:?}"
            );
        }
        out.insert(name.clone(), value);
    }
    assert!(
        overrides.is_empty(),
        "{stack}: no such parameters {:?}",
        overrides.keys()
    );
    out
}

/// The Conditions section, each condition once, after those it names.
fn conditions(
    body: &Value,
    parameters: &BTreeMap<String, Value>,
    stack: &str,
) -> BTreeMap<String, bool> {
    let declared = body["Conditions"].as_object().cloned().unwrap_or_default();
    let mut done = BTreeMap::new();
    let no_resources = BTreeMap::new();
    while done.len() < declared.len() {
        let before = done.len();
        for (name, expression) in &declared {
            if done.contains_key(name) {
                continue;
            }
            let mut named = Vec::new();
            condition_names(expression, &mut named);
            if named.iter().all(|n| done.contains_key(n)) {
                let scope = Scope {
                    stack_name: stack,
                    parameters,
                    conditions: &done,
                    mappings: &body["Mappings"],
                    resources: &no_resources,
                };
                let value = scope.truth(expression);
                done.insert(name.clone(), value);
            }
        }
        assert!(done.len() > before, "{stack}: circular conditions");
    }
    done
}

fn condition_names(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Array(items) => items.iter().for_each(|v| condition_names(v, out)),
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("Condition", Value::String(name)) => out.push(name.clone()),
                    _ => condition_names(v, out),
                }
            }
        }
        _ => {}
    }
}

/// A SAM function: its environment, and an inbox per SNS event source.
async fn function(config: &SdkConfig, name: &str, globals: &Value, props: &Value) -> Function {
    let mut f = Function::default();
    for vars in [
        &globals["Environment"]["Variables"],
        &props["Environment"]["Variables"],
    ] {
        for (k, v) in vars.as_object().into_iter().flatten() {
            f.environment.insert(k.clone(), scalar(v));
        }
    }
    for (event, source) in props["Events"].as_object().into_iter().flatten() {
        let properties = &source["Properties"];
        match source["Type"].as_str() {
            Some("SNS") => {
                let inbox = create::queue(config, &format!("{name}-{event}"), &json!({})).await;
                let mut subscription = properties.clone();
                subscription["Protocol"] = json!("sqs");
                subscription["Endpoint"] = json!(inbox.attributes["Arn"]);
                create::subscription(config, &subscription).await;
                f.sns_inboxes.insert(event.clone(), inbox.reference);
            }
            Some("Schedule") | Some("ScheduleV2") => {
                let input = properties["Input"]
                    .as_str()
                    .map(|s| serde_json::from_str(s).expect("a schedule's Input is JSON"))
                    .unwrap_or(Value::Null);
                f.schedules.insert(event.clone(), input);
            }
            _ => {}
        }
    }
    f
}
