//! `[storage]`: where the engine keeps its data (a directory, or memory only).

use std::path::PathBuf;

use daxlite_engine::Backend;

use super::error::ConfigError;
use super::section::section;

section! {
    /// `[storage]` as written in the file, the environment or flags.
    pub struct RawStorage { section: "storage", env_prefix: "" }
    {
        /// Keep everything in memory. Flag `--in-memory` (DynamoDB Local: `-inMemory`).
        in_memory: bool = false;
        /// Where the data file lives. Flag `--data-dir` (DynamoDB Local: `-dbPath`).
        data_dir: PathBuf = PathBuf::from("./daxlite-data");
    }
}

impl RawStorage {
    /// Checks the section.
    pub fn validate(&self) -> Result<Backend, ConfigError> {
        if self.in_memory() {
            return Ok(Backend::InMemory);
        }
        let dir = self.data_dir();
        if dir.as_os_str().is_empty() {
            return Err(ConfigError::setting(
                "storage.data_dir",
                "must not be empty",
            ));
        }
        Ok(Backend::Dir(dir))
    }
}
