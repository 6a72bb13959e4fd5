//! Time to Live: each table's setting (the `ttl` redb table) and the sweeper that
//! deletes expired items through the one write path (`write::apply_as`), as DynamoDB
//! itself, so each deletion emits a REMOVE stream record with the service identity.
//!
//! An item expires when its TTL attribute is a number of epoch seconds at or before now;
//! other types, missing attributes and times more than five years in the past never
//! expire (DynamoDB's documented rules). Expired items stay readable until swept.

use redb::{ReadTransaction, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use crate::catalog::{self, TableDef, TableStatus};
use crate::ctx::Ctx;
use crate::keys::{key_from_item, table_range};
use crate::model::{AttributeValue, Item};
use crate::storage::items::Stored;
use crate::storage::{internal, ITEMS, TTL};
use crate::streams::Origin;
use crate::wire::{ApiResult, ErrorCode};
use crate::write::{apply_as, Action, WriteSpec};

/// DynamoDB ignores expiry times more than five years in the past.
pub const MAX_PAST_MS: i64 = 5 * 365 * 86_400_000;

/// A table's TTL setting as last changed by UpdateTimeToLive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TtlSetting {
    pub attribute: String,
    pub enabled: bool,
    pub changed_ms: i64,
}

impl TtlSetting {
    /// ENABLING / ENABLED / DISABLING / DISABLED.
    pub fn status(&self, now_ms: i64, transition_ms: i64) -> &'static str {
        let settling = now_ms < self.changed_ms.saturating_add(transition_ms);
        match (self.enabled, settling) {
            (true, true) => "ENABLING",
            (true, false) => "ENABLED",
            (false, true) => "DISABLING",
            (false, false) => "DISABLED",
        }
    }
}

fn key(table_id: u64) -> [u8; 8] {
    table_id.to_be_bytes()
}

pub fn load(txn: &ReadTransaction, table_id: u64) -> ApiResult<Option<TtlSetting>> {
    let table = txn.open_table(TTL)?;
    let v = table.get(key(table_id).as_slice())?;
    v.map(|v| serde_json::from_slice(v.value()).map_err(internal))
        .transpose()
}

pub fn load_for_write(txn: &WriteTransaction, table_id: u64) -> ApiResult<Option<TtlSetting>> {
    let table = txn.open_table(TTL)?;
    let v = table.get(key(table_id).as_slice())?;
    v.map(|v| serde_json::from_slice(v.value()).map_err(internal))
        .transpose()
}

pub fn save(txn: &WriteTransaction, table_id: u64, setting: &TtlSetting) -> ApiResult<()> {
    let bytes = serde_json::to_vec(setting).map_err(internal)?;
    let mut table = txn.open_table(TTL)?;
    table.insert(key(table_id).as_slice(), bytes.as_slice())?;
    Ok(())
}

/// Whether `item` has expired at `now_ms` by its `attribute`.
pub fn expired(item: &Item, attribute: &str, now_ms: i64) -> bool {
    let Some(AttributeValue::N(n)) = item.get(attribute) else {
        return false;
    };
    let at_ms = n.to_f64() * 1000.0;
    at_ms.is_finite() && at_ms <= now_ms as f64 && at_ms >= (now_ms - MAX_PAST_MS) as f64
}

/// One sweep: finds up to `ttl_sweep_batch` expired items of the tables whose TTL is
/// ENABLED and deletes them in one commit. Returns how many were deleted.
pub async fn sweep(ctx: &Ctx) -> ApiResult<usize> {
    let now = ctx.now_ms();
    let found = expired_items(ctx, now)?;
    if found.is_empty() {
        return Ok(0);
    }
    let deleted: Vec<String> = ctx
        .store
        .write(move |txn| {
            let mut deleted = Vec::new();
            for (def, attribute, item) in found {
                let key = key_from_item(&def, &item)?;
                let table = def.name.clone();
                let still_expired =
                    move |old: Option<&Item>| Ok(old.is_some_and(|i| expired(i, &attribute, now)));
                let spec = WriteSpec {
                    table: def,
                    key,
                    condition: Some(Box::new(still_expired)),
                    old_on_failure: false,
                    action: Action::Delete,
                };
                // A condition failure means the item changed since the scan: skip it.
                match apply_as(txn, Origin::time_to_live(now), spec) {
                    Ok(_) => deleted.push(table),
                    Err(e) if e.code() == ErrorCode::ConditionalCheckFailedException => {}
                    Err(e) if e.code() == ErrorCode::ResourceNotFoundException => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(deleted)
        })
        .await?;
    // Counted once committed (TimeToLiveDeletedItemCount), per table.
    let n = deleted.len();
    let mut by_table: Vec<(String, u64)> = Vec::new();
    for t in deleted {
        match by_table.iter_mut().find(|(name, _)| *name == t) {
            Some(slot) => slot.1 += 1,
            None => by_table.push((t, 1)),
        }
    }
    for (t, k) in by_table {
        crate::capacity::requests::ttl_deleted(t, k);
    }
    Ok(n)
}

/// The expired items to delete, from one snapshot.
fn expired_items(ctx: &Ctx, now: i64) -> ApiResult<Vec<(TableDef, String, Item)>> {
    let txn = ctx.store.read()?;
    let limit = ctx.config.ttl_sweep_batch;
    let mut out = Vec::new();
    for def in catalog::list(&txn)? {
        if out.len() >= limit {
            break;
        }
        if !matches!(def.status(now), TableStatus::Active | TableStatus::Updating) {
            continue;
        }
        let Some(setting) = load(&txn, def.id)? else {
            continue;
        };
        if setting.status(now, ctx.config.ttl_transition_ms) != "ENABLED" {
            continue;
        }
        let items = txn.open_table(ITEMS)?;
        let (lo, hi) = table_range(def.id);
        for entry in items.range(lo.as_slice()..hi.as_slice())? {
            if out.len() >= limit {
                break;
            }
            let (_, v) = entry?;
            let item = Stored(v.value().to_vec()).item()?;
            if expired(&item, &setting.attribute, now) {
                out.push((def.clone(), setting.attribute.clone(), item));
            }
        }
    }
    Ok(out)
}
