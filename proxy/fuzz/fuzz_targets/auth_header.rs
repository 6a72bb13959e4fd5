//! Fuzz target `auth_header`: the body and its oracle are `daxlite::fuzz::auth_header`, which
//! `cargo test -p daxlite-tests --test e2e reliability::` also runs on every corpus file.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| daxlite::fuzz::auth_header(data));
