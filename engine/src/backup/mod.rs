//! Backups and point-in-time recovery inside the engine: each backup's metadata and its
//! frozen copy of the table (the `backups` and `backup_items` redb tables), the snapshot
//! job that fills a backup from one MVCC read transaction (`snapshot`), the change journal
//! the write path keeps while PITR is on (`journal`), and the job that loads a restored
//! table from a backup or from a table plus its journal (`load`).

pub mod journal;
pub mod load;
pub mod snapshot;

use redb::{ReadTransaction, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use crate::catalog::TableDef;
use crate::storage::{internal, BACKUPS, BACKUP_ITEMS};
use crate::ttl::TtlSetting;
use crate::wire::ApiResult;

/// Length of a backup id: `0` ‖ 13-digit epoch ms ‖ `-` ‖ 8 hex digits.
pub const ID_LEN: usize = 23;

/// How long a SYSTEM backup (made when a table with PITR is deleted) is kept.
pub const SYSTEM_BACKUP_KEEP_MS: i64 = 35 * 86_400_000;

/// An id in DynamoDB's form, e.g. `01576616366715-b4e58d3a`: the digits are the creation
/// time in epoch milliseconds.
pub fn new_id(now_ms: i64) -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    let hex = random.get(..8).unwrap_or("00000000");
    format!("0{:013}-{hex}", now_ms.clamp(0, 9_999_999_999_999))
}

/// USER (CreateBackup) or SYSTEM (made by DeleteTable of a table with PITR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackupKind {
    User,
    System,
}

impl BackupKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BackupKind::User => "USER",
            BackupKind::System => "SYSTEM",
        }
    }
}

/// CREATING until the snapshot job has copied every item, then AVAILABLE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackupStatus {
    Creating,
    Available,
}

impl BackupStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BackupStatus::Creating => "CREATING",
            BackupStatus::Available => "AVAILABLE",
        }
    }
}

/// One backup as stored in `backups`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupMeta {
    pub id: String,
    pub arn: String,
    pub name: String,
    pub kind: BackupKind,
    pub status: BackupStatus,
    pub created_ms: i64,
    pub expiry_ms: Option<i64>,
    /// Item bytes and count at the snapshot (BackupSizeBytes, SourceTableDetails).
    pub size_bytes: u64,
    pub item_count: u64,
    pub table_arn: String,
    /// The table's definition at the snapshot: what a restore creates.
    pub table: TableDef,
    /// The table's TTL setting at the snapshot (shown, never restored).
    pub ttl: Option<TtlSetting>,
    /// Creation order among backups made in the same millisecond ([`next_seq`]).
    #[serde(default)]
    pub seq: u64,
}

/// The next number of the listing order shared by backups and exports (`meta`
/// `"next_listing_seq"`): lists sort by (creation time, this), so two made in the same
/// millisecond still list in the order they were made.
pub fn next_seq(txn: &WriteTransaction) -> ApiResult<u64> {
    let mut meta = txn.open_table(crate::storage::META)?;
    let current = meta
        .get("next_listing_seq")?
        .map(|v| crate::storage::layout_u64(v.value()))
        .unwrap_or(1);
    meta.insert("next_listing_seq", (current + 1).to_be_bytes().as_slice())?;
    Ok(current)
}

pub fn load(txn: &ReadTransaction, id: &str) -> ApiResult<Option<BackupMeta>> {
    let table = txn.open_table(BACKUPS)?;
    let v = table.get(id)?;
    v.map(|v| serde_json::from_slice(v.value()).map_err(internal))
        .transpose()
}

pub fn load_for_write(txn: &WriteTransaction, id: &str) -> ApiResult<Option<BackupMeta>> {
    let table = txn.open_table(BACKUPS)?;
    let v = table.get(id)?;
    v.map(|v| serde_json::from_slice(v.value()).map_err(internal))
        .transpose()
}

/// Every backup, oldest first.
pub fn list(txn: &ReadTransaction) -> ApiResult<Vec<BackupMeta>> {
    let table = txn.open_table(BACKUPS)?;
    let mut out: Vec<BackupMeta> = Vec::new();
    for entry in table.iter()? {
        let (_, v) = entry?;
        out.push(serde_json::from_slice(v.value()).map_err(internal)?);
    }
    out.sort_by_key(|m| (m.created_ms, m.seq));
    Ok(out)
}

pub fn save(txn: &WriteTransaction, meta: &BackupMeta) -> ApiResult<()> {
    let bytes = serde_json::to_vec(meta).map_err(internal)?;
    let mut table = txn.open_table(BACKUPS)?;
    table.insert(meta.id.as_str(), bytes.as_slice())?;
    Ok(())
}

/// Removes a backup and frees its copy of the items.
pub fn remove(txn: &WriteTransaction, id: &str) -> ApiResult<()> {
    txn.open_table(BACKUPS)?.remove(id)?;
    let (lo, hi) = items_range(id);
    txn.open_table(BACKUP_ITEMS)?
        .retain_in(lo.as_slice()..hi.as_slice(), |_, _| false)?;
    Ok(())
}

/// The key range of one backup's items in `backup_items`.
pub fn items_range(id: &str) -> (Vec<u8>, Vec<u8>) {
    let lo = id.as_bytes().to_vec();
    let mut hi = lo.clone();
    hi.push(0xFF);
    (lo, hi)
}

/// The id a backup ARN ends with (`…:table/<name>/backup/<id>`), if it has that form.
pub fn id_of_arn(arn: &str) -> Option<&str> {
    let (_, id) = arn.rsplit_once("/backup/")?;
    (id.len() == ID_LEN && id.starts_with('0')).then_some(id)
}

/// Drops SYSTEM backups past their expiry; returns how many.
pub fn expire(txn: &WriteTransaction, now_ms: i64) -> ApiResult<usize> {
    let expired: Vec<String> = {
        let table = txn.open_table(BACKUPS)?;
        let mut out = Vec::new();
        for entry in table.iter()? {
            let (k, v) = entry?;
            let meta: BackupMeta = serde_json::from_slice(v.value()).map_err(internal)?;
            if meta.expiry_ms.is_some_and(|at| at <= now_ms) {
                out.push(k.value().to_string());
            }
        }
        out
    };
    for id in &expired {
        remove(txn, id)?;
    }
    Ok(expired.len())
}

/// The backup ARN of backup `id` of table `table`.
pub fn arn(region: &str, account: &str, table: &str, id: &str) -> String {
    format!("arn:aws:dynamodb:{region}:{account}:table/{table}/backup/{id}")
}

/// The SYSTEM backup `<table>$DeletedTableBackup` that DeleteTable makes of a table with
/// PITR, inside its own commit (kept 35 days; AVAILABLE at once).
pub fn system_backup(
    txn: &WriteTransaction,
    def: &TableDef,
    stats: crate::catalog::Stats,
    now_ms: i64,
    region: &str,
    account: &str,
) -> ApiResult<BackupMeta> {
    let id = new_id(now_ms);
    let meta = BackupMeta {
        arn: arn(region, account, &def.name, &id),
        id,
        name: format!("{}$DeletedTableBackup", def.name),
        kind: BackupKind::System,
        status: BackupStatus::Available,
        created_ms: now_ms,
        expiry_ms: Some(now_ms + SYSTEM_BACKUP_KEEP_MS),
        size_bytes: stats.bytes,
        item_count: stats.items,
        table_arn: def.arn(region, account),
        table: def.clone(),
        ttl: crate::ttl::load_for_write(txn, def.id)?,
        seq: next_seq(txn)?,
    };
    snapshot::copy_in(txn, def.id, &meta.id)?;
    save(txn, &meta)?;
    tracing::info!(table = %def.name, backup = %meta.arn, "system backup of a deleted table");
    Ok(meta)
}

#[cfg(test)]
mod tests;
