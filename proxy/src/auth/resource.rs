//! The resource-based policies authorization reads: which stored policy governs a tuple's
//! resource (a table's covers its indexes; a stream has its own), and a cache of the
//! parsed documents, read from the upstream with GetResourcePolicy and forgotten whenever
//! a request could change one. Used only when some identity has policies.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use daxlite_engine::wire::{ApiError, ErrorCode, Operation};
use serde_json::{Map, Value};

use super::identity::Identity;
use super::policy::{evaluate_resource, Context, Decision, Policy};

/// The ARN whose resource-based policy governs `resource`: the table ARN for a table or
/// index, the stream ARN for a stream; None for anything else (backups, exports, global
/// tables, `table/*` of the list operations).
pub fn governing_arn(resource: &str) -> Option<&str> {
    if !resource.starts_with("arn:") {
        return None;
    }
    let (head, rest) = resource.split_once(":table/")?;
    let mut parts = rest.split('/');
    let table = parts.next()?;
    if table.is_empty() || table.contains('*') {
        return None;
    }
    let table_end = head.len() + ":table/".len() + table.len();
    match (parts.next(), parts.next(), parts.next()) {
        (None, _, _) | (Some("index"), Some(_), None) => resource.get(..table_end),
        (Some("stream"), Some(label), None) if !label.is_empty() && !label.contains('*') => {
            Some(resource)
        }
        _ => None,
    }
}

/// What is known of one resource: its parsed policy, or that it has none.
pub type Known = Option<Arc<Policy>>;

#[derive(Debug, Default)]
struct State {
    /// Bumped by every invalidation: a fetch that started before one is not stored.
    generation: u64,
    known: HashMap<String, Known>,
}

/// Parsed resource-based policies by governing ARN.
#[derive(Debug, Default)]
pub struct ResourcePolicies {
    state: RwLock<State>,
}

impl ResourcePolicies {
    /// The cached answer for `arn` and the generation to fill with when there is none.
    pub fn get(&self, arn: &str) -> Result<Known, u64> {
        match self.state.read() {
            Ok(s) => match s.known.get(arn) {
                Some(k) => Ok(k.clone()),
                None => Err(s.generation),
            },
            Err(_) => Err(u64::MAX),
        }
    }

    /// Stores what a fetch begun at `generation` learned, unless something changed since.
    pub fn fill(&self, arn: &str, generation: u64, known: Known) {
        if let Ok(mut s) = self.state.write() {
            if s.generation == generation {
                s.known.insert(arn.to_string(), known);
            }
        }
    }

    /// Called before and after every request when policies are on: an operation that
    /// can create, change or drop a resource policy forgets them all (true when it did).
    pub fn observe(&self, op: Operation) -> bool {
        use Operation::*;
        if matches!(
            op,
            PutResourcePolicy
                | DeleteResourcePolicy
                | CreateTable
                | DeleteTable
                | UpdateTable
                | RestoreTableFromBackup
                | RestoreTableToPointInTime
                | ImportTable
        ) {
            if let Ok(mut s) = self.state.write() {
                s.generation += 1;
                s.known.clear();
            }
            return true;
        }
        false
    }
}

/// Reads a GetResourcePolicy answer: Some(policy or none) when it is definite (cacheable),
/// None when the upstream failed otherwise (not cached; the request sees no policy).
pub fn from_reply(success: bool, body: &[u8]) -> Option<Known> {
    if !success {
        let text = String::from_utf8_lossy(body);
        let definite = [
            "PolicyNotFoundException",
            "ResourceNotFoundException",
            "UnknownOperationException",
        ]
        .iter()
        .any(|c| text.contains(c));
        return definite.then_some(None);
    }
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let Some(doc) = v.get("Policy").and_then(serde_json::Value::as_str) else {
        return Some(None);
    };
    match Policy::parse_resource(doc) {
        Ok(p) => Some(Some(Arc::new(p))),
        Err(e) => {
            tracing::warn!(error = %e, "a stored resource-based policy does not parse; it grants and denies nothing");
            Some(None)
        }
    }
}

/// With policies on, a policy about to be attached (PutResourcePolicy, CreateTable's
/// `ResourcePolicy`) must parse as a resource-based policy, and a PutResourcePolicy whose
/// new policy explicitly denies the caller PutResourcePolicy on that resource needs
/// `ConfirmRemoveSelfResourceAccess: true`. Runs after the request was authorized.
pub fn check_new_policy(
    op: Operation,
    body: &Map<String, Value>,
    identity: &Identity,
    region: &str,
) -> Result<(), ApiError> {
    let (doc, arn) = match op {
        Operation::PutResourcePolicy => (
            body.get("Policy").and_then(Value::as_str),
            body.get("ResourceArn")
                .and_then(Value::as_str)
                .map(str::to_string),
        ),
        Operation::CreateTable => (
            body.get("ResourcePolicy").and_then(Value::as_str),
            body.get("TableName")
                .and_then(Value::as_str)
                .map(|t| format!("arn:aws:dynamodb:{region}:{}:table/{t}", identity.account)),
        ),
        _ => return Ok(()),
    };
    let (Some(doc), Some(arn)) = (doc, arn) else {
        return Ok(());
    };
    let policy = Policy::parse_resource(doc).map_err(|e| {
        ApiError::new(
            ErrorCode::ValidationException,
            format!("One or more parameter values were invalid: Invalid policy document: {e}"),
        )
    })?;
    let confirmed = body
        .get("ConfirmRemoveSelfResourceAccess")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if op == Operation::PutResourcePolicy && !confirmed {
        let caller = identity.caller(&arn);
        let ctx: Context = identity.base_context();
        if evaluate_resource(&[&policy], caller, "dynamodb:PutResourcePolicy", &arn, &ctx)
            == Decision::ExplicitDeny
        {
            return Err(ApiError::new(
                ErrorCode::ValidationException,
                "The new policy would deny you permission to change the policy of this resource in the future; set ConfirmRemoveSelfResourceAccess to true to confirm",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn governing_arns() {
        let t = "arn:aws:dynamodb:us-east-1:123456789012:table/Music";
        assert_eq!(governing_arn(t), Some(t));
        assert_eq!(governing_arn(&format!("{t}/index/AlbumIndex")), Some(t));
        let s = format!("{t}/stream/2024-01-01T00:00:00.000");
        assert_eq!(governing_arn(&s), Some(s.as_str()));
        assert_eq!(
            governing_arn("arn:aws:dynamodb:us-east-1:123456789012:table/*"),
            None
        );
        assert_eq!(governing_arn(&format!("{t}/backup/01")), None);
        assert_eq!(governing_arn("Music"), None);
    }

    #[test]
    fn stale_fills_are_dropped() {
        let rp = ResourcePolicies::default();
        let arn = "arn:aws:dynamodb:us-east-1:123456789012:table/Music";
        let Err(generation) = rp.get(arn) else {
            panic!("nothing cached yet")
        };
        rp.observe(Operation::PutResourcePolicy);
        rp.fill(arn, generation, None);
        assert!(
            rp.get(arn).is_err(),
            "a fill begun before a change is dropped"
        );
        let Err(generation) = rp.get(arn) else {
            panic!("nothing cached")
        };
        rp.fill(arn, generation, None);
        assert!(matches!(rp.get(arn), Ok(None)));
    }
}
