//! A destination disabled by `410 Gone`, on DynamoDB (moto, real SDK) in the dispatcher's own
//! partition as the Lambda uses it: the record is written where the dead letter says it is, it
//! outlives the dispatcher that wrote it (a cold start builds a new one over a new client), later
//! messages are dead-lettered without a request, and deleting the item as the reason says
//! re-enables the destination.

mod support;

use std::time::Duration;

use chrono::Utc;
use costwatch_dispatch::dispatcher::{Dispatcher, Incoming, Verdict};
use costwatch_dispatch::lambda::partition;
use costwatch_dispatch::retry::RetryPolicy;
use costwatch_dispatch::{
    Integration, Message, Outcome, RateLimit, RenderContext, RenderError, VendorRequest,
    VendorResponse, classify_http, disabled, entry,
};
use costwatch_store::aws::DynamoState;
use costwatch_store::aws::sdk::aws_sdk_dynamodb::Client;
use costwatch_store::aws::sdk::aws_sdk_dynamodb::types::AttributeValue;
use costwatch_testkit::moto::Moto;
use costwatch_testkit::stack::{TABLE, create_table};
use costwatch_vendor_fakes::server::{FakeServer, Reply};
use serde_json::json;
use support::{Endpoint, Hook};
use tokio::time::Instant;

/// The framework's test webhook whose receiver may say `410 Gone`, as the custom webhook's
/// classifier does (that crate depends on this one, so its tests cannot be used here).
struct GoneHook;

impl Integration for GoneHook {
    type Config = <Hook as Integration>::Config;
    const NAME: &'static str = "hook";
    const RATE_LIMIT: RateLimit = Hook::RATE_LIMIT;
    const ALLOWED_HOSTS: &'static [&'static str] = Hook::ALLOWED_HOSTS;

    fn render(
        config: &Self::Config,
        destination: &str,
        message: Message<'_>,
        context: &RenderContext,
    ) -> Result<Vec<VendorRequest>, RenderError> {
        Hook::render(config, destination, message, context)
    }

    fn classify(_request: &VendorRequest, response: &VendorResponse) -> Outcome {
        match response.status {
            410 => Outcome::Gone(format!("HTTP 410: {}", response.snippet())),
            _ => classify_http(response),
        }
    }
}

fn batch(id: &str) -> Vec<Incoming> {
    let mut n = costwatch_core::samples::of_kind("anomaly");
    n.id = id.to_owned();
    vec![Incoming {
        message_id: id.to_owned(),
        body: serde_json::to_string(&n).unwrap(),
    }]
}

/// A dispatcher as a cold start builds it: a new SDK client and state adapter on the table.
async fn cold_start<'a>(state: &'a DynamoState, server: &FakeServer) -> Dispatcher<'a> {
    let integration = entry::<GoneHook>()
        .load(json!({"destinations": {"ops": {"webhook_url": support::url("tok")}}}))
        .unwrap();
    Dispatcher::builder(integration, state)
        .endpoint(Some(url::Url::parse(&server.url()).unwrap()))
        .retry(RetryPolicy {
            max_attempts: 2,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        })
        .build()
        .await
        .unwrap()
}

async fn dispatch_one(d: &Dispatcher<'_>, id: &str) -> Verdict {
    let deadline = Instant::now() + Duration::from_secs(30);
    let verdicts = d.dispatch(&batch(id), Utc::now(), deadline).await;
    assert_eq!(verdicts.len(), 1, "{verdicts:?}");
    verdicts.into_iter().next().unwrap().1
}

fn dead_reason(verdict: Verdict) -> String {
    match verdict {
        Verdict::Dead { reason } => reason,
        other => panic!("a dead letter expected, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gone_disables_the_destination_in_dynamodb_across_cold_starts_until_the_item_is_deleted() {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    create_table(&config).await;
    let endpoint = Endpoint::accepting("tok");
    endpoint.answer(Some(Reply::json(
        410,
        json!({"message": "endpoint deleted"}),
    )));
    let server = FakeServer::start(endpoint.clone()).await;
    let sent = || server.log().len();

    // First container: the receiver answers 410 once; the destination is disabled.
    let first_state = DynamoState::new(&config, TABLE).in_partition(partition("hook"));
    let first = cold_start(&first_state, &server).await;
    let reason = dead_reason(dispatch_one(&first, "ntf_gone_1").await);
    assert!(
        reason.contains("destination disabled") && reason.contains("HTTP 410"),
        "{reason}"
    );
    assert_eq!(sent(), 1, "410 is not retried");

    // The item is where the reason says: pk `dispatch#hook`, sk `dispatch-disabled/hook/ops`.
    let key = disabled::key("hook", "ops");
    assert!(reason.contains(&key), "{reason}");
    let dynamodb = Client::new(&config);
    let item_key = || {
        [
            ("pk".to_owned(), AttributeValue::S("dispatch#hook".into())),
            ("sk".to_owned(), AttributeValue::S(key.clone())),
        ]
    };
    let item = dynamodb
        .get_item()
        .table_name(TABLE)
        .set_key(Some(item_key().into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .expect("the disabled record is in the table");
    assert!(
        item.get("value")
            .and_then(|v| v.as_s().ok())
            .is_some_and(|v| v.contains("HTTP 410")),
        "{item:?}"
    );
    assert!(
        !item.contains_key("expires_at"),
        "a disabled destination does not expire: {item:?}"
    );

    // The receiver is back, but the record stands: a new container sends nothing.
    endpoint.answer(None);
    drop(first);
    let second_state = DynamoState::new(&config, TABLE).in_partition(partition("hook"));
    let second = cold_start(&second_state, &server).await;
    let reason = dead_reason(dispatch_one(&second, "ntf_gone_2").await);
    assert!(
        reason.contains("disabled since") && reason.contains("nothing was sent"),
        "{reason}"
    );
    assert_eq!(sent(), 1, "no request to a disabled destination");

    // Re-enabled as the reason says (delete the item): the next delivery goes through.
    dynamodb
        .delete_item()
        .table_name(TABLE)
        .set_key(Some(item_key().into()))
        .send()
        .await
        .unwrap();
    assert_eq!(dispatch_one(&second, "ntf_gone_2").await, Verdict::Done);
    assert_eq!(sent(), 2);
}
