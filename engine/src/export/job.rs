//! The export job: writes `_started`, then the items of the table as `snapshot` saw them
//! (with the journal's changes after the export time undone) as gzipped JSON lines in
//! data files of at most `FILE_BYTES` uncompressed, then manifest-files.json, the
//! summary and their `.md5` files, and marks the export COMPLETED — or FAILED, with
//! S3NoSuchBucket when the bucket does not exist. The objects go through one
//! `ObjectStore` (`crate::buckets`): a local folder or an S3-compatible endpoint alike.
//! Progress (items, bytes, rate) goes to the log and `/metrics` (`crate::progress`).
//! Items are read from the
//! snapshot, never through the table's request path, so the export costs the table no
//! capacity and holds up none of its writes.

use std::io::Write;
use std::sync::Arc;

use flate2::write::GzEncoder;
use flate2::Compression;
use object_store::path::Path;
use object_store::PutPayload;
use redb::ReadTransaction;

use super::{layout, ExportMeta, ExportStatus};
use crate::backup::snapshot::read_chunk;
use crate::buckets::{self, Bucket, BucketError};
use crate::ctx::Ctx;
use crate::keys::table_range;
use crate::progress::Progress;
use crate::storage::items::Stored;
use crate::storage::ITEMS;
use crate::wire::{ApiError, ApiResult};

/// A data file is closed once this many uncompressed bytes went into it.
const FILE_BYTES: usize = 128 << 20;

/// Why an export failed, as DescribeExport shows it.
struct Failure {
    code: &'static str,
    message: String,
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        e.log_cause();
        Failure {
            code: "UNKNOWN",
            message: e.message().unwrap_or("Internal error").to_string(),
        }
    }
}

impl From<object_store::Error> for Failure {
    fn from(e: object_store::Error) -> Self {
        Failure::bucket(BucketError::from(e))
    }
}

impl Failure {
    /// A bucket failure (`run` words a missing bucket's message with its name).
    fn bucket(e: BucketError) -> Self {
        Failure {
            code: e.code(),
            message: match e {
                BucketError::NoSuchBucket => String::new(),
                BucketError::Other(m) => m,
            },
        }
    }
}

/// Runs export `meta` of table `table_id` and records how it ended.
pub async fn run(
    ctx: Arc<Ctx>,
    snapshot: ReadTransaction,
    table_id: u64,
    meta: ExportMeta,
) -> ApiResult<()> {
    let mut progress = Progress::start("export", meta.id.clone());
    let outcome = write_all(&ctx, &snapshot, table_id, &meta, &mut progress).await;
    drop(snapshot);
    let end = ctx.now_ms();
    let mut done = meta;
    done.end_ms = Some(end);
    match outcome {
        Ok((items, bytes, manifest)) => {
            done.status = ExportStatus::Completed;
            done.item_count = items;
            done.billed_bytes = bytes;
            done.manifest = Some(manifest);
            progress.finish("completed");
        }
        Err(mut f) => {
            if f.code == BucketError::NoSuchBucket.code() {
                f.message = BucketError::NoSuchBucket.message(&done.bucket);
            }
            tracing::warn!(export = %done.arn, code = f.code, message = %f.message, "export failed");
            progress.finish("failed");
            done.status = ExportStatus::Failed;
            done.failure_code = Some(f.code.to_string());
            done.failure_message = Some(f.message);
        }
    }
    ctx.store.write(move |txn| super::save(txn, &done)).await
}

/// One data file being filled.
struct DataFile {
    gz: GzEncoder<Vec<u8>>,
    items: u64,
    raw: usize,
    /// ION lines (`.ion.gz`) rather than DynamoDB JSON (`.json.gz`).
    ion: bool,
}

impl DataFile {
    fn new(ion: bool) -> Self {
        DataFile {
            gz: GzEncoder::new(Vec::new(), Compression::fast()),
            items: 0,
            raw: 0,
            ion,
        }
    }

    fn push(&mut self, stored: &[u8]) -> Result<(), Failure> {
        let json = Stored::json_of(stored);
        if self.ion {
            let line = super::ion::item_line(json).ok_or_else(|| Failure {
                code: "UNKNOWN",
                message: "A stored item could not be written as Ion".to_string(),
            })?;
            return self.line(&[line.as_bytes()]);
        }
        self.line(&[b"{\"Item\":", json, b"}\n"])
    }

    /// Appends one line made of `parts`.
    fn line(&mut self, parts: &[&[u8]]) -> Result<(), Failure> {
        for p in parts {
            self.gz.write_all(p).map_err(|e| Failure {
                code: "UNKNOWN",
                message: e.to_string(),
            })?;
            self.raw += p.len();
        }
        self.items += 1;
        Ok(())
    }
}

/// Writes every object; answers (items, item bytes, manifest-summary key).
async fn write_all(
    ctx: &Ctx,
    snapshot: &ReadTransaction,
    table_id: u64,
    meta: &ExportMeta,
    progress: &mut Progress,
) -> Result<(u64, u64, String), Failure> {
    let store = buckets::open(&ctx.config, &meta.bucket).map_err(Failure::bucket)?;
    let base = layout::base(meta.prefix.as_deref(), &meta.id);
    store
        .put(&Path::from(format!("{base}/_started")), PutPayload::new())
        .await?;
    if let Some(inc) = &meta.incremental {
        let data = layout::incremental_data(meta.prefix.as_deref());
        let (items, bytes, file) = incremental(snapshot, table_id, inc)?;
        progress.add(items, bytes);
        let line = flush(&store, &data, file).await?;
        return manifests(ctx, &store, &base, meta, vec![line], items, bytes).await;
    }
    let undo = crate::backup::journal::undo_after(snapshot, table_id, meta.export_ms)?;
    let mut files: Vec<String> = Vec::new();
    let (mut items, mut bytes) = (0u64, 0u64);
    let ion = meta.format == "ION";
    let mut file = DataFile::new(ion);
    let (lo, hi) = table_range(table_id);
    let mut from = lo;
    let mut after = false;
    loop {
        let chunk = read_chunk(snapshot, &from, after, &hi, ITEMS)?;
        let Some((last, _)) = chunk.last() else { break };
        from = last.clone();
        after = true;
        let (items_before, bytes_before) = (file.items, bytes);
        for (k, v) in &chunk {
            if undo.contains_key(k.get(8..).unwrap_or_default()) {
                continue;
            }
            bytes += Stored::size_of(v) as u64;
            file.push(v)?;
        }
        progress.add(file.items - items_before, bytes - bytes_before);
        if file.raw >= FILE_BYTES {
            items += file.items;
            let full = std::mem::replace(&mut file, DataFile::new(ion));
            files.push(flush(&store, &format!("{base}/data"), full).await?);
        }
    }
    let (items_before, bytes_before) = (file.items, bytes);
    for v in undo.values().flatten() {
        bytes += Stored::size_of(v) as u64;
        file.push(v)?;
    }
    progress.add(file.items - items_before, bytes - bytes_before);
    // The last (possibly empty) file: an empty table still gets one data file.
    items += file.items;
    files.push(flush(&store, &format!("{base}/data"), file).await?);
    manifests(ctx, &store, &base, meta, files, items, bytes).await
}

/// The lines of an incremental export: one per key changed in the window, its net change
/// shaped by the view type (a key inserted and deleted inside the window has none).
fn incremental(
    snapshot: &ReadTransaction,
    table_id: u64,
    inc: &super::Incremental,
) -> Result<(u64, u64, DataFile), Failure> {
    let changes =
        crate::backup::journal::changes_between(snapshot, table_id, inc.from_ms, inc.to_ms)?;
    let mut file = DataFile::new(false);
    let mut bytes = 0u64;
    let with_old = inc.view == "NEW_AND_OLD_IMAGES";
    for change in changes.values() {
        let (old, new) = (change.old.as_deref(), change.new.as_deref());
        let Some(any) = new.or(old) else { continue };
        let item = Stored(any.to_vec()).item()?;
        let keys: crate::model::Item = inc
            .keys
            .iter()
            .filter_map(|k| item.get(k).map(|v| (k.clone(), v.clone())))
            .collect();
        let keys = serde_json::to_vec(&keys).map_err(|e| Failure {
            code: "UNKNOWN",
            message: e.to_string(),
        })?;
        let micros = format!(
            "{{\"Metadata\":{{\"WriteTimestampMicros\":{{\"N\":\"{}\"}}}},\"Keys\":",
            change.last_ms.saturating_mul(1000)
        );
        let mut parts: Vec<&[u8]> = vec![micros.as_bytes(), &keys];
        if let Some(n) = new {
            parts.push(b",\"NewImage\":");
            parts.push(Stored::json_of(n));
            bytes += Stored::size_of(n) as u64;
        }
        if let (Some(o), true) = (old, with_old) {
            parts.push(b",\"OldImage\":");
            parts.push(Stored::json_of(o));
        }
        parts.push(b"}\n");
        file.line(&parts)?;
    }
    Ok((file.items, bytes, file))
}

/// manifest-files.json, the summary and their `.md5` files, written last; answers
/// (items, item bytes, manifest-summary key).
async fn manifests(
    ctx: &Ctx,
    store: &Bucket,
    base: &str,
    meta: &ExportMeta,
    files: Vec<String>,
    items: u64,
    bytes: u64,
) -> Result<(u64, u64, String), Failure> {
    let manifest_files = files.join("\n") + "\n";
    let files_key = format!("{base}/manifest-files.json");
    put(store, &files_key, manifest_files.clone().into_bytes()).await?;
    put(
        store,
        &format!("{base}/manifest-files.md5"),
        layout::md5_base64(manifest_files.as_bytes()).into_bytes(),
    )
    .await?;
    let mut done = meta.clone();
    done.item_count = items;
    done.billed_bytes = bytes;
    let summary = layout::summary(&done, ctx.now_ms(), &files_key).to_string();
    let summary_key = format!("{base}/manifest-summary.json");
    put(store, &summary_key, summary.clone().into_bytes()).await?;
    put(
        store,
        &format!("{base}/manifest-summary.md5"),
        layout::md5_base64(summary.as_bytes()).into_bytes(),
    )
    .await?;
    Ok((items, bytes, summary_key))
}

async fn put(store: &Bucket, key: &str, bytes: Vec<u8>) -> Result<(), Failure> {
    store.put(&Path::from(key), PutPayload::from(bytes)).await?;
    Ok(())
}

/// Finishes one data file, stores it in folder `dir`, and answers its
/// manifest-files.json line.
async fn flush(store: &Bucket, dir: &str, file: DataFile) -> Result<String, Failure> {
    let data = file.gz.finish().map_err(|e| Failure {
        code: "UNKNOWN",
        message: e.to_string(),
    })?;
    let name = uuid::Uuid::new_v4().simple().to_string();
    let ext = if file.ion { "ion.gz" } else { "json.gz" };
    let key = format!("{dir}/{}.{ext}", name.get(..26).unwrap_or(&name));
    let line = layout::file_line(file.items, &data, &key);
    put(store, &key, data).await?;
    Ok(line)
}
