//! Fuzz target: number parsing never panics; printing and re-parsing is the identity.
#![no_main]
use daxlite_engine::model::Number;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(src) = std::str::from_utf8(data) {
        if let Ok(n) = Number::parse(src) {
            assert_eq!(Number::parse(&n.to_string()).ok(), Some(n));
        }
    }
});
