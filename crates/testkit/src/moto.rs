//! A moto server of our own, per test: started from `COSTWATCH_MOTO` (set by `make test`) on a
//! free loopback port, ready once `GET /moto-api/` answers, killed on drop
//! ([`costwatch_local::moto::MotoServer`], which `costwatch invoke` starts too). One server per
//! test keeps tests independent without shared state or reset ordering between them.

use std::net::SocketAddr;

use costwatch_local::moto::{MotoServer, request};
use costwatch_store::aws::sdk::aws_config::SdkConfig;

pub struct Moto {
    server: MotoServer,
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
        let server = MotoServer::start(&program).unwrap_or_else(|e| panic!("{e}"));
        Moto { server }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    /// SDK configuration pointing at this server: explicit endpoint, region and dummy keys, so
    /// nothing is read from the process environment or instance metadata.
    pub async fn sdk_config(&self) -> SdkConfig {
        costwatch_store::aws::emulator_config(&self.url(), "us-east-1").await
    }

    /// Clears every service's state (`POST /moto-api/reset`), for a test that wants a clean
    /// server mid-way; tests start their own server, so none needs it between them.
    pub fn reset(&self) {
        let status = request(self.server.addr(), "POST", "/moto-api/reset").expect("reset moto");
        assert_eq!(status, 200, "moto reset");
    }
}

pub(crate) fn free_port() -> SocketAddr {
    costwatch_local::moto::free_port().expect("a free loopback port")
}
