//! Who a verified access key is: its principal ARN (an IAM user or an assumed-role
//! session), the values of the global condition keys that follow from it, and its
//! identity-based policies. Keys without policies are not listed (full access).

use std::collections::HashMap;
use std::sync::Arc;

use daxlite_engine::wire::Operation;

use super::decisions::Decisions;
use super::policy::{evaluate, Caller, Context, Decision, Effect, Policy};

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
    /// Every condition key (lower case) the policies can read: the request path builds
    /// only these.
    pub reads: Arc<[String]>,
    /// The policies compiled by action: for each action a request can name (lower case),
    /// the (policy, statement) indexes whose Action/NotAction covers it, in order.
    by_action: HashMap<String, Vec<(usize, usize)>>,
    /// Decisions remembered for repeated requests (a cache's hits).
    pub decisions: Decisions,
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
        let mut reads: Vec<String> = policies
            .iter()
            .flat_map(Policy::keys_read)
            .map(str::to_string)
            .collect();
        reads.sort();
        reads.dedup();
        let by_action = compile_actions(&policies);
        let timed = reads
            .iter()
            .any(|k| k == "aws:currenttime" || k == "aws:epochtime");
        Ok(Identity {
            principal: principal.to_string(),
            account: account.to_string(),
            username,
            principal_arn,
            policies,
            needs_leading_keys,
            reads: reads.into(),
            by_action,
            decisions: Decisions::new(!timed),
        })
    }

    /// Whether the identity's policies can read condition key `key` (lower case).
    pub fn reads(&self, key: &str) -> bool {
        self.reads.iter().any(|k| k == key)
    }

    /// The identity policies' decision for one tuple: [`evaluate`] over the statements
    /// whose action covers `action` (the same decision, without matching every
    /// statement's actions again).
    pub fn evaluate(&self, action: &str, resource: &str, ctx: &Context) -> Decision {
        // Lower-cased on the stack (request actions are short; a longer one is not
        // compiled and takes the plain evaluator).
        let mut buf = [0u8; 96];
        let lower = buf.get_mut(..action.len()).and_then(|out| {
            out.copy_from_slice(action.as_bytes());
            out.make_ascii_lowercase();
            std::str::from_utf8(out).ok()
        });
        let Some(candidates) = lower.and_then(|a| self.by_action.get(a)) else {
            return evaluate(&self.policies, action, resource, ctx);
        };
        let mut allowed = false;
        for &(p, s) in candidates {
            let Some(st) = self.policies.get(p).and_then(|p| p.statements.get(s)) else {
                continue;
            };
            if st.effect == Effect::Allow && allowed {
                continue;
            }
            if st.applies_to(resource, ctx) {
                match st.effect {
                    Effect::Deny => return Decision::ExplicitDeny,
                    Effect::Allow => allowed = true,
                }
            }
        }
        if allowed {
            Decision::Allow
        } else {
            Decision::ImplicitDeny
        }
    }

    /// The context of one tuple: the global keys every request of this identity carries,
    /// limited to the keys its policies read unless `full` (the simulator, and requests
    /// on a resource whose resource-based policy reads other keys).
    pub fn context(&self, full: bool) -> Context {
        let mut c = if full {
            Context::default()
        } else {
            Context::limited(self.reads.clone())
        };
        c.set_with("aws:PrincipalArn", || vec![self.principal_arn.clone()]);
        c.set_with("aws:PrincipalAccount", || vec![self.account.clone()]);
        if let Some(u) = &self.username {
            c.set_with("aws:username", || vec![u.clone()]);
        }
        // Plain HTTP; the service sets "true" for requests that came over TLS.
        c.set_with("aws:SecureTransport", || vec!["false".into()]);
        c
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

    /// The global condition keys every request of this identity carries (all of them).
    pub fn base_context(&self) -> Context {
        self.context(true)
    }
}

/// Every action a request tuple can name, lower case: `dynamodb:` and
/// `application-autoscaling:` with each operation's name, the PartiQL verbs and
/// ConditionCheckItem.
fn request_actions() -> impl Iterator<Item = String> {
    let ops = Operation::ALL.iter().flat_map(|op| {
        [
            format!("dynamodb:{}", op.name()),
            format!("application-autoscaling:{}", op.name()),
        ]
    });
    let more = [
        "PartiQLSelect",
        "PartiQLInsert",
        "PartiQLUpdate",
        "PartiQLDelete",
        "ConditionCheckItem",
    ]
    .into_iter()
    .map(|a| format!("dynamodb:{a}"));
    ops.chain(more).map(|a| a.to_ascii_lowercase())
}

/// For each request action, the statements whose Action/NotAction covers it (actions
/// take no policy variables, so this does not depend on the request).
fn compile_actions(policies: &[Policy]) -> HashMap<String, Vec<(usize, usize)>> {
    let empty = Context::default();
    request_actions()
        .map(|action| {
            let covering = policies
                .iter()
                .enumerate()
                .flat_map(|(p, policy)| {
                    policy
                        .statements
                        .iter()
                        .enumerate()
                        .map(move |(s, st)| (p, s, st))
                })
                .filter(|(_, _, st)| st.actions.matches(&action, &empty, true))
                .map(|(p, s, _)| (p, s))
                .collect();
            (action, covering)
        })
        .collect()
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
