//! Request pieces shared by CreateTable and UpdateTable: key schemas, attribute
//! definitions, projections, throughput, stream and SSE specifications — read with
//! DynamoDB's shape and constraint checks (paths like `keySchema.1.member.keyType`).

use crate::catalog::{
    AttributeDef, IndexKeys, KeySchema, OnDemand, Projection, ProjectionType, ScalarType,
    MAX_INDEX_KEY_PARTS,
};
use crate::wire::shape::{Obj, Violations};
use crate::wire::{ApiError, ApiResult};

/// One KeySchemaElement as given (checked for shape and enums, not yet for meaning).
#[derive(Debug, Clone)]
pub struct KeyElement {
    pub name: String,
    pub key_type: String,
}

/// The KeySchema elements at `path`; `global` (a GSI's KeySchema) lifts the two-element
/// bound that tables and LSIs keep (multi-attribute keys: [`gsi_key_schema`]).
pub fn key_elements(
    list: &[Obj<'_>],
    path: &str,
    global: bool,
    v: &mut Violations,
) -> ApiResult<Vec<KeyElement>> {
    let mut out = Vec::with_capacity(list.len());
    for (i, el) in list.iter().enumerate() {
        let p = format!("{path}.{}.member", i + 1);
        let name = el.str("AttributeName")?;
        let key_type = el.str("KeyType")?;
        match name {
            None => v.not_null(&format!("{p}.attributeName")),
            Some(n) => v.length(n, &format!("{p}.attributeName"), 1, 255),
        }
        match key_type {
            None => v.not_null(&format!("{p}.keyType")),
            Some(k) => v.enum_value(k, &format!("{p}.keyType"), &["HASH", "RANGE"]),
        }
        out.push(KeyElement {
            name: name.unwrap_or_default().to_string(),
            key_type: key_type.unwrap_or_default().to_string(),
        });
    }
    if list.is_empty() {
        v.push(
            Some("[]"),
            path,
            "Member must have length greater than or equal to 1",
        );
    }
    if list.len() > 2 && !global {
        v.push(
            Some(&render_keys(&out)),
            path,
            "Member must have length less than or equal to 2",
        );
    }
    Ok(out)
}

fn render_keys(keys: &[KeyElement]) -> String {
    let parts: Vec<String> = keys
        .iter()
        .map(|k| {
            format!(
                "KeySchemaElement(attributeName={}, keyType={})",
                k.name, k.key_type
            )
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

/// Turns checked key elements into a schema, with DynamoDB's ordering rules.
pub fn key_schema(keys: &[KeyElement]) -> ApiResult<KeySchema> {
    let (Some(first), second) = (keys.first(), keys.get(1)) else {
        return Err(ApiError::validation(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ));
    };
    if let Some(second) = second {
        if first.name == second.name {
            return Err(ApiError::validation(
                "Both the Hash Key and the Range Key element in the KeySchema have the same name",
            ));
        }
    }
    if first.key_type != "HASH" {
        return Err(ApiError::validation(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ));
    }
    if let Some(second) = second {
        if second.key_type != "RANGE" {
            return Err(ApiError::validation(
                "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
            ));
        }
    }
    Ok(KeySchema {
        hash: first.name.clone(),
        range: second.map(|s| s.name.clone()),
    })
}

/// A GSI's KeySchema: up to four HASH elements, then up to four RANGE elements, no
/// attribute twice (multi-attribute keys, November 2025). Messages: real DynamoDB as
/// probed by the ACK controller's research (engine/docs/multi-attribute-keys.md); a
/// one- or two-element schema keeps the table rules' messages.
pub fn gsi_key_schema(keys: &[KeyElement]) -> ApiResult<IndexKeys> {
    if keys.len() <= 2 && keys.get(1).is_none_or(|k| k.key_type == "RANGE") {
        return key_schema(keys).map(|k| IndexKeys::from(&k));
    }
    if keys.first().is_none_or(|k| k.key_type != "HASH") {
        return Err(ApiError::validation(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ));
    }
    let mut out = IndexKeys {
        hash: Vec::new(),
        range: Vec::new(),
    };
    for k in keys {
        if k.key_type == "HASH" && !out.range.is_empty() {
            return Err(ApiError::validation(
                "All HASH key attributes must precede RANGE key attributes in the KeySchema",
            ));
        }
        match k.key_type.as_str() {
            "HASH" => out.hash.push(k.name.clone()),
            _ => out.range.push(k.name.clone()),
        }
    }
    for (list, kind) in [(&out.hash, "HASH"), (&out.range, "RANGE")] {
        if list.len() > MAX_INDEX_KEY_PARTS {
            return Err(ApiError::validation(format!(
                "The KeySchema exceeds the maximum allowed number of {kind} key attributes"
            )));
        }
    }
    let names: Vec<&str> = out.names().collect();
    if names
        .iter()
        .enumerate()
        .any(|(i, n)| names[..i].contains(n))
    {
        return Err(ApiError::validation(
            "The KeySchema contains multiple key attributes with the same name",
        ));
    }
    Ok(out)
}

pub fn attribute_definitions(
    list: &[Obj<'_>],
    path: &str,
    v: &mut Violations,
) -> ApiResult<Vec<(String, String)>> {
    let mut out = Vec::with_capacity(list.len());
    for (i, el) in list.iter().enumerate() {
        let p = format!("{path}.{}.member", i + 1);
        let name = el.str("AttributeName")?;
        let kind = el.str("AttributeType")?;
        match name {
            None => v.not_null(&format!("{p}.attributeName")),
            Some(n) => v.length(n, &format!("{p}.attributeName"), 1, 255),
        }
        match kind {
            None => v.not_null(&format!("{p}.attributeType")),
            Some(k) => v.enum_value(k, &format!("{p}.attributeType"), &["B", "N", "S"]),
        }
        out.push((
            name.unwrap_or_default().to_string(),
            kind.unwrap_or_default().to_string(),
        ));
    }
    Ok(out)
}

/// Attribute definitions as stored, once the envelope passed.
pub fn attribute_defs(raw: &[(String, String)]) -> ApiResult<Vec<AttributeDef>> {
    let mut out: Vec<AttributeDef> = Vec::with_capacity(raw.len());
    for (name, kind) in raw {
        if out.iter().any(|a| &a.name == name) {
            return Err(ApiError::validation(format!(
                "Attribute Name is duplicated: {name}"
            )));
        }
        let kind = ScalarType::parse(kind).unwrap_or(ScalarType::S);
        out.push(AttributeDef {
            name: name.clone(),
            kind,
        });
    }
    Ok(out)
}

/// A Projection as given.
#[derive(Debug, Clone, Default)]
pub struct RawProjection {
    pub kind: Option<String>,
    pub non_key: Option<Vec<String>>,
}

pub fn projection(p: Option<Obj<'_>>, path: &str, v: &mut Violations) -> ApiResult<RawProjection> {
    let Some(p) = p else {
        v.not_null(path);
        return Ok(RawProjection::default());
    };
    let kind = p.str("ProjectionType")?;
    if let Some(k) = kind {
        v.enum_value(
            k,
            &format!("{path}.projectionType"),
            &["ALL", "INCLUDE", "KEYS_ONLY"],
        );
    }
    let non_key = p.str_list("NonKeyAttributes")?;
    if let Some(list) = &non_key {
        if list.is_empty() {
            v.push(
                Some("[]"),
                &format!("{path}.nonKeyAttributes"),
                "Member must have length greater than or equal to 1",
            );
        }
        if list.len() > 20 {
            v.push(
                Some(&format!("[{}]", list.join(", "))),
                &format!("{path}.nonKeyAttributes"),
                "Member must have length less than or equal to 20",
            );
        }
    }
    Ok(RawProjection {
        kind: kind.map(str::to_string),
        non_key: non_key.map(|l| l.into_iter().map(str::to_string).collect()),
    })
}

/// The projection as stored, with DynamoDB's semantic checks.
pub fn projection_def(raw: &RawProjection) -> ApiResult<Projection> {
    let kind = match raw.kind.as_deref() {
        Some("ALL") => ProjectionType::All,
        Some("KEYS_ONLY") => ProjectionType::KeysOnly,
        Some("INCLUDE") => ProjectionType::Include,
        _ => return Err(ApiError::invalid_parameter("Unknown ProjectionType: null")),
    };
    if raw.non_key.is_some() && kind != ProjectionType::Include {
        return Err(ApiError::invalid_parameter(format!(
            "ProjectionType is {}, but NonKeyAttributes is specified",
            kind.as_str()
        )));
    }
    let non_key = raw.non_key.clone().unwrap_or_default();
    if kind == ProjectionType::Include && non_key.is_empty() {
        return Err(ApiError::invalid_parameter(
            "ProjectionType is INCLUDE, but NonKeyAttributes is not specified",
        ));
    }
    // Projected attribute names are limited like key names (the developer guide's
    // "Secondary indexes" quotas; DynamoDB Local's text).
    if non_key
        .iter()
        .any(|n| n.is_empty() || n.chars().count() > 255)
    {
        return Err(ApiError::validation(
            "Names of key attributes and attributes projected into an index must be between 1 and 255 characters, inclusive",
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for name in &non_key {
        if !seen.insert(name.as_str()) {
            return Err(ApiError::invalid_parameter(format!(
                "Duplicate element in NonKeyAttributes: {name}"
            )));
        }
    }
    Ok(Projection { kind, non_key })
}

/// ProvisionedThroughput as given: (read, write), either possibly missing.
pub fn throughput(
    p: Obj<'_>,
    path: &str,
    v: &mut Violations,
) -> ApiResult<(Option<i64>, Option<i64>)> {
    let read = p.int("ReadCapacityUnits")?;
    let write = p.int("WriteCapacityUnits")?;
    match write {
        None => v.not_null(&format!("{path}.writeCapacityUnits")),
        Some(w) => v.min_value(w, &format!("{path}.writeCapacityUnits"), 1),
    }
    match read {
        None => v.not_null(&format!("{path}.readCapacityUnits")),
        Some(r) => v.min_value(r, &format!("{path}.readCapacityUnits"), 1),
    }
    Ok((read, write))
}

/// The highest capacity DynamoDB accepts in a request.
pub const MAX_CAPACITY: i64 = 1_000_000_000_000;

pub fn check_capacity_bounds(read: i64, write: i64) -> ApiResult<()> {
    if read > MAX_CAPACITY {
        return Err(ApiError::validation(format!(
            "Given value {read} for ReadCapacityUnits is out of bounds"
        )));
    }
    if write > MAX_CAPACITY {
        return Err(ApiError::validation(format!(
            "Given value {write} for WriteCapacityUnits is out of bounds"
        )));
    }
    Ok(())
}

pub fn on_demand(p: Option<Obj<'_>>) -> ApiResult<Option<OnDemand>> {
    let Some(p) = p else { return Ok(None) };
    let max_read = p.int("MaxReadRequestUnits")?;
    let max_write = p.int("MaxWriteRequestUnits")?;
    for (value, name) in [
        (max_read, "MaxReadRequestUnits"),
        (max_write, "MaxWriteRequestUnits"),
    ] {
        if let Some(v) = value {
            if v < 1 && v != -1 {
                return Err(ApiError::invalid_parameter(format!(
                    "Requested {name} for OnDemandThroughput for table is outside of valid range"
                )));
            }
        }
    }
    Ok(Some(OnDemand {
        max_read: max_read.filter(|v| *v != -1),
        max_write: max_write.filter(|v| *v != -1),
    }))
}

/// StreamSpecification as given: (enabled, view type).
pub fn stream_spec(p: Obj<'_>, v: &mut Violations) -> ApiResult<(Option<bool>, Option<String>)> {
    let enabled = p.bool("StreamEnabled")?;
    let view = p.str("StreamViewType")?;
    if enabled.is_none() {
        v.not_null("streamSpecification.streamEnabled");
    }
    if let Some(view) = view {
        v.enum_value(
            view,
            "streamSpecification.streamViewType",
            &["OLD_IMAGE", "KEYS_ONLY", "NEW_AND_OLD_IMAGES", "NEW_IMAGE"],
        );
    }
    Ok((enabled, view.map(str::to_string)))
}
/// The stream view type a specification enables, or None when it disables the stream.
/// CreateTable and UpdateTable word the two mistakes differently.
pub fn stream_view(
    enabled: Option<bool>,
    view: Option<String>,
    creating: bool,
) -> ApiResult<Option<String>> {
    match (enabled, view) {
        (Some(true), Some(view)) => Ok(Some(view)),
        (Some(true), None) => Err(ApiError::invalid_parameter(if creating {
            "Table is being created with a stream enabled, UpdateViewType is required"
        } else {
            "If stream is being enabled then UpdateViewType is required"
        })),
        (_, Some(_)) => Err(ApiError::invalid_parameter(if creating {
            "Table is being created with a stream disabled, UpdateViewType should not be specified"
        } else {
            "If stream is being disabled, then UpdateViewType must not be specified"
        })),
        (_, None) => Ok(None),
    }
}

/// SSESpecification rules; Some(Sse) when encryption with a managed or given KMS key is on.
pub fn sse_def(
    enabled: Option<bool>,
    kind: Option<String>,
    key: Option<String>,
) -> ApiResult<Option<crate::catalog::Sse>> {
    if enabled == Some(false) {
        if kind.is_some() {
            return Err(ApiError::invalid_parameter(
                "SSEType can not be specified if Enabled is false",
            ));
        }
        if key.is_some() {
            return Err(ApiError::invalid_parameter(
                "KMSMasterKeyId can not be specified if Enabled is false",
            ));
        }
        return Ok(None);
    }
    if kind.as_deref() == Some("AES256") {
        return Err(ApiError::invalid_parameter(
            "SSEType AES256 is not supported",
        ));
    }
    if key.is_some() && kind.is_none() {
        return Err(ApiError::invalid_parameter(
            "SSEType KMS is required if KMSMasterKeyId is specified",
        ));
    }
    if enabled.is_none() && kind.is_none() {
        return Ok(None);
    }
    Ok(Some(crate::catalog::Sse {
        sse_type: "KMS".into(),
        kms_key: key,
    }))
}

/// SSESpecification: (enabled, type, KMS key) as given.
pub fn sse_spec(
    p: Obj<'_>,
    v: &mut Violations,
) -> ApiResult<(Option<bool>, Option<String>, Option<String>)> {
    let enabled = p.bool("Enabled")?;
    let kind = p.str("SSEType")?;
    if let Some(k) = kind {
        v.enum_value(k, "sSESpecification.sSEType", &["AES256", "KMS"]);
    }
    let key = p.str("KMSMasterKeyId")?;
    Ok((enabled, kind.map(str::to_string), key.map(str::to_string)))
}
/// TableClass is checked on its own, with DynamoDB's own sentence rather than the envelope.
pub fn table_class(value: Option<&str>) -> ApiResult<()> {
    match value {
        None | Some("STANDARD") | Some("STANDARD_INFREQUENT_ACCESS") => Ok(()),
        Some(_) => Err(ApiError::validation(
            "Invalid table-class parameter provided. Please try again with a valid table-class value: [STANDARD, STANDARD_INFREQUENT_ACCESS].",
        )),
    }
}

pub fn billing_mode(value: Option<&str>, v: &mut Violations) {
    if let Some(m) = value {
        v.enum_value(m, "billingMode", &["PROVISIONED", "PAY_PER_REQUEST"]);
    }
}
