//! An export without the DynamoDB API, for `daxlite export` on a data directory: a
//! FULL_EXPORT of a table as it is now (PITR need not be on — the command is not
//! ExportTableToPointInTime and has no window to honour), written by the same job
//! (`job::run`, the same layout, the same buckets, local or S3) and recorded like any
//! export, so ListExports and DescribeExport show it afterwards. Returns once the job
//! has ended.

use std::sync::Arc;

use super::{ExportMeta, ExportStatus};
use crate::api::backup::resolve_table;
use crate::ctx::Ctx;
use crate::wire::{ApiError, ApiResult};

/// What `daxlite export` asks for.
#[derive(Debug, Clone)]
pub struct Request {
    /// Name or ARN.
    pub table: String,
    pub bucket: String,
    pub prefix: Option<String>,
    /// DYNAMODB_JSON or ION.
    pub format: String,
}

/// Runs the export to its end; answers how it ended (COMPLETED or FAILED, with the
/// failure as DescribeExport would give it).
pub async fn run(ctx: &Arc<Ctx>, req: Request) -> ApiResult<ExportMeta> {
    if !matches!(req.format.as_str(), "DYNAMODB_JSON" | "ION") {
        return Err(ApiError::validation(format!(
            "{:?} is not an export format (DYNAMODB_JSON or ION)",
            req.format
        )));
    }
    let now = ctx.now_ms();
    let snapshot = ctx.store.read()?;
    let def = resolve_table(ctx, &snapshot, &req.table, now)?;
    let (region, account) = (&ctx.config.region, &ctx.config.account);
    let id = crate::backup::new_id(now);
    let meta = ExportMeta {
        arn: format!(
            "arn:aws:dynamodb:{region}:{account}:table/{}/export/{id}",
            def.name
        ),
        id: id.clone(),
        status: ExportStatus::InProgress,
        table_arn: def.arn(region, account),
        table_id: def.uuid.clone(),
        export_ms: now,
        start_ms: now,
        end_ms: None,
        client_token: uuid::Uuid::new_v4().to_string(),
        fingerprint: String::new(),
        bucket: req.bucket,
        bucket_owner: None,
        prefix: req.prefix,
        sse_algorithm: None,
        sse_kms_key: None,
        format: req.format,
        export_type: None,
        item_count: 0,
        billed_bytes: 0,
        manifest: None,
        failure_code: None,
        failure_message: None,
        seq: 0,
        incremental: None,
    };
    let mut meta = meta;
    let saved = meta.clone();
    meta.seq = ctx
        .store
        .write(move |txn| {
            let mut saved = saved;
            saved.seq = crate::backup::next_seq(txn)?;
            super::save(txn, &saved)?;
            Ok(saved.seq)
        })
        .await?;
    tracing::info!(export = %meta.arn, table = %def.name, "offline export started");
    super::job::run(ctx.clone(), snapshot, def.id, meta).await?;
    let txn = ctx.store.read()?;
    super::load(&txn, &id)?.ok_or_else(|| ApiError::internal("the export vanished"))
}
