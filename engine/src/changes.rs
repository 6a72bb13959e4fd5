//! The change feed: after every commit, the table and key of each item the commit wrote,
//! broadcast to subscribers ([`crate::Engine::changes`]). The proxy's cache subscribes
//! to invalidate keys written behind its back (Time to Live deletions). `write::on_write`
//! notes each change on the writer thread; the writer sends the group's changes only
//! once the commit succeeded, and drops them when it rolled back.

use std::cell::RefCell;
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::broadcast;

/// How many commit groups a slow subscriber may fall behind before it is told it lagged
/// (it must then assume every key changed).
const CAPACITY: usize = 1024;

/// The storage key's prefix before the encoded key values: table id and hash prefix.
const KEY_PREFIX: usize = 16;

/// One committed item write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The table's name.
    pub table: Arc<str>,
    /// `enc(partition key) ‖ enc(sort key)` (`model::keycodec`), without the table id.
    pub key: Bytes,
    /// DynamoDB itself made the change (a Time to Live deletion), not a caller.
    pub by_service: bool,
    /// Another region's change applied here (global tables): it bypassed the cache too.
    pub replicated: bool,
}

/// The changes of one commit group, in write order.
pub type Changes = Arc<[Change]>;

thread_local! {
    /// The writer thread's notes for the group being committed (`None` elsewhere).
    static PENDING: RefCell<Option<Vec<Change>>> = const { RefCell::new(None) };
}

/// Notes a write inside the current group (a no-op outside the writer thread).
pub(crate) fn note(table: &str, storage_key: &[u8], by_service: bool, replicated: bool) {
    PENDING.with(|p| {
        if let Some(list) = p.borrow_mut().as_mut() {
            list.push(Change {
                table: Arc::from(table),
                key: Bytes::copy_from_slice(storage_key.get(KEY_PREFIX..).unwrap_or_default()),
                by_service,
                replicated,
            });
        }
    });
}

/// The sending side, held by the writer.
#[derive(Clone)]
pub struct Feed {
    tx: broadcast::Sender<Changes>,
}

impl Default for Feed {
    fn default() -> Self {
        Feed {
            tx: broadcast::channel(CAPACITY).0,
        }
    }
}

impl Feed {
    pub fn subscribe(&self) -> broadcast::Receiver<Changes> {
        self.tx.subscribe()
    }

    /// Starts collecting notes on this thread (the writer, once at start).
    pub(crate) fn collect_here(&self) {
        PENDING.with(|p| *p.borrow_mut() = Some(Vec::new()));
    }

    /// Ends a group: publishes its notes if it committed, forgets them otherwise.
    pub(crate) fn finish_group(&self, committed: bool) {
        let notes = PENDING.with(|p| p.borrow_mut().as_mut().map(std::mem::take));
        if let Some(notes) = notes {
            if committed && !notes.is_empty() && self.tx.receiver_count() > 0 {
                let _ = self.tx.send(Arc::from(notes));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use crate::wire::Operation;
    use crate::{Backend, Engine, EngineConfig};

    #[tokio::test]
    async fn committed_writes_are_published_and_refusals_are_not() {
        let config = EngineConfig {
            backend: Backend::InMemory,
            ..EngineConfig::default()
        };
        let engine = Engine::open(config).unwrap();
        let mut rx = engine.changes();
        let create = r#"{"TableName":"tab","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}"#;
        engine
            .call(Operation::CreateTable, create.as_bytes())
            .await
            .unwrap();
        let put = r#"{"TableName":"tab","Item":{"pk":{"S":"a"}}}"#;
        engine
            .call(Operation::PutItem, put.as_bytes())
            .await
            .unwrap();
        let refused = r#"{"TableName":"tab","Item":{"pk":{"S":"a"}},"ConditionExpression":"attribute_not_exists(pk)"}"#;
        assert!(engine
            .call(Operation::PutItem, refused.as_bytes())
            .await
            .is_err());
        let got = rx.recv().await.unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(&*got[0].table, "tab");
        let mut key = Vec::new();
        let a = crate::model::AttributeValue::S("a".into());
        assert!(crate::model::keycodec::encode_key_value(&a, &mut key));
        assert_eq!(got[0].key.as_ref(), key.as_slice());
        assert!(!got[0].by_service);
        assert!(rx.try_recv().is_err(), "a refused write publishes nothing");
        engine.close();
    }
}
