//! A local HTTP endpoint speaking the AWS JSON 1.1 protocol from a script, for calls moto does
//! not serve or cannot fail the way AWS does (Cost Explorer's LimitExceededException). Each
//! request takes the next reply; every request is recorded, so a test can count them.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};

use costwatch_store::aws::sdk::aws_config::SdkConfig;

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    /// Sent as `x-amzn-ErrorType` when set, as AWS does beside `__type`.
    pub error_type: Option<String>,
}

impl Reply {
    /// 200 with a recorded response body.
    pub fn ok(body: impl Into<String>) -> Reply {
        Reply {
            status: 200,
            body: body.into(),
            error_type: None,
        }
    }

    /// An AWS JSON 1.1 error: HTTP `status`, body `{"__type": "<namespace>#<code>", "Message": …}`.
    pub fn error(status: u16, namespace: &str, code: &str, message: &str) -> Reply {
        let body = format!(
            "{{\"__type\":\"{namespace}#{code}\",\"Message\":{}}}",
            json_string(message)
        );
        Reply {
            status,
            body,
            error_type: Some(code.to_owned()),
        }
    }

    /// What Cost Explorer answers when asked too fast: HTTP 400, LimitExceededException.
    pub fn ce_limit_exceeded() -> Reply {
        Reply::error(
            400,
            "com.amazonaws.ce",
            "LimitExceededException",
            "Rate limit exceeded",
        )
    }
}

/// A request as received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `X-Amz-Target`, e.g. `AWSInsightsIndexService.GetCostAndUsage`.
    pub target: Option<String>,
    pub body: String,
}

pub struct AwsJsonFake {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl AwsJsonFake {
    /// Serves `script` in order; past its end every request gets a 500 naming the overrun.
    pub fn start(script: Vec<Reply>) -> AwsJsonFake {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fake");
        let addr = listener.local_addr().expect("local address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        let mut script = VecDeque::from(script);
        // Detached: it lives as long as the test process, which is one test under nextest.
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let Some(request) = receive(&stream) else {
                    continue;
                };
                log.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(request);
                let reply = script.pop_front().unwrap_or_else(|| {
                    Reply::error(500, "costwatch.fake", "ScriptExhausted", "no reply left")
                });
                let _ = answer(stream, &reply);
            }
        });
        AwsJsonFake { addr, requests }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// SDK configuration pointing at this endpoint, with dummy keys.
    pub async fn sdk_config(&self) -> SdkConfig {
        costwatch_store::aws::emulator_config(&self.url(), "us-east-1").await
    }
}

fn receive(stream: &TcpStream) -> Option<Recorded> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut length = 0;
    let mut target = None;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            } else if name.eq_ignore_ascii_case("x-amz-target") {
                target = Some(value.trim().to_owned());
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Recorded {
        target,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn answer(mut stream: TcpStream, reply: &Reply) -> std::io::Result<()> {
    let reason = match reply.status {
        200 => "OK",
        400 => "Bad Request",
        429 => "Too Many Requests",
        _ => "Error",
    };
    let mut head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: application/x-amz-json-1.1\r\n\
         x-amzn-RequestId: 00000000-0000-4000-8000-000000000000\r\n\
         Content-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reply.body.len()
    );
    if let Some(kind) = &reply.error_type {
        head.push_str(&format!("x-amzn-ErrorType: {kind}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(reply.body.as_bytes())?;
    stream.flush()
}

/// A JSON string literal for `text` (quotes, backslashes and control characters escaped).
fn json_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
