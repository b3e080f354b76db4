//! A moto server of our own, per test: started from `COSTWATCH_MOTO` (set by `make test`) on a
//! free loopback port, ready once `GET /moto-api/` answers, killed on drop. One server per test
//! keeps tests independent without shared state or reset ordering between them.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use costwatch_store::aws::behavior_version;
use costwatch_store::aws::sdk::aws_config::{self, Region, SdkConfig};
use costwatch_store::aws::sdk::aws_sdk_s3::config::Credentials;

/// moto 5.2 is ready in ~2 s here; a slow CI machine gets ten times that before we give up.
const READY_WITHIN: Duration = Duration::from_secs(30);

pub struct Moto {
    child: Child,
    addr: SocketAddr,
}

impl Moto {
    /// Starts moto, or panics with what to do: these tests never skip.
    pub fn start() -> Moto {
        let program = std::env::var("COSTWATCH_MOTO").unwrap_or_default();
        assert!(
            !program.is_empty() && std::path::Path::new(&program).is_file(),
            "COSTWATCH_MOTO must name the moto_server binary (got {program:?}); \
             run the tests through `make test`, which installs moto and sets it"
        );
        // Another process may take the port between release and moto's bind; moto then exits
        // and we try again on a new port.
        let mut last_error = String::new();
        for _ in 0..3 {
            let addr = free_port();
            let child = Command::new(&program)
                .args(["-H", "127.0.0.1", "-p", &addr.port().to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
            let mut moto = Moto { child, addr };
            match moto.wait_ready() {
                Ok(()) => return moto,
                Err(e) => last_error = e,
            }
        }
        panic!("moto did not become ready: {last_error}");
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// SDK configuration pointing at this server: explicit endpoint, region and dummy keys, so
    /// nothing is read from the process environment or instance metadata.
    pub async fn sdk_config(&self) -> SdkConfig {
        aws_config::defaults(behavior_version())
            .endpoint_url(self.url())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
            .load()
            .await
    }

    /// Clears every service's state (`POST /moto-api/reset`), for a test that wants a clean
    /// server mid-way; tests start their own server, so none needs it between them.
    pub fn reset(&self) {
        let status = request(self.addr, "POST", "/moto-api/reset").expect("reset moto");
        assert_eq!(status, 200, "moto reset");
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                return Err(format!("moto exited early with {status}"));
            }
            if let Ok(200) = request(self.addr, "GET", "/moto-api/") {
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

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("local address")
}

/// A bare HTTP/1.0 request, returning the status code: enough for readiness and reset without an
/// HTTP client dependency.
fn request(addr: SocketAddr, method: &str, path: &str) -> std::io::Result<u16> {
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
