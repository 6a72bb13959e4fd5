//! daxlite-engine: the DynamoDB API implementation behind daxlite — the wire contract
//! (`wire`), the data model (`model`), expressions (`expr`), the catalog of tables
//! (`catalog`), primary keys (`keys`), storage on redb (`storage`), the one write path
//! (`write`) and the operations (`api`), driven through [`Engine`].

pub mod api;
pub mod catalog;
pub mod clock;
pub mod config;
mod engine;
pub mod expr;
pub mod index;
pub mod keys;
pub mod model;
pub mod storage;
pub mod wire;
pub mod write;

pub use config::EngineConfig;
pub use engine::Engine;
pub use storage::Backend;
