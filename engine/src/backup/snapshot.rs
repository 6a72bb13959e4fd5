//! The snapshot job of CreateBackup: copies a table's items, as one MVCC read transaction
//! saw them, into `backup_items` in chunks (each chunk one group commit, so other tables'
//! writes are never held up for long), then marks the backup AVAILABLE. CreateBackup
//! answers before the copy starts: the snapshot is taken at once and copied eagerly in
//! the background, its progress in the log and `/metrics` (`crate::progress`). The SYSTEM backup of DeleteTable copies inside the delete's commit.

use std::ops::Bound;
use std::sync::Arc;

use redb::{ReadTransaction, ReadableTable, WriteTransaction};

use super::{BackupStatus, BACKUP_ITEMS};
use crate::ctx::Ctx;
use crate::keys::table_range;
use crate::progress::Progress;
use crate::storage::ITEMS;
use crate::wire::ApiResult;

/// About this many item bytes go into one commit of a copy or a restore.
pub const CHUNK_BYTES: usize = 4 << 20;

/// Reads the next chunk of `[from, hi)` (`from` exclusive when `after`) from a snapshot.
pub fn read_chunk(
    snapshot: &ReadTransaction,
    from: &[u8],
    after: bool,
    hi: &[u8],
    table: redb::TableDefinition<&[u8], &[u8]>,
) -> ApiResult<Vec<(Vec<u8>, Vec<u8>)>> {
    let items = snapshot.open_table(table)?;
    let lower = if after {
        Bound::Excluded(from)
    } else {
        Bound::Included(from)
    };
    let mut out = Vec::new();
    let mut bytes = 0;
    for entry in items.range::<&[u8]>((lower, Bound::Excluded(hi)))? {
        let (k, v) = entry?;
        bytes += k.value().len() + v.value().len();
        out.push((k.value().to_vec(), v.value().to_vec()));
        if bytes >= CHUNK_BYTES {
            break;
        }
    }
    Ok(out)
}

/// Copies table `table_id` as `snapshot` saw it into backup `id`, then marks it AVAILABLE.
pub async fn copy(
    ctx: Arc<Ctx>,
    snapshot: ReadTransaction,
    table_id: u64,
    id: String,
) -> ApiResult<()> {
    let mut progress = Progress::start("backup", id.clone());
    let (lo, hi) = table_range(table_id);
    let mut from = lo;
    let mut after = false;
    loop {
        let chunk = read_chunk(&snapshot, &from, after, &hi, ITEMS)?;
        let Some((last, _)) = chunk.last() else { break };
        from = last.clone();
        after = true;
        let items = chunk.len() as u64;
        let bytes = chunk.iter().map(|(_, v)| v.len() as u64).sum::<u64>();
        let prefix = id.clone();
        ctx.store
            .write(move |txn| {
                let mut out = txn.open_table(BACKUP_ITEMS)?;
                for (k, v) in &chunk {
                    let mut key = prefix.as_bytes().to_vec();
                    key.extend_from_slice(k.get(8..).unwrap_or_default());
                    out.insert(key.as_slice(), v.as_slice())?;
                }
                Ok(())
            })
            .await?;
        progress.add(items, bytes);
    }
    drop(snapshot);
    let done = id.clone();
    ctx.store
        .write(move |txn| {
            if let Some(mut meta) = super::load_for_write(txn, &done)? {
                meta.status = BackupStatus::Available;
                super::save(txn, &meta)?;
            }
            Ok(())
        })
        .await?;
    progress.finish("available");
    Ok(())
}

/// Copies a table's items into backup `id` inside `txn` (the SYSTEM backup DeleteTable
/// makes in its own commit, before it drops the items).
pub fn copy_in(txn: &WriteTransaction, table_id: u64, id: &str) -> ApiResult<()> {
    let items = txn.open_table(ITEMS)?;
    let mut out = txn.open_table(BACKUP_ITEMS)?;
    let (lo, hi) = table_range(table_id);
    for entry in items.range(lo.as_slice()..hi.as_slice())? {
        let (k, v) = entry?;
        let mut key = id.as_bytes().to_vec();
        key.extend_from_slice(k.value().get(8..).unwrap_or_default());
        out.insert(key.as_slice(), v.value())?;
    }
    Ok(())
}
