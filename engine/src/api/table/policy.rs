//! Resource-based policies: PutResourcePolicy, GetResourcePolicy, DeleteResourcePolicy on
//! a table or one of its streams, and CreateTable's `ResourcePolicy`. The document is
//! stored as sent in the table's catalog entry with a revision id; the proxy's
//! authorization evaluates it (`proxy/src/auth/resource.rs`).

use serde_json::{json, Map, Value};

use crate::api::Ctx;
use crate::catalog::{self, ResourcePolicy, TableDef};
use crate::wire::shape::{Obj, Violations};
use crate::wire::{ApiError, ApiResult, ErrorCode};

/// The largest document DynamoDB accepts: 20 KB, whitespace counted.
pub const MAX_POLICY_BYTES: usize = 20 * 1024;

/// `ExpectedRevisionId` meaning "only if the resource has no policy".
const NO_POLICY: &str = "NO_POLICY";

/// What a `ResourceArn` names: a table, or one of its streams (by label).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    table: String,
    stream: Option<String>,
}

/// Reads `ResourceArn`: this account's and region's table or stream ARN.
fn target(ctx: &Ctx, arn: &str) -> ApiResult<Target> {
    let prefix = format!(
        "arn:aws:dynamodb:{}:{}:table/",
        ctx.config.region, ctx.config.account
    );
    let invalid = || ApiError::validation(format!("Invalid ResourceArn provided as input {arn}"));
    let rest = arn.strip_prefix(&prefix).ok_or_else(|| {
        // Another account's or region's table is not found here; anything else is malformed.
        match arn
            .strip_prefix("arn:aws:dynamodb:")
            .and_then(|r| r.split_once(":table/"))
        {
            Some((_, rest)) if !rest.is_empty() => {
                table_not_found(rest.split('/').next().unwrap_or(rest))
            }
            _ => invalid(),
        }
    })?;
    let mut parts = rest.split('/');
    let table = parts.next().unwrap_or_default();
    let target = match (parts.next(), parts.next(), parts.next()) {
        (None, _, _) => Target {
            table: table.to_string(),
            stream: None,
        },
        (Some("stream"), Some(label), None) if !label.is_empty() => Target {
            table: table.to_string(),
            stream: Some(label.to_string()),
        },
        _ => return Err(invalid()),
    };
    if target.table.is_empty() {
        return Err(invalid());
    }
    Ok(target)
}

fn table_not_found(name: &str) -> ApiError {
    ApiError::resource_not_found(format!(
        "Requested resource not found: Table: {name} not found"
    ))
}

fn policy_not_found(arn: &str) -> ApiError {
    ApiError::new(
        ErrorCode::PolicyNotFoundException,
        format!("Resource-based policy not found for the provided ResourceArn: {arn}"),
    )
}

/// Checks a policy document's size and that it is a JSON policy object (statements are
/// checked by the proxy's policy parser when authorization is on).
pub fn check_document(doc: &str) -> ApiResult<()> {
    if doc.len() > MAX_POLICY_BYTES {
        return Err(ApiError::validation(format!(
            "Policy document size {} exceeds the maximum allowed size of {MAX_POLICY_BYTES} bytes",
            doc.len()
        )));
    }
    let invalid =
        |why: &str| ApiError::invalid_parameter(format!("Invalid policy document: {why}"));
    let parsed: Value =
        serde_json::from_str(doc).map_err(|_| invalid("the document is not valid JSON"))?;
    let Some(obj) = parsed.as_object() else {
        return Err(invalid("the document must be a JSON object"));
    };
    match obj.get("Statement") {
        Some(Value::Array(a)) if !a.is_empty() => Ok(()),
        Some(Value::Object(_)) => Ok(()),
        _ => Err(invalid("the document must contain a Statement")),
    }
}

/// The current policy of a target (None when there is none).
fn current(def: &TableDef, t: &Target) -> Option<ResourcePolicy> {
    match &t.stream {
        None => def.resource_policy.clone(),
        Some(label) => def
            .stream_policies
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, p)| p.clone()),
    }
}

/// Replaces (or removes) the target's policy.
fn set(def: &mut TableDef, t: &Target, p: Option<ResourcePolicy>) {
    match &t.stream {
        None => def.resource_policy = p,
        Some(label) => {
            def.stream_policies.retain(|(l, _)| l != label);
            if let Some(p) = p {
                def.stream_policies.push((label.clone(), p));
            }
        }
    }
}

/// Whether the target exists (a stream must be the table's current or latest one).
fn check_exists(def: &TableDef, t: &Target, arn: &str) -> ApiResult<()> {
    if let Some(label) = &t.stream {
        let exists = [&def.stream, &def.latest_stream]
            .into_iter()
            .flatten()
            .any(|s| s.label == *label);
        if !exists {
            return Err(super::super::streams::stream_not_found(arn));
        }
    }
    Ok(())
}

/// The next revision id: epoch milliseconds, above the previous one.
pub fn next_revision(now: i64, previous: Option<&str>) -> String {
    let prev = previous.and_then(|p| p.parse::<i64>().ok()).unwrap_or(0);
    now.max(prev + 1).to_string()
}

/// The stale-revision message.
fn stale(expected: &str, table: &str, current: &str) -> ApiError {
    ApiError::new(
        ErrorCode::PolicyNotFoundException,
        format!("Resource-based policy not found for the provided ResourceArn: Requested update for policy with revision id {expected}, but the policy associated to target table {table} has revision id {current}."),
    )
}

fn arn_violations(arn: Option<&str>, v: &mut Violations) {
    match arn {
        None => v.not_null("resourceArn"),
        Some(a) => v.length(a, "resourceArn", 1, 1283),
    }
}

fn expected_violations(expected: Option<&str>, v: &mut Violations) {
    if let Some(e) = expected {
        v.length(e, "expectedRevisionId", 1, 255);
    }
}

pub async fn put_resource_policy(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let o = Obj(body);
    let arn = o.str("ResourceArn")?;
    let policy = o.str("Policy")?;
    let expected = o.str("ExpectedRevisionId")?;
    let _confirm = o.bool("ConfirmRemoveSelfResourceAccess")?;
    let mut v = Violations::new();
    arn_violations(arn, &mut v);
    if policy.is_none() {
        v.not_null("policy");
    }
    expected_violations(expected, &mut v);
    v.finish()?;
    let arn = arn.unwrap_or_default().to_string();
    let document = policy.unwrap_or_default().to_string();
    let expected = expected.map(str::to_string);
    let t = target(ctx, &arn)?;
    check_document(&document)?;
    let now = ctx.now_ms();
    let delay = ctx.config.delete_delay_ms;
    let revision = ctx
        .store
        .write(move |txn| {
            let mut def = catalog::load_for_write(txn, &t.table)?
                .filter(|d| !d.is_gone(now, delay))
                .ok_or_else(|| table_not_found(&t.table))?;
            check_exists(&def, &t, &arn)?;
            let cur = current(&def, &t);
            match (expected.as_deref(), &cur) {
                (Some(NO_POLICY), Some(c)) => {
                    return Err(ApiError::new(
                        ErrorCode::PolicyNotFoundException,
                        format!("Resource-based policy not found for the provided ResourceArn: Requested policy update expecting none to be present for table {}, but a policy exists with revision id {}.", t.table, c.revision),
                    ))
                }
                (Some(NO_POLICY), None) | (None, _) => {}
                (Some(_), None) => return Err(policy_not_found(&arn)),
                (Some(e), Some(c)) if e != c.revision => {
                    return Err(stale(e, &t.table, &c.revision))
                }
                (Some(_), Some(_)) => {}
            }
            if let Some(c) = &cur {
                if c.document == document {
                    // The same document again keeps its revision (PutResourcePolicy is idempotent).
                    return Ok(c.revision.clone());
                }
            }
            let revision = next_revision(now, cur.as_ref().map(|c| c.revision.as_str()));
            set(
                &mut def,
                &t,
                Some(ResourcePolicy {
                    document,
                    revision: revision.clone(),
                }),
            );
            catalog::save(txn, &def)?;
            Ok(revision)
        })
        .await?;
    Ok(json!({ "RevisionId": revision }))
}

pub async fn get_resource_policy(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let o = Obj(body);
    let arn = o.str("ResourceArn")?;
    let mut v = Violations::new();
    arn_violations(arn, &mut v);
    v.finish()?;
    let arn = arn.unwrap_or_default();
    let t = target(ctx, arn)?;
    let txn = ctx.store.read()?;
    let def = ctx
        .visible_table(&txn, &t.table, ctx.now_ms())?
        .ok_or_else(|| table_not_found(&t.table))?;
    check_exists(&def, &t, arn)?;
    let p = current(&def, &t).ok_or_else(|| policy_not_found(arn))?;
    Ok(json!({ "Policy": p.document, "RevisionId": p.revision }))
}

pub async fn delete_resource_policy(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let o = Obj(body);
    let arn = o.str("ResourceArn")?;
    let expected = o.str("ExpectedRevisionId")?;
    let mut v = Violations::new();
    arn_violations(arn, &mut v);
    expected_violations(expected, &mut v);
    v.finish()?;
    let arn = arn.unwrap_or_default().to_string();
    let expected = expected.map(str::to_string);
    let t = target(ctx, &arn)?;
    let now = ctx.now_ms();
    let delay = ctx.config.delete_delay_ms;
    let revision = ctx
        .store
        .write(move |txn| {
            let mut def = catalog::load_for_write(txn, &t.table)?
                .filter(|d| !d.is_gone(now, delay))
                .ok_or_else(|| table_not_found(&t.table))?;
            check_exists(&def, &t, &arn)?;
            let cur = current(&def, &t);
            match (expected.as_deref(), &cur) {
                (Some(_), None) => return Err(policy_not_found(&arn)),
                (Some(e), Some(c)) if e != c.revision => {
                    return Err(stale(e, &t.table, &c.revision))
                }
                _ => {}
            }
            let Some(c) = cur else {
                // Deleting a policy that does not exist is not an error.
                return Ok(None);
            };
            set(&mut def, &t, None);
            catalog::save(txn, &def)?;
            Ok(Some(c.revision))
        })
        .await?;
    Ok(match revision {
        Some(r) => json!({ "RevisionId": r }),
        None => json!({}),
    })
}

/// CreateTable's `ResourcePolicy`: checked like PutResourcePolicy's, first revision at `now`.
pub fn for_create(doc: Option<&str>, now: i64) -> ApiResult<Option<ResourcePolicy>> {
    let Some(doc) = doc else {
        return Ok(None);
    };
    check_document(doc)?;
    Ok(Some(ResourcePolicy {
        document: doc.to_string(),
        revision: next_revision(now, None),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_increase() {
        assert_eq!(next_revision(1000, None), "1000");
        assert_eq!(next_revision(1000, Some("1000")), "1001");
        assert_eq!(next_revision(2000, Some("1000")), "2000");
    }

    #[test]
    fn documents_are_checked() {
        assert!(
            check_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow"}]}"#).is_ok()
        );
        assert!(check_document("[]").is_err());
        assert!(check_document("{").is_err());
        assert!(check_document(r#"{"Statement":[]}"#).is_err());
        let big = format!(
            r#"{{"Statement":{{}},"x":"{}"}}"#,
            " ".repeat(MAX_POLICY_BYTES)
        );
        assert_eq!(
            check_document(&big).map_err(|e| e.code()),
            Err(ErrorCode::ValidationException)
        );
    }
}
