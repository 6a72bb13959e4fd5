//! THE read-modify-write path: every item write (PutItem, UpdateItem, DeleteItem; later
//! batch writes, transactions, TTL deletion, restore) goes through [`apply`] inside one
//! `Store::write` transaction:
//!
//! 1. check the table is still live (a DeleteTable may have committed since the request
//!    looked it up);
//! 2. load the old item (decoded only when a later step reads it: a condition, an
//!    update, a ConditionCheck or secondary indexes; an unconditional PutItem or
//!    DeleteItem keeps its stored bytes, and the caller decodes them only to answer
//!    ReturnValues);
//! 3. evaluate the condition (ConditionalCheckFailedException, with the old item when
//!    asked);
//! 4. compute the new item (Put: as given; Update: the update applied to the old item or
//!    to the key; Delete: none);
//! 5. check it (key unchanged, index key types, size ≤ 400 KB);
//! 6. [`on_write`] — the ONE place that changes stored items, and so the place where
//!    index maintenance and stream records hook in.
//!
//! Every check happens before the first write, so an `Err` leaves the shared group-commit
//! transaction untouched. [`apply`] is [`prepare`] (steps 1–5) then [`commit`] (step 6);
//! a transaction prepares all its actions before committing any.

use std::borrow::Cow;

use redb::WriteTransaction;

use crate::capacity::{write_cost, Gate, WriteCost};
use crate::catalog::{self, TableDef, TableStatus};
use crate::images::Images;
use crate::keys::{check_index_keys, IndexContext, PrimaryKey};
use crate::model::size::{item_size, MAX_ITEM_SIZE};
use crate::model::Item;
use crate::storage::items::{self, Stored};
use crate::storage::Store;
use crate::streams::Origin;
use crate::wire::{ApiError, ApiResult, ErrorCode};

/// A condition on the old item (ConditionExpression, legacy Expected, ...).
pub trait Precondition: Send {
    /// Whether the write may go ahead, given the item as it is now (`None`: no item).
    fn holds(&self, old: Option<&Item>) -> ApiResult<bool>;
}

/// Any `Fn(Option<&Item>) -> ApiResult<bool>` closure is a precondition.
impl<F> Precondition for F
where
    F: Fn(Option<&Item>) -> ApiResult<bool> + Send,
{
    fn holds(&self, old: Option<&Item>) -> ApiResult<bool> {
        self(old)
    }
}

/// Computes an updated item from the item as it is (or the bare key when there is none).
pub type Updater = Box<dyn FnOnce(Item) -> ApiResult<Item> + Send>;

/// What the write does to the item.
pub enum Action {
    /// Replace the item (PutItem), encoded for storage by [`Action::put`].
    Put(NewItem),
    /// Apply an update to the current item, creating it from its key if missing.
    Update(Updater),
    /// Apply an update that only removes attributes: a missing item stays missing and
    /// nothing is written (no index change, no stream record).
    UpdateExisting(Updater),
    /// Remove the item (a missing item is not an error).
    Delete,
    /// Change nothing: only the condition matters (a transaction's ConditionCheck).
    Check,
}

impl Action {
    /// Replace the item with `item`, encoded here, on the caller's task: the one writer
    /// thread then only stores the bytes (a bulk load's items encode in parallel).
    pub fn put(item: Item) -> Action {
        let stored = Stored::encode(&item);
        Action::Put(NewItem { item, stored })
    }
}

/// An item a PutItem stores, with its stored encoding.
pub struct NewItem {
    item: Item,
    stored: Stored,
}

/// One item write, with everything it needs to run inside the writer.
pub struct WriteSpec {
    pub table: TableDef,
    pub key: PrimaryKey,
    pub condition: Option<Box<dyn Precondition>>,
    /// ReturnValuesOnConditionCheckFailure=ALL_OLD: a failed condition carries the item.
    pub old_on_failure: bool,
    pub action: Action,
}

/// What a write did: the item before and after, with their sizes (0 when absent).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Written {
    /// The item before the write as stored (`None`: there was none).
    old_stored: Option<Stored>,
    /// The same, decoded, when the write needed it (see [`Written::old_decoded`]).
    old_decoded: Option<Item>,
    pub new: Option<Item>,
    pub old_size: usize,
    pub new_size: usize,
}

impl Written {
    /// Whether an item existed before the write.
    pub fn existed(&self) -> bool {
        self.old_stored.is_some()
    }

    /// The item before the write (decoded now when the write did not need it decoded).
    pub fn old(&self) -> ApiResult<Option<Cow<'_, Item>>> {
        match (&self.old_decoded, &self.old_stored) {
            (Some(item), _) => Ok(Some(Cow::Borrowed(item))),
            (None, Some(stored)) => stored.item().map(|item| Some(Cow::Owned(item))),
            (None, None) => Ok(None),
        }
    }

    /// [`Written::old`] as an owned item.
    pub fn old_item(&self) -> ApiResult<Option<Item>> {
        Ok(self.old()?.map(Cow::into_owned))
    }

    /// The old item as the write decoded it: always present when an item existed and the
    /// table has a secondary index (what the index arms of its cost read), or the write
    /// had a condition or an update.
    pub fn old_decoded(&self) -> Option<&Item> {
        self.old_decoded.as_ref()
    }
}

/// "The conditional request failed", with the old item when `old` is given.
pub fn condition_failed(old: Option<&Item>) -> ApiError {
    let e = ApiError::new(
        ErrorCode::ConditionalCheckFailedException,
        "The conditional request failed",
    );
    match old.and_then(|item| serde_json::to_value(item).ok()) {
        Some(v) => e.with_extra("Item", v),
        None => e,
    }
}

/// Runs one write in its own group-commit slot and answers once it is durable.
pub async fn write_one(store: &Store, now_ms: i64, spec: WriteSpec) -> ApiResult<Written> {
    store.write(move |txn| apply(txn, now_ms, spec)).await
}

/// [`write_one`] with a capacity gate between the checks and the write (`None`:
/// throttling off).
pub async fn write_one_gated(
    store: &Store,
    now_ms: i64,
    spec: WriteSpec,
    gate: Option<Gate>,
) -> ApiResult<Written> {
    // Only a conditional write can fail its condition (ConditionalCheckFailedRequests).
    let conditional = spec.condition.is_some().then(|| spec.table.name.clone());
    let out = match gate {
        None => write_one(store, now_ms, spec).await,
        Some(gate) => {
            store
                .write(move |txn| apply_gated(txn, now_ms, spec, Some(&gate)))
                .await
        }
    };
    if let (Err(e), Some(table)) = (&out, conditional) {
        if e.code() == ErrorCode::ConditionalCheckFailedException {
            crate::capacity::requests::condition_failed(table);
        }
    }
    out
}

/// [`apply`], with the write priced and admitted by `gate` after every check and before
/// it is stored: a throttled write changes nothing.
pub fn apply_gated(
    txn: &WriteTransaction,
    now_ms: i64,
    spec: WriteSpec,
    gate: Option<&Gate>,
) -> ApiResult<Written> {
    let prepared = prepare(txn, now_ms, spec)?;
    if let Some(gate) = gate {
        gate.admit_write(&prepared.key, &prepared.cost(1.0), now_ms)?;
    }
    commit(txn, prepared, &Origin::caller(now_ms))
}

/// Makes every check of one write, then writes it (see the module doc for the order).
pub fn apply(txn: &WriteTransaction, now_ms: i64, spec: WriteSpec) -> ApiResult<Written> {
    apply_as(txn, Origin::caller(now_ms), spec)
}

/// [`apply`] on behalf of `origin` (the TTL sweeper deletes as the service itself).
pub fn apply_as(txn: &WriteTransaction, origin: Origin, spec: WriteSpec) -> ApiResult<Written> {
    let prepared = prepare(txn, origin.at_ms, spec)?;
    commit(txn, prepared, &origin)
}

/// A write whose checks all passed, not yet stored: what [`commit`] will store.
pub struct Prepared {
    table: TableDef,
    key: Vec<u8>,
    /// The old item decoded, when a check, the update or the index arms read it.
    old: Option<Item>,
    /// The old item as stored (its bytes go to the Kinesis outbox without a second read).
    old_stored: Option<Stored>,
    old_size: usize,
    new: Option<Item>,
    /// `new` encoded, when the caller encoded it ([`Action::put`]).
    new_stored: Option<Stored>,
    /// `false` for a ConditionCheck: nothing changes.
    writes: bool,
}

impl Prepared {
    /// What the write costs on each arm (`table_factor` 2 in a transaction).
    pub fn cost(&self, table_factor: f64) -> WriteCost {
        write_cost(
            &self.table,
            self.old.as_ref(),
            self.old_size,
            self.new.as_ref(),
            table_factor,
        )
    }
}

/// Steps 1–5 of the module doc: every check, no write. A transaction prepares all its
/// actions before committing any of them, so a failure anywhere leaves storage untouched.
pub fn prepare(txn: &WriteTransaction, now_ms: i64, spec: WriteSpec) -> ApiResult<Prepared> {
    let WriteSpec {
        table,
        key,
        condition,
        old_on_failure,
        action,
    } = spec;
    let mut table = table;
    // The definition as committed now: PITR may have been switched on since the request
    // looked the table up, and every change after that must be journaled.
    table.pitr = check_live(txn, &table, now_ms)?;
    let old_stored = items::get_for_write(txn, &key.storage)?;
    let old_size = old_stored.as_ref().map(Stored::size).unwrap_or(0);
    let reads_old = condition.is_some()
        || !matches!(action, Action::Put(_) | Action::Delete)
        || !table.lsis.is_empty()
        || !table.gsis.is_empty();
    let old = match &old_stored {
        Some(stored) if reads_old => Some(stored.item()?),
        _ => None,
    };
    if let Some(cond) = &condition {
        if !cond.holds(old.as_ref())? {
            return Err(condition_failed(if old_on_failure {
                old.as_ref()
            } else {
                None
            }));
        }
    }
    let (new, new_stored, writes) = match action {
        Action::Put(NewItem { item, stored }) => (Some(item), Some(stored), true),
        Action::Delete => (None, None, true),
        Action::Check => (old.clone(), None, false),
        Action::UpdateExisting(_) if old.is_none() => (None, None, false),
        Action::Update(update) | Action::UpdateExisting(update) => {
            let base = old.clone().unwrap_or_else(|| key.attrs.clone());
            let item = update(base)?;
            if key.attrs.iter().any(|(k, v)| item.get(k) != Some(v)) {
                return Err(ApiError::internal("Internal server error"));
            }
            check_index_keys(&table, &item, IndexContext::Update)?;
            if item_size(&item) > MAX_ITEM_SIZE {
                return Err(ApiError::validation(
                    "Item size to update has exceeded the maximum allowed size",
                ));
            }
            (Some(item), None, true)
        }
    };
    Ok(Prepared {
        table,
        key: key.storage,
        old,
        old_stored,
        old_size,
        new,
        new_stored,
        writes,
    })
}

/// Step 6: stores a prepared write through [`on_write`], on behalf of `origin`.
pub fn commit(txn: &WriteTransaction, p: Prepared, origin: &Origin) -> ApiResult<Written> {
    if !p.writes {
        // A ConditionCheck (the item stays as it is) or an update of a missing item that
        // only removes attributes (it stays missing).
        let new_size = if p.new.is_some() { p.old_size } else { 0 };
        return Ok(Written {
            old_stored: p.old_stored,
            old_decoded: p.old,
            new: p.new,
            old_size: p.old_size,
            new_size,
        });
    }
    let stored = p.new_stored.or_else(|| p.new.as_ref().map(Stored::encode));
    let new_size = stored.as_ref().map(Stored::size).unwrap_or(0);
    let images = Images::new(txn, &p.key, p.old_stored.is_some(), stored.as_ref())
        .with_old_stored(p.old_stored.as_ref())
        .with_old_item(p.old.as_ref())
        .with_new_item(p.new.as_ref());
    write_item(&p.table, p.old_size, &images, origin)?;
    drop(images);
    Ok(Written {
        old_stored: p.old_stored,
        old_decoded: p.old,
        new: p.new,
        old_size: p.old_size,
        new_size,
    })
}

/// The table must still be the one the request looked up, and usable by the data plane;
/// answers its current point-in-time recovery setting.
fn check_live(
    txn: &WriteTransaction,
    table: &TableDef,
    now_ms: i64,
) -> ApiResult<Option<catalog::Pitr>> {
    match catalog::load_shared_for_write(txn, &table.name)?.as_deref() {
        Some(d)
            if d.id == table.id
                && matches!(
                    d.status(now_ms),
                    TableStatus::Active | TableStatus::Updating
                ) =>
        {
            Ok(d.pitr.clone())
        }
        _ => Err(ApiError::resource_not_found("Requested resource not found")),
    }
}

/// The one place stored items change: stores or removes the item and keeps the table's
/// ItemCount / TableSizeBytes right. Secondary indexes, stream records and the
/// point-in-time recovery journal are kept here.
/// `old_size` is `Some` when an item existed; `new` is `None` for a deletion.
pub fn on_write(
    txn: &WriteTransaction,
    table: &TableDef,
    key: &[u8],
    old_size: Option<usize>,
    new: Option<&Stored>,
    origin: &Origin,
) -> ApiResult<()> {
    let images = Images::new(txn, key, old_size.is_some(), new);
    write_item(table, old_size.unwrap_or(0), &images, origin)
}

/// `old_size`: the old item's size (0: there was none).
fn write_item(
    table: &TableDef,
    old_size: usize,
    images: &Images<'_>,
    origin: &Origin,
) -> ApiResult<()> {
    let txn = images.txn();
    let key = images.key();
    let new = images.new_stored();
    // Index maintenance and stream records, with the old and new items, before the item changes.
    crate::index::maintain(txn, table, images)?;
    crate::streams::record(txn, table, images, origin)?;
    if !table.kinesis.is_empty() {
        crate::kinesis::outbox::record(txn, table, images, origin)?;
    }
    if table.pitr.is_some() {
        crate::backup::journal::record(txn, table, key, new, origin)?;
    }
    match new {
        Some(value) => items::put(txn, key, value)?,
        None if images.existed() => items::remove(txn, key)?,
        None => return Ok(()),
    }
    // Published once the commit succeeds (the change feed).
    let by_service = origin.by == crate::streams::Actor::TimeToLive;
    let replicated = origin.by == crate::streams::Actor::Replica;
    crate::changes::note(&table.name, key, by_service, replicated);
    let count = i64::from(new.is_some()) - i64::from(images.existed());
    let bytes = new.map(Stored::size).unwrap_or(0) as i64 - old_size as i64;
    if count != 0 || bytes != 0 {
        catalog::add_stats(txn, table.id, count, bytes)?;
    }
    Ok(())
}
