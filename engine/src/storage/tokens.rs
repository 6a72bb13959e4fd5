//! TransactWriteItems idempotency tokens, kept in the same redb write transaction as the
//! transaction's effects, so a token is recorded exactly when its transaction commits
//! and survives a restart. Layout in `engine/FORMAT.md` (`tx_tokens`, `tx_token_expiry`).

use redb::{ReadableTable, TableDefinition, WriteTransaction};

use super::internal;
use crate::wire::ApiResult;

/// ClientRequestToken → completion time (i64 ms, 8 bytes BE) ‖ SHA-256 of the request
/// parameters (32 bytes).
pub const TOKENS: TableDefinition<&str, &[u8]> = TableDefinition::new("tx_tokens");
/// Completion time (i64 ms, 8 bytes BE) ‖ token → empty: finds expired tokens in order.
pub const TOKEN_EXPIRY: TableDefinition<&[u8], &[u8]> = TableDefinition::new("tx_token_expiry");

/// A token stays bound to its request this long after the request completed.
pub const TOKEN_WINDOW_MS: i64 = 10 * 60 * 1000;

/// At most this many expired tokens are dropped per recorded token (bounded work).
const PRUNE_PER_WRITE: usize = 16;

/// The request hash a live token is bound to (`None`: unknown or expired).
pub fn lookup(txn: &WriteTransaction, token: &str, now_ms: i64) -> ApiResult<Option<[u8; 32]>> {
    let table = txn.open_table(TOKENS).map_err(internal)?;
    let Some(value) = table.get(token).map_err(internal)? else {
        return Ok(None);
    };
    let bytes = value.value();
    let done = bytes
        .get(..8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(i64::from_be_bytes)
        .unwrap_or(i64::MIN);
    if now_ms.saturating_sub(done) >= TOKEN_WINDOW_MS {
        return Ok(None);
    }
    Ok(bytes.get(8..40).and_then(|h| <[u8; 32]>::try_from(h).ok()))
}

fn expiry_key(done_ms: i64, token: &str) -> Vec<u8> {
    let mut k = done_ms.to_be_bytes().to_vec();
    k.extend_from_slice(token.as_bytes());
    k
}

/// Binds `token` to `hash` as of `now_ms` (replacing an expired binding) and drops a
/// few expired tokens. Runs after the transaction's writes, in the same transaction.
pub fn record(txn: &WriteTransaction, token: &str, hash: &[u8; 32], now_ms: i64) -> ApiResult<()> {
    let mut tokens = txn.open_table(TOKENS).map_err(internal)?;
    let mut expiry = txn.open_table(TOKEN_EXPIRY).map_err(internal)?;
    let previous = tokens
        .get(token)
        .map_err(internal)?
        .and_then(|v| v.value().get(..8).and_then(|b| <[u8; 8]>::try_from(b).ok()))
        .map(i64::from_be_bytes);
    if let Some(done) = previous {
        expiry
            .remove(expiry_key(done, token).as_slice())
            .map_err(internal)?;
    }
    let mut value = now_ms.to_be_bytes().to_vec();
    value.extend_from_slice(hash);
    tokens.insert(token, value.as_slice()).map_err(internal)?;
    expiry
        .insert(expiry_key(now_ms, token).as_slice(), [].as_slice())
        .map_err(internal)?;
    let cutoff = now_ms.saturating_sub(TOKEN_WINDOW_MS).to_be_bytes();
    let mut expired = Vec::new();
    for entry in expiry
        .range(..cutoff.as_slice())
        .map_err(internal)?
        .take(PRUNE_PER_WRITE)
    {
        let (k, _) = entry.map_err(internal)?;
        expired.push(k.value().to_vec());
    }
    for k in expired {
        expiry.remove(k.as_slice()).map_err(internal)?;
        if let Some(t) = k.get(8..).and_then(|t| std::str::from_utf8(t).ok()) {
            tokens.remove(t).map_err(internal)?;
        }
    }
    Ok(())
}
