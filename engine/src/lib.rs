//! daxlite-engine: the DynamoDB API implementation behind daxlite — the wire contract
//! (`wire`), the data model (`model`), expressions (`expr`), storage on redb (`storage`)
//! and the operations (`api`), driven through [`Engine`].

pub mod expr;
pub mod model;
pub mod wire;
