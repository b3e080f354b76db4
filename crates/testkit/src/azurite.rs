//! An Azurite Blob service of our own, per test: `azurite-blob` from `COSTWATCH_AZURITE` (set
//! by `make test`, which installs the pinned npm package into `~/.cache/costwatch-azurite`),
//! in memory, on a free loopback port; ready once the port accepts connections; killed on drop.

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::moto::free_port;

/// Azurite's well-known development account and key (Microsoft's documented emulator
/// credentials, the same on every machine; not a secret).
pub const ACCOUNT: &str = "devstoreaccount1";
pub const ACCOUNT_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// Azurite 3.35 starts in ~1 s here; a slow CI machine gets thirty times that.
const READY_WITHIN: Duration = Duration::from_secs(30);

pub struct Azurite {
    child: Child,
    addr: SocketAddr,
}

/// The `azurite-blob` script: `COSTWATCH_AZURITE`, else where `make test` installs it.
fn program() -> PathBuf {
    match std::env::var_os("COSTWATCH_AZURITE") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
            .join(".cache/costwatch-azurite/node_modules/.bin/azurite-blob"),
    }
}

impl Azurite {
    /// Starts Azurite, or panics with what to do: these tests never skip.
    pub fn start() -> Azurite {
        let program = program();
        assert!(
            program.is_file(),
            "Azurite not found at {} (COSTWATCH_AZURITE); run the tests through `make test`, \
             which installs azurite 3.35 with npm into ~/.cache/costwatch-azurite and sets it",
            program.display()
        );
        let mut last_error = String::new();
        // Another process may take the port between release and Azurite's bind; Azurite then
        // exits and we try again on a new port.
        for _ in 0..3 {
            let addr = free_port();
            let child = Command::new(&program)
                .args([
                    "--blobHost",
                    "127.0.0.1",
                    "--blobPort",
                    &addr.port().to_string(),
                    "--inMemoryPersistence",
                    "--skipApiVersionCheck",
                    "--disableTelemetry",
                    "--silent",
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
            let mut azurite = Azurite { child, addr };
            match azurite.wait_ready() {
                Ok(()) => return azurite,
                Err(e) => last_error = e,
            }
        }
        panic!("Azurite did not become ready: {last_error}");
    }

    /// The Blob service URL of the development account (path style, as Azurite serves it).
    pub fn blob_endpoint(&self) -> String {
        format!("http://{}/{ACCOUNT}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                return Err(format!("Azurite exited early with {status}"));
            }
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "no listener on {} within {READY_WITHIN:?}",
                    self.addr
                ));
            }
            // Back off briefly between polls; readiness is decided by the connection.
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
