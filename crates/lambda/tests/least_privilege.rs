//! Least privilege, kept true: every Allow statement of a function's or role's identity policy in
//! template.yaml and templates/dispatcher.yaml whose Resource holds a wildcard has a row in
//! docs/deploying.md's "Wildcards that remain" table saying why, and every row there names such
//! a statement (a row cannot outlive the wildcard it excuses). Resource policies (the KMS key's,
//! the topics', the bucket's) are left out: their `*` is the resource they are attached to.

use std::collections::BTreeSet;

use costwatch_testkit::repo_file;
use costwatch_testkit::template::Template;
use serde_json::Value;

/// Identity policies of `resource`: a SAM function's `Policies`, a role's `Policies`, a managed
/// policy's `PolicyDocument`.
fn identity_policies(resource: &Value) -> Option<&Value> {
    let props = &resource["Properties"];
    match resource["Type"].as_str()? {
        "AWS::Serverless::Function" | "AWS::IAM::Role" => props.get("Policies"),
        "AWS::IAM::ManagedPolicy" | "AWS::IAM::Policy" => props.get("PolicyDocument"),
        _ => None,
    }
}

/// Every statement (an object with `Effect` and `Action`) below `v`, through `Fn::If` and lists.
fn statements<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(o) if o.contains_key("Effect") && o.contains_key("Action") => out.push(v),
        Value::Object(o) => o.values().for_each(|x| statements(x, out)),
        Value::Array(a) => a.iter().for_each(|x| statements(x, out)),
        _ => {}
    }
}

fn holds_wildcard(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('*'),
        Value::Object(o) => o.values().any(holds_wildcard),
        Value::Array(a) => a.iter().any(holds_wildcard),
        _ => false,
    }
}

/// `template: Logical Sid` for each wildcard Allow statement.
fn wildcard_statements(file: &str) -> BTreeSet<String> {
    let template = Template::load(file);
    let mut found = BTreeSet::new();
    let resources = template.body["Resources"].as_object().expect("Resources");
    for (logical, resource) in resources {
        let Some(policies) = identity_policies(resource) else {
            continue;
        };
        let mut all = Vec::new();
        statements(policies, &mut all);
        for statement in all {
            if statement["Effect"] == "Allow" && holds_wildcard(&statement["Resource"]) {
                let sid = statement["Sid"].as_str().unwrap_or_else(|| {
                    panic!("{file}: {logical}: a wildcard statement needs a Sid")
                });
                found.insert(format!("{file}: {logical} {sid}"));
            }
        }
    }
    found
}

/// The first cells of the table under `## Wildcards that remain`, code spans removed.
fn documented() -> BTreeSet<String> {
    let doc = repo_file("docs/deploying.md");
    let section = doc
        .split("\n## ")
        .find(|s| s.starts_with("Wildcards that remain"))
        .expect("docs/deploying.md has a `## Wildcards that remain` section");
    section
        .lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("|---") && !l.starts_with("| where"))
        .map(|l| {
            l.split('|')
                .nth(1)
                .unwrap()
                .replace('`', "")
                .trim()
                .to_owned()
        })
        .collect()
}

#[test]
fn every_wildcard_grant_is_documented_with_its_reason_and_no_row_is_stale() {
    let mut in_templates = wildcard_statements("template.yaml");
    in_templates.extend(wildcard_statements("templates/dispatcher.yaml"));
    assert!(
        in_templates
            .iter()
            .any(|s| s.contains("CollectFunction CostExplorer")),
        "the walk found none of the known wildcards: {in_templates:?}"
    );
    let in_docs = documented();
    let undocumented: Vec<_> = in_templates.difference(&in_docs).collect();
    let stale: Vec<_> = in_docs.difference(&in_templates).collect();
    assert!(
        undocumented.is_empty() && stale.is_empty(),
        "wildcard statements without a row in docs/deploying.md: {undocumented:#?}\n\
         rows naming no wildcard statement: {stale:#?}"
    );
}
