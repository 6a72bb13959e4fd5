//! `[storage]`: where the engine keeps its data (a directory, or memory only) and how much
//! of the data file it caches.

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
        /// redb's page cache for the data file, in bytes (0: a quarter of the machine's
        /// or the cgroup's memory, at least 64 MiB). Not used with `in_memory`.
        page_cache_bytes: u64 = daxlite_engine::EngineConfig::default().page_cache_bytes;
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
