//! Parsed statements by their text. Applications send the same few statements with
//! different parameters, so each text is lexed and parsed once. Bounded: at most
//! [`CAPACITY`] statements of at most [`MAX_TEXT`] bytes (about 1 MB in all); when full
//! it starts over. Parsing is a pure function of the text, so one cache serves every
//! engine in the process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use super::ast::Parsed;
use super::parser;
use crate::wire::ApiResult;

/// Statements kept.
pub const CAPACITY: usize = 256;
/// Longer statements are parsed every time.
pub const MAX_TEXT: usize = 2048;

fn cache() -> &'static Mutex<HashMap<Box<str>, Arc<Parsed>>> {
    static CACHE: OnceLock<Mutex<HashMap<Box<str>, Arc<Parsed>>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::with_capacity(CAPACITY)))
}

/// The parsed statement for `text` (errors are not kept).
pub fn parse(text: &str) -> ApiResult<Arc<Parsed>> {
    if text.len() > MAX_TEXT {
        return parser::parse(text).map(Arc::new);
    }
    if let Some(hit) = cache().lock().ok().and_then(|c| c.get(text).cloned()) {
        return Ok(hit);
    }
    let parsed = Arc::new(parser::parse(text)?);
    if let Ok(mut c) = cache().lock() {
        if c.len() >= CAPACITY {
            c.clear();
        }
        c.insert(text.into(), parsed.clone());
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hit_is_the_same_parse_and_the_cache_stays_bounded() {
        let a = parse("SELECT * FROM \"t\" WHERE pk = ?").unwrap();
        let b = parse("SELECT * FROM \"t\" WHERE pk = ?").unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(
            *a,
            parser::parse("SELECT * FROM \"t\" WHERE pk = ?").unwrap()
        );
        for i in 0..(CAPACITY * 3) {
            parse(&format!("SELECT * FROM \"t{i}\"")).unwrap();
        }
        assert!(cache().lock().unwrap().len() <= CAPACITY);
        assert!(parse("SELEC * FROM t").is_err());
    }
}
