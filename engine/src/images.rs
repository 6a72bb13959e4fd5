//! The old and new images of one item write: read from storage and decoded at most once,
//! however many of the write's hooks (index maintenance, the stream record, the Kinesis
//! outbox) read them. Before, each hook read the old item again and decoded both images
//! itself.

use std::borrow::Cow;
use std::cell::OnceCell;

use redb::WriteTransaction;

use crate::model::Item;
use crate::storage::items::{self, Stored};
use crate::wire::ApiResult;

/// One item write's images. Must be read before the item itself is stored or removed
/// (the old image comes from storage when the write did not already have it).
pub struct Images<'a> {
    txn: &'a WriteTransaction,
    key: &'a [u8],
    existed: bool,
    old_stored: OnceCell<Option<Cow<'a, Stored>>>,
    old_item: OnceCell<Option<Cow<'a, Item>>>,
    new: Option<&'a Stored>,
    new_item: OnceCell<Option<Cow<'a, Item>>>,
}

impl<'a> Images<'a> {
    /// The write of `new` (`None`: a deletion) over the item at `key`, which `existed`.
    pub fn new(
        txn: &'a WriteTransaction,
        key: &'a [u8],
        existed: bool,
        new: Option<&'a Stored>,
    ) -> Images<'a> {
        Images {
            txn,
            key,
            existed,
            old_stored: OnceCell::new(),
            old_item: OnceCell::new(),
            new,
            new_item: OnceCell::new(),
        }
    }

    /// The old item as stored, already read by the write.
    pub fn with_old_stored(self, stored: Option<&'a Stored>) -> Images<'a> {
        if let Some(stored) = stored {
            let _ = self.old_stored.set(Some(Cow::Borrowed(stored)));
        }
        self
    }

    /// The old item, already decoded by the write.
    pub fn with_old_item(self, item: Option<&'a Item>) -> Images<'a> {
        if let Some(item) = item {
            let _ = self.old_item.set(Some(Cow::Borrowed(item)));
        }
        self
    }

    /// The new item as the write computed it (what `new` encodes).
    pub fn with_new_item(self, item: Option<&'a Item>) -> Images<'a> {
        if let (Some(item), Some(_)) = (item, self.new) {
            let _ = self.new_item.set(Some(Cow::Borrowed(item)));
        }
        self
    }

    pub fn txn(&self) -> &'a WriteTransaction {
        self.txn
    }

    pub fn key(&self) -> &'a [u8] {
        self.key
    }

    /// Whether an item existed before the write.
    pub fn existed(&self) -> bool {
        self.existed
    }

    /// The new item as it will be stored (`None`: the write deletes it).
    pub fn new_stored(&self) -> Option<&'a Stored> {
        self.new
    }

    /// The old item as stored (read from storage the first time it is asked for).
    pub fn old_stored(&self) -> ApiResult<Option<&Stored>> {
        if let Some(old) = self.old_stored.get() {
            return Ok(old.as_deref());
        }
        let read = match self.existed {
            true => items::get_for_write(self.txn, self.key)?.map(Cow::Owned),
            false => None,
        };
        Ok(self.old_stored.get_or_init(|| read).as_deref())
    }

    /// The old item, decoded (once).
    pub fn old_item(&self) -> ApiResult<Option<&Item>> {
        if let Some(old) = self.old_item.get() {
            return Ok(old.as_deref());
        }
        let decoded = self.old_stored()?.map(Stored::item).transpose()?;
        Ok(self
            .old_item
            .get_or_init(|| decoded.map(Cow::Owned))
            .as_deref())
    }

    /// The new item, decoded (once; `None` for a deletion).
    pub fn new_item(&self) -> ApiResult<Option<&Item>> {
        if let Some(new) = self.new_item.get() {
            return Ok(new.as_deref());
        }
        let decoded = self.new.map(Stored::item).transpose()?;
        Ok(self
            .new_item
            .get_or_init(|| decoded.map(Cow::Owned))
            .as_deref())
    }
}
