//! The import job: reads every object whose key starts with the prefix in the bucket
//! (a local folder or S3, through `crate::buckets`; in key order; gunzipped or
//! un-zstd'ed when asked), turns it into items with `read`, and
//! stores them in the new table (CREATING all along) in chunks through
//! `write::on_write`; then makes the table ACTIVE and the import COMPLETED — or FAILED
//! with ItemValidationError when entries were bad (the good items stay, as on
//! DynamoDB). Each bad entry is logged the way DynamoDB sends it to CloudWatch, to the
//! log and to `<data dir>/logs/aws-dynamodb/imports/<id>/error`. A missing bucket fails
//! the import with S3NoSuchBucket and removes the table. Progress goes to the log and
//! `/metrics` (`crate::progress`).

use std::io::Write;
use std::sync::Arc;

use futures::TryStreamExt;
use object_store::path::Path;
use serde_json::json;

use super::{read, ImportMeta, ImportStatus};
use crate::buckets::{self, Bucket, BucketError};
use crate::catalog::{self, TableDef};
use crate::ctx::Ctx;
use crate::keys::key_from_item;
use crate::model::Item;
use crate::progress::Progress;
use crate::storage::items::Stored;
use crate::streams::Origin;
use crate::wire::ApiResult;

/// About this many item bytes go into one commit.
const CHUNK_BYTES: usize = 4 << 20;

/// The FailureMessage of an import with bad entries.
pub const VALIDATION_FAILURE: &str = "Some of the items failed validation checks and were not imported. Please check CloudWatch error logs for more details.";

/// Runs import `meta` into `target` (in the catalog, CREATING) and records the outcome.
pub async fn run(ctx: Arc<Ctx>, meta: ImportMeta, target: TableDef) -> ApiResult<()> {
    let mut meta = meta;
    let mut progress = Progress::start("import", meta.id.clone());
    let outcome = match buckets::open(&ctx.config, &meta.bucket) {
        Ok(store) => load_objects(&ctx, &store, &mut meta, &target, &mut progress).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) if meta.errors > 0 => {
            meta.status = ImportStatus::Failed;
            meta.failure_code = Some("ItemValidationError".into());
            meta.failure_message = Some(VALIDATION_FAILURE.into());
        }
        Ok(()) => meta.status = ImportStatus::Completed,
        Err(e @ BucketError::NoSuchBucket) => {
            // Nothing was read: no counters, and no table is left behind.
            meta.status = ImportStatus::Failed;
            meta.failure_code = Some(e.code().into());
            meta.failure_message = Some(e.message(&meta.bucket));
            (meta.processed_bytes, meta.processed_items) = (0, 0);
            (meta.imported_items, meta.errors) = (0, 0);
            progress.finish("failed");
            return finish(&ctx, meta, &target, false).await;
        }
        Err(e) => {
            meta.status = ImportStatus::Failed;
            meta.failure_code = Some(e.code().into());
            meta.failure_message = Some(e.message(&meta.bucket));
        }
    }
    tracing::info!(import = %meta.arn, items = meta.imported_items, errors = meta.errors,
        bytes = meta.processed_bytes, status = meta.status.as_str(), "import finished");
    progress.finish(meta.status.as_str());
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

/// The keys of every object whose key starts with `prefix` (a plain string prefix, not
/// a folder), in key order: the listing asks for the folder part of the prefix only.
async fn keys_under(store: &Bucket, prefix: &str) -> Result<Vec<String>, BucketError> {
    let folder = prefix.rsplit_once('/').map(|(dir, _)| dir).unwrap_or("");
    let folder = (!folder.is_empty()).then(|| Path::from(folder));
    let mut keys: Vec<String> = store
        .list(folder.as_ref())
        .map_ok(|o| o.location.to_string())
        .try_collect::<Vec<_>>()
        .await?
        .into_iter()
        .filter(|k| k.starts_with(prefix))
        .collect();
    keys.sort();
    Ok(keys)
}

/// Reads and stores every object under the prefix; counts into `meta`. An `Err` is a
/// failure of the source itself (not of an entry).
async fn load_objects(
    ctx: &Ctx,
    store: &Bucket,
    meta: &mut ImportMeta,
    target: &TableDef,
    progress: &mut Progress,
) -> Result<(), BucketError> {
    let prefix = meta.key_prefix.clone().unwrap_or_default();
    let objects = keys_under(store, &prefix).await?;
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
        let raw = store.get(&Path::from(key.as_str())).await?.bytes().await?;
        let mut source_bytes = 0u64;
        let (items, bad) = match read::decompress(&meta.compression, &raw) {
            Err(why) => (Vec::new(), Some((0, why))),
            Ok(bytes) => {
                source_bytes = bytes.len() as u64;
                meta.processed_bytes += source_bytes;
                match meta.format.as_str() {
                    "CSV" => {
                        let text = String::from_utf8_lossy(&bytes);
                        read::csv(target, &text, delimiter, header.as_deref())
                    }
                    "ION" => super::ion::items(target, &bytes),
                    _ => read::dynamodb_json(target, &bytes),
                }
            }
        };
        let n = items.len() as u64;
        store_items(ctx, target, items)
            .await
            .map_err(|e| BucketError::Other(e.message().unwrap_or("Internal error").into()))?;
        meta.imported_items += n;
        meta.processed_items += n;
        if let Some((index, why)) = bad {
            meta.errors += 1;
            meta.processed_items += 1;
            log_error(ctx, meta, &key, index, &why);
        }
        progress.add(n, source_bytes);
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
