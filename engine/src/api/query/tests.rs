//! Engine-level tests of Query and Scan.
