//! The redb tables and the format version marker. `engine/FORMAT.md` describes every
//! key and value; a store written by another format version is refused at open.

use redb::{Database, Durability, ReadableTable, TableDefinition};

use super::OpenError;

/// Bump when the layout changes; a migration must then read the older version.
pub const FORMAT_VERSION: u64 = 1;

/// `"format_version"` → u64 as 8 big-endian bytes; `"next_table_id"` → u64 likewise.
pub const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// Table name → the table's definition (JSON of `catalog::TableDef`).
pub const CATALOG: TableDefinition<&str, &[u8]> = TableDefinition::new("catalog");
/// Encoded item key (table id ‖ hash prefix ‖ partition key ‖ sort key) → item size (u32 BE)
/// ‖ item JSON (`storage::items::Stored`).
pub const ITEMS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("items");
/// Secondary-index entries: table id ‖ index tag ‖ hash prefix ‖ enc(index pk) ‖
/// enc(index sk)? ‖ enc(base pk) ‖ enc(base sk)? → projected item (`items::Stored`).
pub const INDEX_ENTRIES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("index_entries");
/// Table id (8 bytes BE) → item count and total item bytes (two u64 BE); table id ‖
/// index tag (16 bytes) → the same for one secondary index.
pub const STATS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("stats");
/// Stream key (table id ‖ label) → the stream's metadata and shards (JSON of
/// `streams::store::StreamMeta`).
pub const STREAMS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("streams");
/// Stream key ‖ sequence number (u64 BE) → one stream record (JSON of
/// `streams::store::StoredRecord`).
pub const STREAM_RECORDS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("stream_records");
/// Stream key (table id ‖ label) → the bytes of that stream's retained records (u64 BE),
/// kept with every append and trim so the size cap needs no scan.
pub const STREAM_BYTES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("stream_bytes");
/// Table id (8 bytes BE) → the table's Time to Live setting (JSON of `ttl::TtlSetting`).
pub const TTL: TableDefinition<&[u8], &[u8]> = TableDefinition::new("ttl");

/// Backup id (`0` ‖ 13-digit creation ms ‖ `-` ‖ 8 hex digits) → the backup's metadata
/// and frozen table definition (JSON of `backup::BackupMeta`).
pub const BACKUPS: TableDefinition<&str, &[u8]> = TableDefinition::new("backups");
/// Backup id (23 bytes of UTF-8) ‖ item key without its table id (hash prefix ‖
/// enc(pk) ‖ enc(sk)?) → the item value as in `items`.
pub const BACKUP_ITEMS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("backup_items");
/// Point-in-time recovery journal: table id (8 BE) ‖ time ms (8 BE) ‖ sequence (8 BE) →
/// one item change (`backup::journal::Entry`). Written by `write::on_write` only while
/// the table has PITR enabled.
pub const PITR_JOURNAL: TableDefinition<&[u8], &[u8]> = TableDefinition::new("pitr_journal");

/// Export id (as a backup id) → the export's description (JSON of `export::ExportMeta`).
pub const EXPORTS: TableDefinition<&str, &[u8]> = TableDefinition::new("exports");

/// Import id (as a backup id) → the import's description (JSON of `import::ImportMeta`).
pub const IMPORTS: TableDefinition<&str, &[u8]> = TableDefinition::new("imports");

pub(super) fn initialise(db: &Database) -> Result<(), OpenError> {
    let mut txn = db.begin_write()?;
    txn.set_durability(Durability::Immediate);
    {
        let mut meta = txn.open_table(META)?;
        let existing = meta.get("format_version")?.map(|v| u64_from(v.value()));
        match existing {
            None => {
                meta.insert("format_version", FORMAT_VERSION.to_be_bytes().as_slice())?;
            }
            Some(v) if v == FORMAT_VERSION => {}
            Some(found) => {
                return Err(OpenError::FormatVersion {
                    found,
                    supported: FORMAT_VERSION,
                })
            }
        }
        txn.open_table(CATALOG)?;
        txn.open_table(ITEMS)?;
        txn.open_table(STATS)?;
        txn.open_table(INDEX_ENTRIES)?;
        txn.open_table(STREAMS)?;
        txn.open_table(STREAM_RECORDS)?;
        txn.open_table(STREAM_BYTES)?;
        txn.open_table(TTL)?;
        txn.open_table(BACKUPS)?;
        txn.open_table(BACKUP_ITEMS)?;
        txn.open_table(PITR_JOURNAL)?;
        txn.open_table(EXPORTS)?;
        txn.open_table(IMPORTS)?;
    }
    txn.commit()?;
    Ok(())
}

/// Reads a big-endian u64 from the first eight bytes (0 if shorter).
pub fn u64_from(bytes: &[u8]) -> u64 {
    bytes
        .get(..8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0)
}
