//! Engine-level tests of PartiQL.
