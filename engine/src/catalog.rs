//! The catalog: each table's definition as stored (`TableDef`), its lifecycle state, and
//! the reads and writes of the `catalog` and `stats` redb tables.

use redb::{ReadTransaction, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use crate::storage::{internal, CATALOG, META, STATS};
use crate::wire::{ApiError, ApiResult};

/// A key attribute type: S, N or B.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScalarType {
    S,
    N,
    B,
}

impl ScalarType {
    pub fn parse(s: &str) -> Option<ScalarType> {
        match s {
            "S" => Some(ScalarType::S),
            "N" => Some(ScalarType::N),
            "B" => Some(ScalarType::B),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ScalarType::S => "S",
            ScalarType::N => "N",
            ScalarType::B => "B",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeDef {
    pub name: String,
    pub kind: ScalarType,
}

/// A primary key: partition (HASH) attribute and optional sort (RANGE) attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySchema {
    pub hash: String,
    pub range: Option<String>,
}

impl KeySchema {
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.hash.as_str()).chain(self.range.as_deref())
    }

    /// The key as partition and sort attribute lists (no allocation).
    pub fn parts(&self) -> KeyParts<'_> {
        KeyParts {
            hash: std::slice::from_ref(&self.hash),
            range: self.range.as_slice(),
        }
    }
}

/// A borrowed view of any key — a table's, an LSI's or a (multi-attribute) GSI's — as
/// its partition and sort attributes in KeySchema order: what Query's key condition is
/// checked against.
#[derive(Debug, Clone, Copy)]
pub struct KeyParts<'a> {
    pub hash: &'a [String],
    pub range: &'a [String],
}

impl<'a> KeyParts<'a> {
    pub fn names(self) -> impl Iterator<Item = &'a str> {
        self.hash
            .iter()
            .chain(self.range.iter())
            .map(String::as_str)
    }

    /// More than one partition or sort attribute.
    pub fn is_multi(self) -> bool {
        self.hash.len() > 1 || self.range.len() > 1
    }
}

/// The most partition-key (and, separately, sort-key) attributes a GSI key may have.
pub const MAX_INDEX_KEY_PARTS: usize = 4;

/// A secondary index's key: 1–4 partition-key attributes and 0–4 sort-key attributes,
/// in KeySchema order (DynamoDB's multi-attribute GSI keys; an LSI and a single-attribute
/// GSI are the one-element case). Stored as the old `{"hash": "a", "range": "b"}` shape
/// when single, so catalogs written before multi-attribute keys read unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "IndexKeysRepr", into = "IndexKeysRepr")]
pub struct IndexKeys {
    pub hash: Vec<String>,
    pub range: Vec<String>,
}

impl IndexKeys {
    /// Every key attribute: partition attributes, then sort attributes.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.hash
            .iter()
            .chain(self.range.iter())
            .map(String::as_str)
    }

    /// The key as partition and sort attribute lists.
    pub fn parts(&self) -> KeyParts<'_> {
        KeyParts {
            hash: &self.hash,
            range: &self.range,
        }
    }

    /// The key as a table-style schema, when it is one (one HASH, at most one RANGE).
    pub fn single(&self) -> Option<KeySchema> {
        match (self.hash.as_slice(), self.range.as_slice()) {
            ([h], []) => Some(KeySchema {
                hash: h.clone(),
                range: None,
            }),
            ([h], [r]) => Some(KeySchema {
                hash: h.clone(),
                range: Some(r.clone()),
            }),
            _ => None,
        }
    }
}

impl From<&KeySchema> for IndexKeys {
    fn from(k: &KeySchema) -> Self {
        IndexKeys {
            hash: vec![k.hash.clone()],
            range: k.range.iter().cloned().collect(),
        }
    }
}

/// The stored forms of [`IndexKeys`]: the single-attribute shape every catalog before
/// multi-attribute keys holds, and lists.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum IndexKeysRepr {
    Single {
        hash: String,
        range: Option<String>,
    },
    Multi {
        hash: Vec<String>,
        range: Vec<String>,
    },
}

impl From<IndexKeysRepr> for IndexKeys {
    fn from(r: IndexKeysRepr) -> Self {
        match r {
            IndexKeysRepr::Single { hash, range } => IndexKeys {
                hash: vec![hash],
                range: range.into_iter().collect(),
            },
            IndexKeysRepr::Multi { hash, range } => IndexKeys { hash, range },
        }
    }
}

impl From<IndexKeys> for IndexKeysRepr {
    fn from(k: IndexKeys) -> Self {
        match k.single() {
            Some(s) => IndexKeysRepr::Single {
                hash: s.hash,
                range: s.range,
            },
            None => IndexKeysRepr::Multi {
                hash: k.hash,
                range: k.range,
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProjectionType {
    All,
    KeysOnly,
    Include,
}

impl ProjectionType {
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectionType::All => "ALL",
            ProjectionType::KeysOnly => "KEYS_ONLY",
            ProjectionType::Include => "INCLUDE",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Projection {
    pub kind: ProjectionType,
    pub non_key: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Throughput {
    pub read: i64,
    pub write: i64,
    pub decreases_today: i64,
    pub last_increase_ms: Option<i64>,
    pub last_decrease_ms: Option<i64>,
}

impl Throughput {
    pub fn new(read: i64, write: i64) -> Self {
        Throughput {
            read,
            write,
            decreases_today: 0,
            last_increase_ms: None,
            last_decrease_ms: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnDemand {
    pub max_read: Option<i64>,
    pub max_write: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexDef {
    pub name: String,
    pub keys: IndexKeys,
    pub projection: Projection,
    /// GSIs on provisioned tables only.
    pub throughput: Option<Throughput>,
    pub on_demand: Option<OnDemand>,
    /// A GSI added by UpdateTable is CREATING (backfilling) until this time; 0 = ACTIVE.
    #[serde(default)]
    pub active_at_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BillingMode {
    Provisioned,
    PayPerRequest,
}

impl BillingMode {
    pub fn as_str(self) -> &'static str {
        match self {
            BillingMode::Provisioned => "PROVISIONED",
            BillingMode::PayPerRequest => "PAY_PER_REQUEST",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamSpec {
    pub view_type: String,
    /// The stream's label: the ISO-8601 time it was enabled, as DynamoDB spells it.
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sse {
    pub sse_type: String,
    pub kms_key: Option<String>,
}

/// Where a table is in its life. CREATING and UPDATING are derived from times, so a
/// configured delay needs no background task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Lifecycle {
    Live,
    /// DeleteTable was accepted at this time; the table is gone after the delete delay.
    Deleting {
        since_ms: i64,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableDef {
    pub id: u64,
    pub name: String,
    pub uuid: String,
    pub attributes: Vec<AttributeDef>,
    pub keys: KeySchema,
    pub billing: BillingMode,
    /// Whether the caller named a billing mode (DynamoDB then shows BillingModeSummary).
    pub billing_explicit: bool,
    pub last_pay_per_request_ms: Option<i64>,
    pub throughput: Throughput,
    pub on_demand: Option<OnDemand>,
    pub lsis: Vec<IndexDef>,
    pub gsis: Vec<IndexDef>,
    /// The current stream, if enabled.
    pub stream: Option<StreamSpec>,
    /// The most recent stream, kept after it is disabled (DescribeTable still shows it).
    pub latest_stream: Option<StreamSpec>,
    pub sse: Option<Sse>,
    pub table_class: Option<String>,
    pub deletion_protection: bool,
    pub tags: Vec<(String, String)>,
    pub created_ms: i64,
    /// The table is ACTIVE from this time on (creation time + the configured delay).
    pub active_at_ms: i64,
    /// UpdateTable leaves the table UPDATING until this time.
    pub updating_until_ms: i64,
    pub lifecycle: Lifecycle,
    /// The highest (read, write) capacity the table ever had: its WarmThroughput.
    #[serde(default)]
    pub warm: (i64, i64),
    /// A WarmThroughput raise is UPDATING until this time (the table stays ACTIVE).
    #[serde(default)]
    pub warm_updating_until_ms: i64,
    /// When the table switched PROVISIONED → PAY_PER_REQUEST within the last day (the
    /// switch limit, `capacity::budget`).
    #[serde(default)]
    pub ppr_switches_ms: Vec<i64>,
    /// In a global table's replica group: local changes are stamped with a version
    /// (`replication`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replicated: bool,
    /// Point-in-time recovery, when enabled (UpdateContinuousBackups): the write path
    /// journals every item change of this table while it is `Some`.
    #[serde(default)]
    pub pitr: Option<Pitr>,
    /// Where the table was restored from (RestoreSummary), for restored tables.
    #[serde(default)]
    pub restore: Option<RestoreInfo>,
    /// Kinesis Data Streams destinations (`kinesis`): at most one live; disabled and
    /// failed ones stay listed by DescribeKinesisStreamingDestination.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinesis: Vec<crate::kinesis::Destination>,
    /// The table's resource-based policy (PutResourcePolicy or CreateTable's
    /// `ResourcePolicy`); it also covers the table's indexes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_policy: Option<ResourcePolicy>,
    /// Resource-based policies of the table's streams, by stream label.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stream_policies: Vec<(String, ResourcePolicy)>,
}

/// A stored resource-based policy: the document exactly as sent, and its revision id
/// (epoch milliseconds as a decimal string, strictly increasing per resource).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourcePolicy {
    pub document: String,
    pub revision: String,
}

/// A table's point-in-time recovery setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pitr {
    /// RecoveryPeriodInDays (1–35).
    pub period_days: i64,
    /// When recovery was (last) enabled: the earliest restorable time can be no earlier.
    pub enabled_ms: i64,
}

/// RestoreSummary of a restored table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreInfo {
    pub source_backup_arn: Option<String>,
    pub source_table_arn: String,
    pub restore_ms: i64,
    /// The restore job is still loading items (the table is CREATING meanwhile).
    pub in_progress: bool,
}

/// The status DynamoDB reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableStatus {
    Creating,
    Active,
    Updating,
    Deleting,
}

impl TableStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TableStatus::Creating => "CREATING",
            TableStatus::Active => "ACTIVE",
            TableStatus::Updating => "UPDATING",
            TableStatus::Deleting => "DELETING",
        }
    }
}

impl TableDef {
    /// An on-demand table named `name` with these key attributes and nothing else (no
    /// indexes, stream or tags), id 7: what the import readers' fuzz target and unit tests
    /// check items against.
    pub fn plain(
        name: &str,
        hash: (&str, ScalarType),
        range: Option<(&str, ScalarType)>,
    ) -> TableDef {
        let mut attributes = vec![AttributeDef {
            name: hash.0.into(),
            kind: hash.1,
        }];
        if let Some((n, k)) = range {
            attributes.push(AttributeDef {
                name: n.into(),
                kind: k,
            });
        }
        TableDef {
            id: 7,
            name: name.into(),
            uuid: String::new(),
            attributes,
            keys: KeySchema {
                hash: hash.0.into(),
                range: range.map(|(n, _)| n.to_string()),
            },
            billing: BillingMode::PayPerRequest,
            billing_explicit: true,
            last_pay_per_request_ms: None,
            throughput: Throughput::new(0, 0),
            on_demand: None,
            lsis: vec![],
            gsis: vec![],
            stream: None,
            latest_stream: None,
            sse: None,
            table_class: None,
            deletion_protection: false,
            tags: vec![],
            created_ms: 0,
            active_at_ms: 0,
            updating_until_ms: 0,
            lifecycle: Lifecycle::Live,
            warm: (0, 0),
            replicated: false,
            pitr: None,
            restore: None,
            kinesis: Vec::new(),
            resource_policy: None,
            stream_policies: Vec::new(),
            warm_updating_until_ms: 0,
            ppr_switches_ms: Vec::new(),
        }
    }

    pub fn status(&self, now_ms: i64) -> TableStatus {
        match self.lifecycle {
            Lifecycle::Deleting { .. } => TableStatus::Deleting,
            Lifecycle::Live if now_ms < self.active_at_ms => TableStatus::Creating,
            Lifecycle::Live if now_ms < self.updating_until_ms => TableStatus::Updating,
            Lifecycle::Live => TableStatus::Active,
        }
    }

    /// Whether the table is gone for good (its delete delay has passed).
    pub fn is_gone(&self, now_ms: i64, delete_delay_ms: i64) -> bool {
        matches!(self.lifecycle, Lifecycle::Deleting { since_ms } if now_ms >= since_ms + delete_delay_ms)
    }

    pub fn attribute_type(&self, name: &str) -> Option<ScalarType> {
        self.attributes
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.kind)
    }

    pub fn arn(&self, region: &str, account: &str) -> String {
        format!("arn:aws:dynamodb:{region}:{account}:table/{}", self.name)
    }

    pub fn index(&self, name: &str) -> Option<&IndexDef> {
        self.gsis
            .iter()
            .chain(self.lsis.iter())
            .find(|i| i.name == name)
    }
}

/// Reads one table's definition from a snapshot.
pub fn load(txn: &ReadTransaction, name: &str) -> ApiResult<Option<TableDef>> {
    let table = txn.open_table(CATALOG)?;
    let value = table.get(name)?;
    value.map(|v| decode(v.value())).transpose()
}

/// Reads one table's definition inside a write transaction.
pub fn load_for_write(txn: &WriteTransaction, name: &str) -> ApiResult<Option<TableDef>> {
    Ok(load_shared_for_write(txn, name)?.map(|def| TableDef::clone(&def)))
}

/// [`load_for_write`] without a copy of the definition (every write checks its table
/// is still live; a clone of the definition cost it a dozen allocations).
pub fn load_shared_for_write(
    txn: &WriteTransaction,
    name: &str,
) -> ApiResult<Option<std::sync::Arc<TableDef>>> {
    let table = txn.open_table(CATALOG)?;
    let value = table.get(name)?;
    value.map(|v| decode_shared(v.value())).transpose()
}

/// All table definitions, in name order.
pub fn list(txn: &ReadTransaction) -> ApiResult<Vec<TableDef>> {
    let table = txn.open_table(CATALOG)?;
    let mut out = Vec::new();
    for entry in table.iter()? {
        let (_, v) = entry?;
        out.push(decode(v.value())?);
    }
    Ok(out)
}

pub fn save(txn: &WriteTransaction, def: &TableDef) -> ApiResult<()> {
    let bytes = serde_json::to_vec(def).map_err(internal)?;
    let mut table = txn.open_table(CATALOG)?;
    table.insert(def.name.as_str(), bytes.as_slice())?;
    Ok(())
}

pub fn remove(txn: &WriteTransaction, name: &str) -> ApiResult<()> {
    let mut table = txn.open_table(CATALOG)?;
    table.remove(name)?;
    Ok(())
}

/// Hands out the next table id (ids are never reused, so old keys can never alias).
pub fn next_table_id(txn: &WriteTransaction) -> ApiResult<u64> {
    let mut meta = txn.open_table(META)?;
    let current = meta
        .get("next_table_id")?
        .map(|v| crate::storage::layout_u64(v.value()))
        .unwrap_or(1);
    meta.insert("next_table_id", (current + 1).to_be_bytes().as_slice())?;
    Ok(current)
}

/// Item count and total item bytes of a table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub items: u64,
    pub bytes: u64,
}

pub fn stats(txn: &ReadTransaction, table_id: u64) -> ApiResult<Stats> {
    let table = txn.open_table(STATS)?;
    let value = table.get(table_id.to_be_bytes().as_slice())?;
    Ok(value.map(|v| decode_stats(v.value())).unwrap_or_default())
}

/// Adds (possibly negative) deltas to a table's statistics.
pub fn add_stats(txn: &WriteTransaction, table_id: u64, items: i64, bytes: i64) -> ApiResult<()> {
    let mut table = txn.open_table(STATS)?;
    let key = table_id.to_be_bytes();
    let current = table
        .get(key.as_slice())?
        .map(|v| decode_stats(v.value()))
        .unwrap_or_default();
    let next = Stats {
        items: (current.items as i64 + items).max(0) as u64,
        bytes: (current.bytes as i64 + bytes).max(0) as u64,
    };
    let mut buf = [0u8; 16];
    buf[..8].copy_from_slice(&next.items.to_be_bytes());
    buf[8..].copy_from_slice(&next.bytes.to_be_bytes());
    table.insert(key.as_slice(), buf.as_slice())?;
    Ok(())
}

pub fn remove_stats(txn: &WriteTransaction, table_id: u64) -> ApiResult<()> {
    let mut table = txn.open_table(STATS)?;
    table.remove(table_id.to_be_bytes().as_slice())?;
    Ok(())
}

fn decode_stats(bytes: &[u8]) -> Stats {
    Stats {
        items: crate::storage::layout_u64(bytes),
        bytes: crate::storage::layout_u64(bytes.get(8..).unwrap_or_default()),
    }
}

fn decode(bytes: &[u8]) -> ApiResult<TableDef> {
    decode_shared(bytes).map(|def| TableDef::clone(&def))
}

fn decode_shared(bytes: &[u8]) -> ApiResult<std::sync::Arc<TableDef>> {
    if let Some(def) = decoded::get(bytes) {
        return Ok(def);
    }
    let def: TableDef = serde_json::from_slice(bytes).map_err(|e| {
        tracing::error!(error = %e, "corrupt catalog entry");
        ApiError::internal("Internal server error")
    })?;
    let def = std::sync::Arc::new(def);
    decoded::put(bytes, def.clone());
    Ok(def)
}

/// Definitions already decoded, by their stored bytes: every data-plane request and every
/// write reads its table's definition, and decoding its JSON each time cost about a tenth
/// of a PutItem. The stored bytes are the key, so a changed definition (new bytes) is
/// decoded afresh and the cache can never answer a stale one; it is shared by every
/// engine in the process for the same reason. Bounded: cleared when it holds too many.
mod decoded {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};

    use super::TableDef;

    /// More distinct definitions than this clears the cache (tables are few; definitions
    /// change rarely).
    const MAX_ENTRIES: usize = 4096;

    type Decoded = Mutex<HashMap<Box<[u8]>, Arc<TableDef>>>;

    fn cache() -> &'static Decoded {
        static CACHE: OnceLock<Decoded> = OnceLock::new();
        CACHE.get_or_init(|| Mutex::new(HashMap::new()))
    }

    /// The decoded definition; the lock is held only to clone an `Arc`.
    pub(super) fn get(bytes: &[u8]) -> Option<Arc<TableDef>> {
        cache().lock().ok()?.get(bytes).cloned()
    }

    pub(super) fn put(bytes: &[u8], def: Arc<TableDef>) {
        if let Ok(mut map) = cache().lock() {
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert(bytes.into(), def);
        }
    }
}

/// Statistics read inside a write transaction.
pub fn stats_for_write(txn: &WriteTransaction, table_id: u64) -> ApiResult<Stats> {
    let table = txn.open_table(STATS)?;
    let value = table.get(table_id.to_be_bytes().as_slice())?;
    Ok(value.map(|v| decode_stats(v.value())).unwrap_or_default())
}
