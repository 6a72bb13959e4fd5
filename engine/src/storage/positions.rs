//! Consumer positions: small named records that readers of the engine's streams (the
//! proxy's HTTP triggers) persist so they resume where they stopped after a restart.
//! Layout in `engine/FORMAT.md` (`consumer_positions`); the table is created on first
//! write, so stores written before it existed need no format change.

use redb::{TableDefinition, TableError};

use super::{internal, Store};
use crate::wire::ApiResult;

/// Consumer name (UTF-8) → the consumer's position, opaque to the engine.
pub const POSITIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("consumer_positions");

/// The longest consumer name and position accepted (they are small by design).
pub const MAX_NAME_BYTES: usize = 1024;
pub const MAX_POSITION_BYTES: usize = 64 * 1024;

/// The saved position of `name`, if any.
pub fn load(store: &Store, name: &str) -> ApiResult<Option<Vec<u8>>> {
    let txn = store.read()?;
    let table = match txn.open_table(POSITIONS) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(internal(e)),
    };
    let value = table.get(name).map_err(internal)?;
    Ok(value.map(|v| v.value().to_vec()))
}

/// Saves (replaces) the position of `name`, durably, in its own commit slot.
pub async fn save(store: &Store, name: &str, position: &[u8]) -> ApiResult<()> {
    if name.len() > MAX_NAME_BYTES || position.len() > MAX_POSITION_BYTES {
        return Err(crate::wire::ApiError::validation(
            "consumer name or position too large",
        ));
    }
    let name = name.to_string();
    let position = position.to_vec();
    store
        .write(move |txn| {
            let mut table = txn.open_table(POSITIONS).map_err(internal)?;
            table
                .insert(name.as_str(), position.as_slice())
                .map_err(internal)?;
            Ok(())
        })
        .await
}
