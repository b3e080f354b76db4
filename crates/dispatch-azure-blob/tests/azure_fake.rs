//! The archive against the Blob service fake (crates/vendor-fakes/src/azure_blob.rs), for what
//! Azurite cannot do: Azure's 503 `ServerBusy` and 500 `InternalError` (with `Retry-After`) are
//! retried until the blobs are written; a Shared Key made with the wrong account key is refused
//! with 403 `AuthenticationFailed` and dead-lettered saying so, nothing written; a replay with a
//! fresh ledger is answered 409 `BlobAlreadyExists` and counted as delivered, nothing rewritten.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use costwatch_dispatch::dispatcher::{Dispatcher, Incoming, Verdict};
use costwatch_dispatch::retry::RetryPolicy;
use costwatch_dispatch::{Integration, Message, entry};
use costwatch_dispatch_azure_blob::AzureBlob;
use costwatch_store::LakeWriter;
use costwatch_store::memory::{MemoryLake, MemoryState};
use costwatch_vendor_fakes::azure_blob::{ACCOUNT, ACCOUNT_KEY, AzureBlobService, Busy};
use costwatch_vendor_fakes::server::FakeServer;
use serde_json::json;
use tokio::time::Instant;

const CONTAINER: &str = "costwatch-archive";

async fn archive(server: &FakeServer, lake: &MemoryLake, key: &str) -> Verdict {
    let integration = entry::<AzureBlob>()
        .load(json!({"destinations": {"archive": {
            "account": ACCOUNT,
            "container": CONTAINER,
            "account_key": key,
        }}}))
        .unwrap();
    // A fresh ledger each time: a replay must be stopped by Azure, not by the ledger.
    let state = MemoryState::new();
    let d = Dispatcher::builder(integration, &state)
        .lake(Some(lake))
        .endpoint(Some(url::Url::parse(&server.url()).unwrap()))
        .retry(RetryPolicy {
            max_attempts: 3,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        })
        .build()
        .await
        .unwrap();
    let n = costwatch_core::samples::of_kind("report");
    let batch = [Incoming {
        message_id: "m-1".into(),
        body: serde_json::to_string(&n).unwrap(),
    }];
    let deadline = Instant::now() + Duration::from_secs(30);
    d.dispatch(&batch, Utc::now(), deadline).await.remove(0).1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_answers_are_retried_a_wrong_key_is_refused_and_a_replay_writes_nothing() {
    let fake = Arc::new(AzureBlobService::new());
    let server = FakeServer::start(fake.clone()).await;
    let lake = MemoryLake::new();
    let report = costwatch_core::samples::of_kind("report");
    let keys = AzureBlob::objects(Message::One(&report));
    for key in &keys {
        lake.put(key, format!("first {key}").into_bytes())
            .await
            .unwrap();
    }
    let statuses = || -> Vec<Option<u16>> { server.log().iter().map(|(_, s)| *s).collect() };

    // Another account's key: Azure cannot verify the signature.
    let wrong = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmcta2V5LXdyb25nLWtleQ==";
    let Verdict::Dead { reason } = archive(&server, &lake, wrong).await else {
        panic!("a refused key is dead-lettered")
    };
    assert!(
        reason.contains("403") && reason.contains("AuthenticationFailed"),
        "{reason}"
    );
    assert!(!reason.contains(wrong));
    assert_eq!(statuses(), [Some(403)], "refused once, not retried");
    assert_eq!(fake.blobs(CONTAINER), None, "nothing made");

    // The service is busy, then fails internally: both are retried (Retry-After: 0).
    fake.fail_next(&[Busy::ServerBusy, Busy::InternalError]);
    assert_eq!(archive(&server, &lake, ACCOUNT_KEY).await, Verdict::Done);
    let mut expected = vec![Some(403), Some(503), Some(500), Some(201)];
    expected.extend(keys.iter().map(|_| Some(201)));
    assert_eq!(statuses(), expected);
    let blobs = fake.blobs(CONTAINER).unwrap();
    assert_eq!(blobs.len(), keys.len());
    for key in &keys {
        assert_eq!(blobs[key].data, format!("first {key}").into_bytes());
    }

    // The lake changes and the envelope is replayed: Azure keeps the first blobs.
    for key in &keys {
        lake.put(key, format!("second {key}").into_bytes())
            .await
            .unwrap();
    }
    assert_eq!(archive(&server, &lake, ACCOUNT_KEY).await, Verdict::Done);
    let replay: Vec<Option<u16>> = statuses()[expected.len()..].to_vec();
    assert_eq!(
        replay,
        vec![Some(409); 1 + keys.len()],
        "container and every blob exist"
    );
    assert_eq!(fake.blobs(CONTAINER).unwrap(), blobs, "nothing rewritten");
}
