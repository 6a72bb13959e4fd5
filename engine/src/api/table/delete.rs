//! DeleteTable: refuses protected or busy tables, drops the table's items and statistics
//! in one commit, and leaves the table DELETING for the configured delay.

use serde_json::{json, Map, Value};

use super::describe::{description, Shape};
use crate::api::Ctx;
use crate::catalog::{self, Lifecycle, TableStatus};
use crate::storage::{internal, ITEMS};
use crate::wire::shape::table_name_only;
use crate::wire::{ApiError, ApiResult};

pub async fn delete_table(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let name = table_name_only(body)?;
    let name = name.to_string();
    let now = ctx.now_ms();
    let delay = ctx.config.delete_delay_ms;
    let not_found = ctx.table_not_found(&name);
    let (region, account) = (ctx.config.region.clone(), ctx.config.account.clone());
    let (def, stats) = ctx
        .store
        .write(move |txn| {
            let Some(mut def) = catalog::load_for_write(txn, &name)?.filter(|d| !d.is_gone(now, delay)) else {
                return Err(not_found);
            };
            match def.status(now) {
                TableStatus::Active => {}
                TableStatus::Creating => return Err(in_use("created", &name)),
                TableStatus::Updating => return Err(in_use("updated", &name)),
                TableStatus::Deleting => return Err(in_use("deleted", &name)),
            }
            if def.deletion_protection {
                return Err(ApiError::validation(
                    "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.",
                ));
            }
            let stats = catalog::stats_for_write(txn, def.id)?;
            if def.pitr.is_some() {
                crate::backup::system_backup(txn, &def, stats, now, &region, &account)?;
                crate::backup::journal::trim(txn, def.id, i64::MAX)?;
            }
            drop_table_data(txn, def.id)?;
            if !def.kinesis.is_empty() {
                crate::kinesis::outbox::drop_table(txn, def.id)?;
            }
            def.lifecycle = Lifecycle::Deleting { since_ms: now };
            if delay == 0 {
                catalog::remove(txn, &def.name)?;
            } else {
                catalog::save(txn, &def)?;
            }
            Ok((def, stats))
        })
        .await?;
    ctx.meter.forget(def.id);
    ctx.meter.series.forget(&def.name);
    tracing::info!(table = %def.name, "table deleted");
    Ok(json!({ "TableDescription": description(ctx, &def, stats, now, Shape::Deleted) }))
}

fn in_use(what: &str, name: &str) -> ApiError {
    ApiError::resource_in_use(format!(
        "Attempt to change a resource which is still in use: Table is being {what}: {name}"
    ))
}

/// Removes a table's items, index entries and statistics (DeleteTable; a restore that
/// starts again after a crash).
pub fn drop_table_data(txn: &crate::storage::WriteTransaction, table_id: u64) -> ApiResult<()> {
    drop_items(txn, table_id)?;
    crate::index::drop_table(txn, table_id)?;
    catalog::remove_stats(txn, table_id)
}

/// Removes every stored entry of a table (its keys all start with the table id).
fn drop_items(txn: &crate::storage::WriteTransaction, table_id: u64) -> ApiResult<()> {
    let mut items = txn.open_table(ITEMS).map_err(internal)?;
    let start = table_id.to_be_bytes();
    let end = (table_id + 1).to_be_bytes();
    items
        .retain_in(start.as_slice()..end.as_slice(), |_, _| false)
        .map_err(internal)?;
    Ok(())
}
