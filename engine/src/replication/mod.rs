//! Global tables' engine side (docs/GLOBAL.md): item versions and replicated writes.
//!
//! A table in a replica group is marked `replicated` in the catalog
//! ([`set_replicated`]). From then on every local change of it that makes a stream
//! record is stamped with this region's hybrid logical clock ([`stamp_local`], called by
//! `streams::record`): the clock goes into the stream record (never rendered to clients)
//! and into the `item_versions` table beside the item. A change shipped from another
//! region is applied by [`apply`] through the one write path (`write::prepare` /
//! `write::commit`) only if its version beats the stored one ([`merge::replaces`]); it
//! is stored with its origin region, and its stream record is marked with it, so the
//! proxy's shipper never sends it on. [`read_changes`] is the shipper's typed view of a
//! table's stream, with the versions.
//!
//! Nothing here runs for a table that is not replicated: `streams::record` only checks
//! the flag.

pub mod merge;
pub mod snapshot;

use std::cell::RefCell;

use redb::{ReadableTable, TableDefinition, TableError, WriteTransaction};
use serde_json::Value;

use crate::ctx::Ctx;
use crate::model::Item;
use crate::storage::internal;
use crate::streams::store::{self, stream_key};
use crate::streams::{Actor, Origin};
use crate::wire::{ApiError, ApiResult};
use crate::write::{self, Action, WriteSpec};
pub use merge::{Hlc, Version};

/// Storage key of an item → its version: the clock (8 bytes, big-endian) then the
/// region that accepted the change (UTF-8; empty: this region). Deleted items keep their
/// version (a tombstone), so an older write arriving late cannot bring them back.
const VERSIONS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("item_versions");

thread_local! {
    /// This store's hybrid logical clock. Every stamp is taken on the store's one writer
    /// thread, so a thread-local is one clock per engine.
    static HLC: RefCell<Hlc> = RefCell::new(Hlc::default());
}

fn encode(clock: u64, region: &str) -> Vec<u8> {
    let mut v = clock.to_be_bytes().to_vec();
    v.extend_from_slice(region.as_bytes());
    v
}

fn decode(bytes: &[u8], own: &str) -> Option<Version> {
    let clock = u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?);
    let region = std::str::from_utf8(bytes.get(8..)?).ok()?;
    Some(Version {
        clock,
        region: if region.is_empty() { own } else { region }.to_string(),
    })
}

fn stored_version(txn: &WriteTransaction, key: &[u8], own: &str) -> ApiResult<Option<Version>> {
    let table = match txn.open_table(VERSIONS) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(internal(e)),
    };
    let v = table.get(key).map_err(internal)?;
    Ok(v.and_then(|v| decode(v.value(), own)))
}

fn put_version(txn: &WriteTransaction, key: &[u8], clock: u64, region: &str) -> ApiResult<()> {
    let mut table = txn.open_table(VERSIONS).map_err(internal)?;
    table
        .insert(key, encode(clock, region).as_slice())
        .map_err(internal)?;
    Ok(())
}

/// Stamps a local change of a replicated table (on the writer thread): ticks the clock,
/// stores the item's version, answers the clock for its stream record.
pub(crate) fn stamp_local(txn: &WriteTransaction, key: &[u8], at_ms: i64) -> ApiResult<u64> {
    let clock = HLC.with(|h| h.borrow_mut().tick(u64::try_from(at_ms).unwrap_or(0)));
    put_version(txn, key, clock, "")?;
    Ok(clock)
}

/// Marks `table` as in a replica group (or no longer). Answers the clock at that moment:
/// every local change stamped afterwards has a greater clock (the shipper of a new
/// replica ships those only). `ResourceNotFoundException` for a missing table.
pub async fn set_replicated(ctx: &Ctx, table: &str, on: bool) -> ApiResult<u64> {
    let name = table.to_string();
    let now = ctx.now_ms();
    ctx.store
        .write(move |txn| {
            let Some(mut def) = crate::catalog::load_for_write(txn, &name)? else {
                return Err(ApiError::resource_not_found("Requested resource not found"));
            };
            if def.replicated != on {
                def.replicated = on;
                crate::catalog::save(txn, &def)?;
            }
            Ok(HLC.with(|h| h.borrow_mut().tick(u64::try_from(now).unwrap_or(0))))
        })
        .await
}

/// One change shipped from another region.
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    /// The key attributes (used for a deletion; a put's key comes from its image).
    pub keys: Item,
    /// The item after the change (`None`: deleted).
    pub new: Option<Item>,
    /// The change's version: its clock and the region that accepted it.
    pub version: Version,
}

/// Applies changes shipped from other regions to `table`, in one commit, each through
/// the one write path (`write::prepare` / `write::commit`) if its version beats the
/// stored one. Answers, per change, whether it was applied (false: an equal or newer
/// version is already here — the change is dropped, as DynamoDB drops a losing write
/// silently). Of several changes of one item in the batch only the newest can win.
pub async fn apply(ctx: &Ctx, table: &str, changes: Vec<Incoming>) -> ApiResult<Vec<bool>> {
    let now = ctx.now_ms();
    let def = {
        let txn = ctx.store.read()?;
        ctx.data_table(&txn, table, now)?
    };
    let mut won = vec![false; changes.len()];
    // storage key → (index in `changes`, key, new image, version): the batch's newest.
    let mut newest: std::collections::HashMap<
        Vec<u8>,
        (usize, crate::keys::PrimaryKey, Option<Item>, Version),
    > = std::collections::HashMap::new();
    let mut top = 0u64;
    for (i, c) in changes.into_iter().enumerate() {
        let key = match &c.new {
            Some(item) => crate::keys::key_from_item(&def, item)?,
            None => crate::keys::key_from_param(&def, &c.keys)?,
        };
        top = top.max(c.version.clock);
        match newest.get(&key.storage) {
            Some((_, _, _, v)) if !merge::replaces(&c.version, Some(v)) => {}
            _ => {
                newest.insert(key.storage.clone(), (i, key, c.new, c.version));
            }
        }
    }
    let own = ctx.config.region.clone();
    let applied = ctx
        .store
        .write(move |txn| {
            HLC.with(|h| h.borrow_mut().observe(top));
            // Every check of every change before the first write.
            let mut ready = Vec::new();
            for (_, (i, key, new, version)) in newest {
                let storage = key.storage.clone();
                let spec = WriteSpec {
                    table: def.clone(),
                    key,
                    condition: None,
                    old_on_failure: false,
                    action: match new {
                        Some(item) => Action::put(item),
                        None => Action::Delete,
                    },
                };
                let prepared = write::prepare(txn, now, spec)?;
                let stored = stored_version(txn, &storage, &own)?;
                if merge::replaces(&version, stored.as_ref()) {
                    ready.push((i, storage, prepared, version));
                }
            }
            let mut applied = Vec::new();
            for (i, storage, prepared, version) in ready {
                let region = if version.region == own {
                    ""
                } else {
                    version.region.as_str()
                };
                put_version(txn, &storage, version.clock, region)?;
                let origin = Origin {
                    at_ms: now,
                    by: Actor::Replica,
                    replica: Some(version),
                };
                write::commit(txn, prepared, &origin)?;
                applied.push(i);
            }
            Ok(applied)
        })
        .await?;
    for i in applied {
        if let Some(w) = won.get_mut(i) {
            *w = true;
        }
    }
    Ok(won)
}

/// One change of a table's stream as the shipper sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub seq: u64,
    pub at_ms: i64,
    pub keys: Value,
    /// The item after the change (`None`: a deletion).
    pub new: Option<Value>,
    /// The clock it was stamped with (0: made before the table was replicated).
    pub clock: u64,
    /// `Some`: the change came from that region (never shipped on).
    pub from: Option<String>,
}

/// A batch of [`read_changes`].
#[derive(Debug, Clone, PartialEq)]
pub struct Changes {
    /// The stream's label (a new label: the stream was replaced; start it from 0).
    pub label: String,
    pub changes: Vec<Change>,
    /// Records after `after` were trimmed past retention before they were read.
    pub trimmed: bool,
}

/// Up to `limit` changes of `table`'s current stream after sequence number `after` (of
/// stream `label`; another label or none: from the stream's start). `None`: the table
/// has no stream.
pub fn read_changes(
    ctx: &Ctx,
    table: &str,
    label: Option<&str>,
    after: u64,
    limit: usize,
) -> ApiResult<Option<Changes>> {
    let txn = ctx.store.read()?;
    let Some(def) = ctx.visible_table(&txn, table, ctx.now_ms())? else {
        return Ok(None);
    };
    let Some(spec) = &def.stream else {
        return Ok(None);
    };
    let after = if label == Some(spec.label.as_str()) {
        after
    } else {
        0
    };
    let key = stream_key(def.id, &spec.label);
    let trimmed = store::load(&txn, &key)?.is_some_and(|m| after < m.trimmed_through);
    let records = store::read(&txn, &key, after.saturating_add(1)..=u64::MAX, limit)?;
    Ok(Some(Changes {
        label: spec.label.clone(),
        trimmed,
        changes: records
            .into_iter()
            .map(|(seq, r)| Change {
                seq,
                at_ms: r.at_ms,
                keys: r.keys,
                new: r.new,
                clock: r.clock,
                from: r.from,
            })
            .collect(),
    }))
}

#[cfg(test)]
mod tests;
