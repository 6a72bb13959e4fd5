//! Readers of import sources, with no I/O: decompression (GZIP, ZSTD), DynamoDB JSON (`{"Item":{…}}` objects, one
//! per line or concatenated — a streaming JSON reader, not line splitting) and CSV
//! (RFC 4180 quoting, a chosen delimiter, a header line or a given header list). Each
//! turns a source object into items or says, for the first bad entry, why — the import
//! then abandons the rest of that object, as DynamoDB does. Never panics on any input.

use serde_json::{Map, Value};

use crate::catalog::{ScalarType, TableDef};
use crate::keys::key_from_item;
use crate::model::size::{item_size, MAX_ITEM_SIZE};
use crate::model::value::{decode_item, Deferred};
use crate::model::Item;

/// Why an entry could not become an item (the text DynamoDB logs for it).
pub type Bad = String;

/// The bytes of one source object as InputCompressionType says they are stored:
/// `GZIP` (one or more gzip members), `ZSTD` (one or more zstd frames) or `NONE`. An
/// empty object is empty whatever the compression.
pub fn decompress(compression: &str, raw: &[u8]) -> Result<Vec<u8>, Bad> {
    use std::io::Read;
    if raw.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    match compression {
        "GZIP" => flate2::read::MultiGzDecoder::new(raw)
            .read_to_end(&mut out)
            .map(|_| out)
            .map_err(|e| format!("The object is not valid GZIP: {e}")),
        "ZSTD" => zstd::stream::read::Decoder::new(raw)
            .and_then(|mut d| d.read_to_end(&mut out))
            .map(|_| out)
            .map_err(|e| format!("The object is not valid ZSTD: {e}")),
        _ => Ok(raw.to_vec()),
    }
}

/// Checks a decoded item against the table: keys present and typed, index key types,
/// non-empty attribute names, the size limit.
pub fn check_item(def: &TableDef, item: &Item) -> Result<(), Bad> {
    if item.keys().any(|k| k.is_empty()) {
        return Err("One or more parameter values were invalid: An attribute name is empty".into());
    }
    key_from_item(def, item).map_err(|e| e.message().unwrap_or("Invalid item").to_string())?;
    if item_size(item) > MAX_ITEM_SIZE {
        return Err("Item size has exceeded the maximum allowed size".into());
    }
    Ok(())
}

/// An item from its DynamoDB JSON attribute map.
pub fn item_from_json(def: &TableDef, attrs: &Value) -> Result<Item, Bad> {
    let mut deferred = Deferred::new();
    let item = decode_item(attrs, &mut deferred)
        .map_err(|e| e.message().unwrap_or("Invalid item").to_string())?;
    if let Some(e) = deferred.first {
        return Err(e.message().unwrap_or("Invalid item").to_string());
    }
    check_item(def, &item)?;
    Ok(item)
}

/// The items of one DYNAMODB_JSON object, in order, stopping at the first bad entry
/// (returned with its index).
pub fn dynamodb_json(def: &TableDef, bytes: &[u8]) -> (Vec<Item>, Option<(usize, Bad)>) {
    let mut items = Vec::new();
    let stream = serde_json::Deserializer::from_slice(bytes).into_iter::<Value>();
    for (i, entry) in stream.enumerate() {
        let result = match entry {
            Err(e) => Err(format!("Invalid JSON: {e}")),
            Ok(Value::Object(mut o)) => match o.remove("Item") {
                Some(attrs @ Value::Object(_)) => item_from_json(def, &attrs),
                Some(_) => Err("Item must be a map of attributes".into()),
                None => Err("Missing the Item key".into()),
            },
            Ok(_) => Err("Each entry must be a JSON object with an Item".into()),
        };
        match result {
            Ok(item) => items.push(item),
            Err(bad) => return (items, Some((i, bad))),
        }
    }
    (items, None)
}

/// Splits CSV text into records of fields: `delimiter` separates fields, `"` quotes
/// (a doubled `""` inside quotes is one quote), CR LF or LF ends a record. Blank lines
/// are skipped. An unterminated quote is an error.
pub fn csv_records(text: &str, delimiter: char) -> Result<Vec<Vec<String>>, Bad> {
    let mut records = Vec::new();
    let mut record: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut touched = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => {
                quoted = true;
                touched = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                if touched || !field.is_empty() || !record.is_empty() {
                    record.push(std::mem::take(&mut field));
                    records.push(std::mem::take(&mut record));
                }
                touched = false;
            }
            c if c == delimiter => {
                record.push(std::mem::take(&mut field));
                touched = true;
            }
            c => {
                field.push(c);
                touched = true;
            }
        }
    }
    if quoted {
        return Err("Unterminated quoted field in CSV".into());
    }
    if touched || !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    Ok(records)
}

/// One CSV record as an item: key attributes take their declared type, every other
/// non-empty column becomes a string.
pub fn csv_item(def: &TableDef, header: &[String], record: &[String]) -> Result<Item, Bad> {
    if record.len() != header.len() {
        return Err(format!(
            "The row has {} columns but the header has {}",
            record.len(),
            header.len()
        ));
    }
    let mut attrs = Map::new();
    for (name, value) in header.iter().zip(record) {
        let kind = def.attribute_type(name);
        if value.is_empty() && kind.is_none() {
            continue;
        }
        let tag = match kind {
            Some(ScalarType::N) => "N",
            Some(ScalarType::B) => "B",
            _ => "S",
        };
        let mut v = Map::new();
        v.insert(tag.into(), Value::String(value.clone()));
        attrs.insert(name.clone(), Value::Object(v));
    }
    item_from_json(def, &Value::Object(attrs))
}

/// The items of one CSV object: the first record is the header unless `header` is
/// given; stops at the first bad record (returned with its index).
pub fn csv(
    def: &TableDef,
    text: &str,
    delimiter: char,
    header: Option<&[String]>,
) -> (Vec<Item>, Option<(usize, Bad)>) {
    let records = match csv_records(text, delimiter) {
        Ok(r) => r,
        Err(bad) => return (Vec::new(), Some((0, bad))),
    };
    let mut rows = records.into_iter();
    let header: Vec<String> = match header {
        Some(h) => h.to_vec(),
        None => match rows.next() {
            Some(h) => h,
            None => return (Vec::new(), None),
        },
    };
    let mut items = Vec::new();
    for (i, record) in rows.enumerate() {
        match csv_item(def, &header, &record) {
            Ok(item) => items.push(item),
            Err(bad) => return (items, Some((i, bad))),
        }
    }
    (items, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn table() -> TableDef {
        crate::keys::tests::table(Some(("sk", ScalarType::N)))
    }

    #[test]
    fn json_entries_may_be_concatenated_or_on_lines() {
        let src =
            br#"{"Item":{"pk":{"S":"a"},"sk":{"N":"1"}}}{"Item":{"pk":{"S":"b"},"sk":{"N":"2"}}}

  {"Item":{"pk":{"S":"c"},"sk":{"N":"3"}}}
"#;
        let (items, bad) = dynamodb_json(&table(), src);
        assert_eq!(items.len(), 3);
        assert!(bad.is_none());
    }

    #[test]
    fn the_first_bad_json_entry_stops_the_object() {
        let src = br#"{"Item":{"pk":{"S":"a"},"sk":{"N":"1"}}}
{"Item":{"sk":{"N":"2"}}}
{"Item":{"pk":{"S":"c"},"sk":{"N":"3"}}}"#;
        let (items, bad) = dynamodb_json(&table(), src);
        assert_eq!(items.len(), 1);
        let (at, why) = bad.unwrap();
        assert_eq!(at, 1);
        assert_eq!(
            why,
            "One or more parameter values were invalid: Missing the key pk in the item"
        );
    }

    #[test]
    fn csv_quotes_delimiters_and_types() {
        let src = "pk;sk;note\r\na;1;\"x;\"\"y\"\"\"\n\nb;2;\n";
        let (items, bad) = csv(&table(), src, ';', None);
        assert!(bad.is_none(), "{bad:?}");
        assert_eq!(items.len(), 2);
        assert_eq!(
            items[0].get("note"),
            Some(&crate::model::AttributeValue::S("x;\"y\"".into()))
        );
        assert!(
            !items[1].contains_key("note"),
            "an empty non-key column is left out"
        );
        let (_, bad) = csv(&table(), "pk,sk\na,notanumber\n", ',', None);
        assert!(bad.is_some());
        assert!(csv_records("\"open", ',').is_err());
    }

    proptest! {
        #[test]
        fn readers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let def = table();
            let _ = dynamodb_json(&def, &bytes);
            let text = String::from_utf8_lossy(&bytes);
            let _ = csv(&def, &text, ',', None);
            let _ = csv(&def, &text, '\t', Some(&["pk".to_string(), "sk".to_string()]));
        }

        #[test]
        fn csv_round_trips_quoted_fields(fields in proptest::collection::vec("[ -~\n]{0,12}", 1..6)) {
            let line: Vec<String> = fields.iter().map(|f| format!("\"{}\"", f.replace('"', "\"\""))).collect();
            let text = line.join(",") + "\n";
            let records = csv_records(&text, ',').unwrap();
            prop_assert_eq!(records, vec![fields]);
        }
    }
}
