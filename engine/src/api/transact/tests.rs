//! Engine-level tests of TransactGetItems and TransactWriteItems.
