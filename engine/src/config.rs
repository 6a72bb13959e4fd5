//! The engine's settings, already validated by whoever built them (the proxy's config).

use crate::storage::Backend;

#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub backend: Backend,
    /// The region in ARNs (DynamoDB Local's `-sharedDb` behaviour: one namespace for all).
    pub region: String,
    /// The account id in ARNs.
    pub account: String,
    /// How long a new table stays CREATING (DynamoDB takes seconds; tests want control).
    pub create_delay_ms: i64,
    /// How long a deleted table stays DELETING before it is gone.
    pub delete_delay_ms: i64,
    /// How long UpdateTable leaves a table UPDATING.
    pub update_delay_ms: i64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            backend: Backend::InMemory,
            region: "us-east-1".into(),
            account: "000000000000".into(),
            create_delay_ms: 0,
            delete_delay_ms: 0,
            update_delay_ms: 0,
        }
    }
}
