//! One resource of a template, created on moto through the SDK from its evaluated
//! `Properties`: what `Ref` and `Fn::GetAtt` then answer for it. Only what moto serves is
//! created; the harness stands in for the rest (see `stand_in`).

use costwatch_store::aws::sdk::aws_config::SdkConfig;
use costwatch_store::aws::sdk::aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use costwatch_store::aws::sdk::aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, BucketVersioningStatus,
    ExpirationStatus, LifecycleExpiration, LifecycleRule, LifecycleRuleFilter,
    NoncurrentVersionExpiration, Transition, TransitionStorageClass, VersioningConfiguration,
};
use costwatch_store::aws::sdk::{aws_sdk_dynamodb, aws_sdk_sns};
use serde_json::Value;

use super::eval::{ACCOUNT_ID, Physical, REGION, scalar};
use crate::stack::s3;

/// A property as an integer (CloudFormation accepts `30` and `"30"` alike).
fn int(value: &Value) -> i32 {
    scalar(value)
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {value}"))
}

/// A property as CloudFormation hands it to an API attribute: JSON for objects and lists.
fn attribute(value: &Value) -> String {
    match value {
        Value::Object(_) | Value::Array(_) => value.to_string(),
        other => scalar(other),
    }
}

pub async fn bucket(config: &SdkConfig, name: &str, props: &Value) -> Physical {
    let name = props["BucketName"].as_str().unwrap_or(name).to_lowercase();
    let s3 = s3(config);
    s3.create_bucket().bucket(&name).send().await.unwrap();
    if props["VersioningConfiguration"]["Status"] == "Enabled" {
        s3.put_bucket_versioning()
            .bucket(&name)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    if let Some(rules) = props["LifecycleConfiguration"]["Rules"].as_array() {
        let rules = rules.iter().map(lifecycle_rule).collect();
        s3.put_bucket_lifecycle_configuration()
            .bucket(&name)
            .lifecycle_configuration(
                BucketLifecycleConfiguration::builder()
                    .set_rules(Some(rules))
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    }
    let arn = format!("arn:aws:s3:::{name}");
    Physical {
        reference: name.clone(),
        attributes: [
            ("Arn".into(), arn),
            ("DomainName".into(), format!("{name}.s3.amazonaws.com")),
        ]
        .into(),
        any_attribute: false,
    }
}

/// CloudFormation's `Rule` shape → S3's. The rule's prefix becomes a filter (S3's own `Prefix`
/// is deprecated); a rule without one applies to the whole bucket.
fn lifecycle_rule(rule: &Value) -> LifecycleRule {
    let mut expiration = None;
    if let Some(days) = rule.get("ExpirationInDays") {
        expiration = Some(LifecycleExpiration::builder().days(int(days)).build());
    }
    if rule["ExpiredObjectDeleteMarker"] == true {
        expiration = Some(
            LifecycleExpiration::builder()
                .expired_object_delete_marker(true)
                .build(),
        );
    }
    let transitions = rule["Transitions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            Transition::builder()
                .storage_class(TransitionStorageClass::from(
                    t["StorageClass"].as_str().unwrap(),
                ))
                .days(int(&t["TransitionInDays"]))
                .build()
        })
        .collect::<Vec<_>>();
    let mut builder = LifecycleRule::builder()
        .set_id(rule["Id"].as_str().map(str::to_owned))
        .status(ExpirationStatus::from(rule["Status"].as_str().unwrap()))
        .filter(
            LifecycleRuleFilter::builder()
                .prefix(rule["Prefix"].as_str().unwrap_or_default())
                .build(),
        )
        .set_expiration(expiration);
    if !transitions.is_empty() {
        builder = builder.set_transitions(Some(transitions));
    }
    if let Some(days) = rule["NoncurrentVersionExpiration"].get("NoncurrentDays") {
        builder = builder.noncurrent_version_expiration(
            NoncurrentVersionExpiration::builder()
                .noncurrent_days(int(days))
                .build(),
        );
    }
    if let Some(days) = rule["AbortIncompleteMultipartUpload"].get("DaysAfterInitiation") {
        builder = builder.abort_incomplete_multipart_upload(
            AbortIncompleteMultipartUpload::builder()
                .days_after_initiation(int(days))
                .build(),
        );
    }
    builder.build().unwrap()
}

fn key_schema(k: &Value) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(k["AttributeName"].as_str().unwrap())
        .key_type(KeyType::from(k["KeyType"].as_str().unwrap()))
        .build()
        .unwrap()
}

fn global_index(index: &Value) -> GlobalSecondaryIndex {
    let projection = &index["Projection"];
    let mut p = Projection::builder().projection_type(ProjectionType::from(
        projection["ProjectionType"].as_str().unwrap(),
    ));
    for name in projection["NonKeyAttributes"]
        .as_array()
        .into_iter()
        .flatten()
    {
        p = p.non_key_attributes(name.as_str().unwrap());
    }
    let mut builder = GlobalSecondaryIndex::builder()
        .index_name(index["IndexName"].as_str().unwrap())
        .projection(p.build());
    for k in index["KeySchema"].as_array().unwrap() {
        builder = builder.key_schema(key_schema(k));
    }
    builder.build().unwrap()
}

pub async fn table(config: &SdkConfig, name: &str, props: &Value) -> Physical {
    let name = props["TableName"].as_str().unwrap_or(name).to_owned();
    let dynamo = aws_sdk_dynamodb::Client::new(config);
    let mut create = dynamo.create_table().table_name(&name);
    for a in props["AttributeDefinitions"].as_array().unwrap() {
        create = create.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(a["AttributeName"].as_str().unwrap())
                .attribute_type(ScalarAttributeType::from(
                    a["AttributeType"].as_str().unwrap(),
                ))
                .build()
                .unwrap(),
        );
    }
    for k in props["KeySchema"].as_array().unwrap() {
        create = create.key_schema(key_schema(k));
    }
    for index in props["GlobalSecondaryIndexes"]
        .as_array()
        .into_iter()
        .flatten()
    {
        create = create.global_secondary_indexes(global_index(index));
    }
    let billing = props["BillingMode"].as_str().unwrap_or("PROVISIONED");
    let created = create
        .billing_mode(BillingMode::from(billing))
        .send()
        .await
        .unwrap();
    let ttl = &props["TimeToLiveSpecification"];
    if ttl["Enabled"] == true {
        dynamo
            .update_time_to_live()
            .table_name(&name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(ttl["AttributeName"].as_str().unwrap())
                    .enabled(true)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    }
    let arn = created.table_description.unwrap().table_arn.unwrap();
    Physical {
        reference: name,
        attributes: [("Arn".into(), arn)].into(),
        any_attribute: false,
    }
}

pub async fn topic(config: &SdkConfig, name: &str, props: &Value) -> Physical {
    let name = props["TopicName"].as_str().unwrap_or(name).to_owned();
    let mut create = aws_sdk_sns::Client::new(config).create_topic().name(&name);
    for key in ["KmsMasterKeyId", "FifoTopic", "ContentBasedDeduplication"] {
        if let Some(v) = props.get(key) {
            create = create.attributes(key, attribute(v));
        }
    }
    let arn = create.send().await.unwrap().topic_arn.unwrap();
    Physical {
        reference: arn.clone(),
        attributes: [("TopicArn".into(), arn), ("TopicName".into(), name)].into(),
        any_attribute: false,
    }
}

/// Every property but the name and tags is a queue attribute of the same name.
pub async fn queue(config: &SdkConfig, name: &str, props: &Value) -> Physical {
    use aws_sdk_sqs::types::QueueAttributeName;
    let name = props["QueueName"].as_str().unwrap_or(name).to_owned();
    let sqs = aws_sdk_sqs::Client::new(config);
    let mut create = sqs.create_queue().queue_name(&name);
    for (key, v) in props.as_object().into_iter().flatten() {
        if key != "QueueName" && key != "Tags" {
            create = create.attributes(QueueAttributeName::from(key.as_str()), attribute(v));
        }
    }
    let url = create.send().await.unwrap().queue_url.unwrap();
    let arn = queue_arn(config, &url).await;
    Physical {
        reference: url,
        attributes: [("Arn".into(), arn), ("QueueName".into(), name)].into(),
        any_attribute: false,
    }
}

pub async fn queue_arn(config: &SdkConfig, url: &str) -> String {
    use aws_sdk_sqs::types::QueueAttributeName;
    aws_sdk_sqs::Client::new(config)
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()
        .remove(&QueueAttributeName::QueueArn)
        .unwrap()
}

/// An `AWS::SNS::Subscription`, or the subscription SAM makes for a function's SNS event
/// (the same properties: TopicArn/Topic, Protocol, Endpoint, FilterPolicy, ...).
///
/// moto 5.2.5 refuses a top-level `$or` filter policy ("too complex": it multiplies the value
/// counts of all branches, 640 for the dispatchers' policy, where SNS adds them, 22), so such a
/// policy becomes one subscription per branch, to the same queue. That delivers exactly what SNS
/// would only when no message can match two branches; the harness checks the branches are
/// disjoint (a key they share with no value in common) and refuses the policy otherwise.
pub async fn subscription(config: &SdkConfig, props: &Value) -> Physical {
    let mut arns = Vec::new();
    for (branch, policy) in split_or(props.get("FilterPolicy")).into_iter().enumerate() {
        let mut one = props.clone();
        if let Some(policy) = policy {
            one["FilterPolicy"] = policy;
        }
        if branch > 0 {
            one["Endpoint"] = Value::String(distinct_for_moto(&one, branch));
        }
        arns.push(subscribe(config, &one).await);
    }
    Physical {
        reference: arns.swap_remove(0),
        ..Physical::default()
    }
}

/// The endpoint of a second (third, ...) `$or` branch's subscription, spelled so that moto keeps
/// it apart: moto, like SNS, answers a repeated (topic, protocol, endpoint) subscription with the
/// first one. Its SQS delivery reads only the region and the queue name from the ARN, so the
/// branch is written into the partition field, which nothing on moto's SQS path reads.
fn distinct_for_moto(props: &Value, branch: usize) -> String {
    let endpoint = scalar(&props["Endpoint"]);
    assert_eq!(
        scalar(&props["Protocol"]),
        "sqs",
        "the harness splits a `$or` filter policy only for SQS subscriptions"
    );
    let mut fields: Vec<&str> = endpoint.splitn(3, ':').collect();
    let partition = format!("{}-or-branch-{branch}", fields[1]);
    fields[1] = &partition;
    fields.join(":")
}

/// The policy as it is, or one policy per `$or` branch (each with the policy's other keys).
fn split_or(policy: Option<&Value>) -> Vec<Option<Value>> {
    let Some(policy) = policy else {
        return vec![None];
    };
    let Some(branches) = policy.get("$or").and_then(Value::as_array) else {
        return vec![Some(policy.clone())];
    };
    let mut base = policy.as_object().unwrap().clone();
    base.remove("$or");
    let split: Vec<Value> = branches
        .iter()
        .map(|branch| {
            let mut one = base.clone();
            one.extend(branch.as_object().unwrap().clone());
            Value::Object(one)
        })
        .collect();
    for (i, a) in split.iter().enumerate() {
        for b in &split[i + 1..] {
            assert!(
                disjoint(a, b),
                "the harness cannot split this $or filter policy: a message could match both {a} and {b}"
            );
        }
    }
    split.into_iter().map(Some).collect()
}

/// Whether some key takes plain string values in both policies, none in common.
fn disjoint(a: &Value, b: &Value) -> bool {
    let strings = |v: &Value| -> Option<Vec<String>> {
        v.as_array()?
            .iter()
            .map(|x| x.as_str().map(str::to_owned))
            .collect()
    };
    a.as_object().unwrap().iter().any(|(key, values)| {
        match (strings(values), b.get(key).and_then(strings)) {
            (Some(x), Some(y)) => x.iter().all(|v| !y.contains(v)),
            _ => false,
        }
    })
}

async fn subscribe(config: &SdkConfig, props: &Value) -> String {
    let topic = props
        .get("TopicArn")
        .or_else(|| props.get("Topic"))
        .map(scalar)
        .expect("a subscription's topic");
    let mut subscribe = aws_sdk_sns::Client::new(config)
        .subscribe()
        .topic_arn(topic)
        .protocol(scalar(&props["Protocol"]))
        .endpoint(scalar(&props["Endpoint"]))
        .return_subscription_arn(true);
    for key in [
        "RawMessageDelivery",
        "FilterPolicy",
        "FilterPolicyScope",
        "RedrivePolicy",
        "DeliveryPolicy",
    ] {
        if let Some(v) = props.get(key) {
            subscribe = subscribe.attributes(key, attribute(v));
        }
    }
    subscribe.send().await.unwrap().subscription_arn.unwrap()
}

/// `AWS::SQS::QueuePolicy` / `AWS::SNS::TopicPolicy`: the policy set on each queue or topic.
pub async fn policy(config: &SdkConfig, kind: &str, props: &Value) {
    let document = props["PolicyDocument"].to_string();
    let targets = props[if kind == "AWS::SQS::QueuePolicy" {
        "Queues"
    } else {
        "Topics"
    }]
    .as_array()
    .unwrap();
    for target in targets.iter().map(scalar) {
        if kind == "AWS::SQS::QueuePolicy" {
            aws_sdk_sqs::Client::new(config)
                .set_queue_attributes()
                .queue_url(target)
                .attributes(aws_sdk_sqs::types::QueueAttributeName::Policy, &document)
                .send()
                .await
                .unwrap();
        } else {
            aws_sdk_sns::Client::new(config)
                .set_topic_attributes()
                .topic_arn(target)
                .attribute_name("Policy")
                .attribute_value(&document)
                .send()
                .await
                .unwrap();
        }
    }
}

/// What the harness answers for a resource moto does not serve or the tests do not need
/// (roles, log groups, alarms, keys, functions): a name, and an ARN-shaped value for any
/// attribute.
pub fn stand_in(kind: &str, name: &str) -> Physical {
    let service = kind.split("::").nth(1).unwrap_or("unknown").to_lowercase();
    let arn = format!("arn:aws:{service}:{REGION}:{ACCOUNT_ID}:{name}");
    Physical {
        reference: name.to_owned(),
        attributes: [("Arn".into(), arn)].into(),
        any_attribute: true,
    }
}
