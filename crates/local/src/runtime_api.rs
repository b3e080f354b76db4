//! A Lambda Runtime API of our own, enough to drive a built function binary through its real
//! runtime loop (`lambda_runtime::run`): it hands out queued events on
//! `GET /2018-06-01/runtime/invocation/next` and records what the function posts back to
//! `.../invocation/{id}/response`, `.../invocation/{id}/error` and `.../init/error`
//! (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html). Callers wait on its
//! condition variable for the answers, never on a timer.
//!
//! One emulator for the tests (re-exported as `costwatch_testkit::runtime_api`) and for
//! `costwatch invoke`. One function process per emulator.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// What the function answered for one invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Response(String),
    Error(String),
}

#[derive(Default)]
struct State {
    queue: VecDeque<(String, String)>,
    outcomes: Vec<(String, Outcome)>,
    init_error: Option<String>,
    /// Pipes of the function process that reached end of file: at 2 (stdout and stderr) the
    /// process is gone and no answer will come.
    closed_pipes: u8,
    next_id: u64,
    /// When the function first asked for an invocation: its init was over.
    first_next: Option<Instant>,
}

#[derive(Clone, Default)]
struct Shared(Arc<(Mutex<State>, Condvar)>);

pub struct RuntimeApi {
    addr: SocketAddr,
    shared: Shared,
}

impl RuntimeApi {
    pub fn start() -> RuntimeApi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the runtime API");
        let addr = listener.local_addr().unwrap();
        let shared = Shared::default();
        let serving = shared.clone();
        // Detached: it lives as long as the process (one test under nextest, or one `invoke`).
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = serving.clone();
                std::thread::spawn(move || serve_connection(stream, &shared));
            }
        });
        RuntimeApi { addr, shared }
    }

    /// `AWS_LAMBDA_RUNTIME_API` for the function.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// Queues an invocation; returns its request id.
    pub fn invoke(&self, event: impl Into<String>) -> String {
        let (lock, cv) = &*self.shared.0;
        let mut state = lock.lock().unwrap();
        state.next_id += 1;
        let id = format!("req-{:04}", state.next_id);
        state.queue.push_back((id.clone(), event.into()));
        cv.notify_all();
        id
    }

    /// Blocks until invocation `id` is answered (or the function reported an init error, or its
    /// process exited, or `within` passed — a generous bound for a slow machine, not a
    /// synchronisation).
    pub fn outcome(&self, id: &str, within: Duration) -> Result<Outcome, String> {
        let deadline = Instant::now() + within;
        let (lock, cv) = &*self.shared.0;
        let mut state = lock.lock().unwrap();
        loop {
            if let Some((_, o)) = state.outcomes.iter().find(|(i, _)| i == id) {
                return Ok(o.clone());
            }
            if let Some(e) = &state.init_error {
                return Err(format!("init error: {e}"));
            }
            if state.closed_pipes >= 2 {
                return Err(format!("the function exited before answering {id}"));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!("no answer to {id} within {within:?}"));
            }
            state = cv.wait_timeout(state, left).unwrap().0;
        }
    }

    /// Blocks until the function first asks for an invocation (`GET …/invocation/next`: its
    /// init is done) and returns when that was; an error if it reported an init error, exited,
    /// or `within` passed.
    pub fn first_next(&self, within: Duration) -> Result<Instant, String> {
        let deadline = Instant::now() + within;
        let (lock, cv) = &*self.shared.0;
        let mut state = lock.lock().unwrap();
        loop {
            if let Some(at) = state.first_next {
                return Ok(at);
            }
            if let Some(e) = &state.init_error {
                return Err(format!("init error: {e}"));
            }
            if state.closed_pipes >= 2 {
                return Err("the function exited during its init".into());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!("no call to /next within {within:?}"));
            }
            state = cv.wait_timeout(state, left).unwrap().0;
        }
    }

    /// Starts `program` as Lambda would: the runtime API address and the variables
    /// `lambda_runtime` reads at start, plus `env`. Killed on drop of the returned guard.
    pub fn spawn(&self, program: &str, name: &str, env: &[(String, String)]) -> Function {
        let mut child = Command::new(program)
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", self.address())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/22/[$LATEST]test")
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(faked_clock())
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        // Drained from the start: a function that logs more than a pipe holds (64 KiB) would
        // otherwise block on its next log line and never answer.
        let drains = [
            child.stdout.take().map(|p| drain(p, self.shared.clone())),
            child.stderr.take().map(|p| drain(p, self.shared.clone())),
        ];
        Function {
            child: Some(child),
            drains,
        }
    }
}

/// A running function binary; [`Function::stop`] kills it and returns what it logged.
pub struct Function {
    child: Option<Child>,
    /// Readers of stdout and stderr, each collecting until the pipe closes.
    drains: [Option<std::thread::JoinHandle<Vec<u8>>>; 2],
}

/// Reads a pipe to its end (the process exited or closed it), then tells waiters.
fn drain(mut pipe: impl Read + Send + 'static, shared: Shared) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = pipe.read_to_end(&mut out);
        let (lock, cv) = &*shared.0;
        if let Ok(mut state) = lock.lock() {
            state.closed_pipes += 1;
        }
        cv.notify_all();
        out
    })
}

impl Function {
    /// The process id (for /proc/<pid>/status).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Kills the process (a Lambda runtime never exits by itself) and returns stdout + stderr.
    pub fn stop(mut self) -> String {
        let mut child = self.child.take().unwrap();
        let _ = child.kill();
        let _ = child.wait();
        let mut text = String::new();
        for reader in self.drains.iter_mut().filter_map(Option::take) {
            let out = reader.join().unwrap_or_default();
            text.push_str(&String::from_utf8_lossy(&out));
        }
        text
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

struct Request {
    method: String,
    path: String,
    body: Vec<u8>,
}

fn serve_connection(stream: TcpStream, shared: &Shared) {
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut writer = stream;
    // HTTP/1.1 keep-alive: the runtime's client reuses one connection for every call.
    while let Some(request) = read_request(&mut reader) {
        let answer = route(&request, shared);
        if writer.write_all(&answer).is_err() {
            return;
        }
    }
}

fn route(request: &Request, shared: &Shared) -> Vec<u8> {
    let path = request.path.as_str();
    let (lock, cv) = &*shared.0;
    if request.method == "GET" && path == "/2018-06-01/runtime/invocation/next" {
        let mut state = lock.lock().unwrap();
        if state.first_next.is_none() {
            state.first_next = Some(Instant::now());
            cv.notify_all();
        }
        // Long poll, as the real API does: hold the call until an event is queued.
        let (id, event) = loop {
            if let Some(next) = state.queue.pop_front() {
                break next;
            }
            state = cv.wait(state).unwrap();
        };
        drop(state);
        let deadline = deadline_ms();
        let headers = format!(
            "Lambda-Runtime-Aws-Request-Id: {id}\r\n\
             Lambda-Runtime-Deadline-Ms: {deadline}\r\n\
             Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:test\r\n\
             Lambda-Runtime-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1\r\n"
        );
        return http(200, &headers, event.as_bytes());
    }
    if request.method == "POST" && path == "/2018-06-01/runtime/init/error" {
        let mut state = lock.lock().unwrap();
        state.init_error = Some(String::from_utf8_lossy(&request.body).into_owned());
        cv.notify_all();
        return http(202, "", b"{\"status\":\"OK\"}");
    }
    if let Some(rest) = path.strip_prefix("/2018-06-01/runtime/invocation/")
        && request.method == "POST"
        && let Some((id, kind)) = rest.split_once('/')
    {
        let body = String::from_utf8_lossy(&request.body).into_owned();
        let outcome = match kind {
            "response" => Outcome::Response(body),
            "error" => Outcome::Error(body),
            _ => return http(404, "", b"{}"),
        };
        let mut state = lock.lock().unwrap();
        state.outcomes.push((id.to_owned(), outcome));
        cv.notify_all();
        return http(202, "", b"{\"status\":\"OK\"}");
    }
    http(404, "", b"{\"errorMessage\":\"unknown path\"}")
}

/// Fifteen minutes from now, in epoch milliseconds: the longest a Lambda may run.
fn deadline_ms() -> u128 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (now + Duration::from_secs(900)).as_millis()
}

fn http(status: u16, headers: &str, body: &[u8]) -> Vec<u8> {
    let reason = match status {
        200 => "OK",
        202 => "Accepted",
        _ => "Not Found",
    };
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{headers}\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut length = 0usize;
    let mut chunked = false;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            } else if name.eq_ignore_ascii_case("transfer-encoding")
                && value.trim().eq_ignore_ascii_case("chunked")
            {
                chunked = true;
            }
        }
    }
    let body = if chunked {
        read_chunked(reader)?
    } else {
        let mut body = vec![0; length];
        reader.read_exact(&mut body).ok()?;
        body
    };
    Some(Request { method, path, body })
}

fn read_chunked(reader: &mut BufReader<TcpStream>) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size).ok()?;
        let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
        if size == 0 {
            // Trailers end with an empty line.
            loop {
                let mut trailer = String::new();
                reader.read_line(&mut trailer).ok()?;
                if trailer.trim_end().is_empty() {
                    return Some(body);
                }
            }
        }
        let mut chunk = vec![0; size + 2];
        reader.read_exact(&mut chunk).ok()?;
        chunk.truncate(size);
        body.extend_from_slice(&chunk);
    }
}

/// libfaketime's variables, when the caller runs under it: a test suite run a year ahead
/// (CONTRIBUTING.md) then moves the functions' clocks with its own, where a cleared environment
/// left them on the real clock and their timestamps disagreed with the tests'. Empty otherwise.
fn faked_clock() -> Vec<(String, String)> {
    if std::env::var_os("FAKETIME").is_none() {
        return Vec::new();
    }
    std::env::vars()
        .filter(|(k, _)| k.starts_with("FAKETIME") || k == "LD_PRELOAD")
        .collect()
}
