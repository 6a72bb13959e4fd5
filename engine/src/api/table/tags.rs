//! Tags: the Tags of CreateTable and TagResource / UntagResource / ListTagsOfResource,
//! addressed by table ARN.

use serde_json::{json, Map, Value};

use crate::api::Ctx;
use crate::catalog;
use crate::wire::shape::{Obj, Violations};
use crate::wire::{ApiError, ApiResult, ErrorCode};

const MAX_TAGS: usize = 50;

/// Reads a `Tags` list: keys 1–128 characters, values 0–256, no `aws:` prefix, no
/// duplicate keys.
pub fn parse_tags(
    list: Option<&[Obj<'_>]>,
    path: &str,
    v: &mut Violations,
) -> ApiResult<Vec<(String, Option<String>)>> {
    let Some(list) = list else {
        return Ok(Vec::new());
    };
    let mut out: Vec<(String, Option<String>)> = Vec::with_capacity(list.len());
    for (i, tag) in list.iter().enumerate() {
        let p = format!("{path}.{}.member", i + 1);
        let key = tag.str("Key")?;
        let value = tag.str("Value")?;
        if key.is_none() {
            v.not_null(&format!("{p}.key"));
        }
        out.push((
            key.unwrap_or_default().to_string(),
            value.map(str::to_string),
        ));
    }
    Ok(out)
}

/// The characters AWS allows in tag keys and values.
fn tag_chars_ok(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c))
}

/// DynamoDB's tag rules, each with its own sentence; returns the tags as stored.
fn check_tag_semantics(tags: Vec<(String, Option<String>)>) -> ApiResult<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::with_capacity(tags.len());
    for (k, value) in tags {
        if k.starts_with("aws:") {
            return Err(ApiError::validation(format!(
                "Tag Key cannot be prefixed with aws:, Key: {k}"
            )));
        }
        if k.is_empty() || k.chars().count() > 128 || !tag_chars_ok(&k) {
            return Err(ApiError::validation(format!(
                "The Tag Key provided is invalid, Key: {k}"
            )));
        }
        let value = match value {
            Some(v) if v.chars().count() <= 256 && tag_chars_ok(&v) => v,
            Some(v) => {
                return Err(ApiError::validation(format!(
                    "The Tag Value provided is invalid, Value: {v}"
                )))
            }
            None => {
                return Err(ApiError::validation(
                    "The Tag Value provided is invalid, Value: null",
                ))
            }
        };
        if out.iter().any(|(other, _)| *other == k) {
            return Err(ApiError::validation(format!(
                "Duplicate Tag Keys provided as input: Duplicate Tag Key found {k}"
            )));
        }
        out.push((k, value));
    }
    Ok(out)
}

fn too_many_tags() -> ApiError {
    ApiError::validation("Number of Tags exceed the current limit for the provided ResourceArn")
}

/// Finds the table an ARN names, with DynamoDB's errors for malformed and unknown ARNs.
fn table_from_arn<'a>(ctx: &Ctx, arn: &'a str) -> ApiResult<&'a str> {
    let prefix = format!(
        "arn:aws:dynamodb:{}:{}:table/",
        ctx.config.region, ctx.config.account
    );
    let generic = arn
        .strip_prefix("arn:aws:dynamodb:")
        .and_then(|rest| rest.split_once(":table/"));
    match (arn.strip_prefix(&prefix), generic) {
        (Some(name), _) if !name.is_empty() && !name.contains('/') => Ok(name),
        (_, Some((_, name))) if !name.is_empty() && !name.contains('/') => Err(arn_not_found(arn)),
        _ => Err(ApiError::validation(format!(
            "Invalid TableArn: Invalid ResourceArn provided as input {arn}"
        ))),
    }
}

fn arn_violations(arn: Option<&str>, v: &mut Violations) {
    match arn {
        None => v.not_null("resourceArn"),
        Some(a) => v.length(a, "resourceArn", 1, 1283),
    }
}

/// Changes the tags of the table `arn` names, in one write.
async fn edit_tags<F>(ctx: &Ctx, arn: &str, edit: F) -> ApiResult<Value>
where
    F: FnOnce(&mut Vec<(String, String)>) -> ApiResult<()> + Send + 'static,
{
    let name = table_from_arn(ctx, arn)?.to_string();
    let now = ctx.now_ms();
    let delay = ctx.config.delete_delay_ms;
    let not_found = arn_not_found(arn);
    ctx.store
        .write(move |txn| {
            let mut def = catalog::load_for_write(txn, &name)?
                .filter(|d| !d.is_gone(now, delay))
                .ok_or(not_found)?;
            edit(&mut def.tags)?;
            catalog::save(txn, &def)
        })
        .await?;
    Ok(json!({}))
}

/// ListTagsOfResource's answer for an ARN naming no table of this account.
fn list_tags_denied(ctx: &Ctx, arn: &str) -> ApiError {
    ApiError::new(
        ErrorCode::AccessDeniedException,
        format!(
            "User: arn:aws:iam::{}:root is not authorized to perform: dynamodb:ListTagsOfResource on resource: {arn}",
            ctx.config.account
        ),
    )
}

fn arn_not_found(arn: &str) -> ApiError {
    ApiError::resource_not_found(format!(
        "Requested resource not found: ResourcArn: {arn} not found"
    ))
}

pub async fn tag_resource(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let o = Obj(body);
    let arn = o.str("ResourceArn")?;
    let list = o.obj_list("Tags")?;
    let mut v = Violations::new();
    arn_violations(arn, &mut v);
    if list.is_none() {
        v.not_null("tags");
    }
    let tags = parse_tags(list.as_deref(), "tags", &mut v)?;
    v.finish()?;
    let tags = check_tag_semantics(tags)?;
    edit_tags(ctx, arn.unwrap_or_default(), move |current| {
        for (k, val) in tags {
            match current.iter_mut().find(|(existing, _)| *existing == k) {
                Some(slot) => slot.1 = val,
                None => current.push((k, val)),
            }
        }
        if current.len() > MAX_TAGS {
            return Err(too_many_tags());
        }
        Ok(())
    })
    .await
}

pub async fn untag_resource(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let o = Obj(body);
    let arn = o.str("ResourceArn")?;
    let keys = o.str_list("TagKeys")?;
    let mut v = Violations::new();
    arn_violations(arn, &mut v);
    if keys.is_none() {
        v.not_null("tagKeys");
    }
    v.finish()?;
    let keys: Vec<String> = keys
        .unwrap_or_default()
        .into_iter()
        .map(str::to_string)
        .collect();
    edit_tags(ctx, arn.unwrap_or_default(), move |current| {
        current.retain(|(k, _)| !keys.contains(k));
        Ok(())
    })
    .await
}

pub async fn list_tags_of_resource(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let o = Obj(body);
    let arn = o.str("ResourceArn")?;
    let _next = o.str("NextToken")?;
    let mut v = Violations::new();
    arn_violations(arn, &mut v);
    v.finish()?;
    let arn = arn.unwrap_or_default();
    // A well-formed ARN of a table that does not exist (here or in another account) is
    // AccessDeniedException on ListTagsOfResource, as on DynamoDB (dynalite's captures).
    let name = table_from_arn(ctx, arn).map_err(|e| match e.code() {
        ErrorCode::ResourceNotFoundException => list_tags_denied(ctx, arn),
        _ => e,
    })?;
    let txn = ctx.store.read()?;
    let now = ctx.now_ms();
    let def = ctx
        .visible_table(&txn, name, now)?
        .ok_or_else(|| list_tags_denied(ctx, arn))?;
    let tags: Vec<Value> = def
        .tags
        .iter()
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect();
    Ok(json!({ "Tags": tags }))
}
/// Checks CreateTable's tags once their shape passed.
pub fn validate_create_tags(
    tags: Vec<(String, Option<String>)>,
) -> ApiResult<Vec<(String, String)>> {
    let tags = check_tag_semantics(tags)?;
    if tags.len() > MAX_TAGS {
        return Err(too_many_tags());
    }
    Ok(tags)
}
