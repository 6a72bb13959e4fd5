//! A request's condition context: condition keys (case-insensitive names) and their
//! values; a single-valued key has one value, a multivalued key any number.
//!
//! A context may be limited to the keys some policies can read ([`Context::limited`]):
//! the request path then neither computes nor stores the others, which cannot change
//! those policies' decisions.

use std::borrow::Cow;
use std::sync::Arc;

/// Condition keys and values for one authorization tuple. Keys are kept as given (the
/// request path's are static strings: no allocation) and compared without case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    entries: Vec<(Cow<'static, str>, Vec<String>)>,
    /// The only keys kept (lower case); None keeps every key.
    only: Option<Arc<[String]>>,
}

impl Context {
    /// An empty context that keeps only `keys` (lower case).
    pub fn limited(keys: Arc<[String]>) -> Context {
        Context {
            entries: Vec::new(),
            only: Some(keys),
        }
    }

    /// Whether `key` (any case) is kept.
    pub fn wants(&self, key: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|o| o.iter().any(|k| k.eq_ignore_ascii_case(key)))
    }

    /// Sets `key` (any case) to `values`, replacing an earlier value.
    pub fn set(&mut self, key: impl Into<Cow<'static, str>>, values: Vec<String>) {
        let key = key.into();
        if !self.wants(&key) {
            return;
        }
        match self
            .entries
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case(&key))
        {
            Some(e) => e.1 = values,
            None => self.entries.push((key, values)),
        }
    }

    /// [`Context::set`] with the values computed only when the key is kept.
    pub fn set_with(&mut self, key: &'static str, values: impl FnOnce() -> Vec<String>) {
        if self.wants(key) {
            self.set(key, values());
        }
    }

    /// The values of `key` (any case), None when absent.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.entries
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_slice())
    }

    /// The value of a single-valued `key` (any case), for policy variables.
    pub fn single(&self, key: &str) -> Option<&str> {
        match self.get(key)? {
            [one] => Some(one),
            _ => None,
        }
    }
}
