//! Item values in the `items` table: `item size (u32 BE) ‖ item as DynamoDB JSON`. The
//! size prefix lets statistics and capacity be computed without decoding; the JSON is
//! answered as is by reads without a projection (no re-serialisation).

use redb::{ReadTransaction, ReadableTable, WriteTransaction};

use super::{internal, ITEMS};
use crate::model::size::item_size;
use crate::model::value::{decode_item, write_item_json, Deferred};
use crate::model::Item;
use crate::wire::{ApiError, ApiResult};

/// One stored item value, still encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored(pub Vec<u8>);

impl Stored {
    /// Encodes an item: its DynamoDB size, then its JSON.
    pub fn encode(item: &Item) -> Stored {
        let size = item_size(item);
        // One buffer, sized for the JSON at once: DynamoDB's size plus the JSON's names,
        // type tags and punctuation (about 12 bytes per attribute).
        let mut out = Vec::with_capacity(4 + size + 16 * item.len() + 16);
        out.extend_from_slice(&u32::try_from(size).unwrap_or(u32::MAX).to_be_bytes());
        write_item_json(&mut out, item);
        Stored(out)
    }

    /// The item's size as DynamoDB counts it.
    pub fn size(&self) -> usize {
        Stored::size_of(&self.0)
    }

    /// The item's DynamoDB JSON (`{"a":{"S":"x"},...}`).
    pub fn json(&self) -> &[u8] {
        Stored::json_of(&self.0)
    }

    /// [`Stored::size`] of stored bytes borrowed from the store (no copy).
    pub fn size_of(stored: &[u8]) -> usize {
        stored
            .get(..4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_be_bytes)
            .unwrap_or(0) as usize
    }

    /// [`Stored::json`] of stored bytes borrowed from the store (no copy).
    pub fn json_of(stored: &[u8]) -> &[u8] {
        stored.get(4..).unwrap_or_default()
    }

    /// Decodes the item.
    pub fn item(&self) -> ApiResult<Item> {
        let value: serde_json::Value = serde_json::from_slice(self.json()).map_err(corrupt)?;
        decode_item(&value, &mut Deferred::new()).map_err(corrupt)
    }
}

fn corrupt(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "corrupt stored item");
    ApiError::internal("Internal server error")
}

/// Reads one item from a snapshot.
pub fn get(txn: &ReadTransaction, key: &[u8]) -> ApiResult<Option<Stored>> {
    let table = txn.open_table(ITEMS).map_err(internal)?;
    let value = table.get(key).map_err(internal)?;
    Ok(value.map(|v| Stored(v.value().to_vec())))
}

/// Reads one item inside a write transaction.
pub fn get_for_write(txn: &WriteTransaction, key: &[u8]) -> ApiResult<Option<Stored>> {
    let table = txn.open_table(ITEMS).map_err(internal)?;
    let value = table.get(key).map_err(internal)?;
    Ok(value.map(|v| Stored(v.value().to_vec())))
}

/// Stores one item value under its key.
pub fn put(txn: &WriteTransaction, key: &[u8], value: &Stored) -> ApiResult<()> {
    let mut table = txn.open_table(ITEMS).map_err(internal)?;
    table.insert(key, value.0.as_slice()).map_err(internal)?;
    Ok(())
}

/// Removes one item.
pub fn remove(txn: &WriteTransaction, key: &[u8]) -> ApiResult<()> {
    let mut table = txn.open_table(ITEMS).map_err(internal)?;
    table.remove(key).map_err(internal)?;
    Ok(())
}
