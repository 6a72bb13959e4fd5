//! Fuzz target: decoding any JSON as an item never panics, and a decoded item encodes to
//! JSON that decodes to the same item.
#![no_main]
use daxlite_engine::model::value::{decode_item, item_to_json_bytes, Deferred};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let mut deferred = Deferred::new();
    if let Ok(item) = decode_item(&json, &mut deferred) {
        if deferred.first.is_none() {
            let bytes = item_to_json_bytes(&item);
            let again: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            let mut d2 = Deferred::new();
            assert_eq!(decode_item(&again, &mut d2).ok(), Some(item));
        }
    }
});
