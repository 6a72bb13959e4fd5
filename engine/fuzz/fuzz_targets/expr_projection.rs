//! Fuzz target: ProjectionExpression parsing never panics.
#![no_main]
use daxlite_engine::expr::parse_projection;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(src) = std::str::from_utf8(data) {
        let _ = parse_projection(src);
    }
});
