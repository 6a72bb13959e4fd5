//! The restore job: fills a new table (created CREATING, with `restore.in_progress`)
//! from a backup's items, or from a table's items as one snapshot saw them with the
//! journal's changes after the restore time undone; then makes it ACTIVE. Items go in
//! chunks of about 4 MB, each one group commit through `write::on_write` (so indexes and
//! statistics are built as for any write) — other tables' traffic goes on meanwhile.
//! Progress (items, bytes, rate) goes to the log and `/metrics` (`crate::progress`).
//! A restore interrupted by a crash is started again when the engine opens ([`recover`]).

use crate::progress::Progress;
use std::collections::BTreeMap;
use std::sync::Arc;

use redb::ReadTransaction;

use super::snapshot::read_chunk;
use super::BACKUP_ITEMS;
use crate::catalog::{self, TableDef};
use crate::ctx::Ctx;
use crate::keys::table_range;
use crate::storage::items::Stored;
use crate::storage::ITEMS;
use crate::streams::Origin;
use crate::wire::ApiResult;

/// Where a restore reads its items.
pub enum Source {
    /// Backup `id`'s copy.
    Backup { id: String },
    /// Table `table_id` as of `at_ms`: its items in the snapshot, with the journal undone.
    Table { table_id: u64, at_ms: i64 },
}

/// Runs one restore into `target` (already in the catalog, CREATING), reading `snapshot`.
pub async fn run(
    ctx: Arc<Ctx>,
    snapshot: ReadTransaction,
    source: Source,
    target: TableDef,
) -> ApiResult<()> {
    let mut progress = Progress::start("restore", target.name.clone());
    let (lo, hi, strip, table, undo) = match &source {
        Source::Backup { id } => {
            let (lo, hi) = super::items_range(id);
            (lo, hi, super::ID_LEN, BACKUP_ITEMS, BTreeMap::new())
        }
        Source::Table { table_id, at_ms } => {
            let (lo, hi) = table_range(*table_id);
            let undo = super::journal::undo_after(&snapshot, *table_id, *at_ms)?;
            (lo, hi, 8, ITEMS, undo)
        }
    };
    let mut from = lo;
    let mut after = false;
    loop {
        let chunk = read_chunk(&snapshot, &from, after, &hi, table)?;
        let Some((last, _)) = chunk.last() else { break };
        from = last.clone();
        after = true;
        let rows: Vec<(Vec<u8>, Vec<u8>)> = chunk
            .into_iter()
            .filter_map(|(k, v)| {
                let suffix = k.get(strip..).unwrap_or_default().to_vec();
                (!undo.contains_key(&suffix)).then_some((suffix, v))
            })
            .collect();
        let items = rows.len() as u64;
        let bytes = rows.iter().map(|(_, v)| v.len() as u64).sum::<u64>();
        store_rows(&ctx, &target, rows).await?;
        progress.add(items, bytes);
    }
    let rows: Vec<(Vec<u8>, Vec<u8>)> = undo
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
    for part in rows.chunks(4096) {
        let bytes = part.iter().map(|(_, v)| v.len() as u64).sum::<u64>();
        store_rows(&ctx, &target, part.to_vec()).await?;
        progress.add(part.len() as u64, bytes);
    }
    drop(snapshot);
    let now = ctx.now_ms();
    let delay = ctx.config.create_delay_ms;
    let name = target.name.clone();
    let id = target.id;
    ctx.store
        .write(move |txn| {
            if let Some(mut def) = catalog::load_for_write(txn, &name)?.filter(|d| d.id == id) {
                def.active_at_ms = now + delay;
                if let Some(r) = def.restore.as_mut() {
                    r.in_progress = false;
                }
                catalog::save(txn, &def)?;
            }
            Ok(())
        })
        .await?;
    progress.finish("finished");
    Ok(())
}

/// [`run`]; a restore that fails (a storage error) removes its half-loaded table, so it
/// is never half-visible, and the error is logged.
pub async fn run_or_remove(
    ctx: Arc<Ctx>,
    snapshot: ReadTransaction,
    source: Source,
    target: TableDef,
) -> ApiResult<()> {
    let (name, id) = (target.name.clone(), target.id);
    let result = run(ctx.clone(), snapshot, source, target).await;
    if let Err(e) = &result {
        tracing::error!(table = %name, error = %e, "restore failed: removing the half-restored table");
        ctx.store
            .write(move |txn| {
                if catalog::load_for_write(txn, &name)?.is_some_and(|d| d.id == id) {
                    crate::api::table::drop_table_data(txn, id)?;
                    catalog::remove(txn, &name)?;
                }
                Ok(())
            })
            .await?;
    }
    result
}

/// Stores one chunk of restored items (keys without their table id) in `target`.
async fn store_rows(ctx: &Ctx, target: &TableDef, rows: Vec<(Vec<u8>, Vec<u8>)>) -> ApiResult<()> {
    let target = target.clone();
    let now = ctx.now_ms();
    ctx.store
        .write(move |txn| {
            let origin = Origin::caller(now);
            for (suffix, value) in rows {
                let mut key = target.id.to_be_bytes().to_vec();
                key.extend_from_slice(&suffix);
                let stored = Stored(value);
                // The item must decode: a corrupt copy stops the restore, never half-writes.
                stored.item()?;
                let old = crate::storage::items::get_for_write(txn, &key)?;
                crate::write::on_write(
                    txn,
                    &target,
                    &key,
                    old.as_ref().map(Stored::size),
                    Some(&stored),
                    &origin,
                )?;
            }
            Ok(())
        })
        .await
}

/// What a crash interrupted, found when the engine opens (before any request): backups
/// still CREATING and restores still in progress.
pub struct Interrupted {
    backups: Vec<String>,
    restores: Vec<TableDef>,
    imports: Vec<crate::import::ImportMeta>,
}

impl Interrupted {
    pub fn find(ctx: &Ctx) -> ApiResult<Interrupted> {
        let txn = ctx.store.read()?;
        let backups = super::list(&txn)?
            .into_iter()
            .filter(|m| m.status == super::BackupStatus::Creating)
            .map(|m| m.id)
            .collect();
        let restores = catalog::list(&txn)?
            .into_iter()
            .filter(|d| d.restore.as_ref().is_some_and(|r| r.in_progress))
            .collect();
        let imports = crate::import::list(&txn)?
            .into_iter()
            .filter(|m| m.status == crate::import::ImportStatus::InProgress)
            .collect();
        Ok(Interrupted {
            backups,
            restores,
            imports,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.backups.is_empty() && self.restores.is_empty() && self.imports.is_empty()
    }
}

/// Puts right what a crash interrupted: a backup still CREATING lost its snapshot with
/// the process, so it is removed (with a warning; DynamoDB has no FAILED state for
/// backups); an interrupted restore drops the table's partial items and runs again from
/// its source; when the source is gone (backup deleted, table deleted, time out of the
/// window) the half-restored table is removed, with an error logged. An interrupted
/// import is marked FAILED and its half-loaded table removed (never half-visible).
pub async fn recover(ctx: Arc<Ctx>, found: Interrupted) -> ApiResult<()> {
    for meta in found.imports {
        tracing::error!(import = %meta.arn, "an import interrupted by a restart is marked FAILED");
        let now = ctx.now_ms();
        ctx.store
            .write(move |txn| {
                if let Some(def) = catalog::load_for_write(txn, &meta.table_name)?
                    .filter(|d| d.uuid == meta.table_id && d.restore.is_none())
                {
                    crate::api::table::drop_table_data(txn, def.id)?;
                    catalog::remove(txn, &def.name)?;
                }
                let mut meta = meta;
                meta.status = crate::import::ImportStatus::Failed;
                meta.end_ms = Some(now);
                meta.failure_code = Some("UNKNOWN".into());
                meta.failure_message =
                    Some("The import was interrupted by a restart of daxlite".into());
                crate::import::save(txn, &meta)
            })
            .await?;
    }
    for id in found.backups {
        tracing::warn!(backup = %id, "a backup interrupted by a restart is removed");
        ctx.store.write(move |txn| super::remove(txn, &id)).await?;
    }
    for def in found.restores {
        let id = def.id;
        ctx.store
            .write(move |txn| crate::api::table::drop_table_data(txn, id))
            .await?;
        let snapshot = ctx.store.read()?;
        match source_of(&ctx, &snapshot, &def)? {
            Some(source) => {
                tracing::warn!(table = %def.name, "restarting an interrupted restore");
                run(ctx.clone(), snapshot, source, def).await?;
            }
            None => {
                tracing::error!(table = %def.name,
                    "an interrupted restore's source is gone: removing the half-restored table");
                let name = def.name.clone();
                ctx.store
                    .write(move |txn| catalog::remove(txn, &name))
                    .await?;
            }
        }
    }
    Ok(())
}

fn source_of(ctx: &Ctx, snapshot: &ReadTransaction, def: &TableDef) -> ApiResult<Option<Source>> {
    let Some(r) = &def.restore else {
        return Ok(None);
    };
    if let Some(arn) = &r.source_backup_arn {
        let Some(id) = super::id_of_arn(arn) else {
            return Ok(None);
        };
        return Ok(super::load(snapshot, id)?.map(|_| Source::Backup { id: id.to_string() }));
    }
    let Some((_, name)) = r.source_table_arn.rsplit_once(":table/") else {
        return Ok(None);
    };
    let now = ctx.now_ms();
    let source = ctx.visible_table(snapshot, name, now)?;
    Ok(source
        .filter(|s| {
            s.pitr
                .as_ref()
                .is_some_and(|p| r.restore_ms >= window(ctx, p, now).0)
        })
        .map(|s| Source::Table {
            table_id: s.id,
            at_ms: r.restore_ms,
        }))
}

/// The restorable window of a table with PITR at `now`: (earliest, latest) in ms.
pub fn window(ctx: &Ctx, pitr: &catalog::Pitr, now: i64) -> (i64, i64) {
    let earliest = pitr
        .enabled_ms
        .max(now - pitr.period_days.saturating_mul(86_400_000));
    let latest = (now - ctx.config.pitr_lag_ms).max(earliest);
    (earliest, latest)
}
