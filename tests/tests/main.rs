//! The end-to-end suites, one test binary: every suite is a module here (`cargo test -p
//! daxlite-tests --test e2e <suite>::` runs one). One binary links aws-sdk-dynamodb and
//! daxlite once instead of once per suite, which is most of the suite's build time.
//! A new suite is a file in this folder and a `mod` line below (the crate sets
//! `autotests = false`, so a file without its line is not built: `every_suite_is_built`
//! checks it).

mod auth;
mod autoscaling;
mod backups;
mod cache;
mod capacity;
mod capacity_keys;
mod capacity_update;
mod clients;
mod coherence;
mod conformance_capacity;
mod conformance_http;
mod conformance_indexes;
mod conformance_legacy;
mod conformance_limits;
mod conformance_streams;
mod conformance_update;
mod conformance_validation;
mod console;
mod deploy;
mod exports;
mod global_tables;
mod gsi_multi;
mod iam;
mod iam_cases;
mod iam_partiql;
mod iam_resource;
mod imports;
mod items;
mod kinesis;
mod overload;
mod partiql;
mod persistence;
mod pitr;
mod protocol;
mod query;
mod reliability;
mod s3;
mod simulate;
mod streams;
mod table_arns;
mod tables;
mod tls;
mod transactions;
mod triggers;

/// Shared by the backup, export, import and S3 suites.
mod backups_common;
/// The moto S3 server the S3 suites start.
mod s3_common;

/// Every `*.rs` file in this folder is declared above: with `autotests = false` a suite
/// without its `mod` line would silently not run.
#[test]
fn every_suite_is_built() {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let main = std::fs::read_to_string(here.join("main.rs")).unwrap();
    for entry in std::fs::read_dir(&here).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if let Some(suite) = name.strip_suffix(".rs").filter(|s| *s != "main") {
            assert!(
                main.contains(&format!("\nmod {suite};")),
                "tests/tests/{name} has no `mod {suite};` line in tests/tests/main.rs"
            );
        }
    }
}
