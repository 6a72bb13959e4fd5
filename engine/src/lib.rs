//! daxlite-engine: the DynamoDB API implementation behind daxlite — the wire contract
//! (`wire`), the data model (`model`), the catalog of tables (`catalog`), storage on redb
//! (`storage`) and the operations (`api`), driven through [`Engine`].

pub mod api;
pub mod catalog;
pub mod clock;
pub mod config;
mod engine;
pub mod keys;
pub mod model;
pub mod storage;
pub mod wire;

pub use config::EngineConfig;
pub use engine::Engine;
pub use storage::Backend;
