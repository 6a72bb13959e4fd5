//! Fuzz target: UpdateExpression parsing never panics or overflows the stack.
#![no_main]
use daxlite_engine::expr::parse_update;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(src) = std::str::from_utf8(data) {
        let _ = parse_update(src);
    }
});
