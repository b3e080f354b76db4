//! `costwatch dlq redrive`: what is in the stack's dead-letter queues, with the reason, and each
//! message sent back to where it came from — an integration's envelopes to its queue, pipeline
//! events to their topic (letter.rs reads which). A message is deleted from its DLQ only after
//! the re-send succeeded; one whose source is unknown is reported and stays. Redriving twice is
//! harmless: dispatchers claim each (envelope id, destination) in the delivery ledger, so an
//! envelope re-sent twice is delivered once, and the pipeline functions replace what they write.
//!
//! The queues come from the stack's outputs (deployed.rs): every `<X>DeadLetterQueueUrl`, with
//! `<X>QueueUrl` as its source.

mod letter;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail};
use aws_sdk_sqs as sqs;
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName, QueueAttributeName};
use clap::{Args, Subcommand};
use costwatch_store::aws::aws_error;
use costwatch_store::aws::sdk::aws_sdk_sns as sns;
use serde::Serialize;

use crate::deployed::{self, Stack, StackArgs, same_label, sdk_config};
use letter::{FAILURE_ATTRIBUTES, Letter, Origin};

/// How long the messages read stay hidden from other readers while the run lasts; each one is
/// released (made visible again) at the end unless it was re-sent and deleted.
const HOLD_SECONDS: i32 = 300;

#[derive(Args)]
pub struct DlqArgs {
    #[command(subcommand)]
    command: DlqCommand,
}

#[derive(Subcommand)]
enum DlqCommand {
    /// Show each dead letter with its reason and send it back to its source: an integration's
    /// queue, or the topic a pipeline event came from. Deleted from the DLQ only once re-sent.
    Redrive(RedriveArgs),
}

#[derive(Args)]
pub struct RedriveArgs {
    #[command(flatten)]
    stack: StackArgs,
    /// Only this dead-letter queue: its URL or its queue name.
    #[arg(long)]
    queue: Option<String>,
    /// Only this integration's dead-letter queue (`slack`, `pagerduty`, …), or `pipeline`.
    #[arg(long, conflicts_with = "queue")]
    integration: Option<String>,
    /// Show what would be sent back; send, delete and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Send back at most N messages in all (those without a known source do not count).
    #[arg(long)]
    max: Option<usize>,
}

/// One dead-letter queue of the stack.
#[derive(Debug, Serialize)]
struct Queue {
    label: String,
    url: String,
    /// The integration queue its messages go back to (none for the pipeline's).
    source: Option<String>,
    /// ApproximateNumberOfMessages before the run.
    messages: Option<u64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "snake_case")]
enum Action {
    Redriven,
    WouldRedrive,
    /// No known source: it stays in the DLQ.
    Left,
    /// The re-send or the delete failed: see `error`.
    Failed,
}

#[derive(Debug, Serialize)]
struct Row {
    queue: String,
    message_id: String,
    subject: String,
    reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    function: Option<String>,
    /// Where it goes (or would go) back to.
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<String>,
    action: Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

pub async fn dlq(args: DlqArgs, json: bool) -> Result<()> {
    match args.command {
        DlqCommand::Redrive(args) => redrive(args, json).await,
    }
}

struct Clients {
    sqs: sqs::Client,
    sns: sns::Client,
}

async fn redrive(args: RedriveArgs, json: bool) -> Result<()> {
    let sdk = sdk_config(args.stack.profile.as_deref()).await;
    crate::credentials::require(&sdk, "the stack's queues", "the account the stack is in").await?;
    let (name, from) = args.stack.name();
    let stack = match deployed::describe(&sdk, &name).await {
        Ok(stack) => stack,
        Err(deployed::Missing::Absent) => bail!(
            "no stack `{name}` ({from}) in {}: name the deployed one with --stack (and its region with AWS_REGION); `costwatch doctor` checks it",
            sdk.region()
                .map_or("(no region)".to_owned(), ToString::to_string)
        ),
        Err(deployed::Missing::Failed(_, e)) => bail!("DescribeStacks `{name}`: {e}"),
    };
    let clients = Clients {
        sqs: sqs::Client::new(&sdk),
        sns: sns::Client::new(&sdk),
    };
    let mut queues = select(&stack, args.queue.as_deref(), args.integration.as_deref())?;
    for queue in &mut queues {
        queue.messages = depth(&clients.sqs, &queue.url).await;
    }
    // Only letters already there when the run starts: one the dispatcher rejects again while
    // the run lasts is a new message, left for the next run instead of going round in a loop.
    let started_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(u128::MAX, |d| d.as_millis());
    let mut budget = args.max;
    let mut rows = Vec::new();
    for queue in &queues {
        let topics = stack.topics();
        rows.extend(
            one_queue(
                &clients,
                queue,
                &topics,
                args.dry_run,
                &mut budget,
                started_ms,
            )
            .await?,
        );
    }
    let count = |f: fn(&Action) -> bool| rows.iter().filter(|r| f(&r.action)).count();
    let failed = count(|a| matches!(a, Action::Failed));
    print(&stack, &queues, &rows, args.dry_run, json)?;
    if failed > 0 {
        bail!("{failed} message(s) could not be sent back; they are still in their DLQ");
    }
    Ok(())
}

/// The stack's DLQs the flags select.
fn select(stack: &Stack, queue: Option<&str>, integration: Option<&str>) -> Result<Vec<Queue>> {
    let all = stack.dead_letter_queues();
    if all.is_empty() {
        bail!(
            "stack `{}` has no *{} output: deploy this version of template.yaml (`make deploy`)",
            stack.name,
            deployed::DLQ_SUFFIX
        );
    }
    let labels = all
        .iter()
        .map(|(label, ..)| label.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let chosen: Vec<_> = all
        .iter()
        .filter(|(label, url, _)| match (queue, integration) {
            (Some(q), _) => url == q || url.rsplit('/').next() == Some(q),
            (None, Some(i)) => same_label(label, i),
            (None, None) => true,
        })
        .map(|(label, url, source)| Queue {
            label: label.clone(),
            url: url.clone(),
            source: source.clone(),
            messages: None,
        })
        .collect();
    if chosen.is_empty() {
        bail!(
            "stack `{}` has no such dead-letter queue; it has: {labels}",
            stack.name
        );
    }
    Ok(chosen)
}

async fn depth(sqs: &sqs::Client, url: &str) -> Option<u64> {
    let answer = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .ok()?;
    answer
        .attributes?
        .get(&QueueAttributeName::ApproximateNumberOfMessages)?
        .parse()
        .ok()
}

/// Reads one DLQ to its end (or the budget), acting on each letter; releases what it keeps.
async fn one_queue(
    clients: &Clients,
    queue: &Queue,
    topics: &[&str],
    dry_run: bool,
    budget: &mut Option<usize>,
    started_ms: u128,
) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    let mut seen = HashSet::new();
    let mut held = Vec::new();
    let result = async {
        while *budget != Some(0) {
            // Long polling (1 s): a short poll samples some of SQS's servers only, and an empty
            // answer would not mean an empty queue.
            let answer = clients
                .sqs
                .receive_message()
                .queue_url(&queue.url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .visibility_timeout(HOLD_SECONDS)
                .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
                .message_attribute_names("All")
                .send()
                .await
                .map_err(|e| aws_error("sqs:ReceiveMessage", e))?;
            let messages = answer.messages.unwrap_or_default();
            if messages.is_empty() {
                break;
            }
            for message in messages {
                let id = message.message_id.clone().unwrap_or_default();
                let sent_ms: Option<u128> = message
                    .attributes
                    .as_ref()
                    .and_then(|a| a.get(&MessageSystemAttributeName::SentTimestamp))
                    .and_then(|t| t.parse().ok());
                if !seen.insert(id) || *budget == Some(0) || sent_ms.is_some_and(|t| t > started_ms)
                {
                    held.push(message);
                    continue;
                }
                let row = one_letter(clients, queue, topics, &message, dry_run).await;
                if matches!(row.action, Action::Redriven | Action::WouldRedrive) {
                    *budget = budget.map(|b| b - 1);
                }
                if !matches!(row.action, Action::Redriven) {
                    held.push(message);
                }
                rows.push(row);
            }
        }
        Ok::<_, anyhow::Error>(())
    }
    .await;
    // Whatever happened above, what was read and not deleted is visible again at once.
    for message in &held {
        if let Some(handle) = &message.receipt_handle {
            let _ = clients
                .sqs
                .change_message_visibility()
                .queue_url(&queue.url)
                .receipt_handle(handle)
                .visibility_timeout(0)
                .send()
                .await;
        }
    }
    result.with_context(|| format!("reading {} ({})", queue.label, queue.url))?;
    Ok(rows)
}

async fn one_letter(
    clients: &Clients,
    queue: &Queue,
    topics: &[&str],
    message: &Message,
    dry_run: bool,
) -> Row {
    let body = message.body.as_deref().unwrap_or_default();
    let attributes: BTreeMap<String, String> = message
        .message_attributes
        .iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), v.string_value.clone()?)))
        .collect();
    let letter: Letter = match &queue.source {
        Some(source) => letter::integration(body, &attributes, source),
        None => letter::pipeline(body, &attributes, topics),
    };
    let mut row = Row {
        queue: queue.label.clone(),
        message_id: message.message_id.clone().unwrap_or_default(),
        subject: letter.subject,
        reason: letter.reason,
        function: letter.function,
        to: None,
        action: Action::Left,
        error: None,
    };
    let sent = match &letter.origin {
        Origin::Unknown(why) => {
            row.error = Some(format!("no known source, left in the DLQ: {why}"));
            return row;
        }
        Origin::Queue(url) => {
            row.to = Some(url.clone());
            if dry_run {
                row.action = Action::WouldRedrive;
                return row;
            }
            resend(&clients.sqs, url, body, message).await
        }
        Origin::Topics(publishes) => {
            row.to = Some(
                publishes
                    .iter()
                    .map(|p| p.topic_arn.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            );
            if dry_run {
                row.action = Action::WouldRedrive;
                return row;
            }
            publish(&clients.sns, publishes).await
        }
    };
    // Deleted only once it is back at its source; a failed delete leaves a copy in the DLQ,
    // which a later redrive sends again and the ledger then skips.
    let deleted = match sent {
        Ok(()) => clients
            .sqs
            .delete_message()
            .queue_url(&queue.url)
            .receipt_handle(message.receipt_handle.as_deref().unwrap_or_default())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                format!(
                    "sent back, but not deleted from the DLQ (a later redrive is harmless): {}",
                    aws_error("sqs:DeleteMessage", e)
                )
            }),
        Err(e) => Err(format!("not sent back, left in the DLQ: {e}")),
    };
    match deleted {
        Ok(()) => row.action = Action::Redriven,
        Err(e) => {
            row.action = Action::Failed;
            row.error = Some(e);
        }
    }
    row
}

/// The body back on its source queue with its own attributes (an envelope's `kind` and
/// `severity`), without the ones that describe the failure.
async fn resend(sqs: &sqs::Client, url: &str, body: &str, message: &Message) -> Result<()> {
    let attributes: HashMap<_, _> = message
        .message_attributes
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| !FAILURE_ATTRIBUTES.contains(&k.as_str()))
        .collect();
    sqs.send_message()
        .queue_url(url)
        .message_body(body)
        .set_message_attributes((!attributes.is_empty()).then_some(attributes))
        .send()
        .await
        .map_err(|e| aws_error("sqs:SendMessage", e))?;
    Ok(())
}

/// Each SNS message published again with the attributes the subscriptions filter on.
async fn publish(client: &sns::Client, publishes: &[letter::Publish]) -> Result<()> {
    for p in publishes {
        let mut request = client.publish().topic_arn(&p.topic_arn).message(&p.message);
        for (name, kind, value) in &p.attributes {
            let value = sns::types::MessageAttributeValue::builder()
                .data_type(kind)
                .string_value(value)
                .build()
                .map_err(|e| anyhow!("attribute {name}: {e}"))?;
            request = request.message_attributes(name, value);
        }
        request
            .send()
            .await
            .map_err(|e| aws_error("sns:Publish", e))?;
    }
    Ok(())
}

fn print(stack: &Stack, queues: &[Queue], rows: &[Row], dry_run: bool, json: bool) -> Result<()> {
    let count = |f: fn(&Action) -> bool| rows.iter().filter(|r| f(&r.action)).count();
    let redriven = count(|a| matches!(a, Action::Redriven));
    let would = count(|a| matches!(a, Action::WouldRedrive));
    let left = count(|a| matches!(a, Action::Left));
    let failed = count(|a| matches!(a, Action::Failed));
    if json {
        let out = serde_json::json!({
            "command": "dlq redrive",
            "stack": stack.name,
            "dry_run": dry_run,
            "queues": queues,
            "messages": rows,
            "redriven": redriven,
            "would_redrive": would,
            "left": left,
            "failed": failed,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    for queue in queues {
        let to = queue
            .source
            .as_deref()
            .unwrap_or("the topic each event came from");
        let depth = queue.messages.map_or("?".to_owned(), |n| n.to_string());
        println!(
            "{}  {}  ({depth} message(s)) → {to}",
            queue.label, queue.url
        );
        for row in rows.iter().filter(|r| r.queue == queue.label) {
            let action = match row.action {
                Action::Redriven => "redriven",
                Action::WouldRedrive => "would redrive",
                Action::Left => "LEFT",
                Action::Failed => "FAILED",
            };
            println!("  {action:13}  {}  {}", row.message_id, row.subject);
            println!("  {:13}  reason: {}", "", row.reason);
            if let Some(error) = &row.error {
                println!("  {:13}  {error}", "");
            }
        }
    }
    if dry_run {
        println!(
            "dry run: {would} would be sent back, {left} have no known source; nothing changed"
        );
    } else {
        println!(
            "{redriven} sent back and deleted, {left} left (no known source), {failed} failed"
        );
    }
    Ok(())
}
