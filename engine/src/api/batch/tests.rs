//! Engine-level tests of BatchGetItem and BatchWriteItem.
