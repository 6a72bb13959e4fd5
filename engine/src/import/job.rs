//! The import job: reads every object whose key starts with the prefix in the bucket
//! folder (in key order; gunzipped when asked), turns it into items with `read`, and
//! stores them in the new table (CREATING all along) in chunks through
//! `write::on_write`; then makes the table ACTIVE and the import COMPLETED — or FAILED
//! with ItemValidationError when entries were bad (the good items stay, as on
//! DynamoDB). Each bad entry is logged the way DynamoDB sends it to CloudWatch, to the
//! log and to `<data dir>/logs/aws-dynamodb/imports/<id>/error`. A missing bucket fails
//! the import with S3NoSuchBucket and removes the table.

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Instant;

use futures::TryStreamExt;
use object_store::local::LocalFileSystem;
use object_store::ObjectStore;
use serde_json::json;

use super::{read, ImportMeta, ImportStatus};
use crate::catalog::{self, TableDef};
use crate::ctx::Ctx;
use crate::keys::key_from_item;
use crate::model::Item;
use crate::storage::items::Stored;
use crate::streams::Origin;
use crate::wire::ApiResult;

/// About this many item bytes go into one commit.
const CHUNK_BYTES: usize = 4 << 20;

/// The FailureMessage of an import with bad entries.
pub const VALIDATION_FAILURE: &str = "Some of the items failed validation checks and were not imported. Please check CloudWatch error logs for more details.";

/// Runs import `meta` into `target` (in the catalog, CREATING) and records the outcome.
pub async fn run(ctx: Arc<Ctx>, meta: ImportMeta, target: TableDef) -> ApiResult<()> {
    let started = Instant::now();
    let mut meta = meta;
    let dir = ctx.config.export_root.join(&meta.bucket);
    let valid = !meta.bucket.is_empty()
        && !matches!(meta.bucket.as_str(), "." | "..")
        && !meta.bucket.contains(['/', '\\', '\0']);
    let store = if valid && dir.is_dir() {
        LocalFileSystem::new_with_prefix(&dir).ok()
    } else {
        None
    };
    let Some(store) = store else {
        meta.status = ImportStatus::Failed;
        meta.failure_code = Some("S3NoSuchBucket".into());
        meta.failure_message = Some(format!(
            "The specified bucket does not exist (Service: Amazon S3; Status Code: 404; Error Code: NoSuchBucket; Bucket: {})",
            meta.bucket
        ));
        return finish(&ctx, meta, &target, false).await;
    };
    match load_objects(&ctx, &store, &mut meta, &target).await {
        Ok(()) if meta.errors > 0 => {
            meta.status = ImportStatus::Failed;
            meta.failure_code = Some("ItemValidationError".into());
            meta.failure_message = Some(VALIDATION_FAILURE.into());
        }
        Ok(()) => meta.status = ImportStatus::Completed,
        Err(message) => {
            meta.status = ImportStatus::Failed;
            meta.failure_code = Some("UNKNOWN".into());
            meta.failure_message = Some(message);
        }
    }
    let secs = started.elapsed().as_secs_f64();
    tracing::info!(import = %meta.arn, items = meta.imported_items, errors = meta.errors,
        bytes = meta.processed_bytes, seconds = secs,
        items_per_s = meta.imported_items as f64 / secs.max(1e-9), "import finished");
    finish(&ctx, meta, &target, true).await
}

/// Records the outcome; the table turns ACTIVE (`keep`) or is removed.
async fn finish(ctx: &Ctx, meta: ImportMeta, target: &TableDef, keep: bool) -> ApiResult<()> {
    let now = ctx.now_ms();
    let (name, id) = (target.name.clone(), target.id);
    let mut meta = meta;
    meta.end_ms = Some(now);
    ctx.store
        .write(move |txn| {
            if let Some(mut def) = catalog::load_for_write(txn, &name)?.filter(|d| d.id == id) {
                if keep {
                    def.active_at_ms = now;
                    catalog::save(txn, &def)?;
                } else {
                    crate::api::table::drop_table_data(txn, id)?;
                    catalog::remove(txn, &name)?;
                }
            }
            super::save(txn, &meta)
        })
        .await
}

/// Reads and stores every object under the prefix; counts into `meta`. An `Err` is a
/// failure of the source itself (not of an entry).
async fn load_objects(
    ctx: &Ctx,
    store: &LocalFileSystem,
    meta: &mut ImportMeta,
    target: &TableDef,
) -> Result<(), String> {
    let prefix = meta.key_prefix.clone().unwrap_or_default();
    let mut objects: Vec<String> = store
        .list(None)
        .map_ok(|o| o.location.to_string())
        .try_collect::<Vec<_>>()
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|k| k.starts_with(&prefix))
        .collect();
    objects.sort();
    let delimiter = meta
        .format_options
        .as_ref()
        .and_then(|o| o["Csv"]["Delimiter"].as_str())
        .and_then(|d| d.chars().next())
        .unwrap_or(',');
    let header: Option<Vec<String>> = meta
        .format_options
        .as_ref()
        .and_then(|o| o["Csv"]["HeaderList"].as_array())
        .map(|l| {
            l.iter()
                .filter_map(|h| h.as_str().map(str::to_string))
                .collect()
        });
    for key in objects {
        let raw = store
            .get(&object_store::path::Path::from(key.as_str()))
            .await
            .map_err(|e| e.to_string())?
            .bytes()
            .await
            .map_err(|e| e.to_string())?;
        let bytes = match meta.compression.as_str() {
            "GZIP" if raw.is_empty() => Ok(Vec::new()),
            "GZIP" => {
                let mut out = Vec::new();
                flate2::read::MultiGzDecoder::new(raw.as_ref())
                    .read_to_end(&mut out)
                    .map(|_| out)
                    .map_err(|e| format!("The object is not valid GZIP: {e}"))
            }
            _ => Ok(raw.to_vec()),
        };
        let (items, bad) = match bytes {
            Err(why) => (Vec::new(), Some((0, why))),
            Ok(bytes) => {
                meta.processed_bytes += bytes.len() as u64;
                match meta.format.as_str() {
                    "CSV" => {
                        let text = String::from_utf8_lossy(&bytes);
                        read::csv(target, &text, delimiter, header.as_deref())
                    }
                    _ => read::dynamodb_json(target, &bytes),
                }
            }
        };
        let n = items.len() as u64;
        store_items(ctx, target, items)
            .await
            .map_err(|e| e.to_string())?;
        meta.imported_items += n;
        meta.processed_items += n;
        if let Some((index, why)) = bad {
            meta.errors += 1;
            meta.processed_items += 1;
            log_error(ctx, meta, &key, index, &why);
        }
        tracing::info!(import = %meta.arn, object = %key, items = meta.imported_items,
            bytes = meta.processed_bytes, "import in progress");
    }
    Ok(())
}

/// Stores items in `target` through the one write path, in chunks.
async fn store_items(ctx: &Ctx, target: &TableDef, items: Vec<Item>) -> ApiResult<()> {
    let mut chunk: Vec<(Vec<u8>, Stored)> = Vec::new();
    let mut bytes = 0;
    let mut rest = items.into_iter().peekable();
    while rest.peek().is_some() {
        for item in rest.by_ref() {
            let key = key_from_item(target, &item)?;
            let stored = Stored::encode(&item);
            bytes += stored.0.len();
            chunk.push((key.storage, stored));
            if bytes >= CHUNK_BYTES {
                break;
            }
        }
        let rows = std::mem::take(&mut chunk);
        bytes = 0;
        let def = target.clone();
        let now = ctx.now_ms();
        ctx.store
            .write(move |txn| {
                let origin = Origin::caller(now);
                for (key, stored) in rows {
                    let old = crate::storage::items::get_for_write(txn, &key)?;
                    crate::write::on_write(
                        txn,
                        &def,
                        &key,
                        old.as_ref().map(Stored::size),
                        Some(&stored),
                        &origin,
                    )?;
                }
                Ok(())
            })
            .await?;
    }
    Ok(())
}

/// One bad entry, as DynamoDB logs it to CloudWatch (`/aws-dynamodb/imports`, stream
/// `<id>/error`): to the log and appended to the data directory's error file.
fn log_error(ctx: &Ctx, meta: &ImportMeta, key: &str, index: usize, why: &str) {
    let line = json!({
        "itemS3Pointer": {"bucket": meta.bucket, "key": key, "itemIndex": index},
        "importArn": meta.arn,
        "errorMessages": [why],
    })
    .to_string();
    tracing::warn!(import = %meta.arn, error = %line, "import: an entry failed validation");
    if let crate::Backend::Dir(data) = &ctx.config.backend {
        let dir = data.join("logs/aws-dynamodb/imports").join(&meta.id);
        let written = std::fs::create_dir_all(&dir).and_then(|()| {
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(dir.join("error"))?;
            f.write_all(line.as_bytes())?;
            f.write_all(b"\n")
        });
        if let Err(e) = written {
            tracing::warn!(error = %e, "import: cannot write the error log");
        }
    }
}
