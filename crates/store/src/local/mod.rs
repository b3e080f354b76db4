//! Local-filesystem adapters under a data directory. They assume a single process owns the
//! directory: writes are atomic (temporary file + rename) and conditional state writes are
//! serialised by an in-process lock, but nothing coordinates two processes.

mod bus;
mod lake;
mod rollups;
mod secrets;
mod source;
mod state;

pub use bus::LocalBus;
pub use lake::LocalLake;
pub use rollups::LocalRollups;
pub use secrets::LocalSecrets;
pub use source::LocalCostSource;
pub use state::LocalState;

use std::ffi::OsString;
use std::path::PathBuf;

/// Environment variable that moves the data directory.
pub const DATA_DIR_ENV: &str = "COSTWATCH_DATA_DIR";

/// `$COSTWATCH_DATA_DIR` if set and non-empty, else `./.costwatch`.
pub fn default_data_dir() -> PathBuf {
    data_dir_from(std::env::var_os(DATA_DIR_ENV))
}

fn data_dir_from(env: Option<OsString>) -> PathBuf {
    match env {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(".costwatch"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_the_default_data_dir() {
        assert_eq!(data_dir_from(None), PathBuf::from(".costwatch"));
        assert_eq!(data_dir_from(Some("".into())), PathBuf::from(".costwatch"));
        assert_eq!(
            data_dir_from(Some("/srv/cw".into())),
            PathBuf::from("/srv/cw")
        );
    }
}
