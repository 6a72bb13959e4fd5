//! Reading request JSON the way DynamoDB does: a type mismatch is a
//! `SerializationException` (checked first, for the whole request), a broken constraint
//! is collected into one `ValidationException` envelope ("N validation errors detected:
//! ..."), capped at ten entries.

use serde_json::{Map, Value};

use super::error::{ApiError, ApiResult};

/// Parses a request body into a JSON object. Invalid JSON is a bare SerializationException;
/// a body that is not an object gets DynamoDB's shape message.
pub fn parse_body(body: &[u8]) -> ApiResult<Map<String, Value>> {
    if body.is_empty() {
        return Err(ApiError::bare(super::ErrorCode::SerializationException));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::serialization("Unexpected value type in payload")),
        Err(_) => Err(ApiError::bare(super::ErrorCode::SerializationException)),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Bool(true) => "TRUE_VALUE",
        Value::Bool(false) => "FALSE_VALUE",
        Value::Number(_) => "NUMBER_VALUE",
        Value::String(_) => "STRING_VALUE",
        Value::Array(_) => "START_ARRAY",
        Value::Object(_) => "START_OBJECT",
        Value::Null => "VALUE_NULL",
    }
}

fn mismatch(v: &Value, expected: &str) -> ApiError {
    match v {
        Value::Object(_) => {
            ApiError::serialization("Start of structure or map found where not expected.")
        }
        Value::Array(_) => ApiError::serialization("Start of list found where not expected"),
        _ if expected == "String" => {
            ApiError::serialization(format!("{} cannot be converted to String", json_kind(v)))
        }
        _ => ApiError::serialization(format!(
            "{} can not be converted to {}",
            json_kind(v),
            expected
        )),
    }
}

/// A view of one JSON object of a request, with typed getters. `null` counts as absent.
#[derive(Clone, Copy)]
pub struct Obj<'a>(pub &'a Map<String, Value>);

impl<'a> Obj<'a> {
    fn get(&self, key: &str) -> Option<&'a Value> {
        match self.0.get(key) {
            None | Some(Value::Null) => None,
            Some(v) => Some(v),
        }
    }

    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub fn raw(&self, key: &str) -> Option<&'a Value> {
        self.get(key)
    }

    pub fn str(&self, key: &str) -> ApiResult<Option<&'a str>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(v) => Err(mismatch(v, "String")),
        }
    }

    pub fn bool(&self, key: &str) -> ApiResult<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(v) => Err(mismatch(v, "Boolean")),
        }
    }

    /// An integer field (`Integer` or `Long` in the API model). Floats are truncated
    /// as DynamoDB's JSON reader does.
    pub fn int(&self, key: &str) -> ApiResult<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => Ok(Some(
                n.as_i64()
                    .or_else(|| n.as_f64().map(|f| f as i64))
                    .unwrap_or(i64::MAX),
            )),
            Some(v) => Err(mismatch(v, "Long")),
        }
    }

    pub fn obj(&self, key: &str) -> ApiResult<Option<Obj<'a>>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(Obj(m))),
            Some(v) => Err(ApiError::serialization(format!(
                "Unexpected value type in payload: {}",
                json_kind(v)
            ))),
        }
    }

    pub fn list(&self, key: &str) -> ApiResult<Option<&'a Vec<Value>>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(_) => Err(ApiError::serialization("Unexpected field type")),
        }
    }

    /// A list of objects (`List<Structure>`).
    pub fn obj_list(&self, key: &str) -> ApiResult<Option<Vec<Obj<'a>>>> {
        let Some(items) = self.list(key)? else {
            return Ok(None);
        };
        items
            .iter()
            .map(|v| match v {
                Value::Object(m) => Ok(Obj(m)),
                other => Err(mismatch(other, "Structure")),
            })
            .collect::<ApiResult<Vec<_>>>()
            .map(Some)
    }

    /// A list of strings (`List<String>`).
    pub fn str_list(&self, key: &str) -> ApiResult<Option<Vec<&'a str>>> {
        let Some(items) = self.list(key)? else {
            return Ok(None);
        };
        items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.as_str()),
                other => Err(mismatch(other, "String")),
            })
            .collect::<ApiResult<Vec<_>>>()
            .map(Some)
    }
}

/// The constraint violations of one request, reported together as DynamoDB does.
#[derive(Default, Debug)]
pub struct Violations {
    errors: Vec<String>,
}

/// The name pattern of tables and indexes.
pub const NAME_PATTERN: &str = "[a-zA-Z0-9_.-]+";

pub fn is_valid_name_chars(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records "Value '<value>' at '<path>' failed to satisfy constraint: <constraint>".
    pub fn push(&mut self, value: Option<&str>, path: &str, constraint: impl AsRef<str>) {
        let value = match value {
            Some(v) => format!("'{v}'"),
            None => "null".to_string(),
        };
        self.errors.push(format!(
            "Value {value} at '{path}' failed to satisfy constraint: {}",
            constraint.as_ref()
        ));
    }

    /// Records one already-worded violation (DynamoDB's few irregular ones, such as
    /// Query's "Value at 'Limit' failed to satisfy constraint: ...").
    pub fn push_raw(&mut self, text: impl Into<String>) {
        self.errors.push(text.into());
    }

    pub fn not_null(&mut self, path: &str) {
        self.push(None, path, "Member must not be null");
    }

    /// The standard checks of a table or index name: pattern, then length 3..=255.
    pub fn name(&mut self, value: &str, path: &str) {
        if !is_valid_name_chars(value) {
            self.push(
                Some(value),
                path,
                format!("Member must satisfy regular expression pattern: {NAME_PATTERN}"),
            );
        }
        self.length(value, path, 3, 255);
    }

    pub fn length(&mut self, value: &str, path: &str, min: usize, max: usize) {
        let len = value.chars().count();
        if len < min {
            self.push(
                Some(value),
                path,
                format!("Member must have length greater than or equal to {min}"),
            );
        }
        if len > max {
            self.push(
                Some(value),
                path,
                format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    pub fn enum_value(&mut self, value: &str, path: &str, allowed: &[&str]) {
        if !allowed.contains(&value) {
            self.push(
                Some(value),
                path,
                format!(
                    "Member must satisfy enum value set: [{}]",
                    allowed.join(", ")
                ),
            );
        }
    }

    pub fn min_value(&mut self, value: i64, path: &str, min: i64) {
        if value < min {
            self.push(
                Some(&value.to_string()),
                path,
                format!("Member must have value greater than or equal to {min}"),
            );
        }
    }

    pub fn max_value(&mut self, value: i64, path: &str, max: i64) {
        if value > max {
            self.push(
                Some(&value.to_string()),
                path,
                format!("Member must have value less than or equal to {max}"),
            );
        }
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Adds another list's violations after this one's (fields read in a helper).
    pub fn append(&mut self, other: Violations) {
        self.errors.extend(other.errors);
    }

    /// The one ValidationException for everything recorded, or Ok when nothing was.
    pub fn finish(self) -> ApiResult<()> {
        let n = self.errors.len();
        if n == 0 {
            return Ok(());
        }
        let shown: Vec<&str> = self.errors.iter().take(10).map(String::as_str).collect();
        let noun = if n == 1 { "error" } else { "errors" };
        Err(ApiError::validation(format!(
            "{n} validation {noun} detected: {}",
            shown.join("; ")
        )))
    }
}

/// "The parameter 'X' is required but was not present in the request": DynamoDB reports a
/// missing TableName on its own, before any constraint.
pub fn required<T>(value: Option<T>, parameter: &str) -> ApiResult<T> {
    value.ok_or_else(|| {
        ApiError::validation(format!(
            "The parameter '{parameter}' is required but was not present in the request"
        ))
    })
}

/// The whole check of a request whose only member is TableName (DescribeTable, DeleteTable).
pub fn table_name_only(body: &Map<String, Value>) -> ApiResult<&str> {
    let name = required(Obj(body).str("TableName")?, "TableName")?;
    let mut v = Violations::new();
    check_table_name(&mut v, name, "tableName");
    v.finish()?;
    Ok(name)
}

/// The TableName of a data-plane item operation (PutItem, GetItem, UpdateItem, DeleteItem,
/// Query, Scan), checked inside the envelope as DynamoDB does today: absent →
/// "Value null at 'tableName' … must not be null"; `""` → the one error "length greater
/// than or equal to 1" (TableName accepts table ARNs, so its minimum is 1, and the
/// pattern is not reported for the empty name); otherwise the usual name checks. Answers
/// the name to use once the envelope is empty (`""` when a violation was recorded).
pub fn check_item_table_name<'a>(v: &mut Violations, name: Option<&'a str>) -> &'a str {
    match name {
        None => {
            v.not_null("tableName");
            ""
        }
        Some("") => {
            v.length("", "tableName", 1, 255);
            ""
        }
        Some(n) => {
            check_table_name(v, n, "tableName");
            n
        }
    }
}

/// The table-name check of every operation (2026 DynamoDB reports it in the envelope).
pub fn check_table_name(v: &mut Violations, name: &str, path: &str) {
    v.name(name, path);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_counts_and_joins() {
        let mut v = Violations::new();
        v.not_null("tableName");
        let err = v
            .finish()
            .err()
            .map(|e| e.message().unwrap_or_default().to_string());
        assert_eq!(
            err.as_deref(),
            Some("1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null")
        );
        let mut v = Violations::new();
        v.name(";;", "exclusiveStartTableName");
        let msg = v
            .finish()
            .err()
            .map(|e| e.message().unwrap_or_default().to_string())
            .unwrap_or_default();
        assert!(msg.starts_with("2 validation errors detected: Value ';;' at 'exclusiveStartTableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; "), "{msg}");
    }

    #[test]
    fn type_mismatches_are_serialization_errors() {
        let body = br#"{"TableName": 5, "Limit": "x", "Flag": {}}"#;
        let map = parse_body(body).unwrap_or_default();
        let o = Obj(&map);
        assert_eq!(
            o.str("TableName")
                .err()
                .and_then(|e| e.message().map(str::to_string))
                .as_deref(),
            Some("NUMBER_VALUE cannot be converted to String")
        );
        assert_eq!(
            o.int("Limit").err().map(|e| e.code()),
            Some(crate::wire::ErrorCode::SerializationException)
        );
        assert!(parse_body(b"{").is_err());
        assert!(parse_body(b"").is_err());
    }
}
