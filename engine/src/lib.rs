//! daxlite-engine: the DynamoDB API implementation behind daxlite — the wire contract
//! (`wire`), the data model (`model`), expressions (`expr`), the catalog of tables
//! (`catalog`), primary keys (`keys`), storage on redb (`storage`), the one write path
//! (`write`), stream records (`streams`), the change feed (`changes`), Time to Live
//! (`ttl`), backups and point-in-time recovery (`backup`), exports (`export`), imports (`import`), where their "S3 buckets" live (`buckets`), Kinesis destinations (`kinesis`), throttling (`capacity`), Application Auto Scaling (`autoscaling`), the progress of long jobs (`progress`), PartiQL (`partiql`), what
//! operations and background work share (`ctx`) and
//! the operations (`api`), driven through [`Engine`].

pub mod api;
pub mod autoscaling;
mod background;
pub mod backup;
pub mod buckets;
pub mod capacity;
pub mod catalog;
pub mod changes;
pub mod clock;
pub mod config;
pub mod ctx;
mod engine;
pub mod export;
pub mod expr;
pub mod fuzz;
pub mod images;
pub mod import;
pub mod index;
pub mod keys;
pub mod kinesis;
pub mod model;
pub mod partiql;
pub mod progress;
pub mod replication;
pub mod storage;
pub mod streams;
pub mod ttl;
pub mod wire;
pub mod write;

pub use background::TickReport;
pub use config::EngineConfig;
pub use engine::Engine;
pub use storage::Backend;
