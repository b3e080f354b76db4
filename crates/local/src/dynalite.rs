//! dynalite (npm `dynalite`), a DynamoDB server on LevelDB, in memory: what `costwatch bench
//! scale` measures DynamoDB's request units against at 1,000 accounts. moto answers every Query
//! by scanning the whole table (~2 s per Query at 198,000 items here), so a run that reads 2
//! million rollup items there does not finish in hours; dynalite reads a key range. S3 and SNS
//! stay on moto.

use std::process::Command;

use crate::moto::{LocalServer, request};

/// dynalite, ready once it answers HTTP at all. Tables are ACTIVE at once (its default keeps a
/// new table CREATING for 500 ms, and the adapters do not wait for it).
pub struct DynaliteServer(LocalServer);

impl DynaliteServer {
    /// `program`: the `dynalite` script (`node_modules/.bin/dynalite`).
    pub fn start(program: &str) -> Result<DynaliteServer, String> {
        let command = |port: u16| {
            let mut c = Command::new(program);
            c.args(["--host", "127.0.0.1", "--port", &port.to_string()]);
            c.args(["--createTableMs", "0", "--updateTableMs", "0"]);
            c
        };
        let ready = |addr| request(addr, "GET", "/").is_ok();
        LocalServer::start("dynalite", command, ready).map(DynaliteServer)
    }

    pub fn url(&self) -> String {
        self.0.url()
    }
}
