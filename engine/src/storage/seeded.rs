//! The seeded bug the crash and power-loss harnesses must catch: with
//! `DAXLITE_SEEDED_BUG=skip-fsync` in the environment, the writer commits with redb's
//! `Durability::None`, so a write is acknowledged before it is on disk (redb keeps such a
//! commit in memory until a durable one follows, and none does). A kill -9 or a power
//! loss then loses acknowledged writes — which is what the harnesses' seeded-bug tests
//! expect them to report.
//!
//! The variable is read once, when a store opens; the request path never looks at it.
//! Nothing but a test should set it: daxlite logs an error at start when it is set.

/// The environment variable that turns the seeded bug on.
pub const SEEDED_BUG_VAR: &str = "DAXLITE_SEEDED_BUG";

/// True when the environment asks for the skip-fsync seeded bug (logged loudly).
pub fn skip_fsync() -> bool {
    let on = std::env::var(SEEDED_BUG_VAR).is_ok_and(|v| v == "skip-fsync");
    if on {
        tracing::error!(
            "{SEEDED_BUG_VAR}=skip-fsync: writes are acknowledged before they are durable \
             (a test-only seeded bug; never set this outside the reliability harnesses)"
        );
    }
    on
}
