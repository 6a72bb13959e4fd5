//! `daxlite policy-check --config FILE --key AK --action dynamodb:Query --resource ARN
//! [--context k=v]...`: the policy simulator on the command line. It prints the same JSON
//! as `POST /admin/simulate` and exits 0 when allowed, 1 when denied, 2 on an error.
//! The resource-based policy governing the resource is read from the data directory
//! (`[storage] data_dir` / `--data-dir`) with the engine's own GetResourcePolicy, so
//! the answer is the one a request would get; a running daxlite holds the data file
//! locked (exit 2: ask its `/admin/simulate`, or pass `--identity-only`).

use std::process::ExitCode;

use std::sync::Arc;

use clap::Args;
use daxlite::auth::policy::Policy;
use daxlite::auth::resource;
use daxlite::auth::simulate::{self, Query, Subject};
use daxlite::config::UpstreamConfig;
use daxlite_engine::wire::{ErrorCode, Operation};

#[derive(Debug, Args)]
pub struct PolicyCheckArgs {
    /// The access key whose policies answer (an `[auth] credentials` entry).
    #[arg(
        long,
        conflicts_with = "principal",
        required_unless_present = "principal"
    )]
    key: Option<String>,
    /// Or the principal ARN of an entry with policies.
    #[arg(long)]
    principal: Option<String>,
    /// The action, e.g. dynamodb:Query.
    #[arg(long)]
    action: String,
    /// The resource ARN, e.g. arn:aws:dynamodb:us-east-1:000000000000:table/Music.
    #[arg(long)]
    resource: String,
    /// A condition key and value, `key=value`; a key given more than once is multivalued.
    #[arg(long = "context", value_name = "KEY=VALUE")]
    context: Vec<String>,
    /// Evaluate the identity-based policies only: do not open the data directory for
    /// the resource's resource-based policy.
    #[arg(long)]
    identity_only: bool,
}

/// Where the resource-based policy came from, when it was not read.
enum Stored {
    Read(Option<Arc<Policy>>),
    NotRead(&'static str),
}

/// The resource-based policy governing `arn`, from the data directory.
fn stored_policy(config: &daxlite::Config, arn: &str) -> Result<Stored, String> {
    if !matches!(config.upstream, UpstreamConfig::Embedded) {
        return Ok(Stored::NotRead(
            "resource-based policies of a remote upstream are not read: ask a running daxlite's /admin/simulate",
        ));
    }
    if daxlite_engine::storage::Store::path_is_in_memory(&config.engine.backend) {
        return Ok(Stored::NotRead(
            "in-memory storage: no resource-based policy outlives its server",
        ));
    }
    let Some(governing) = resource::governing_arn(arn) else {
        return Ok(Stored::Read(None));
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async {
        let engine = daxlite_engine::Engine::open(config.engine.clone()).map_err(|e| {
            format!("cannot read resource-based policies from the data directory: {e} (a running daxlite holds its data file: ask its /admin/simulate, or pass --identity-only)")
        })?;
        let body = serde_json::json!({ "ResourceArn": governing }).to_string();
        let reply = engine
            .call(Operation::GetResourcePolicy, body.as_bytes())
            .await;
        engine.close();
        match reply {
            Ok(bytes) => resource::from_reply(true, &bytes)
                .map(Stored::Read)
                .ok_or_else(|| "GetResourcePolicy answered an unreadable body".to_string()),
            Err(e)
                if matches!(
                    e.code(),
                    ErrorCode::PolicyNotFoundException | ErrorCode::ResourceNotFoundException
                ) =>
            {
                Ok(Stored::Read(None))
            }
            Err(e) => Err(format!(
                "GetResourcePolicy {governing}: {}: {}",
                e.code().name(),
                e.message().unwrap_or_default()
            )),
        }
    })
}

/// Runs the check with `config`'s identities.
pub fn run(config: &daxlite::Config, args: PolicyCheckArgs) -> ExitCode {
    let mut context: Vec<(String, Vec<String>)> = Vec::new();
    for kv in &args.context {
        let Some((k, v)) = kv.split_once('=') else {
            eprintln!("daxlite: --context {kv:?} must be key=value");
            return ExitCode::from(2);
        };
        match context
            .iter_mut()
            .find(|(key, _)| key.eq_ignore_ascii_case(k))
        {
            Some((_, values)) => values.push(v.to_string()),
            None => context.push((k.to_string(), vec![v.to_string()])),
        }
    }
    let q = Query {
        access_key: args.key,
        principal: args.principal,
        action: args.action,
        resource: args.resource,
        context,
    };
    let subject = q.check().and_then(|()| {
        simulate::resolve(
            config.service.auth.as_deref(),
            config.service.identities.as_deref(),
            &q,
        )
    });
    let subject = match subject {
        Ok(s) => s,
        Err(m) => {
            eprintln!("daxlite: {m}");
            return ExitCode::from(2);
        }
    };
    let stored = match (&subject, args.identity_only) {
        (Subject::Identity(_), false) => match stored_policy(config, &q.resource) {
            Ok(s) => s,
            Err(m) => {
                eprintln!("daxlite: {m}");
                return ExitCode::from(2);
            }
        },
        (Subject::Identity(_), true) => {
            Stored::NotRead("--identity-only: resource-based policies not read")
        }
        _ => Stored::Read(None),
    };
    let mut verdict = match &stored {
        Stored::Read(policy) => simulate::decide(&subject, &q, policy.as_ref()),
        Stored::NotRead(_) => simulate::decide(&subject, &q, None),
    };
    if let (Stored::NotRead(note), None) = (&stored, &verdict.note) {
        verdict.note = Some((*note).to_string());
    }
    let text = serde_json::to_string_pretty(&verdict.to_json(&q)).unwrap_or_default();
    println!("{text}");
    if verdict.allowed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
