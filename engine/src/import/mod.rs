//! Import from "S3": each import's description (the `imports` redb table), the readers
//! of its source formats (`read`: DynamoDB JSON, CSV; `ion`: Amazon Ion) and the job that loads a new table from every object
//! under a prefix of a bucket folder (`job`).

pub mod ion;
pub mod job;
pub mod read;

use redb::{ReadTransaction, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::storage::{internal, IMPORTS};
use crate::wire::ApiResult;

/// IN_PROGRESS, COMPLETED or FAILED.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportStatus {
    InProgress,
    Completed,
    Failed,
}

impl ImportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportStatus::InProgress => "IN_PROGRESS",
            ImportStatus::Completed => "COMPLETED",
            ImportStatus::Failed => "FAILED",
        }
    }
}

/// One import as stored in `imports`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportMeta {
    pub id: String,
    pub arn: String,
    pub status: ImportStatus,
    pub table_name: String,
    pub table_arn: String,
    pub table_id: String,
    pub client_token: String,
    pub bucket: String,
    pub key_prefix: Option<String>,
    pub bucket_owner: Option<String>,
    /// CSV, DYNAMODB_JSON or ION.
    pub format: String,
    /// The request's InputFormatOptions, as given.
    pub format_options: Option<Value>,
    /// GZIP, ZSTD or NONE (absent in the request: NONE).
    pub compression: String,
    /// The request's TableCreationParameters, as given.
    pub creation: Value,
    pub start_ms: i64,
    pub end_ms: Option<i64>,
    pub processed_bytes: u64,
    pub processed_items: u64,
    pub imported_items: u64,
    pub errors: u64,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    pub seq: u64,
}

pub fn load(txn: &ReadTransaction, id: &str) -> ApiResult<Option<ImportMeta>> {
    let table = txn.open_table(IMPORTS)?;
    let v = table.get(id)?;
    v.map(|v| serde_json::from_slice(v.value()).map_err(internal))
        .transpose()
}

/// Every import, oldest first.
pub fn list(txn: &ReadTransaction) -> ApiResult<Vec<ImportMeta>> {
    let table = txn.open_table(IMPORTS)?;
    let mut out: Vec<ImportMeta> = Vec::new();
    for entry in table.iter()? {
        let (_, v) = entry?;
        out.push(serde_json::from_slice(v.value()).map_err(internal)?);
    }
    out.sort_by_key(|m| (m.start_ms, m.seq));
    Ok(out)
}

/// Every import, inside a write transaction (token checks).
pub fn list_for_write(txn: &WriteTransaction) -> ApiResult<Vec<ImportMeta>> {
    let table = txn.open_table(IMPORTS)?;
    let mut out = Vec::new();
    for entry in table.iter()? {
        let (_, v) = entry?;
        out.push(serde_json::from_slice(v.value()).map_err(internal)?);
    }
    Ok(out)
}

pub fn save(txn: &WriteTransaction, meta: &ImportMeta) -> ApiResult<()> {
    let bytes = serde_json::to_vec(meta).map_err(internal)?;
    txn.open_table(IMPORTS)?
        .insert(meta.id.as_str(), bytes.as_slice())?;
    Ok(())
}

/// The id an import ARN ends with (`…:table/<name>/import/<id>`), if it has that form.
pub fn id_of_arn(arn: &str) -> Option<&str> {
    let (head, id) = arn.rsplit_once("/import/")?;
    let table = head.rsplit_once(":table/").map(|(_, t)| t)?;
    (head.starts_with("arn:") && table.len() >= 3 && id.len() == crate::backup::ID_LEN)
        .then_some(id)
}
