//! The archive against Azurite (the real Blob service emulator, started per test) with the lake on
//! moto, through the real dispatcher: a report envelope's three files and the curated cost records
//! of its day are read from S3 and written as blobs, the container made on first use, the access
//! tier set; a weekly report adds the curated records of its seven days, writing none a daily
//! report already archived; a replay with a fresh ledger writes nothing (If-None-Match: *,
//! "already exists" counts as delivered); an envelope that is not a report sends nothing at all.

use std::time::{Duration, SystemTime};

use chrono::Utc;
use costwatch_core::archive::{CURATED_CONTENT_TYPE, curated_keys, report_keys};
use costwatch_core::notification::{ReportFigures, ReportPeriod};
use costwatch_core::{Notification, NotificationBody};
use costwatch_dispatch::dispatcher::{Dispatcher, Incoming, Verdict};
use costwatch_dispatch::{Configured, entry};
use costwatch_dispatch_azure_blob::AzureBlob;
use costwatch_dispatch_azure_blob::blob::API_VERSION;
use costwatch_dispatch_azure_blob::shared_key::{Signed, authorization};
use costwatch_store::LakeWriter;
use costwatch_store::aws::S3Lake;
use costwatch_store::memory::MemoryState;
use costwatch_testkit::azurite::{ACCOUNT, ACCOUNT_KEY, Azurite};
use costwatch_testkit::moto::Moto;
use costwatch_testkit::stack::{BUCKET, create_bucket};
use serde_json::json;
use tokio::time::Instant;

const CONTAINER: &str = "costwatch-reports";
const PREFIX: &str = "acme/";

fn integration(azurite: &Azurite, container: &str) -> Box<dyn Configured> {
    entry::<AzureBlob>()
        .load(json!({
            "destinations": {"archive": {
                "account": ACCOUNT,
                "endpoint": azurite.blob_endpoint(),
                "container": container,
                "prefix": PREFIX,
                "access_tier": "Cool",
                "account_key": ACCOUNT_KEY,
            }},
            "allow_hosts": ["127.0.0.1"],
        }))
        .unwrap()
}

fn report() -> Notification {
    costwatch_core::samples::of_kind("report")
}

/// Every lake key a report archives, with the content type its blob gets: the report's three
/// files, then the curated records of each of its days.
fn archived(figures: &ReportFigures) -> Vec<(String, &'static str)> {
    report_keys(figures)
        .into_iter()
        .map(|(file, key)| (key, file.content_type()))
        .chain(
            curated_keys(figures)
                .into_iter()
                .map(|k| (k, CURATED_CONTENT_TYPE)),
        )
        .collect()
}

fn incoming(n: &Notification) -> Vec<Incoming> {
    vec![Incoming {
        message_id: "m-1".into(),
        body: serde_json::to_string(n).unwrap(),
    }]
}

async fn dispatch(integration: Box<dyn Configured>, lake: &S3Lake, n: &Notification) -> Verdict {
    // A fresh ledger each time: the replay must be stopped by Azure, not by our ledger.
    let state = MemoryState::new();
    let dispatcher = Dispatcher::builder(integration, &state)
        .lake(Some(lake))
        .build()
        .await
        .unwrap();
    let verdicts = dispatcher
        .dispatch(
            &incoming(n),
            Utc::now(),
            Instant::now() + Duration::from_secs(60),
        )
        .await;
    verdicts.into_iter().next().unwrap().1
}

/// GET with Shared Key, as an independent reader of what Azurite holds.
async fn get(azurite: &Azurite, path: &str) -> reqwest::Response {
    let method = reqwest::Method::GET;
    let url = url::Url::parse(&format!("{}/{path}", azurite.blob_endpoint())).unwrap();
    let ms = [
        ("x-ms-date", httpdate::fmt_http_date(SystemTime::now())),
        ("x-ms-version", API_VERSION.to_owned()),
    ];
    let signed = Signed {
        method: method.as_str(),
        url: &url,
        content_length: 0,
        content_type: None,
        if_none_match: None,
        ms_headers: &ms,
    };
    let auth = authorization(ACCOUNT, ACCOUNT_KEY, &signed).unwrap();
    let mut request = costwatch_store::outbound::http_client_builder()
        .build()
        .unwrap()
        .get(url)
        .header("authorization", auth);
    for (name, value) in &ms {
        request = request.header(*name, value);
    }
    request.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_is_archived_once_and_a_replay_writes_nothing() {
    let azurite = Azurite::start();
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    create_bucket(&config).await;
    let lake = S3Lake::new(&config, BUCKET);
    let n = report();
    let NotificationBody::Report(figures) = &n.body else {
        panic!("not a report")
    };
    let keys = archived(figures);
    assert_eq!(
        keys.len(),
        4,
        "a daily report: three files and its day's curated records"
    );
    for (key, _) in &keys {
        lake.put(key, format!("first {key}").into_bytes())
            .await
            .unwrap();
    }

    assert_eq!(
        dispatch(integration(&azurite, CONTAINER), &lake, &n).await,
        Verdict::Done
    );
    for (key, content_type) in &keys {
        let blob = get(&azurite, &format!("{CONTAINER}/{PREFIX}{key}")).await;
        assert_eq!(blob.status(), 200, "{key}");
        assert_eq!(blob.headers()["content-type"], *content_type, "{key}");
        let body = blob.text().await.unwrap();
        assert_eq!(body, format!("first {key}"));
    }

    // List Blobs shows each blob's access tier (Get Blob does not).
    let listing = get(
        &azurite,
        &format!("{CONTAINER}?restype=container&comp=list&prefix={PREFIX}"),
    )
    .await
    .text()
    .await
    .unwrap();
    for (key, _) in &keys {
        assert!(
            listing.contains(&format!("<Name>{PREFIX}{key}</Name>")),
            "{listing}"
        );
    }
    assert_eq!(
        listing.matches("<AccessTier>Cool</AccessTier>").count(),
        keys.len(),
        "{listing}"
    );

    // The lake's files change (a re-run); the archive keeps what it first received.
    for (key, _) in &keys {
        lake.put(key, format!("second {key}").into_bytes())
            .await
            .unwrap();
    }
    assert_eq!(
        dispatch(integration(&azurite, CONTAINER), &lake, &n).await,
        Verdict::Done,
        "a replay is delivered, not an error"
    );
    for (key, _) in &keys {
        let blob = get(&azurite, &format!("{CONTAINER}/{PREFIX}{key}")).await;
        assert_eq!(
            blob.text().await.unwrap(),
            format!("first {key}"),
            "{key} was overwritten"
        );
    }

    // The week ending the same day: its files, and the curated records of its seven days —
    // the day the daily report archived keeps its first blob, the six others are written.
    let mut weekly = n.clone();
    weekly.id = format!("{}-weekly", n.id);
    let NotificationBody::Report(f) = &mut weekly.body else {
        panic!("not a report")
    };
    f.period = ReportPeriod::Weekly;
    f.start = f.end - chrono::Days::new(6);
    let week = archived(f);
    assert_eq!(week.len(), 3 + 7);
    for (key, _) in &week {
        lake.put(key, format!("weekly {key}").into_bytes())
            .await
            .unwrap();
    }
    assert_eq!(
        dispatch(integration(&azurite, CONTAINER), &lake, &weekly).await,
        Verdict::Done
    );
    let daily: Vec<&String> = keys.iter().map(|(k, _)| k).collect();
    for (key, _) in &week {
        let blob = get(&azurite, &format!("{CONTAINER}/{PREFIX}{key}")).await;
        let first = if daily.contains(&key) {
            "first"
        } else {
            "weekly"
        };
        assert_eq!(
            blob.text().await.unwrap(),
            format!("{first} {key}"),
            "{key}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_report_file_is_retried_and_other_kinds_send_nothing() {
    let azurite = Azurite::start();
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    create_bucket(&config).await;
    let lake = S3Lake::new(&config, BUCKET);

    // Nothing in the lake yet: retried later, nothing written.
    let verdict = dispatch(integration(&azurite, "waiting"), &lake, &report()).await;
    assert!(
        matches!(&verdict, Verdict::Retry { reason, .. } if reason.contains("report.html")),
        "{verdict:?}"
    );
    assert_eq!(
        get(&azurite, "waiting?restype=container").await.status(),
        404
    );

    // An anomaly has nothing to archive: done, and no container is made.
    let anomaly = costwatch_core::samples::of_kind("anomaly");
    assert_eq!(
        dispatch(integration(&azurite, "untouched"), &lake, &anomaly).await,
        Verdict::Done
    );
    assert_eq!(
        get(&azurite, "untouched?restype=container").await.status(),
        404
    );
}

/// events/dispatch-azure-blob/sqs.json is what `sam local invoke` feeds the function: its report
/// is archived, its anomaly acknowledged without a request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_sqs_event_archives_its_report() {
    let azurite = Azurite::start();
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    create_bucket(&config).await;
    let lake = S3Lake::new(&config, BUCKET);
    let event: serde_json::Value = serde_json::from_str(&costwatch_testkit::repo_file(
        "events/dispatch-azure-blob/sqs.json",
    ))
    .unwrap();
    let batch: Vec<Incoming> = event["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| Incoming {
            message_id: r["messageId"].as_str().unwrap().to_owned(),
            body: r["body"].as_str().unwrap().to_owned(),
        })
        .collect();
    let envelopes: Vec<Notification> = batch
        .iter()
        .map(|m| serde_json::from_str(&m.body).unwrap())
        .collect();
    let reports: Vec<_> = envelopes
        .iter()
        .filter_map(|n| match &n.body {
            NotificationBody::Report(f) => Some(archived(f)),
            _ => None,
        })
        .collect();
    assert_eq!(reports.len(), 1, "the sample holds one report");
    assert!(envelopes.len() > 1, "and something that is not a report");
    for (key, _) in &reports[0] {
        lake.put(key, key.as_bytes().to_vec()).await.unwrap();
    }
    let state = MemoryState::new();
    let dispatcher = Dispatcher::builder(integration(&azurite, CONTAINER), &state)
        .lake(Some(&lake))
        .build()
        .await
        .unwrap();
    let verdicts = dispatcher
        .dispatch(&batch, Utc::now(), Instant::now() + Duration::from_secs(60))
        .await;
    assert_eq!(verdicts.len(), batch.len());
    assert!(
        verdicts.iter().all(|(_, v)| *v == Verdict::Done),
        "{verdicts:?}"
    );
    for (key, _) in &reports[0] {
        let blob = get(&azurite, &format!("{CONTAINER}/{PREFIX}{key}")).await;
        assert_eq!(blob.text().await.unwrap(), *key);
    }
}

/// An account SAS for the development account (Microsoft Learn, "Create an account SAS",
/// version 2020-12-06): blob service, container and object resources, read/write/create.
fn account_sas() -> String {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use hmac::{Hmac, KeyInit, Mac};
    let (sv, ss, srt, sp, se, spr) = (
        "2020-12-06",
        "b",
        "co",
        "rwc",
        "2099-01-01T00:00:00Z",
        "https,http",
    );
    let to_sign = format!("{ACCOUNT}\n{sp}\n{ss}\n{srt}\n\n{se}\n\n{spr}\n{sv}\n\n");
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(&STANDARD.decode(ACCOUNT_KEY).unwrap()).unwrap();
    mac.update(to_sign.as_bytes());
    let sig: String = url::form_urlencoded::byte_serialize(
        STANDARD.encode(mac.finalize().into_bytes()).as_bytes(),
    )
    .collect();
    format!("sv={sv}&ss={ss}&srt={srt}&sp={sp}&se={se}&spr={spr}&sig={sig}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sas_token_archives_too() {
    let azurite = Azurite::start();
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    create_bucket(&config).await;
    let lake = S3Lake::new(&config, BUCKET);
    let n = report();
    let NotificationBody::Report(figures) = &n.body else {
        panic!("not a report")
    };
    for (key, _) in archived(figures) {
        lake.put(&key, key.as_bytes().to_vec()).await.unwrap();
    }
    let integration = entry::<AzureBlob>()
        .load(json!({
            "destinations": {"archive": {
                "account": ACCOUNT,
                "endpoint": azurite.blob_endpoint(),
                "container": "by-sas",
                "sas_token": format!("?{}", account_sas()),
            }},
            "allow_hosts": ["127.0.0.1"],
        }))
        .unwrap();
    assert_eq!(dispatch(integration, &lake, &n).await, Verdict::Done);
    for (key, _) in archived(figures) {
        let blob = get(&azurite, &format!("by-sas/{key}")).await;
        assert_eq!(blob.text().await.unwrap(), key);
    }
}
