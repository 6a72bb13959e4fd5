//! Identity-based policy documents as IAM evaluates them: parsing (Version, Statement
//! as object or list, Effect, Action/NotAction, Resource/NotResource, Condition) and the
//! decision for one (action, resource, context): an applicable Deny beats an applicable
//! Allow, which beats the implicit deny.

pub mod condition;
pub mod context;
pub mod pattern;
pub mod principal;
pub mod values;

use serde_json::Value;

pub use context::Context;
use pattern::Pattern;
pub use principal::{Caller, Principals};

/// Why a policy document was refused at load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError(pub String);

impl PolicyError {
    pub fn new(msg: impl Into<String>) -> Self {
        PolicyError(msg.into())
    }
}

impl std::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PolicyError {}

/// The outcome of evaluating policies for one request tuple.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    ImplicitDeny,
    ExplicitDeny,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// A pattern list and whether it is the `Not…` form.
#[derive(Debug, Clone)]
pub struct Patterns {
    pub negated: bool,
    pub list: Vec<Pattern>,
}

impl Patterns {
    pub fn matches(&self, text: &str, ctx: &Context, fold: bool) -> bool {
        self.list.iter().any(|p| p.matches(text, ctx, fold)) != self.negated
    }
}

/// One statement.
#[derive(Debug, Clone)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    /// Lower-cased patterns (actions are case-insensitive).
    pub actions: Patterns,
    pub resources: Patterns,
    pub conditions: Vec<condition::Condition>,
    /// `Principal` / `NotPrincipal` (resource-based policies only).
    pub principals: Option<Principals>,
}

impl Statement {
    /// Whether the statement applies to the tuple (`action` lower-cased).
    pub fn applies(&self, action_lc: &str, resource: &str, ctx: &Context) -> bool {
        self.actions.matches(action_lc, ctx, true) && self.applies_to(resource, ctx)
    }

    /// Whether the statement applies to `resource` and `ctx`, its actions matched already.
    pub fn applies_to(&self, resource: &str, ctx: &Context) -> bool {
        self.resources.matches(resource, ctx, false) && self.conditions.iter().all(|c| c.holds(ctx))
    }
}

/// One parsed policy document.
#[derive(Debug, Clone)]
pub struct Policy {
    pub statements: Vec<Statement>,
}

/// The most a policy document may hold (IAM's inline user policy limit is 2,048
/// characters; managed policies 6,144; daxlite accepts up to 128 KiB to stay generous).
const MAX_POLICY_BYTES: usize = 128 * 1024;

impl Policy {
    /// Parses a policy document (JSON text).
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        Self::parse_kind(text, false)
    }

    /// Parses a resource-based policy: every statement names a Principal or NotPrincipal.
    pub fn parse_resource(text: &str) -> Result<Policy, PolicyError> {
        Self::parse_kind(text, true)
    }

    fn parse_kind(text: &str, resource_based: bool) -> Result<Policy, PolicyError> {
        if text.len() > MAX_POLICY_BYTES {
            return Err(PolicyError::new(format!(
                "the policy document is longer than {MAX_POLICY_BYTES} bytes"
            )));
        }
        let doc: Value = serde_json::from_str(text)
            .map_err(|e| PolicyError::new(format!("the policy is not valid JSON: {e}")))?;
        let Value::Object(doc) = doc else {
            return Err(PolicyError::new(
                "the policy document must be a JSON object",
            ));
        };
        let mut vars = false;
        for (k, v) in &doc {
            match k.as_str() {
                "Version" => match v.as_str() {
                    Some("2012-10-17") => vars = true,
                    Some("2008-10-17") => {}
                    _ => {
                        return Err(PolicyError::new(format!(
                            "Version must be \"2012-10-17\" or \"2008-10-17\", got {v}"
                        )))
                    }
                },
                "Id" | "Statement" => {}
                other => {
                    return Err(PolicyError::new(format!(
                        "unknown policy element {other:?}"
                    )))
                }
            }
        }
        let statements = match doc.get("Statement") {
            Some(Value::Array(list)) => list.iter().collect::<Vec<_>>(),
            Some(s @ Value::Object(_)) => vec![s],
            Some(_) => {
                return Err(PolicyError::new(
                    "Statement must be an object or a list of objects",
                ))
            }
            None => return Err(PolicyError::new("the policy has no Statement")),
        };
        let statements = statements
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                parse_statement(s, vars, resource_based)
                    .map_err(|e| PolicyError::new(format!("Statement {}: {}", i + 1, e.0)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Policy { statements })
    }

    /// Every condition key (lower case) the policy can read: the keys of its conditions
    /// and of the policy variables in its resources and condition values. Context keys
    /// outside this set cannot change any decision of the policy.
    pub fn keys_read(&self) -> impl Iterator<Item = &str> {
        self.statements.iter().flat_map(|s| {
            let conditions = s.conditions.iter().flat_map(|c| {
                std::iter::once(c.key.as_str()).chain(c.values.iter().flat_map(|v| v.variables()))
            });
            s.resources
                .list
                .iter()
                .chain(&s.actions.list)
                .flat_map(|p| p.variables())
                .chain(conditions)
        })
    }

    /// Whether any condition of the policy reads `key` (lower-case).
    pub fn uses_key(&self, key: &str) -> bool {
        self.statements
            .iter()
            .any(|s| s.conditions.iter().any(|c| c.key == key))
    }
}

fn parse_statement(s: &Value, vars: bool, resource_based: bool) -> Result<Statement, PolicyError> {
    let Value::Object(s) = s else {
        return Err(PolicyError::new("a statement must be an object"));
    };
    let principals = if resource_based {
        match (s.get("Principal"), s.get("NotPrincipal")) {
            (Some(v), None) => Some(Principals::parse(v, false)?),
            (None, Some(v)) => Some(Principals::parse(v, true)?),
            _ => return Err(PolicyError::new(
                "a resource-based policy statement needs exactly one of Principal and NotPrincipal",
            )),
        }
    } else {
        None
    };
    for k in s.keys() {
        let principal = matches!(k.as_str(), "Principal" | "NotPrincipal") && resource_based;
        if !principal
            && !matches!(
                k.as_str(),
                "Sid"
                    | "Effect"
                    | "Action"
                    | "NotAction"
                    | "Resource"
                    | "NotResource"
                    | "Condition"
            )
        {
            return Err(PolicyError::new(format!(
                "unknown statement element {k:?} (identity policies take Sid, Effect, Action or NotAction, Resource or NotResource, Condition)"
            )));
        }
    }
    let sid = match s.get("Sid") {
        None => None,
        Some(Value::String(v)) => Some(v.clone()),
        Some(_) => return Err(PolicyError::new("Sid must be a string")),
    };
    let effect = match s.get("Effect").and_then(Value::as_str) {
        Some("Allow") => Effect::Allow,
        Some("Deny") => Effect::Deny,
        _ => return Err(PolicyError::new("Effect must be \"Allow\" or \"Deny\"")),
    };
    let actions = one_of(s, "Action", "NotAction", false, true)?;
    for p in &actions.list {
        if p.text != "*" && !p.text.contains(':') {
            return Err(PolicyError::new(format!(
                "action {:?} must be \"*\" or service:Action",
                p.text
            )));
        }
    }
    let resources = one_of(s, "Resource", "NotResource", vars, false)?;
    let conditions = match s.get("Condition") {
        None => Vec::new(),
        Some(c) => condition::parse(c, vars)?,
    };
    Ok(Statement {
        sid,
        effect,
        actions,
        resources,
        conditions,
        principals,
    })
}

/// Exactly one of `name` / `not_name`, a string or a list of strings.
fn one_of(
    s: &serde_json::Map<String, Value>,
    name: &str,
    not_name: &str,
    vars: bool,
    fold: bool,
) -> Result<Patterns, PolicyError> {
    let (negated, v) = match (s.get(name), s.get(not_name)) {
        (Some(v), None) => (false, v),
        (None, Some(v)) => (true, v),
        _ => {
            return Err(PolicyError::new(format!(
                "a statement needs exactly one of {name} and {not_name}"
            )))
        }
    };
    let strings: Vec<&str> = match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) if !a.is_empty() => a
            .iter()
            .map(|x| x.as_str())
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                PolicyError::new(format!("{name} must be a string or a list of strings"))
            })?,
        _ => {
            return Err(PolicyError::new(format!(
                "{name} must be a string or a non-empty list of strings"
            )))
        }
    };
    Ok(Patterns {
        negated,
        list: strings
            .into_iter()
            .map(|p| Pattern::parse(p, vars, true, fold))
            .collect(),
    })
}

/// Where a decision came from: the policy's index in the list evaluated and the
/// statement's index in it (both from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decided {
    pub policy: usize,
    pub statement: usize,
}

/// The decision of `policies` for one tuple.
pub fn evaluate(policies: &[Policy], action: &str, resource: &str, ctx: &Context) -> Decision {
    evaluate_located(policies, action, resource, ctx).0
}

/// [`evaluate`] and the statement that decided: the first applicable Deny, else the
/// first applicable Allow (None for the implicit deny).
pub fn evaluate_located(
    policies: &[Policy],
    action: &str,
    resource: &str,
    ctx: &Context,
) -> (Decision, Option<Decided>) {
    let action = action.to_ascii_lowercase();
    let mut allowed = None;
    for (pi, p) in policies.iter().enumerate() {
        for (si, st) in p.statements.iter().enumerate() {
            if st.effect == Effect::Allow && allowed.is_some() {
                continue;
            }
            if st.applies(&action, resource, ctx) {
                let at = Decided {
                    policy: pi,
                    statement: si,
                };
                match st.effect {
                    Effect::Deny => return (Decision::ExplicitDeny, Some(at)),
                    Effect::Allow => allowed = Some(at),
                }
            }
        }
    }
    match allowed {
        Some(at) => (Decision::Allow, Some(at)),
        None => (Decision::ImplicitDeny, None),
    }
}

/// The decision of resource-based `policies` for one tuple of `caller`: a statement
/// applies when it also covers the caller's principal.
pub fn evaluate_resource(
    policies: &[&Policy],
    caller: Caller<'_>,
    action: &str,
    resource: &str,
    ctx: &Context,
) -> Decision {
    evaluate_resource_located(policies, caller, action, resource, ctx).0
}

/// [`evaluate_resource`] and the statement that decided.
pub fn evaluate_resource_located(
    policies: &[&Policy],
    caller: Caller<'_>,
    action: &str,
    resource: &str,
    ctx: &Context,
) -> (Decision, Option<Decided>) {
    let action = action.to_ascii_lowercase();
    let mut allowed = None;
    for (pi, p) in policies.iter().enumerate() {
        for (si, st) in p.statements.iter().enumerate() {
            let deny = st.effect == Effect::Deny;
            if (!deny && allowed.is_some())
                || !st
                    .principals
                    .as_ref()
                    .is_some_and(|p| p.covers(caller, deny))
            {
                continue;
            }
            if st.applies(&action, resource, ctx) {
                let at = Decided {
                    policy: pi,
                    statement: si,
                };
                if deny {
                    return (Decision::ExplicitDeny, Some(at));
                }
                allowed = Some(at);
            }
        }
    }
    match allowed {
        Some(at) => (Decision::Allow, Some(at)),
        None => (Decision::ImplicitDeny, None),
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod typed_tests;
