//! The behaviour every adapter of a port must show, written once as generic async functions and
//! run against each adapter: memory and local in contract.rs, AWS (on moto) in aws.rs. Each
//! contract takes an `open` function returning a handle; adapters that persist hand back a fresh
//! one, so every check after a write also proves the write was stored.

use std::sync::Arc;

use chrono::{NaiveDate, TimeDelta, TimeZone, Utc};
use costwatch_core::notification::{ScopeRef, TestFigures};
use costwatch_core::{
    DailyCost, Money, Notification, NotificationBody, Scope, ScopeKind, Severity, State,
};
use costwatch_store::{
    Clock, LakeReader, LakeWriter, ManualClock, NotificationBus, RollupRow, RollupStore,
    SecretStore, StateStore, StoreError,
};
use secrecy::ExposeSecret;
use serde_json::json;

pub fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, d).unwrap()
}

pub fn cost(cents: i64) -> DailyCost {
    DailyCost {
        usage: Money::new(cents, 2),
        ..Default::default()
    }
}

pub fn assert_invalid_key<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) {
    assert!(
        matches!(result, Err(StoreError::InvalidKey(..))),
        "{what}: {result:?}"
    );
}

pub async fn lake_contract<L: LakeWriter + LakeReader>(open: impl Fn() -> Arc<L>) {
    let p0 = "curated/daily/dt=2026-01-02/part-0.json";
    let p1 = "curated/daily/dt=2026-01-02/part-1.json";
    let q0 = "curated/daily/dt=2026-01-03/part-0.json";
    let raw = "raw/ce/2026-01-02.json";

    assert_eq!(open().get(p0).await.unwrap(), None);
    assert_eq!(open().list("").await.unwrap(), Vec::<String>::new());

    let lake = open();
    for key in [q0, raw, p1, p0] {
        lake.put(key, key.as_bytes().to_vec()).await.unwrap();
    }
    lake.put(p0, b"second".to_vec()).await.unwrap();
    lake.put("empty", Vec::new()).await.unwrap();

    let lake = open();
    assert_eq!(
        lake.get(p0).await.unwrap().as_deref(),
        Some(&b"second"[..]),
        "put overwrites"
    );
    assert_eq!(lake.get("empty").await.unwrap(), Some(Vec::new()));
    assert_eq!(
        lake.get("curated/daily").await.unwrap(),
        None,
        "a folder is not an object"
    );
    assert_eq!(
        lake.list("").await.unwrap(),
        vec![p0, p1, q0, "empty", raw],
        "recursive, sorted"
    );
    assert_eq!(
        lake.list("curated/daily/dt=2026-01-02/").await.unwrap(),
        vec![p0, p1]
    );
    assert_eq!(
        lake.list("curated/daily/dt=2026-01").await.unwrap(),
        vec![p0, p1, q0],
        "partial segment"
    );
    assert_eq!(
        lake.list("curated/daily/dt=2026-01-02").await.unwrap(),
        vec![p0, p1]
    );
    assert_eq!(lake.list("nothing/").await.unwrap(), Vec::<String>::new());

    lake.delete_prefix("curated/daily/dt=2026-01-02/")
        .await
        .unwrap();
    lake.delete_prefix("curated/daily/dt=2026-01-02/")
        .await
        .unwrap(); // nothing left: still fine
    let lake = open();
    assert_eq!(lake.get(p0).await.unwrap(), None);
    assert_eq!(lake.list("curated/").await.unwrap(), vec![q0]);
    assert_eq!(lake.list("").await.unwrap(), vec![q0, "empty", raw]);
    lake.put(p0, b"again".to_vec()).await.unwrap(); // a deleted partition can be rewritten
    assert_eq!(
        lake.list("curated/daily/dt=2026-01-02/").await.unwrap(),
        vec![p0]
    );

    for key in [
        "", "/abs", "a/../b", "..", "a//b", "a/", "./a", ".hidden", "a\\b",
    ] {
        assert_invalid_key(lake.put(key, Vec::new()).await, &format!("put {key:?}"));
        assert_invalid_key(lake.get(key).await, &format!("get {key:?}"));
    }
    for prefix in ["/", "/abs/", "../", "a//", "a/../"] {
        assert_invalid_key(lake.list(prefix).await, &format!("list {prefix:?}"));
        assert_invalid_key(
            lake.delete_prefix(prefix).await,
            &format!("delete {prefix:?}"),
        );
    }
    assert_invalid_key(lake.delete_prefix("").await, "delete everything");
    assert_eq!(
        open().list("").await.unwrap().len(),
        4,
        "refused deletes deleted nothing"
    );
}

pub async fn rollups_contract(open: impl Fn() -> Arc<dyn RollupStore>) {
    let web = Scope::Account("111".into());
    let ec2 = Scope::Service("Amazon EC2".into());
    let row = |scope: &Scope, d: u32, cents: i64| RollupRow {
        scope: scope.clone(),
        day: day(d),
        cost: cost(cents),
    };

    let store = open();
    assert_eq!(store.scopes().await.unwrap(), Vec::<Scope>::new());
    assert_eq!(store.day_range().await.unwrap(), None);
    assert_eq!(
        store
            .series(&Scope::Org, day(1), day(2))
            .await
            .unwrap()
            .days,
        vec![None, None]
    );

    let first = [
        row(&Scope::Org, 2, 1000),
        row(&web, 2, 400),
        row(&Scope::Org, 3, 1100),
        row(&ec2, 3, 700),
    ];
    store.replace_days(&[day(2), day(3)], &first).await.unwrap();

    let store = open();
    let org = store.series(&Scope::Org, day(1), day(4)).await.unwrap();
    assert_eq!((org.scope.clone(), org.start), (Scope::Org, day(1)));
    assert_eq!(
        org.days,
        vec![None, Some(cost(1000)), Some(cost(1100)), None],
        "missing days are None"
    );
    assert_eq!(
        store.series(&web, day(2), day(3)).await.unwrap().days,
        vec![Some(cost(400)), None]
    );
    assert_eq!(
        store.scopes().await.unwrap(),
        vec![Scope::Org, web.clone(), ec2.clone()]
    );
    assert_eq!(store.day_range().await.unwrap(), Some((day(2), day(3))));
    let every = [ScopeKind::Org, ScopeKind::Account, ScopeKind::Service];
    let all = store.all_series(day(1), day(4), &every).await.unwrap();
    let laid_out: Vec<(Scope, NaiveDate, Vec<Option<DailyCost>>)> = all
        .into_iter()
        .map(|s| (s.scope, s.start, s.days))
        .collect();
    assert_eq!(
        laid_out,
        vec![
            (
                Scope::Org,
                day(1),
                vec![None, Some(cost(1000)), Some(cost(1100)), None]
            ),
            (web.clone(), day(1), vec![None, Some(cost(400)), None, None]),
            (ec2.clone(), day(1), vec![None, None, Some(cost(700)), None]),
        ],
        "every scope with a day in the window, laid out as `series` lays it out"
    );
    let services = store
        .all_series(day(3), day(3), &[ScopeKind::Service])
        .await;
    assert_eq!(services.unwrap().len(), 1, "only the kinds asked for");
    let accounts = store
        .all_series(day(3), day(4), &[ScopeKind::Account])
        .await;
    assert_eq!(
        accounts.unwrap(),
        vec![],
        "no scope without a day in the window"
    );
    assert!(
        store
            .series(&Scope::Org, day(4), day(1))
            .await
            .unwrap()
            .is_empty(),
        "inverted range"
    );

    // Re-importing day 2: its org value changes and `web`, absent from the replay, is gone.
    let replay = [row(&Scope::Org, 2, 900)];
    store.replace_days(&[day(2)], &replay).await.unwrap();
    store.replace_days(&[day(2)], &replay).await.unwrap(); // idempotent
    let store = open();
    assert_eq!(
        store
            .series(&Scope::Org, day(2), day(3))
            .await
            .unwrap()
            .days,
        vec![Some(cost(900)), Some(cost(1100))],
        "day 3 untouched"
    );
    assert_eq!(
        store.series(&web, day(2), day(2)).await.unwrap().days,
        vec![None]
    );
    assert_eq!(store.scopes().await.unwrap(), vec![Scope::Org, ec2.clone()]);

    // A row outside the replaced days is refused and changes nothing.
    assert_invalid_key(
        store.replace_days(&[day(2)], &[row(&web, 5, 1)]).await,
        "row outside days",
    );
    assert_eq!(open().day_range().await.unwrap(), Some((day(2), day(3))));

    // Replacing a day with nothing empties it; an unrelated empty day is a no-op.
    store.replace_days(&[day(3), day(9)], &[]).await.unwrap();
    let store = open();
    assert_eq!(store.day_range().await.unwrap(), Some((day(2), day(2))));
    assert_eq!(store.scopes().await.unwrap(), vec![Scope::Org]);

    // Untagged spend is read, never stored: the organisation's less every value of the key.
    let tag = |key: &str, value: &str| Scope::Tag {
        key: key.into(),
        value: value.into(),
    };
    let tagged = [
        row(&Scope::Org, 4, 1000),
        row(&tag("team", "web"), 4, 600),
        row(&tag("team", "data"), 4, 300),
        row(&tag("env", "prod"), 4, 1000),
        row(&Scope::Org, 5, 500),
        row(&tag("env", "prod"), 5, 500),
    ];
    store
        .replace_days(&[day(4), day(5)], &tagged)
        .await
        .unwrap();
    let store = open();
    assert_eq!(
        store
            .series(&tag("team", ""), day(3), day(5))
            .await
            .unwrap(),
        costwatch_core::DailySeries {
            scope: tag("team", ""),
            start: day(3),
            days: vec![None, Some(cost(100)), Some(cost(500))],
        },
        "a day without a `team` value is all untagged; a day without costs stays unknown"
    );
    let tags = store.all_series(day(4), day(5), &[ScopeKind::Tag]).await;
    let tags: Vec<(String, Vec<Option<DailyCost>>)> = tags
        .unwrap()
        .into_iter()
        .map(|s| (s.scope.key(), s.days))
        .collect();
    let both = |a, b| vec![Some(cost(a)), Some(cost(b))];
    assert_eq!(
        tags,
        vec![
            ("tag=env|value=".into(), both(0, 0)),
            ("tag=env|value=prod".into(), both(1000, 500)),
            ("tag=team|value=".into(), both(100, 500)),
            ("tag=team|value=data".into(), vec![Some(cost(300)), None]),
            ("tag=team|value=web".into(), vec![Some(cost(600)), None]),
        ],
        "each key's untagged series beside its values, in scope order"
    );
    assert!(
        !store
            .scopes()
            .await
            .unwrap()
            .iter()
            .any(Scope::is_unallocated),
        "nothing untagged is stored"
    );
    store.replace_days(&[day(4), day(5)], &[]).await.unwrap();
}

pub async fn state_contract<S: StateStore>(clock: &ManualClock, open: impl Fn() -> Arc<S>) {
    let store = open();
    let key = "anomaly/org/2026-01-02";
    assert_eq!(store.get(key).await.unwrap(), None);

    let err = store.put(key, json!(1), Some(1), None).await.unwrap_err();
    assert!(
        matches!(
            &err,
            StoreError::Conflict {
                expected: Some(1),
                found: None,
                ..
            }
        ),
        "update of an absent item: {err}"
    );
    assert!(err.is_retryable());
    assert_eq!(
        store.put(key, json!({"n": 1}), None, None).await.unwrap(),
        1,
        "versions start at 1"
    );

    let store = open();
    let got = store.get(key).await.unwrap().unwrap();
    assert_eq!((got.value, got.version), (json!({"n": 1}), 1));
    let err = store.put(key, json!(0), None, None).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                expected: None,
                found: Some(1),
                ..
            }
        ),
        "create-only"
    );
    assert_eq!(
        store
            .put(key, json!({"n": 2}), Some(1), None)
            .await
            .unwrap(),
        2,
        "version increments"
    );
    let err = store
        .put(key, json!({"n": 3}), Some(1), None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                expected: Some(1),
                found: Some(2),
                ..
            }
        ),
        "stale version"
    );
    assert_eq!(
        open().get(key).await.unwrap().unwrap().value,
        json!({"n": 2}),
        "loser wrote nothing"
    );

    // Expiry: live until `expires_at`, absent from then on, for reads, lists and conditions.
    let ttl = "ledger/ntf_1";
    let expires = clock.now() + TimeDelta::hours(1);
    assert_eq!(
        store
            .put(ttl, json!("sent"), None, Some(expires))
            .await
            .unwrap(),
        1
    );
    assert!(open().get(ttl).await.unwrap().is_some());
    clock.advance(TimeDelta::minutes(59));
    assert_eq!(open().list("ledger/").await.unwrap().len(), 1);
    clock.advance(TimeDelta::minutes(1));
    let store = open();
    assert_eq!(store.get(ttl).await.unwrap(), None);
    assert_eq!(store.list("ledger/").await.unwrap(), vec![]);
    let err = store.put(ttl, json!("x"), Some(1), None).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { found: None, .. }),
        "expired reads as absent: {err}"
    );
    let recreated = store.put(ttl, json!("again"), None, None).await.unwrap();
    assert_eq!(
        recreated, 2,
        "recreating an expired item continues its version count"
    );

    // Listing: by prefix, sorted by key, any characters in keys.
    for k in [
        "anomaly/svc=EC2|acct=1",
        "anomaly/org/2026-01-01",
        "budget/monthly",
        "anomalyx",
        "a.b %/c",
    ] {
        store.put(k, json!(k), None, None).await.unwrap();
    }
    let store = open();
    let keys = |items: Vec<(String, costwatch_store::Versioned)>| {
        items.into_iter().map(|(k, _)| k).collect::<Vec<_>>()
    };
    assert_eq!(
        keys(store.list("anomaly/").await.unwrap()),
        vec![
            "anomaly/org/2026-01-01",
            "anomaly/org/2026-01-02",
            "anomaly/svc=EC2|acct=1"
        ]
    );
    assert_eq!(keys(store.list("a.b").await.unwrap()), vec!["a.b %/c"]);
    let all = store.list("").await.unwrap();
    assert_eq!(all.len(), 7);
    assert!(all.windows(2).all(|w| w[0].0 < w[1].0), "sorted");
    let (_, budget) = all.iter().find(|(k, _)| k == "budget/monthly").unwrap();
    assert_eq!(
        (budget.value.clone(), budget.version),
        (json!("budget/monthly"), 1)
    );
    assert_invalid_key(store.put("", json!(1), None, None).await, "empty state key");
}

pub fn test_clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 1, 2, 6, 0, 0).unwrap(),
    ))
}

pub fn envelope(subject: &str, summary: &str) -> Notification {
    Notification::new(
        subject.to_owned(),
        0,
        NotificationBody::Test(TestFigures {
            message: "hello".into(),
        }),
        Severity::Info,
        State::Open,
        "Test".into(),
        summary.into(),
        ScopeRef::new(&Scope::Org, None),
        Utc.with_ymd_and_hms(2026, 1, 2, 6, 0, 0).unwrap(),
    )
}

pub async fn bus_contract(bus: &dyn NotificationBus, published: impl Fn() -> Vec<Notification>) {
    let a = envelope("sub_a", "first");
    let a_again = envelope("sub_a", "redelivered");
    let b = envelope("sub_b", "other");
    assert_eq!(a.id, a_again.id);
    bus.publish(&a).await.unwrap();
    bus.publish(&b).await.unwrap();
    bus.publish(&a_again).await.unwrap();
    let mut got = published();
    got.sort_by(|x, y| x.id.cmp(&y.id));
    let mut want = vec![a_again, b];
    want.sort_by(|x, y| x.id.cmp(&y.id));
    assert_eq!(got, want, "one envelope per id, the latest publish kept");
}

pub const WEBHOOK: &str = "https://hooks.example/T000/B000/XXXXXXXX";
pub const TOKEN: &str = "tok-9f8e7d6c";

/// Expects `slack-webhook` = WEBHOOK and `api_token` = TOKEN, and no `pagerduty`.
pub async fn secrets_contract<S: SecretStore + std::fmt::Debug>(store: &S) {
    let webhook = store.get("slack-webhook").await.unwrap();
    assert_eq!(webhook.expose_secret(), WEBHOOK);
    assert_eq!(store.get("api_token").await.unwrap().expose_secret(), TOKEN);

    let err = store.get("pagerduty").await.unwrap_err();
    assert!(
        matches!(&err, StoreError::SecretNotFound(name) if name == "pagerduty"),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "secret `pagerduty` not found");
    assert!(!err.is_retryable());

    for shown in [
        format!("{webhook:?}"),
        format!("{store:?}"),
        format!("{err:?}"),
    ] {
        assert!(
            !shown.contains(WEBHOOK) && !shown.contains(TOKEN),
            "secret in Debug: {shown}"
        );
    }
}
