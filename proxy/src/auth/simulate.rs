//! The policy simulator (`POST /admin/simulate`, `daxlite policy-check`): for one
//! (principal, action, resource, context) it answers what a request would get —
//! allowed or denied, why (allow, explicit deny, implicit deny) and the statement that
//! decided (which identity- or resource-based policy, its index and Sid) — with the same
//! evaluator the request path uses (`evaluate_located` is `evaluate` with the index).

use std::sync::Arc;

use serde_json::{json, Value};

use super::authorize::{self, Tuple};
use super::decide::{self, Kind, Outcome};
use super::identity::{Identities, Identity};
use super::policy::{evaluate_located, evaluate_resource_located, Decided, Decision, Policy};
use super::sigv4::Keys;

/// One question.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub access_key: Option<String>,
    pub principal: Option<String>,
    pub action: String,
    pub resource: String,
    /// Condition keys and their values (several values: a multivalued key).
    pub context: Vec<(String, Vec<String>)>,
}

impl Query {
    /// From `{"access_key" | "principal", "action", "resource", "context": {k: v | [v]}}`.
    pub fn from_json(v: &Value) -> Result<Query, String> {
        let Value::Object(m) = v else {
            return Err("the body must be a JSON object".into());
        };
        for k in m.keys() {
            if !matches!(
                k.as_str(),
                "access_key" | "principal" | "action" | "resource" | "context"
            ) {
                return Err(format!(
                    "unknown field {k:?} (access_key or principal, action, resource, context)"
                ));
            }
        }
        let text = |k: &str| -> Result<Option<String>, String> {
            match m.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(format!("{k} must be a string")),
            }
        };
        let required = |k: &str| {
            text(k)?
                .filter(|s| !s.is_empty())
                .ok_or_else(|| format!("{k} (a string) is required"))
        };
        let mut context = Vec::new();
        match m.get("context") {
            None | Some(Value::Null) => {}
            Some(Value::Object(c)) => {
                for (k, v) in c {
                    let values = match v {
                        Value::Array(list) => list.iter().map(scalar).collect::<Option<_>>(),
                        one => scalar(one).map(|s| vec![s]),
                    }
                    .ok_or_else(|| {
                        format!("context {k:?}: a value must be a string, number or boolean, or a list of them")
                    })?;
                    context.push((k.clone(), values));
                }
            }
            Some(_) => return Err("context must be an object of condition keys".into()),
        }
        let q = Query {
            access_key: text("access_key")?,
            principal: text("principal")?,
            action: required("action")?,
            resource: required("resource")?,
            context,
        };
        q.check()?;
        Ok(q)
    }

    /// Exactly one of access_key and principal.
    pub fn check(&self) -> Result<(), String> {
        match (&self.access_key, &self.principal) {
            (Some(_), None) | (None, Some(_)) => Ok(()),
            _ => Err("give exactly one of access_key and principal".into()),
        }
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Whose policies answer a query.
#[derive(Debug, Clone)]
pub enum Subject {
    /// Policies are not applied to anyone (`[auth] verify` off, or no key has policies).
    Unchecked(&'static str),
    /// A configured key without policies: full access.
    FullAccess(String),
    Identity(Arc<Identity>),
}

/// Finds the subject of `q`; Err: no such key or principal.
pub fn resolve(
    keys: Option<&Keys>,
    identities: Option<&Identities>,
    q: &Query,
) -> Result<Subject, String> {
    let Some(keys) = keys else {
        return Ok(Subject::Unchecked(
            "[auth] verify is off: no request is authorized by policies",
        ));
    };
    let Some(ids) = identities else {
        return Ok(Subject::Unchecked(
            "no [auth] credentials entry has policies: every verified key has full access",
        ));
    };
    if let Some(ak) = &q.access_key {
        return match ids.get(ak) {
            Some(id) => Ok(Subject::Identity(Arc::clone(id))),
            None if keys.secret(ak).is_some() => Ok(Subject::FullAccess(format!(
                "access key {ak} has no policies: full access"
            ))),
            None => Err(format!("no [auth] credentials entry has access key {ak}")),
        };
    }
    let p = q.principal.as_deref().unwrap_or_default();
    ids.by_principal(p)
        .map(|id| Subject::Identity(Arc::clone(id)))
        .ok_or_else(|| format!("no [auth] credentials entry with policies has principal {p}"))
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub decision: Decision,
    /// `identity-based` or `resource-based`, and where in it.
    pub statement: Option<(&'static str, Decided, Option<String>)>,
    pub principal: Option<String>,
    /// The AccessDeniedException message the request would get.
    pub message: Option<String>,
    pub note: Option<String>,
}

impl Verdict {
    pub fn allowed(&self) -> bool {
        self.decision == Decision::Allow
    }

    pub fn to_json(&self, q: &Query) -> Value {
        let reason = match self.decision {
            Decision::Allow => "allow",
            Decision::ExplicitDeny => "explicit deny",
            Decision::ImplicitDeny => "implicit deny",
        };
        let mut v = json!({
            "decision": if self.allowed() { "allowed" } else { "denied" },
            "reason": reason,
            "statement": self.statement.as_ref().map(|(kind, at, sid)| json!({
                "policy": kind,
                "policy_index": at.policy,
                "statement_index": at.statement,
                "sid": sid,
            })),
            "action": q.action,
            "resource": q.resource,
        });
        for (k, x) in [
            ("principal", &self.principal),
            ("message", &self.message),
            ("note", &self.note),
        ] {
            if let (Some(x), Some(m)) = (x, v.as_object_mut()) {
                m.insert(k.into(), Value::String(x.clone()));
            }
        }
        v
    }
}

/// The verdict for `q` on `subject`, with `resource_policy` (the one governing the
/// resource, if any) evaluated beside the identity's policies as the request path does.
pub fn decide(subject: &Subject, q: &Query, resource_policy: Option<&Arc<Policy>>) -> Verdict {
    let identity = match subject {
        Subject::Unchecked(note) => return allowed_by_default(note.to_string()),
        Subject::FullAccess(note) => return allowed_by_default(note.clone()),
        Subject::Identity(id) => id,
    };
    let mut ctx = identity.base_context();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    ctx.set("aws:CurrentTime", vec![authorize::iso_time(now as i64)]);
    ctx.set("aws:EpochTime", vec![now.to_string()]);
    for (k, v) in &q.context {
        ctx.set(k.clone(), v.clone());
    }
    let caller = identity.caller(&q.resource);
    let (by_id, id_at) = evaluate_located(&identity.policies, &q.action, &q.resource, &ctx);
    let (by_res, res_at) = match resource_policy {
        Some(p) => evaluate_resource_located(&[p], caller, &q.action, &q.resource, &ctx),
        None => (Decision::ImplicitDeny, None),
    };
    let sid_of = |policies: &[&Policy], at: Decided| {
        policies
            .get(at.policy)
            .and_then(|p| p.statements.get(at.statement))
            .and_then(|s| s.sid.clone())
    };
    let ids: Vec<&Policy> = identity.policies.iter().collect();
    let res: Vec<&Policy> = resource_policy.map(|p| p.as_ref()).into_iter().collect();
    let from = |kind: &'static str, list: &[&Policy], at: Option<Decided>| {
        at.map(|at| (kind, at, sid_of(list, at)))
    };
    let outcome = decide::combine(by_id, by_res, caller.cross_account);
    let statement = match outcome {
        Outcome::Allow(Kind::Identity) | Outcome::Deny(Kind::Identity) => {
            from(Kind::Identity.label(), &ids, id_at)
        }
        Outcome::Allow(Kind::Resource) | Outcome::Deny(Kind::Resource) => {
            from(Kind::Resource.label(), &res, res_at)
        }
        Outcome::NotAllowed(_) => None,
    };
    let decision = outcome.decision();
    // The message the request would get, from the request path's own check.
    let tuple = Tuple {
        action: q.action.clone(),
        resource: q.resource.clone(),
        ctx,
    };
    let message = authorize::check(identity, &[tuple], &[resource_policy.cloned()])
        .err()
        .and_then(|e| e.message().map(str::to_string));
    Verdict {
        decision,
        statement,
        principal: Some(identity.principal.clone()),
        message,
        note: None,
    }
}

fn allowed_by_default(note: String) -> Verdict {
    Verdict {
        decision: Decision::Allow,
        statement: None,
        principal: None,
        message: None,
        note: Some(note),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(policies: &[&str]) -> Subject {
        let parsed = policies.iter().map(|p| Policy::parse(p).unwrap()).collect();
        Subject::Identity(Arc::new(
            Identity::new("arn:aws:iam::123456789012:user/alice", parsed).unwrap(),
        ))
    }

    fn query(action: &str, resource: &str) -> Query {
        Query {
            access_key: Some("A".into()),
            action: action.into(),
            resource: resource.into(),
            ..Query::default()
        }
    }

    const T: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/Music";

    #[test]
    fn names_the_statement_that_decided() {
        let s = identity(&[
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":"dynamodb:Get*","Resource":"*"}]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:Query","Resource":"*"},{"Sid":"NoDelete","Effect":"Deny","Action":"dynamodb:DeleteItem","Resource":"*"}]}"#,
        ]);
        let v = decide(&s, &query("dynamodb:GetItem", T), None);
        assert!(v.allowed());
        assert_eq!(
            v.statement,
            Some((
                "identity-based",
                Decided {
                    policy: 0,
                    statement: 0
                },
                Some("Read".into())
            ))
        );
        let v = decide(&s, &query("dynamodb:DeleteItem", T), None);
        assert_eq!(v.decision, Decision::ExplicitDeny);
        assert_eq!(
            v.statement,
            Some((
                "identity-based",
                Decided {
                    policy: 1,
                    statement: 1
                },
                Some("NoDelete".into())
            ))
        );
        assert!(v
            .message
            .unwrap()
            .ends_with("with an explicit deny in an identity-based policy"));
        let v = decide(&s, &query("dynamodb:PutItem", T), None);
        assert_eq!((v.decision, &v.statement), (Decision::ImplicitDeny, &None));
        let json = v.to_json(&query("dynamodb:PutItem", T));
        assert_eq!(json["decision"], "denied");
        assert_eq!(json["reason"], "implicit deny");
    }

    #[test]
    fn another_accounts_resource_needs_its_resource_policy_too() {
        let s = identity(&[
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"}]}"#,
        ]);
        let foreign = "arn:aws:dynamodb:us-east-1:444455556666:table/Music";
        let v = decide(&s, &query("dynamodb:GetItem", foreign), None);
        assert_eq!((v.decision, &v.statement), (Decision::ImplicitDeny, &None));
        assert_eq!(
            v.message.as_deref(),
            Some("User: arn:aws:iam::123456789012:user/alice is not authorized to perform: dynamodb:GetItem on resource: arn:aws:dynamodb:us-east-1:444455556666:table/Music because no resource-based policy allows the dynamodb:GetItem action")
        );
        let rbp = Arc::new(
            Policy::parse_resource(
                r#"{"Version":"2012-10-17","Statement":[{"Sid":"acct","Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"dynamodb:GetItem","Resource":"*"}]}"#,
            )
            .unwrap(),
        );
        let v = decide(&s, &query("dynamodb:GetItem", foreign), Some(&rbp));
        assert!(v.allowed(), "{v:?}");
        assert_eq!(v.statement.map(|s| s.0), Some("identity-based"));
    }

    #[test]
    fn context_values_reach_the_conditions_and_bad_queries_are_refused() {
        let s = identity(&[
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:Scan","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}"#,
        ]);
        let q =
            Query::from_json(&json!({"access_key": "A", "action": "dynamodb:Scan", "resource": T}))
                .unwrap();
        assert!(!decide(&s, &q, None).allowed());
        let q = Query::from_json(&json!({"access_key": "A", "action": "dynamodb:Scan", "resource": T, "context": {"aws:SecureTransport": true}})).unwrap();
        assert!(decide(&s, &q, None).allowed());
        for bad in [
            json!({"action": "dynamodb:Scan", "resource": T}),
            json!({"access_key": "A", "principal": "p", "action": "a:b", "resource": T}),
            json!({"access_key": "A", "resource": T}),
            json!({"access_key": "A", "action": "a:b", "resource": T, "context": {"k": {"x": 1}}}),
            json!({"access_key": "A", "action": "a:b", "resource": T, "extra": 1}),
        ] {
            assert!(Query::from_json(&bad).is_err(), "{bad}");
        }
    }
}
