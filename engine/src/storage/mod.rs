//! Storage on redb: the tables of the on-disk layout (documented in `engine/FORMAT.md`),
//! MVCC read snapshots, and one writer thread that groups concurrent writes into one
//! commit (group commit: one fsync for many acknowledged writes).

mod fault;
pub mod items;
mod layout;
mod memory;
pub mod page_cache;
pub mod positions;
#[cfg(test)]
pub(crate) mod powerloss;
#[cfg(test)]
mod powerloss_tests;
pub mod seeded;
pub mod tokens;
mod writer;

use std::sync::Arc;

use redb::{Database, ReadTransaction};

use crate::wire::ApiResult;

pub use fault::{internal, OpenError};
pub use layout::{
    u64_from as layout_u64, BACKUPS, BACKUP_ITEMS, CATALOG, EXPORTS, FORMAT_VERSION, IMPORTS,
    INDEX_ENTRIES, ITEMS, META, PITR_JOURNAL, STATS, STREAMS, STREAM_BYTES, STREAM_RECORDS, TTL,
};
pub use redb::{ReadableTable, ReadableTableMetadata, WriteTransaction};
pub use writer::Writer;

/// redb's page cache in memory mode (its default, 1 GiB, suits files on disk).
const IN_MEMORY_CACHE_BYTES: usize = 2 << 20;

/// Where the data lives.
#[derive(Debug, Clone)]
pub enum Backend {
    /// A redb file `daxlite.redb` in this directory (created if missing).
    Dir(std::path::PathBuf),
    /// Nothing on disk; gone when the process ends.
    InMemory,
    /// A simulated disk that can lose power (tests only: `powerloss`).
    #[cfg(test)]
    Simulated(powerloss::Disk),
}

/// The opened store: a database handle for reads and the writer for writes.
#[derive(Clone)]
pub struct Store {
    db: Arc<Database>,
    writer: Writer,
    feed: crate::changes::Feed,
}

impl Store {
    /// Opens the store on `backend`; `page_cache_bytes` sizes redb's page cache for a
    /// data file on disk (0: to the machine, see [`page_cache`]).
    pub fn open(backend: &Backend, page_cache_bytes: u64) -> Result<Store, OpenError> {
        let db = match backend {
            // redb's page cache would hold a second copy of pages the in-memory backend
            // already holds: keep it small (the upper B-tree levels), so RSS follows the data.
            Backend::InMemory => Database::builder()
                .set_cache_size(IN_MEMORY_CACHE_BYTES)
                .create_with_backend(memory::SparseMemory::new())
                .map_err(OpenError::InMemory)?,
            Backend::Dir(dir) => {
                std::fs::create_dir_all(dir).map_err(|source| OpenError::CreateDir {
                    dir: dir.clone(),
                    source,
                })?;
                let file = dir.join("daxlite.redb");
                Database::builder()
                    .set_cache_size(page_cache::bytes(page_cache_bytes))
                    .create(&file)
                    .map_err(|source| OpenError::Open { file, source })?
            }
            #[cfg(test)]
            Backend::Simulated(disk) => Database::builder()
                .create_with_backend(disk.clone())
                .map_err(OpenError::InMemory)?,
        };
        let durable = match backend {
            #[cfg(test)]
            Backend::Simulated(disk) => !disk.seeded_skip_fsync(),
            _ => !seeded::skip_fsync(),
        };
        layout::initialise(&db)?;
        let db = Arc::new(db);
        let feed = crate::changes::Feed::default();
        let writer = Writer::start(db.clone(), feed.clone(), durable);
        Ok(Store { db, writer, feed })
    }

    /// A consistent snapshot for reading; it never blocks and is never blocked by writes.
    pub fn read(&self) -> ApiResult<ReadTransaction> {
        self.db.begin_read().map_err(internal)
    }

    /// Runs `f` inside the next group commit and answers once the commit is durable.
    /// `f` must make all its checks before its first write: an `Err` from `f` must leave
    /// the transaction untouched, because other requests share it.
    pub async fn write<R, F>(&self, f: F) -> ApiResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&WriteTransaction) -> ApiResult<R> + Send + 'static,
    {
        self.writer.submit(f).await
    }

    /// The change feed: every committed item write's table and key.
    pub fn changes(&self) -> tokio::sync::broadcast::Receiver<crate::changes::Changes> {
        self.feed.subscribe()
    }

    /// Stops the writer after the writes already submitted.
    pub fn close(&self) {
        self.writer.stop();
    }

    pub fn path_is_in_memory(backend: &Backend) -> bool {
        matches!(backend, Backend::InMemory)
    }
}

#[cfg(test)]
mod tests;
