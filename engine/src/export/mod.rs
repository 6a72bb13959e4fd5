//! Export to "S3": each export's description (the `exports` redb table) and the job that
//! writes AWS's export layout (`job`: `_started`, gzipped data files, the two manifests
//! and their `.md5` files) through the `object_store` API into a local folder, from one
//! MVCC snapshot with the PITR journal undone back to the export time; `offline` runs
//! the same job for `daxlite export` on a data directory.

pub mod ion;
pub mod job;
pub mod layout;
pub mod offline;

use redb::{ReadTransaction, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use crate::storage::{internal, EXPORTS};
use crate::wire::ApiResult;

/// How long a ClientToken binds to its export (DynamoDB: 8 hours).
pub const TOKEN_WINDOW_MS: i64 = 8 * 3_600_000;

/// IN_PROGRESS, COMPLETED or FAILED.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExportStatus {
    InProgress,
    Completed,
    Failed,
}

impl ExportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportStatus::InProgress => "IN_PROGRESS",
            ExportStatus::Completed => "COMPLETED",
            ExportStatus::Failed => "FAILED",
        }
    }
}

/// One export as stored in `exports`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportMeta {
    pub id: String,
    pub arn: String,
    pub status: ExportStatus,
    pub table_arn: String,
    pub table_id: String,
    pub export_ms: i64,
    pub start_ms: i64,
    pub end_ms: Option<i64>,
    pub client_token: String,
    /// The parameters the token is bound to (a replay must match them).
    pub fingerprint: String,
    pub bucket: String,
    pub bucket_owner: Option<String>,
    pub prefix: Option<String>,
    pub sse_algorithm: Option<String>,
    pub sse_kms_key: Option<String>,
    /// DYNAMODB_JSON or ION.
    pub format: String,
    /// ExportType as the request gave it (DescribeExport shows it only then).
    pub export_type: Option<String>,
    pub item_count: u64,
    pub billed_bytes: u64,
    /// The manifest-summary.json key, once written.
    pub manifest: Option<String>,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    /// Creation order among exports started in the same millisecond.
    #[serde(default)]
    pub seq: u64,
    /// INCREMENTAL_EXPORT: the window and view (FULL_EXPORT: none).
    #[serde(default)]
    pub incremental: Option<Incremental>,
}

/// An incremental export's IncrementalExportSpecification, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incremental {
    pub from_ms: i64,
    pub to_ms: i64,
    /// NEW_IMAGE or NEW_AND_OLD_IMAGES.
    pub view: String,
    /// The table's key attribute names (each line's `Keys`).
    pub keys: Vec<String>,
}

pub fn load(txn: &ReadTransaction, id: &str) -> ApiResult<Option<ExportMeta>> {
    let table = txn.open_table(EXPORTS)?;
    let v = table.get(id)?;
    v.map(|v| serde_json::from_slice(v.value()).map_err(internal))
        .transpose()
}

/// Every export, oldest first.
pub fn list(txn: &ReadTransaction) -> ApiResult<Vec<ExportMeta>> {
    let table = txn.open_table(EXPORTS)?;
    let mut out: Vec<ExportMeta> = Vec::new();
    for entry in table.iter()? {
        let (_, v) = entry?;
        out.push(serde_json::from_slice(v.value()).map_err(internal)?);
    }
    out.sort_by_key(|m| (m.start_ms, m.seq));
    Ok(out)
}

/// Every export, inside a write transaction (token checks).
pub fn list_for_write(txn: &WriteTransaction) -> ApiResult<Vec<ExportMeta>> {
    let table = txn.open_table(EXPORTS)?;
    let mut out = Vec::new();
    for entry in table.iter()? {
        let (_, v) = entry?;
        out.push(serde_json::from_slice(v.value()).map_err(internal)?);
    }
    Ok(out)
}

pub fn save(txn: &WriteTransaction, meta: &ExportMeta) -> ApiResult<()> {
    let bytes = serde_json::to_vec(meta).map_err(internal)?;
    txn.open_table(EXPORTS)?
        .insert(meta.id.as_str(), bytes.as_slice())?;
    Ok(())
}

/// The id an export ARN ends with (`…:table/<name>/export/<id>`), if it has that form.
pub fn id_of_arn(arn: &str) -> Option<&str> {
    let (head, id) = arn.rsplit_once("/export/")?;
    (head.starts_with("arn:") && head.contains(":table/") && id.len() == crate::backup::ID_LEN)
        .then_some(id)
}
