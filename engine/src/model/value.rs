//! `AttributeValue` and `Item`: decoding DynamoDB's JSON attribute values with its exact
//! errors — shape errors (SerializationException) at once, constraint errors
//! (ValidationException) deferred so that every shape error wins — and encoding back.
//!
//! Shape messages are DynamoDB's as captured by dynalite's test helpers
//! (`test/helpers.js` `assertType`, 2024+ wording); constraint messages are in
//! `docs/LIMITS.md` A1.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::number::Number;
use crate::wire::ApiError;

/// An item: attribute name → value, in name order.
pub type Item = BTreeMap<String, AttributeValue>;

/// One DynamoDB attribute value.
#[derive(Debug, Clone)]
pub enum AttributeValue {
    S(String),
    N(Number),
    B(Vec<u8>),
    Bool(bool),
    Null,
    M(Item),
    L(Vec<AttributeValue>),
    Ss(Vec<String>),
    Ns(Vec<Number>),
    Bs(Vec<Vec<u8>>),
}

/// Deepest nesting DynamoDB accepts, counting a top-level attribute's value as level 1
/// (dynoxide, measured: 31 nested map wrappers accepted, 32 rejected).
pub const MAX_NESTING_LEVEL: usize = 32;

/// Past this level decoding stops descending (only reachable with a `Value` built in
/// code: serde_json's parser already stops at 128 JSON levels, about 64 value levels).
const HARD_RECURSION_LIMIT: usize = 256;

const NESTING: &str = "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit";
const EMPTY_AV: &str =
    "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes";
const MULTI_AV: &str =
    "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes";
const START_OF_STRUCT: &str = "Start of structure or map found where not expected";
const UNEXPECTED_FIELD: &str = "Unexpected field type";
const UNEXPECTED_VALUE: &str = "Unexpected value type in payload";
const AV_CLASS: &str = "com.amazonaws.dynamodb.v20120810.AttributeValue";

/// The first constraint (ValidationException) error met while decoding, kept until the
/// whole request has passed its shape checks.
#[derive(Debug, Default)]
pub struct Deferred {
    pub first: Option<ApiError>,
}

impl Deferred {
    pub fn new() -> Self {
        Deferred::default()
    }

    /// Records `e` unless an earlier error is already held.
    pub fn record(&mut self, e: ApiError) {
        if self.first.is_none() {
            self.first = Some(e);
        }
    }

    /// `Err` with the first recorded error, if any.
    pub fn into_result(self) -> Result<(), ApiError> {
        match self.first {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl AttributeValue {
    /// DynamoDB's name for the value's type: "S", "N", "B", "BOOL", "NULL", "M", "L",
    /// "SS", "NS", "BS".
    pub fn type_name(&self) -> &'static str {
        match self {
            AttributeValue::S(_) => "S",
            AttributeValue::N(_) => "N",
            AttributeValue::B(_) => "B",
            AttributeValue::Bool(_) => "BOOL",
            AttributeValue::Null => "NULL",
            AttributeValue::M(_) => "M",
            AttributeValue::L(_) => "L",
            AttributeValue::Ss(_) => "SS",
            AttributeValue::Ns(_) => "NS",
            AttributeValue::Bs(_) => "BS",
        }
    }
}

/// Sets compare as sets (member order does not matter); everything else structurally.
impl PartialEq for AttributeValue {
    fn eq(&self, other: &Self) -> bool {
        use AttributeValue::*;
        fn same_set<T: Ord + Clone>(a: &[T], b: &[T]) -> bool {
            if a.len() != b.len() {
                return false;
            }
            let (mut a, mut b) = (a.to_vec(), b.to_vec());
            a.sort();
            b.sort();
            a == b
        }
        match (self, other) {
            (S(a), S(b)) => a == b,
            (N(a), N(b)) => a == b,
            (B(a), B(b)) => a == b,
            (Bool(a), Bool(b)) => a == b,
            (Null, Null) => true,
            (M(a), M(b)) => a == b,
            (L(a), L(b)) => a == b,
            (Ss(a), Ss(b)) => same_set(a, b),
            (Ns(a), Ns(b)) => same_set(a, b),
            (Bs(a), Bs(b)) => same_set(a, b),
            _ => false,
        }
    }
}

// ---------------------------------------------------------------------------- decoding

fn ser(msg: impl Into<String>) -> ApiError {
    ApiError::serialization(msg)
}

/// How a JSON scalar is named in Jackson's "X cannot be converted to Y" messages.
fn token_name(v: &Value) -> &'static str {
    match v {
        Value::Bool(true) => "TRUE_VALUE",
        Value::Bool(false) => "FALSE_VALUE",
        Value::Number(n) if n.is_i64() || n.is_u64() => "NUMBER_VALUE",
        Value::Number(_) => "DECIMAL_VALUE",
        _ => "STRING_VALUE",
    }
}

/// A member whose wire type is `String` (S, N, SS and NS members).
fn expect_string(v: &Value) -> Result<&str, ApiError> {
    match v {
        Value::String(s) => Ok(s),
        Value::Array(_) => Err(ser("Unrecognized collection type class java.lang.String")),
        Value::Object(_) => Err(ser(START_OF_STRUCT)),
        other => Err(ser(format!(
            "{} cannot be converted to String",
            token_name(other)
        ))),
    }
}

/// A member whose wire type is `Boolean` (BOOL, NULL). Jackson also takes the strings
/// "true"/"false" in any case.
fn expect_bool(v: &Value) -> Result<bool, ApiError> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        Value::String(_) => Err(ser("Unexpected token received from parser")),
        Value::Array(_) => Err(ser("Unrecognized collection type class java.lang.Boolean")),
        Value::Object(_) => Err(ser(START_OF_STRUCT)),
        other => Err(ser(format!(
            "{} cannot be converted to Boolean",
            token_name(other)
        ))),
    }
}

/// A member whose wire type is `Blob` (B, BS members): strict standard base64 with
/// padding. Returns the text too (duplicate messages quote it).
fn expect_blob(v: &Value) -> Result<(&str, Vec<u8>), ApiError> {
    match v {
        Value::String(s) => {
            if s.len() % 4 != 0 {
                return Err(ser(format!(
                    "Base64 encoded length is expected a multiple of 4 bytes but found: {}",
                    s.len()
                )));
            }
            // DynamoDB's own misspelling ("dectected"), dynalite `test/helpers.js`.
            let bytes = STANDARD
                .decode(s)
                .map_err(|_| ser("Invalid last non-pad Base64 character dectected"))?;
            Ok((s, bytes))
        }
        Value::Array(_) => Err(ser(
            "Unrecognized collection type class java.nio.ByteBuffer",
        )),
        Value::Object(_) => Err(ser(START_OF_STRUCT)),
        _ => Err(ser("only base-64-encoded strings are convertible to bytes")),
    }
}

/// A member whose wire type is a list (SS, NS, BS, L).
fn expect_list(v: &Value) -> Result<&Vec<Value>, ApiError> {
    match v {
        Value::Array(a) => Ok(a),
        Value::Object(_) => Err(ser(START_OF_STRUCT)),
        _ => Err(ser(UNEXPECTED_FIELD)),
    }
}

/// A member whose wire type is `Map<String, AttributeValue>` (M, and an item).
fn expect_map(v: &Value) -> Result<&serde_json::Map<String, Value>, ApiError> {
    match v {
        Value::Object(m) => Ok(m),
        Value::Array(_) => Err(ser(format!(
            "Unrecognized collection type java.util.Map<java.lang.String, {AV_CLASS}>"
        ))),
        _ => Err(ser(UNEXPECTED_FIELD)),
    }
}

/// Decodes one attribute value (a top-level attribute's value: nesting level 1).
pub fn decode_value(v: &Value, deferred: &mut Deferred) -> Result<AttributeValue, ApiError> {
    decode_at(v, 1, deferred)
}

/// Decodes an object of attribute name → attribute value (an `Item`, a `Key`, ...).
pub fn decode_item(v: &Value, deferred: &mut Deferred) -> Result<Item, ApiError> {
    decode_map(expect_map(v)?, 1, deferred)
}

fn decode_map(
    m: &serde_json::Map<String, Value>,
    level: usize,
    deferred: &mut Deferred,
) -> Result<Item, ApiError> {
    let mut out = Item::new();
    for (k, v) in m {
        if level == 1 {
            if let Some(e) = attribute_name_error(k) {
                deferred.record(e);
            }
        }
        out.insert(k.clone(), decode_at(v, level, deferred)?);
    }
    Ok(out)
}

/// The longest attribute name DynamoDB accepts: 65,535 bytes (Alternator's
/// `test_limit_attribute_length_nonkey_*`, verified on DynamoDB: 65,536 is refused).
pub const MAX_ATTRIBUTE_NAME_BYTES: usize = 65_535;

/// DynamoDB's error for an item's top-level attribute name that is empty or too long
/// (DynamoDB Local's texts; DynamoDB's own were not captured).
pub fn attribute_name_error(name: &str) -> Option<ApiError> {
    if name.is_empty() {
        return Some(ApiError::validation("Empty attribute name"));
    }
    if name.len() > MAX_ATTRIBUTE_NAME_BYTES {
        return Some(ApiError::validation(
            "Attribute name is too large, must be less than 65536 bytes",
        ));
    }
    None
}

/// Decodes a value sitting where an `AttributeValue` structure is expected, at `level`.
fn decode_at(v: &Value, level: usize, deferred: &mut Deferred) -> Result<AttributeValue, ApiError> {
    let obj = match v {
        Value::Object(o) => o,
        Value::Array(_) => {
            return Err(ser(format!(
                "Unrecognized collection type class {AV_CLASS}"
            )))
        }
        // A null attribute value is taken as one with no type set.
        Value::Null => {
            deferred.record(ApiError::validation(EMPTY_AV));
            return Ok(AttributeValue::Null);
        }
        _ => return Err(ser(UNEXPECTED_VALUE)),
    };
    if level > MAX_NESTING_LEVEL {
        deferred.record(ApiError::validation(NESTING));
        if level > HARD_RECURSION_LIMIT {
            return Ok(AttributeValue::Null);
        }
    }
    // Members that are absent or JSON null count as unset; unknown members are ignored.
    let get = |k: &str| obj.get(k).filter(|v| !v.is_null());
    let mut found: Option<AttributeValue> = None;
    let mut count = 0usize;
    let mut keep = |av: AttributeValue, found: &mut Option<AttributeValue>| {
        count += 1;
        if found.is_none() {
            *found = Some(av);
        }
    };

    if let Some(v) = get("S") {
        keep(AttributeValue::S(expect_string(v)?.to_string()), &mut found);
    }
    if let Some(v) = get("N") {
        let s = expect_string(v)?;
        let n = Number::parse(s).unwrap_or_else(|e| {
            deferred.record(e.into_api_error());
            Number::ZERO
        });
        keep(AttributeValue::N(n), &mut found);
    }
    if let Some(v) = get("B") {
        keep(AttributeValue::B(expect_blob(v)?.1), &mut found);
    }
    if let Some(v) = get("BOOL") {
        keep(AttributeValue::Bool(expect_bool(v)?), &mut found);
    }
    if let Some(v) = get("NULL") {
        if !expect_bool(v)? {
            deferred.record(ApiError::invalid_parameter(
                "Null attribute value types must have the value of true",
            ));
        }
        keep(AttributeValue::Null, &mut found);
    }
    if let Some(v) = get("M") {
        let m = decode_map(expect_map(v)?, level + 1, deferred)?;
        keep(AttributeValue::M(m), &mut found);
    }
    if let Some(v) = get("L") {
        let list = expect_list(v)?;
        let mut out = Vec::with_capacity(list.len());
        for e in list {
            out.push(decode_at(e, level + 1, deferred)?);
        }
        keep(AttributeValue::L(out), &mut found);
    }
    if let Some(v) = get("SS") {
        keep(
            AttributeValue::Ss(decode_ss(expect_list(v)?, deferred)?),
            &mut found,
        );
    }
    if let Some(v) = get("NS") {
        keep(
            AttributeValue::Ns(decode_ns(expect_list(v)?, deferred)?),
            &mut found,
        );
    }
    if let Some(v) = get("BS") {
        keep(
            AttributeValue::Bs(decode_bs(expect_list(v)?, deferred)?),
            &mut found,
        );
    }

    match (count, found) {
        (1, Some(av)) => Ok(av),
        (0, _) | (_, None) => {
            deferred.record(ApiError::validation(EMPTY_AV));
            Ok(AttributeValue::Null)
        }
        (_, Some(av)) => {
            deferred.record(ApiError::validation(MULTI_AV));
            Ok(av)
        }
    }
}

fn has_duplicates<T: Ord>(items: &[T]) -> bool {
    let mut refs: Vec<&T> = items.iter().collect();
    refs.sort();
    refs.windows(2).any(|w| w[0] == w[1])
}

/// dynalite `valueStr`: `[a, b, c]`, members joined with ", ".
fn render(items: &[&str]) -> String {
    format!("[{}]", items.join(", "))
}

fn decode_ss(list: &[Value], deferred: &mut Deferred) -> Result<Vec<String>, ApiError> {
    let mut out = Vec::with_capacity(list.len());
    let mut had_null = false;
    for e in list {
        if e.is_null() {
            had_null = true;
            continue;
        }
        out.push(expect_string(e)?.to_string());
    }
    if list.is_empty() {
        deferred.record(ApiError::invalid_parameter(
            "An string set  may not be empty",
        ));
    } else if had_null {
        deferred.record(ApiError::invalid_parameter(
            "An string set may not have a null string as a member",
        ));
    } else if has_duplicates(&out) {
        let texts: Vec<&str> = out.iter().map(String::as_str).collect();
        deferred.record(ApiError::invalid_parameter(format!(
            "Input collection {} contains duplicates.",
            render(&texts)
        )));
    }
    Ok(out)
}

fn decode_ns(list: &[Value], deferred: &mut Deferred) -> Result<Vec<Number>, ApiError> {
    let mut out = Vec::with_capacity(list.len());
    let mut first_error = None;
    for e in list {
        if e.is_null() {
            first_error.get_or_insert_with(|| {
                ApiError::validation("The parameter cannot be converted to a numeric value")
            });
            continue;
        }
        match Number::parse(expect_string(e)?) {
            Ok(n) => out.push(n),
            Err(err) => {
                first_error.get_or_insert_with(|| err.into_api_error());
            }
        }
    }
    if list.is_empty() {
        deferred.record(ApiError::invalid_parameter(
            "An number set  may not be empty",
        ));
    } else if let Some(e) = first_error {
        deferred.record(e);
    } else if has_duplicates(&out) {
        // Numbers are compared by value; DynamoDB names no members here.
        deferred.record(ApiError::validation("Input collection contains duplicates"));
    }
    Ok(out)
}

fn decode_bs(list: &[Value], deferred: &mut Deferred) -> Result<Vec<Vec<u8>>, ApiError> {
    let mut out = Vec::with_capacity(list.len());
    let mut texts = Vec::with_capacity(list.len());
    let mut had_null = false;
    for e in list {
        if e.is_null() {
            had_null = true;
            continue;
        }
        let (text, bytes) = expect_blob(e)?;
        texts.push(text);
        out.push(bytes);
    }
    if list.is_empty() {
        deferred.record(ApiError::invalid_parameter(
            "Binary sets should not be empty",
        ));
    } else if had_null {
        deferred.record(ApiError::invalid_parameter(
            "Binary sets may not contain null or empty values",
        ));
    } else if has_duplicates(&out) {
        // Sic: no space before "of".
        deferred.record(ApiError::invalid_parameter(format!(
            "Input collection {}of type BS contains duplicates.",
            render(&texts)
        )));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------- encoding

struct B64<'a>(&'a [u8]);

impl Serialize for B64<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(self.0))
    }
}

struct NumText<'a>(&'a Number);

impl Serialize for NumText<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self.0)
    }
}

/// DynamoDB JSON: `{"S":"x"}`, `{"N":"1.5"}`, `{"B":"<base64>"}`, `{"BOOL":true}`,
/// `{"NULL":true}`, `{"M":{..}}`, `{"L":[..]}`, `{"SS":[..]}`, `{"NS":[..]}`, `{"BS":[..]}`.
impl Serialize for AttributeValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(1))?;
        match self {
            AttributeValue::S(v) => map.serialize_entry("S", v)?,
            AttributeValue::N(n) => map.serialize_entry("N", &NumText(n))?,
            AttributeValue::B(b) => map.serialize_entry("B", &B64(b))?,
            AttributeValue::Bool(b) => map.serialize_entry("BOOL", b)?,
            AttributeValue::Null => map.serialize_entry("NULL", &true)?,
            AttributeValue::M(m) => map.serialize_entry("M", m)?,
            AttributeValue::L(l) => map.serialize_entry("L", l)?,
            AttributeValue::Ss(v) => map.serialize_entry("SS", v)?,
            AttributeValue::Ns(v) => map.serialize_entry("NS", &Seq(v.iter().map(NumText)))?,
            AttributeValue::Bs(v) => map.serialize_entry("BS", &Seq(v.iter().map(|b| B64(b))))?,
        }
        map.end()
    }
}

/// Serialises an iterator as a JSON array (cloned, since `Serialize` takes `&self`).
struct Seq<I>(I);

impl<I, T> Serialize for Seq<I>
where
    I: Iterator<Item = T> + Clone,
    T: Serialize,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for e in self.0.clone() {
            seq.serialize_element(&e)?;
        }
        seq.end()
    }
}

/// The item as DynamoDB JSON bytes (`{"name":{"S":"x"},...}`).
pub fn item_to_json_bytes(item: &Item) -> Vec<u8> {
    let mut out = Vec::new();
    write_item_json(&mut out, item);
    out
}

/// Appends `item`'s DynamoDB JSON to `out`.
pub fn write_item_json(out: &mut Vec<u8>, item: &Item) {
    // Serialising strings, bools and maps to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, item);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn decode(v: Value) -> Result<(AttributeValue, Option<String>), (String, String)> {
        let mut d = Deferred::new();
        match decode_value(&v, &mut d) {
            Ok(av) => Ok((
                av,
                d.first.map(|e| e.message().unwrap_or_default().to_string()),
            )),
            Err(e) => Err((e.type_name(), e.message().unwrap_or_default().to_string())),
        }
    }

    fn shape_error(v: Value) -> String {
        let (t, m) = decode(v).unwrap_err();
        assert_eq!(t, "com.amazon.coral.service#SerializationException");
        m
    }

    fn validation_error(v: Value) -> String {
        decode(v).unwrap().1.unwrap()
    }

    #[test]
    fn decodes_every_type() {
        let v = json!({"M": {
            "s": {"S": "x"}, "n": {"N": "1.50"}, "b": {"B": "AAE="}, "t": {"BOOL": true},
            "z": {"NULL": true}, "l": {"L": [{"S": "a"}, {"M": {}}]}, "ss": {"SS": ["a", "b"]},
            "ns": {"NS": ["1", "2"]}, "bs": {"BS": ["AA==", "AQ=="]}
        }});
        let (av, err) = decode(v).unwrap();
        assert_eq!(err, None);
        let bytes = serde_json::to_vec(&av).unwrap();
        let back: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back["M"]["n"], json!({"N": "1.5"}));
        assert_eq!(back["M"]["b"], json!({"B": "AAE="}));
        assert_eq!(back["M"]["z"], json!({"NULL": true}));
        assert_eq!(back["M"]["ns"], json!({"NS": ["1", "2"]}));
        assert_eq!(av.type_name(), "M");
    }

    #[test]
    fn shape_errors() {
        assert_eq!(
            shape_error(json!({"S": 5})),
            "NUMBER_VALUE cannot be converted to String"
        );
        assert_eq!(
            shape_error(json!({"S": 2147483648u64})),
            "NUMBER_VALUE cannot be converted to String"
        );
        assert_eq!(
            shape_error(json!({"S": 34.56})),
            "DECIMAL_VALUE cannot be converted to String"
        );
        assert_eq!(
            shape_error(json!({"S": true})),
            "TRUE_VALUE cannot be converted to String"
        );
        assert_eq!(
            shape_error(json!({"N": false})),
            "FALSE_VALUE cannot be converted to String"
        );
        assert_eq!(
            shape_error(json!({"S": {}})),
            "Start of structure or map found where not expected"
        );
        assert_eq!(
            shape_error(json!({"S": []})),
            "Unrecognized collection type class java.lang.String"
        );
        assert_eq!(
            shape_error(json!({"BOOL": "x"})),
            "Unexpected token received from parser"
        );
        assert_eq!(
            shape_error(json!({"BOOL": 23})),
            "NUMBER_VALUE cannot be converted to Boolean"
        );
        assert_eq!(
            shape_error(json!({"NULL": []})),
            "Unrecognized collection type class java.lang.Boolean"
        );
        assert_eq!(
            shape_error(json!({"B": 5})),
            "only base-64-encoded strings are convertible to bytes"
        );
        assert_eq!(
            shape_error(json!({"B": []})),
            "Unrecognized collection type class java.nio.ByteBuffer"
        );
        assert_eq!(
            shape_error(json!({"B": "23456"})),
            "Base64 encoded length is expected a multiple of 4 bytes but found: 5"
        );
        assert_eq!(
            shape_error(json!({"B": "=+/="})),
            "Invalid last non-pad Base64 character dectected"
        );
        assert_eq!(
            shape_error(json!({"BS": ["+/+="]})),
            "Invalid last non-pad Base64 character dectected"
        );
        assert_eq!(shape_error(json!({"SS": "a"})), "Unexpected field type");
        assert_eq!(
            shape_error(json!({"L": {}})),
            "Start of structure or map found where not expected"
        );
        assert_eq!(
            shape_error(json!({"L": [5]})),
            "Unexpected value type in payload"
        );
        assert_eq!(
            shape_error(json!({"L": [[]]})),
            "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.AttributeValue"
        );
        assert_eq!(shape_error(json!({"M": 5})), "Unexpected field type");
        assert_eq!(
            shape_error(json!({"M": []})),
            "Unrecognized collection type java.util.Map<java.lang.String, com.amazonaws.dynamodb.v20120810.AttributeValue>"
        );
        assert_eq!(
            shape_error(json!({"M": {"a": "x"}})),
            "Unexpected value type in payload"
        );
        assert_eq!(
            shape_error(json!({"NS": [1]})),
            "NUMBER_VALUE cannot be converted to String"
        );
        // A shape error anywhere wins over a constraint error met earlier.
        assert_eq!(
            shape_error(json!({"L": [{"NULL": false}, {"S": 1}]})),
            "NUMBER_VALUE cannot be converted to String"
        );
    }

    #[test]
    fn constraint_errors() {
        assert_eq!(validation_error(json!({})), EMPTY_AV);
        assert_eq!(validation_error(json!({"X": "a"})), EMPTY_AV);
        assert_eq!(validation_error(json!({"S": null})), EMPTY_AV);
        assert_eq!(validation_error(json!({"L": [{}]})), EMPTY_AV);
        assert_eq!(validation_error(json!({"S": "a", "BOOL": true})), MULTI_AV);
        assert_eq!(
            validation_error(json!({"S": "a", "N": "b"})),
            "The parameter cannot be converted to a numeric value: b"
        );
        assert_eq!(
            validation_error(json!({"NULL": false})),
            "One or more parameter values were invalid: Null attribute value types must have the value of true"
        );
        assert_eq!(
            validation_error(json!({"SS": []})),
            "One or more parameter values were invalid: An string set  may not be empty"
        );
        assert_eq!(
            validation_error(json!({"NS": []})),
            "One or more parameter values were invalid: An number set  may not be empty"
        );
        assert_eq!(
            validation_error(json!({"BS": []})),
            "One or more parameter values were invalid: Binary sets should not be empty"
        );
        assert_eq!(
            validation_error(json!({"SS": ["a", "a"]})),
            "One or more parameter values were invalid: Input collection [a, a] contains duplicates."
        );
        assert_eq!(
            validation_error(json!({"BS": ["Yg==", "Yg=="]})),
            "One or more parameter values were invalid: Input collection [Yg==, Yg==]of type BS contains duplicates."
        );
        assert_eq!(
            validation_error(json!({"NS": ["1000", "1e3"]})),
            "Input collection contains duplicates"
        );
        assert_eq!(
            validation_error(json!({"NS": ["1", ""]})),
            "The parameter cannot be converted to a numeric value"
        );
        assert_eq!(
            validation_error(json!({"NS": ["1", "b"]})),
            "The parameter cannot be converted to a numeric value: b"
        );
        assert_eq!(
            validation_error(json!({"N": "1e126"})),
            "Number overflow. Attempting to store a number with magnitude larger than supported range"
        );
        // Empty strings, binaries, lists and maps are fine outside keys.
        for v in [
            json!({"S": ""}),
            json!({"B": ""}),
            json!({"L": []}),
            json!({"M": {}}),
            json!({"SS": [""]}),
        ] {
            assert_eq!(decode(v).unwrap().1, None);
        }
        assert_eq!(
            decode(json!({"BOOL": "TRUE"})).unwrap().0,
            AttributeValue::Bool(true)
        );
    }

    fn nest(wrappers: usize) -> Value {
        let mut v = json!({"S": "leaf"});
        for _ in 0..wrappers {
            v = json!({"M": {"a": v}});
        }
        v
    }

    #[test]
    fn nesting_limit() {
        // 31 map wrappers around a leaf: the leaf is at level 32 — accepted.
        assert_eq!(decode(nest(31)).unwrap().1, None);
        assert_eq!(validation_error(nest(32)), NESTING);
        // Deep input decodes without blowing the stack.
        let mut d = Deferred::new();
        assert!(decode_value(&nest(300), &mut d).is_ok());
        assert_eq!(d.first.unwrap().message(), Some(NESTING));
    }

    #[test]
    fn item_decoding() {
        let mut d = Deferred::new();
        let item = decode_item(&json!({"a": {"S": "x"}, "b": {"N": "2"}}), &mut d).unwrap();
        assert!(d.into_result().is_ok());
        assert_eq!(
            item_to_json_bytes(&item),
            br#"{"a":{"S":"x"},"b":{"N":"2"}}"#.to_vec()
        );
        let mut d = Deferred::new();
        let e = decode_item(&json!([]), &mut d).unwrap_err();
        assert_eq!(
            e.type_name(),
            "com.amazon.coral.service#SerializationException"
        );
        let e = decode_item(&json!({"a": 5}), &mut d).unwrap_err();
        assert_eq!(e.message(), Some(UNEXPECTED_VALUE));
    }

    #[test]
    fn sets_compare_as_sets() {
        let a = AttributeValue::Ss(vec!["a".into(), "b".into()]);
        let b = AttributeValue::Ss(vec!["b".into(), "a".into()]);
        assert_eq!(a, b);
        assert_ne!(
            AttributeValue::L(vec![AttributeValue::Null]),
            AttributeValue::L(vec![])
        );
    }

    fn number() -> impl Strategy<Value = Number> {
        (any::<bool>(), "[1-9][0-9]{0,37}", -160i32..90).prop_filter_map("range", |(neg, d, e)| {
            Number::parse(&format!("{}{}e{}", if neg { "-" } else { "" }, d, e)).ok()
        })
    }

    fn unique<T: Ord + Clone>(mut v: Vec<T>) -> Vec<T> {
        v.sort();
        v.dedup();
        v
    }

    fn value() -> impl Strategy<Value = AttributeValue> {
        let leaf = prop_oneof![
            "\\PC{0,8}".prop_map(AttributeValue::S),
            number().prop_map(AttributeValue::N),
            proptest::collection::vec(any::<u8>(), 0..8).prop_map(AttributeValue::B),
            any::<bool>().prop_map(AttributeValue::Bool),
            Just(AttributeValue::Null),
            proptest::collection::vec("\\PC{0,4}", 1..4)
                .prop_map(|v| AttributeValue::Ss(unique(v))),
            proptest::collection::vec(number(), 1..4).prop_map(|v| AttributeValue::Ns(unique(v))),
            proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..4), 1..4)
                .prop_map(|v| AttributeValue::Bs(unique(v))),
        ];
        leaf.prop_recursive(6, 48, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(AttributeValue::L),
                proptest::collection::btree_map("\\PC{1,6}", inner, 0..4)
                    .prop_map(AttributeValue::M),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]

        #[test]
        fn encode_decode_round_trip(av in value()) {
            let json: Value = serde_json::from_slice(&serde_json::to_vec(&av).unwrap()).unwrap();
            let mut d = Deferred::new();
            let back = decode_value(&json, &mut d).unwrap();
            prop_assert!(d.first.is_none(), "{:?}", d.first);
            prop_assert_eq!(back, av);
        }
    }
}
