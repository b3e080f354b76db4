//! A moto server process of our own: started from a `moto_server` program on a free loopback
//! port, ready once `GET /moto-api/` answers, killed on drop. The tests start one per test
//! (`costwatch_testkit::moto`); `costwatch invoke` one per invocation. [`LocalServer`] starts
//! any such emulator (dynalite.rs).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// moto 5.2 is ready in ~2 s here; a slow CI machine gets ten times that before we give up.
pub const READY_WITHIN: Duration = Duration::from_secs(30);

/// An emulator process of our own on a loopback port, killed on drop.
pub struct LocalServer {
    child: Child,
    addr: SocketAddr,
}

impl LocalServer {
    /// Starts `command(port)` and waits until `ready(addr)`. Another process may take the port
    /// between its release and the server's bind; the server then exits and we try again on a
    /// new port.
    pub fn start(
        name: &str,
        command: impl Fn(u16) -> Command,
        ready: impl Fn(SocketAddr) -> bool,
    ) -> Result<LocalServer, String> {
        let mut last_error = String::new();
        for _ in 0..3 {
            let addr = free_port()?;
            let child = command(addr.port())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| format!("cannot start {name}: {e}"))?;
            let mut server = LocalServer { child, addr };
            match server.wait_ready(name, &ready) {
                Ok(()) => return Ok(server),
                Err(e) => last_error = e,
            }
        }
        Err(format!("{name} did not become ready: {last_error}"))
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn wait_ready(&mut self, name: &str, ready: impl Fn(SocketAddr) -> bool) -> Result<(), String> {
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                return Err(format!("{name} exited early with {status}"));
            }
            if ready(self.addr) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "no answer on {} within {READY_WITHIN:?}",
                    self.addr
                ));
            }
            // Back off briefly between polls; readiness is decided by the answer, not the wait.
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// moto, ready once `GET /moto-api/` answers 200.
pub struct MotoServer(LocalServer);

impl MotoServer {
    pub fn start(program: &str) -> Result<MotoServer, String> {
        let command = |port: u16| {
            let mut c = Command::new(program);
            c.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
            c
        };
        let ready = |addr| matches!(request(addr, "GET", "/moto-api/"), Ok(200));
        LocalServer::start("moto", command, ready).map(MotoServer)
    }

    pub fn addr(&self) -> SocketAddr {
        self.0.addr()
    }

    pub fn url(&self) -> String {
        self.0.url()
    }
}

/// A loopback port free right now.
pub fn free_port() -> Result<SocketAddr, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
    listener
        .local_addr()
        .map_err(|e| format!("local address: {e}"))
}

/// A bare HTTP/1.0 request, returning the status code: enough for readiness and moto's own API
/// without an HTTP client dependency.
pub fn request(addr: SocketAddr, method: &str, path: &str) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(1))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: 0\r\n\r\n"
    )?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let head = String::from_utf8_lossy(&response);
    head.split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad HTTP answer: {head:.80}")))
}

/// Creates (or finds: CreateQueue is idempotent) the SQS queue `name` on the moto server at
/// `url` (`http://host:port`) and returns its URL. SQS's query protocol, unsigned, as moto
/// takes it: `costwatch invoke` needs queues without linking a fifth SDK client for them.
/// moto routes a request by the service in its signature's credential scope (it does not check
/// the signature); an unsigned `POST /` goes to S3 and answers ListBuckets.
const SQS_SCOPE: &str = "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/sqs/aws4_request, \
                         SignedHeaders=host, Signature=0";

pub fn create_queue(url: &str, name: &str) -> Result<String, String> {
    let host = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: not an http:// URL"))?
        .trim_end_matches('/');
    let body = format!("Action=CreateQueue&QueueName={name}&Version=2012-11-05");
    let mut stream = TcpStream::connect(host).map_err(|e| format!("{url}: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "POST / HTTP/1.0\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Authorization: {SQS_SCOPE}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| format!("{url}: {e}"))?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| format!("{url}: {e}"))?;
    let between = |open: &str, close: &str| {
        let start = response.find(open)? + open.len();
        let end = response[start..].find(close)? + start;
        Some(response[start..end].to_owned())
    };
    between("<QueueUrl>", "</QueueUrl>")
        .ok_or_else(|| format!("sqs:CreateQueue {name} on {url}: {response:.300}"))
}
