//! Who a verified access key is: its principal ARN (an IAM user or an assumed-role
//! session), the values of the global condition keys that follow from it, and its
//! identity-based policies. Keys without policies are not listed (full access).

use std::collections::HashMap;
use std::sync::Arc;

use super::policy::{Caller, Context, Policy};

/// One access key's identity, for authorization.
#[derive(Debug)]
pub struct Identity {
    /// As written: `arn:aws:iam::{acct}:user/{name}` or
    /// `arn:aws:sts::{acct}:assumed-role/{role}/{session}`; named in AccessDenied messages.
    pub principal: String,
    pub account: String,
    /// `aws:username`: IAM users only.
    pub username: Option<String>,
    /// `aws:PrincipalArn`: the user ARN, or the role ARN for an assumed-role session.
    pub principal_arn: String,
    pub policies: Vec<Policy>,
    /// Whether a policy reads `dynamodb:LeadingKeys` or `dynamodb:FullTableScan` (the key
    /// schema is then needed).
    pub needs_leading_keys: bool,
}

/// The default principal of an access key.
pub fn default_principal(access_key: &str) -> String {
    format!("arn:aws:iam::000000000000:user/{access_key}")
}

impl Identity {
    /// An identity from a principal ARN and parsed policies; Err names what is wrong
    /// with the ARN.
    pub fn new(principal: &str, policies: Vec<Policy>) -> Result<Identity, String> {
        let parts: Vec<&str> = principal.splitn(6, ':').collect();
        let bad = || {
            format!("principal {principal:?} must be arn:aws:iam::<12-digit account>:user/<name> or arn:aws:sts::<12-digit account>:assumed-role/<role>/<session>")
        };
        let [arn, partition, service, region, account, resource] = parts.as_slice() else {
            return Err(bad());
        };
        if *arn != "arn"
            || partition.is_empty()
            || !region.is_empty()
            || account.len() != 12
            || !account.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let (username, principal_arn) = match *service {
            "iam" => {
                let name = resource.strip_prefix("user/").ok_or_else(bad)?;
                let name = name.rsplit('/').next().unwrap_or(name);
                if name.is_empty() {
                    return Err(bad());
                }
                (Some(name.to_string()), principal.to_string())
            }
            "sts" => {
                let rest = resource.strip_prefix("assumed-role/").ok_or_else(bad)?;
                let Some((role, session)) = rest.split_once('/') else {
                    return Err(bad());
                };
                if role.is_empty() || session.is_empty() {
                    return Err(bad());
                }
                (None, format!("arn:{partition}:iam::{account}:role/{role}"))
            }
            _ => return Err(bad()),
        };
        let needs_leading_keys = policies
            .iter()
            .any(|p| p.uses_key("dynamodb:leadingkeys") || p.uses_key("dynamodb:fulltablescan"));
        Ok(Identity {
            principal: principal.to_string(),
            account: account.to_string(),
            username,
            principal_arn,
            policies,
            needs_leading_keys,
        })
    }

    /// The caller as resource-based policies see it, for a tuple on `resource`.
    pub fn caller(&self, resource: &str) -> Caller<'_> {
        Caller {
            principal: &self.principal,
            principal_arn: &self.principal_arn,
            account: &self.account,
            cross_account: self.is_cross_account(resource),
        }
    }

    /// Whether `resource` is an ARN of another account than this identity's (a table
    /// ARN of another account given as `TableName`, `ResourceArn`, ...). A resource
    /// without an account (`*`) is the caller's own.
    pub fn is_cross_account(&self, resource: &str) -> bool {
        resource_account(resource).is_some_and(|a| a != self.account)
    }

    /// The global condition keys every request of this identity carries.
    pub fn base_context(&self) -> Context {
        let mut c = Context::default();
        c.set("aws:PrincipalArn", vec![self.principal_arn.clone()]);
        c.set("aws:PrincipalAccount", vec![self.account.clone()]);
        if let Some(u) = &self.username {
            c.set("aws:username", vec![u.clone()]);
        }
        // Plain HTTP; the service sets "true" for requests that came over TLS.
        c.set("aws:SecureTransport", vec!["false".into()]);
        c
    }
}

/// The account segment of an ARN (`arn:aws:dynamodb:r:{account}:...`); None for `*` or
/// an ARN without one.
pub fn resource_account(resource: &str) -> Option<&str> {
    let mut parts = resource.splitn(6, ':');
    if parts.next() != Some("arn") {
        return None;
    }
    parts.nth(3).filter(|a| !a.is_empty())
}

/// The identities that have policies, by access key.
#[derive(Debug, Default)]
pub struct Identities {
    by_key: HashMap<String, Arc<Identity>>,
}

impl Identities {
    pub fn new(by_key: HashMap<String, Arc<Identity>>) -> Identities {
        Identities { by_key }
    }

    /// The identity of `access_key`, None when the key has no policies (full access).
    pub fn get(&self, access_key: &str) -> Option<&Arc<Identity>> {
        self.by_key.get(access_key)
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// The identity whose principal ARN is `principal` (the simulator; not the request
    /// path).
    pub fn by_principal(&self, principal: &str) -> Option<&Arc<Identity>> {
        self.by_key.values().find(|i| i.principal == principal)
    }
}
