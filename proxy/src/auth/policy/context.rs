//! A request's condition context: condition keys (case-insensitive names) and their
//! values; a single-valued key has one value, a multivalued key any number.

/// Condition keys and values for one authorization tuple.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    entries: Vec<(String, Vec<String>)>,
}

impl Context {
    /// Sets `key` (any case) to `values`, replacing an earlier value.
    pub fn set(&mut self, key: &str, values: Vec<String>) {
        let key = key.to_ascii_lowercase();
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some(e) => e.1 = values,
            None => self.entries.push((key, values)),
        }
    }

    /// The values of `key` (lower-case), None when absent.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_slice())
    }

    /// The value of a single-valued `key` (lower-case), for policy variables.
    pub fn single(&self, key: &str) -> Option<&str> {
        match self.get(key)? {
            [one] => Some(one),
            _ => None,
        }
    }
}
