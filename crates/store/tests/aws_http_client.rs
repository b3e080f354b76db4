//! The SDK's HTTP client (reqwest behind the SDK's `HttpClient` port, src/aws/http_client.rs)
//! does what the SDK expects of a connector: it never follows a redirect, it applies the
//! config's read timeout, and it sorts transport failures so the SDK retries the right ones.
//! Against raw HTTP/1.1 listeners on loopback; the moto suites (aws*.rs) cover the exchanges
//! themselves.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use costwatch_store::aws::emulator_config;
use costwatch_store::aws::sdk::aws_config::retry::RetryConfig;
use costwatch_store::aws::sdk::aws_config::timeout::TimeoutConfig;
use costwatch_store::aws::sdk::aws_sdk_s3;
use costwatch_store::aws::sdk::aws_sdk_s3::error::SdkError;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A listener that reads each request's head and answers it with `answer` (`None`: never
/// answers), counting the requests it saw.
async fn listener(answer: Option<String>) -> (String, Arc<AtomicUsize>) {
    let socket = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", socket.local_addr().unwrap());
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = socket.accept().await.unwrap();
            let (answer, counter) = (answer.clone(), counter.clone());
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if stream.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                counter.fetch_add(1, Ordering::SeqCst);
                match answer {
                    Some(answer) => stream.write_all(answer.as_bytes()).await.unwrap(),
                    // Hold the connection open without a byte of answer.
                    None => std::future::pending::<()>().await,
                }
            });
        }
    });
    (url, seen)
}

async fn s3(url: &str, timeouts: TimeoutConfig) -> aws_sdk_s3::Client {
    let config = emulator_config(url, "us-east-1").await;
    let s3 = aws_sdk_s3::config::Builder::from(&config)
        .force_path_style(true)
        .retry_config(RetryConfig::disabled())
        .timeout_config(timeouts)
        .build();
    aws_sdk_s3::Client::from_conf(s3)
}

#[tokio::test]
async fn a_redirect_reaches_the_sdk_and_is_not_followed() {
    let (elsewhere, followed) = listener(Some(
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi".into(),
    ))
    .await;
    let (url, asked) = listener(Some(format!(
        "HTTP/1.1 301 Moved Permanently\r\nLocation: {elsewhere}/bucket/key\r\n\
         Content-Length: 0\r\n\r\n"
    )))
    .await;
    let err = s3(&url, TimeoutConfig::disabled())
        .await
        .get_object()
        .bucket("bucket")
        .key("key")
        .send()
        .await
        .expect_err("a 301 is an error to the SDK");
    let status = err.raw_response().map(|r| r.status().as_u16());
    assert_eq!(status, Some(301), "{err:?}");
    assert_eq!(asked.load(Ordering::SeqCst), 1);
    assert_eq!(
        followed.load(Ordering::SeqCst),
        0,
        "the redirect was followed"
    );
}

#[tokio::test]
async fn the_configured_read_timeout_ends_a_silent_exchange_as_a_timeout() {
    let (url, asked) = listener(None).await;
    let timeouts = TimeoutConfig::builder()
        .read_timeout(Duration::from_millis(300))
        .build();
    let call = s3(&url, timeouts)
        .await
        .get_object()
        .bucket("b")
        .key("k")
        .send();
    // The guard only keeps a broken build from hanging the suite; the read timeout ends it first.
    let err = tokio::time::timeout(Duration::from_secs(30), call)
        .await
        .expect("the read timeout ended the call")
        .expect_err("nothing was answered");
    let SdkError::DispatchFailure(failure) = &err else {
        panic!("not a dispatch failure: {err:?}");
    };
    assert!(failure.is_timeout(), "{err:?}");
    assert_eq!(asked.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_refused_connection_is_an_io_failure_the_sdk_retries() {
    // A port that was just free: nothing listens there now.
    let url = {
        let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", socket.local_addr().unwrap())
    };
    let err = s3(&url, TimeoutConfig::disabled())
        .await
        .get_object()
        .bucket("b")
        .key("k")
        .send()
        .await
        .expect_err("nothing listens");
    let SdkError::DispatchFailure(failure) = &err else {
        panic!("not a dispatch failure: {err:?}");
    };
    assert!(failure.is_io(), "{err:?}");
}
