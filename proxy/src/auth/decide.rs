//! How the identity-based and the resource-based decision for one tuple combine, as
//! IAM's evaluation logic does: an explicit deny in either wins; in the caller's own
//! account an allow from either grants; across accounts (the resource's ARN names
//! another account) both must allow. Also the AccessDeniedException text of each denial.

use super::policy::Decision;

/// Which kind of policy an outcome is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Identity,
    Resource,
}

impl Kind {
    /// `identity-based` / `resource-based`, as in IAM's messages.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Identity => "identity-based",
            Kind::Resource => "resource-based",
        }
    }
}

/// The combined outcome for one tuple.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Allowed; the kind whose statement is reported (across accounts both allowed,
    /// and the identity-based statement is reported).
    Allow(Kind),
    /// An explicit deny in a policy of this kind.
    Deny(Kind),
    /// No policy of this kind allows (the implicit deny).
    NotAllowed(Kind),
}

impl Outcome {
    pub fn decision(self) -> Decision {
        match self {
            Outcome::Allow(_) => Decision::Allow,
            Outcome::Deny(_) => Decision::ExplicitDeny,
            Outcome::NotAllowed(_) => Decision::ImplicitDeny,
        }
    }

    /// The end of the AccessDeniedException message (None when allowed).
    pub fn reason(self, action: &str) -> Option<String> {
        match self {
            Outcome::Allow(_) => None,
            Outcome::Deny(k) => Some(format!(
                "with an explicit deny in a{} {} policy",
                article(k),
                k.label()
            )),
            Outcome::NotAllowed(k) => Some(format!(
                "because no {} policy allows the {action} action",
                k.label()
            )),
        }
    }
}

fn article(k: Kind) -> &'static str {
    match k {
        Kind::Identity => "n",
        Kind::Resource => "",
    }
}

/// Combines the two decisions. Across accounts an identity allow without a resource
/// allow answers "no resource-based policy allows"; with neither, the identity-based
/// wording is used (as in the caller's own account).
pub fn combine(by_identity: Decision, by_resource: Decision, cross_account: bool) -> Outcome {
    use Decision::*;
    match (by_identity, by_resource) {
        (ExplicitDeny, _) => Outcome::Deny(Kind::Identity),
        (_, ExplicitDeny) => Outcome::Deny(Kind::Resource),
        (Allow, Allow) => Outcome::Allow(Kind::Identity),
        (Allow, _) if cross_account => Outcome::NotAllowed(Kind::Resource),
        (Allow, _) => Outcome::Allow(Kind::Identity),
        (_, Allow) if !cross_account => Outcome::Allow(Kind::Resource),
        _ => Outcome::NotAllowed(Kind::Identity),
    }
}

/// The whole AccessDeniedException message.
pub fn message(principal: &str, action: &str, resource: &str, reason: &str) -> String {
    format!(
        "User: {principal} is not authorized to perform: {action} on resource: {resource} {reason}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use Decision::*;

    #[test]
    fn same_account_takes_either_allow_and_cross_account_needs_both() {
        let all = [Allow, ImplicitDeny, ExplicitDeny];
        for id in all {
            for res in all {
                for cross in [false, true] {
                    let o = combine(id, res, cross);
                    let expected = if id == ExplicitDeny || res == ExplicitDeny {
                        ExplicitDeny
                    } else if (cross && id == Allow && res == Allow)
                        || (!cross && (id == Allow || res == Allow))
                    {
                        Allow
                    } else {
                        ImplicitDeny
                    };
                    assert_eq!(o.decision(), expected, "{id:?} {res:?} {cross}");
                }
            }
        }
        assert_eq!(
            combine(Allow, ImplicitDeny, true)
                .reason("dynamodb:GetItem")
                .as_deref(),
            Some("because no resource-based policy allows the dynamodb:GetItem action")
        );
        assert_eq!(
            combine(ImplicitDeny, Allow, true)
                .reason("dynamodb:GetItem")
                .as_deref(),
            Some("because no identity-based policy allows the dynamodb:GetItem action")
        );
        assert_eq!(
            combine(Allow, ExplicitDeny, true).reason("x").as_deref(),
            Some("with an explicit deny in a resource-based policy")
        );
        assert_eq!(
            combine(ExplicitDeny, Allow, false).reason("x").as_deref(),
            Some("with an explicit deny in an identity-based policy")
        );
    }
}
