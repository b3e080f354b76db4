//! The delivery ledger on DynamoDB (moto, real SDK): conditional writes keep two concurrent
//! claims of one delivery from both winning, and a sent delivery is never claimed again.

use chrono::{DateTime, Duration, Utc};
use costwatch_dispatch::ledger::{Claim, DeliveryState, Ledger};
use costwatch_store::aws::DynamoState;
use costwatch_testkit::moto::Moto;
use costwatch_testkit::stack::{TABLE, create_table};

#[tokio::test]
async fn claims_are_exclusive_and_sent_deliveries_stay_sent_on_dynamodb() {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    create_table(&config).await;
    let state = DynamoState::new(&config, TABLE);
    let ledger = Ledger::new(&state, Duration::minutes(6));
    let now: DateTime<Utc> = "2026-11-21T06:00:00Z".parse().unwrap();

    // Ten concurrent claims of the same delivery: exactly one is granted.
    let claims = claim_ten_at_once(&ledger, now).await;
    let granted: Vec<_> = claims
        .into_iter()
        .filter_map(|c| match c {
            Claim::Granted(t) => Some(t),
            _ => None,
        })
        .collect();
    assert_eq!(granted.len(), 1);
    ledger.sent(granted[0].clone(), now).await.unwrap();
    assert_eq!(
        ledger
            .claim("slack", "finops", "ntf_1", now + Duration::days(1))
            .await
            .unwrap(),
        Claim::AlreadySent
    );
    let entry = ledger
        .entry("slack", "finops", "ntf_1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(entry.state, DeliveryState::Sent);
    assert_eq!(entry.sent_at, Some(now));
}

async fn claim_ten_at_once(ledger: &Ledger<'_>, now: DateTime<Utc>) -> Vec<Claim> {
    let mut handles = Vec::new();
    for _ in 0..10 {
        handles.push(ledger.claim("slack", "finops", "ntf_1", now));
    }
    let mut out = Vec::new();
    // Interleaved on one task: every claim reads before any writes win or lose.
    let results = join_all(handles).await;
    for r in results {
        out.push(r.unwrap());
    }
    out
}

async fn join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, out) in pinned.iter_mut().zip(outputs.iter_mut()) {
            if out.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *out = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(|o| o.expect("ready")).collect()
}
