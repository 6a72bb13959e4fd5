//! A request's condition context: condition keys (case-insensitive names) and their
//! values; a single-valued key has one value, a multivalued key any number.

use std::borrow::Cow;

/// Condition keys and values for one authorization tuple. Keys are kept as given (the
/// request path's are static strings: no allocation) and compared without case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    entries: Vec<(Cow<'static, str>, Vec<String>)>,
}

impl Context {
    /// Sets `key` (any case) to `values`, replacing an earlier value.
    pub fn set(&mut self, key: impl Into<Cow<'static, str>>, values: Vec<String>) {
        let key = key.into();
        match self
            .entries
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case(&key))
        {
            Some(e) => e.1 = values,
            None => self.entries.push((key, values)),
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
