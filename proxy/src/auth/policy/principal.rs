//! The `Principal` / `NotPrincipal` element of resource-based policies and whom it
//! names: everyone (`"*"`, `{"AWS":"*"}`), an IAM user, an assumed-role session, a role
//! (matching its sessions) or an account (which only delegates to the account's own
//! identity policies, so it never grants by itself).

use serde_json::Value;

use super::PolicyError;

/// The caller as resource-based policies see it.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    /// The user ARN or assumed-role session ARN.
    pub principal: &'a str,
    /// The user ARN, or the role ARN of a session.
    pub principal_arn: &'a str,
    pub account: &'a str,
    /// The resource belongs to another account than the caller's: an entry naming the
    /// caller's account then grants (to that account, whose identity policies must
    /// allow too) instead of only delegating.
    pub cross_account: bool,
}

/// One entry of a principal list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    Everyone,
    /// An account id (from `"123456789012"` or `arn:aws:iam::123456789012:root`).
    Account(String),
    /// A user, role or session ARN.
    Arn(String),
    /// A non-`AWS` principal (`Service`, `Federated`, `CanonicalUser`): never a caller here.
    Other,
}

/// A parsed `Principal` or `NotPrincipal`.
#[derive(Debug, Clone)]
pub struct Principals {
    pub negated: bool,
    pub list: Vec<Who>,
}

/// How a principal entry relates to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// The entry names the caller (or everyone).
    Caller,
    /// The entry names the caller's account: delegation only.
    Account,
    No,
}

impl Who {
    fn parse(s: &str) -> Result<Who, PolicyError> {
        if s == "*" {
            return Ok(Who::Everyone);
        }
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(Who::Account(s.to_string()));
        }
        let parts: Vec<&str> = s.splitn(6, ':').collect();
        match parts.as_slice() {
            ["arn", _, "iam", "", acct, "root"] => Ok(Who::Account(acct.to_string())),
            ["arn", _, "iam" | "sts", "", acct, res] if acct.len() == 12 && !res.is_empty() => {
                Ok(Who::Arn(s.to_string()))
            }
            _ => Err(PolicyError::new(format!(
                "principal {s:?} must be \"*\", a 12-digit account id or an IAM ARN"
            ))),
        }
    }

    fn against(&self, c: Caller<'_>) -> Match {
        match self {
            Who::Everyone => Match::Caller,
            Who::Account(a) if a == c.account => Match::Account,
            Who::Arn(a) if a == c.principal || a == c.principal_arn => Match::Caller,
            _ => Match::No,
        }
    }
}

impl Principals {
    /// Parses the value of `Principal` / `NotPrincipal`.
    pub fn parse(v: &Value, negated: bool) -> Result<Principals, PolicyError> {
        let mut list = Vec::new();
        match v {
            Value::String(s) if s == "*" => list.push(Who::Everyone),
            Value::Object(m) if !m.is_empty() => {
                for (kind, v) in m {
                    let values: Vec<&str> = match v {
                        Value::String(s) => vec![s.as_str()],
                        Value::Array(a) if !a.is_empty() => a
                            .iter()
                            .map(Value::as_str)
                            .collect::<Option<Vec<_>>>()
                            .ok_or_else(|| PolicyError::new("principal values must be strings"))?,
                        _ => {
                            return Err(PolicyError::new(
                                "principal values must be a string or a list of strings",
                            ))
                        }
                    };
                    for s in values {
                        list.push(match kind.as_str() {
                            "AWS" => Who::parse(s)?,
                            "Service" | "Federated" | "CanonicalUser" => Who::Other,
                            other => {
                                return Err(PolicyError::new(format!(
                                    "unknown principal type {other:?}"
                                )))
                            }
                        });
                    }
                }
            }
            _ => {
                return Err(PolicyError::new(
                    "Principal must be \"*\" or an object such as {\"AWS\": \"arn:...\"}",
                ))
            }
        }
        Ok(Principals { negated, list })
    }

    /// Whether the statement covers the caller. For an Allow, an account entry only
    /// delegates (no grant) in the same account and grants to the account across
    /// accounts; for a Deny it covers every principal of that account.
    pub fn covers(&self, c: Caller<'_>, deny: bool) -> bool {
        let best = self
            .list
            .iter()
            .map(|w| w.against(c))
            .fold(Match::No, |acc, m| match (acc, m) {
                (Match::Caller, _) | (_, Match::Caller) => Match::Caller,
                (Match::Account, _) | (_, Match::Account) => Match::Account,
                _ => Match::No,
            });
        let named = match best {
            Match::Caller => true,
            Match::Account => deny || self.negated || c.cross_account,
            Match::No => false,
        };
        named != self.negated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: Caller<'static> = Caller {
        principal: "arn:aws:iam::123456789012:user/alice",
        principal_arn: "arn:aws:iam::123456789012:user/alice",
        account: "123456789012",
        cross_account: false,
    };

    fn p(v: &str, negated: bool) -> Principals {
        let v: Value = serde_json::from_str(v).unwrap_or(Value::Null);
        match Principals::parse(&v, negated) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn principals_match_as_iam_does() {
        assert!(p(r#""*""#, false).covers(ALICE, false));
        assert!(p(r#"{"AWS":"*"}"#, false).covers(ALICE, false));
        assert!(
            p(r#"{"AWS":["arn:aws:iam::123456789012:user/alice"]}"#, false).covers(ALICE, false)
        );
        assert!(!p(r#"{"AWS":"arn:aws:iam::123456789012:user/bob"}"#, false).covers(ALICE, false));
        // An account only delegates an Allow, but a Deny covers its principals.
        assert!(!p(r#"{"AWS":"123456789012"}"#, false).covers(ALICE, false));
        assert!(p(r#"{"AWS":"arn:aws:iam::123456789012:root"}"#, false).covers(ALICE, true));
        assert!(!p(r#"{"Service":"lambda.amazonaws.com"}"#, false).covers(ALICE, false));
        assert!(p(r#"{"AWS":"arn:aws:iam::123456789012:user/bob"}"#, true).covers(ALICE, true));
        assert!(!p(r#"{"AWS":"arn:aws:iam::123456789012:user/alice"}"#, true).covers(ALICE, true));
        let session = Caller {
            principal: "arn:aws:sts::123456789012:assumed-role/r/s",
            principal_arn: "arn:aws:iam::123456789012:role/r",
            account: "123456789012",
            cross_account: false,
        };
        assert!(p(r#"{"AWS":"arn:aws:iam::123456789012:role/r"}"#, false).covers(session, false));
        // Across accounts an account entry grants to the account.
        let foreign = Caller {
            cross_account: true,
            ..ALICE
        };
        assert!(p(r#"{"AWS":"123456789012"}"#, false).covers(foreign, false));
        assert!(!p(r#"{"AWS":"123456789012"}"#, true).covers(foreign, false));
        assert!(Principals::parse(&Value::Bool(true), false).is_err());
        assert!(Principals::parse(&serde_json::json!({"AWS":"bob"}), false).is_err());
    }
}
