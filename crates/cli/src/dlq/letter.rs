//! What one dead letter is, read from its body and attributes alone (no AWS here): why it was
//! rejected, what it carries, and where it goes back to.
//!
//! Three writers put messages in costwatch's dead-letter queues:
//! - a dispatcher that gives up on an envelope (crates/dispatch/src/lambda.rs): the body is the
//!   envelope as it came off its queue, the reason in the `ErrorMessage` attribute;
//! - an integration queue's redrive policy, after 5 receives the dispatcher never answered
//!   (timeouts, crashes): the envelope, no reason attribute;
//! - the pipeline functions: a `DeadLetter` `{function, reason, event}` for an event a handler
//!   rejects (crates/lambda/src/dead_letter.rs), or Lambda's own asynchronous-invoke DLQ, whose
//!   body is the event itself with `ErrorCode`/`ErrorMessage` attributes. The event is an SNS
//!   invocation (the pipeline topic's) or, for collect, an EventBridge schedule.

use std::collections::BTreeMap;

use serde_json::Value;

/// Attributes a dead-letter writer adds; they describe the failure, not the message, so a
/// re-sent message goes without them.
pub const FAILURE_ATTRIBUTES: &[&str] = &["ErrorCode", "ErrorMessage", "Function", "RequestID"];

/// One SNS message to publish again, as it was published the first time.
#[derive(Debug, Clone, PartialEq)]
pub struct Publish {
    pub topic_arn: String,
    pub message: String,
    /// (name, data type, value), the SNS message attributes the subscriptions filter on.
    pub attributes: Vec<(String, String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    /// Back on this queue (an integration DLQ's source queue), body and attributes as they were.
    Queue(String),
    /// Published again to the topic(s) the event came from.
    Topics(Vec<Publish>),
    /// Nowhere known: why, and what to do instead. The message stays in the DLQ.
    Unknown(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Letter {
    pub reason: String,
    /// The function that rejected it, when the letter says.
    pub function: Option<String>,
    /// What it carries: an envelope's id and kind, a pipeline event's name.
    pub subject: String,
    pub origin: Origin,
}

/// A letter of an integration DLQ, whose source is the integration's queue.
pub fn integration(body: &str, attributes: &BTreeMap<String, String>, source: &str) -> Letter {
    let envelope: Option<Value> = serde_json::from_str(body).ok();
    let field = |k: &str| {
        envelope
            .as_ref()
            .and_then(|e| e.get(k))
            .and_then(Value::as_str)
    };
    let subject = match (field("id"), field("kind")) {
        (Some(id), Some(kind)) => format!("{kind} envelope {id}"),
        _ => "not a notification envelope".to_owned(),
    };
    Letter {
        reason: reason(attributes, None).unwrap_or_else(|| {
            "no reason recorded: the queue's redrive policy moved it after 5 receives \
             without an answer (the dispatcher timed out or crashed on it each time)"
                .to_owned()
        }),
        function: attributes.get("Function").cloned(),
        subject,
        origin: Origin::Queue(source.to_owned()),
    }
}

/// A letter of the pipeline DLQ: its SNS messages go back to their topic when it is one of the
/// stack's `topics`.
pub fn pipeline(body: &str, attributes: &BTreeMap<String, String>, topics: &[&str]) -> Letter {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    // A handler's own DeadLetter wraps the event; Lambda's DLQ holds the event itself.
    let (event, function, written) = match &parsed {
        Some(v) if v.get("event").is_some() && v.get("reason").is_some() => (
            v.get("event"),
            v.get("function").and_then(Value::as_str).map(str::to_owned),
            v.get("reason").and_then(Value::as_str).map(str::to_owned),
        ),
        Some(v) => (Some(v), None, None),
        None => (None, None, None),
    };
    let function = function.or_else(|| attributes.get("Function").cloned());
    let (subject, origin) = match event {
        Some(event) => from_event(event, topics),
        None => (
            "not JSON".to_owned(),
            Origin::Unknown("the body is not JSON: no event to send back".to_owned()),
        ),
    };
    Letter {
        reason: reason(attributes, written).unwrap_or_else(|| "no reason recorded".to_owned()),
        function,
        subject,
        origin,
    }
}

/// The reason a writer recorded: the body's own, else the attributes' (Lambda's DLQ also
/// gives an error code).
fn reason(attributes: &BTreeMap<String, String>, written: Option<String>) -> Option<String> {
    written.or_else(|| {
        let message = attributes.get("ErrorMessage")?;
        Some(match attributes.get("ErrorCode") {
            Some(code) if code != "Rejected" => format!("{message} (error code {code})"),
            _ => message.clone(),
        })
    })
}

fn from_event(event: &Value, topics: &[&str]) -> (String, Origin) {
    if event.get("source").and_then(Value::as_str) == Some("aws.events") {
        let kind = event
            .get("detail-type")
            .and_then(Value::as_str)
            .unwrap_or("EventBridge event");
        return (
            kind.to_owned(),
            Origin::Unknown(format!(
                "a {kind}: no queue or topic to send it back to; the next scheduled run does its \
                 work (collect resumes from its watermark), or invoke the function with it \
                 (`aws lambda invoke`)"
            )),
        );
    }
    let Some(records) = event.get("Records").and_then(Value::as_array) else {
        return (
            "unknown event".to_owned(),
            Origin::Unknown("neither an SNS nor an EventBridge event".to_owned()),
        );
    };
    let mut publishes = Vec::new();
    let mut names = Vec::new();
    for (i, record) in records.iter().enumerate() {
        let Some(sns) = record.get("Sns") else {
            return (
                "unknown event".to_owned(),
                Origin::Unknown(format!("Records[{i}] is not an SNS message")),
            );
        };
        let text = |k: &str| sns.get(k).and_then(Value::as_str).unwrap_or_default();
        let (topic, message) = (text("TopicArn"), text("Message"));
        if !topics.contains(&topic) {
            return (
                "unknown event".to_owned(),
                Origin::Unknown(format!(
                    "Records[{i}] came from {topic:?}, not one of the stack's topics"
                )),
            );
        }
        let mut attributes = Vec::new();
        if let Some(map) = sns.get("MessageAttributes").and_then(Value::as_object) {
            for (name, value) in map {
                let kind = value
                    .get("Type")
                    .and_then(Value::as_str)
                    .unwrap_or("String");
                let Some(v) = value.get("Value").and_then(Value::as_str) else {
                    continue;
                };
                if kind == "Binary" {
                    return (
                        "unknown event".to_owned(),
                        Origin::Unknown(format!(
                            "Records[{i}] has a binary attribute {name}, which costwatch never sends"
                        )),
                    );
                }
                attributes.push((name.clone(), kind.to_owned(), v.to_owned()));
            }
        }
        names.push(
            serde_json::from_str::<Value>(message)
                .ok()
                .and_then(|m| m.get("event").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_else(|| "SNS message".to_owned()),
        );
        publishes.push(Publish {
            topic_arn: topic.to_owned(),
            message: message.to_owned(),
            attributes,
        });
    }
    if publishes.is_empty() {
        return (
            "empty event".to_owned(),
            Origin::Unknown("an SNS event without records".to_owned()),
        );
    }
    (names.join(", "), Origin::Topics(publishes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:costwatch-PipelineTopic";

    fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn sns_event(topic: &str) -> Value {
        json!({"Records": [{"EventSource": "aws:sns", "Sns": {
            "TopicArn": topic,
            "Message": "{\"event\":\"AggregatesUpdated\",\"days\":[],\"as_of\":\"2026-03-01\"}",
            "MessageAttributes": {"event": {"Type": "String", "Value": "AggregatesUpdated"}}}}]})
    }

    #[test]
    fn a_handlers_dead_letter_goes_back_to_its_topic_with_its_attributes() {
        let body = json!({"function": "detect", "reason": "bad day", "event": sns_event(TOPIC)});
        let letter = pipeline(
            &body.to_string(),
            &attrs(&[("ErrorMessage", "bad day")]),
            &[TOPIC],
        );
        assert_eq!(letter.reason, "bad day");
        assert_eq!(letter.function.as_deref(), Some("detect"));
        assert_eq!(letter.subject, "AggregatesUpdated");
        let p = match letter.origin {
            Origin::Topics(p) => p,
            other => panic!("{other:?}"),
        };
        assert_eq!(p[0].topic_arn, TOPIC);
        assert!(p[0].message.contains("AggregatesUpdated"));
        assert_eq!(
            p[0].attributes,
            vec![("event".into(), "String".into(), "AggregatesUpdated".into())]
        );
    }

    #[test]
    fn lambdas_own_dlq_gives_the_event_and_the_reason_in_attributes() {
        let letter = pipeline(
            &sns_event(TOPIC).to_string(),
            &attrs(&[("ErrorCode", "200"), ("ErrorMessage", "Task timed out")]),
            &[TOPIC],
        );
        assert_eq!(letter.reason, "Task timed out (error code 200)");
        assert!(matches!(letter.origin, Origin::Topics(_)));
    }

    #[test]
    fn a_schedule_or_a_foreign_topic_has_no_known_source() {
        let schedule = json!({"source": "aws.events", "detail-type": "Scheduled Event"});
        let letter = pipeline(&schedule.to_string(), &attrs(&[]), &[TOPIC]);
        assert_eq!(letter.reason, "no reason recorded");
        assert!(matches!(&letter.origin, Origin::Unknown(w) if w.contains("next scheduled run")));
        let foreign = sns_event("arn:aws:sns:us-east-1:999999999999:other");
        let letter = pipeline(&foreign.to_string(), &attrs(&[]), &[TOPIC]);
        assert!(matches!(&letter.origin, Origin::Unknown(w) if w.contains("not one of")));
        let letter = pipeline("not json", &attrs(&[]), &[TOPIC]);
        assert!(matches!(letter.origin, Origin::Unknown(_)));
    }

    #[test]
    fn an_envelope_goes_back_to_its_queue_with_or_without_a_reason() {
        let body = json!({"id": "anomaly:1", "kind": "anomaly"}).to_string();
        let given = integration(
            &body,
            &attrs(&[
                ("ErrorCode", "Rejected"),
                ("ErrorMessage", "finops: 404 channel_not_found"),
                ("Function", "slack"),
            ]),
            "https://q/slack",
        );
        assert_eq!(given.reason, "finops: 404 channel_not_found");
        assert_eq!(given.subject, "anomaly envelope anomaly:1");
        assert_eq!(given.origin, Origin::Queue("https://q/slack".into()));
        let moved = integration(&body, &attrs(&[]), "https://q/slack");
        assert!(moved.reason.contains("redrive policy"), "{}", moved.reason);
    }
}
