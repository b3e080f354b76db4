//! Canned Cost Explorer answers in moto (`POST /moto-api/static/ce/cost-and-usage-results`).
//! moto hands the queued results out in order, one per distinct GetCostAndUsage request body,
//! and answers a repeated body with the result it gave it before; a page's `NextPageToken`
//! makes the next page's request a new body, so pages are queued in the order they are asked.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::moto::Moto;

/// Queues `results`, a JSON array of GetCostAndUsage responses (wire JSON).
pub fn queue_cost_and_usage(moto: &Moto, results: &str) {
    let body = format!("{{\"results\": {results}}}");
    let status = post(
        &moto.url(),
        "/moto-api/static/ce/cost-and-usage-results",
        &body,
    )
    .expect("queue Cost Explorer results in moto");
    assert_eq!(status, 201, "moto refused the canned Cost Explorer results");
}

/// A bare HTTP/1.0 POST with a JSON body, returning the status code.
pub(crate) fn post(url: &str, path: &str, body: &str) -> std::io::Result<u16> {
    let host = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "POST {path} HTTP/1.0\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let head = String::from_utf8_lossy(&response);
    head.split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad HTTP answer: {head:.80}")))
}
