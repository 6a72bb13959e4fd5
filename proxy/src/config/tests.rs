//! The config's layering, each section's checks, and the documentation check: every
//! setting in the code appears in `config/daxlite.toml` with its default and its
//! environment variable, and the file documents nothing the code does not define.

use std::time::Duration;

use daxlite_engine::Backend;

use super::*;
use crate::cache::Consistency;

mod layering {
    use super::*;

    #[test]
    fn layers_override_in_order_and_errors_name_the_setting() {
        let file: RawConfig =
            toml::from_str("[server]\nport = 9000\n[storage]\nin_memory = true\n")
                .unwrap_or_default();
        let env = RawConfig::from_env(|k| (k == "DAXLITE_PORT").then(|| "9100".to_string()))
            .unwrap_or_default();
        let c = RawConfig::default()
            .merge(&file)
            .merge(&env)
            .validate()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.listen.port(), 9100);
        assert!(matches!(c.engine.backend, Backend::InMemory));
        assert_eq!(c.listen.ip().to_string(), "127.0.0.1");

        let bad: Result<RawConfig, _> = toml::from_str("[server]\nprot = 1\n");
        assert!(bad
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
            .contains("prot"));
        let mut raw = RawConfig::default();
        raw.engine.region = Some("".into());
        assert!(raw
            .validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
            .starts_with("engine.region"));
        assert!(RawConfig::from_env(|k| (k == "DAXLITE_PORT").then(|| "x".to_string())).is_err());
    }

    #[test]
    fn the_documented_config_files_parse_with_every_example_uncommented() {
        for text in [
            include_str!("../../../config/daxlite.toml"),
            include_str!("../../../config/sidecar-aws.toml"),
        ] {
            let raw: RawConfig = toml::from_str(text).unwrap_or_else(|e| panic!("{e}"));
            assert!(raw.validate().is_ok());
        }
        // The documented examples themselves: `# key = value` lines under their tables.
        let uncommented: String = include_str!("../../../config/daxlite.toml")
            .lines()
            .map(|l| match l.strip_prefix("# ") {
                Some(rest)
                    if rest.split_once(" = ").is_some_and(|(k, _)| {
                        !k.is_empty()
                            && k.bytes()
                                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                    }) =>
                {
                    rest
                }
                // Commented-out array-of-tables headers such as `# [[trigger]]`.
                Some(rest) if rest.starts_with("[[") && rest.ends_with("]]") => rest,
                _ => l,
            })
            .map(|l| format!("{l}\n"))
            .collect();
        let raw: RawConfig = toml::from_str(&uncommented).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(raw.admin.listen.as_deref(), Some("127.0.0.1:8001"));
        assert_eq!(raw.trigger.len(), 1);
        assert_eq!(raw.global.peer.len(), 1);
        assert_eq!(raw.global.replication_delay_ms, Some(0));
        // The TLS example names files that are not here (validation reads them).
        assert_eq!(
            raw.server.tls_cert.as_deref(),
            Some(std::path::Path::new("/etc/daxlite/cert.pem"))
        );
        let mut without_tls = raw.clone();
        (without_tls.server.tls_cert, without_tls.server.tls_key) = (None, None);
        assert!(without_tls.validate().is_ok_and(|c| c.peers.len() == 1));
        assert_eq!(raw.auth.credentials.as_ref().map(Vec::len), Some(1));
        assert_eq!(raw.auth.verify, Some(false));
    }

    #[test]
    fn upstream_and_cache_settings() {
        let c = RawConfig::default()
            .validate()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(c.upstream, UpstreamConfig::Embedded));
        assert!(c.cache.enabled);
        assert_eq!(c.cache.item_ttl, Duration::from_secs(300));
        assert_eq!(c.cache.negative_ttl, Some(Duration::from_secs(300)));
        assert_eq!(c.cache.max_bytes, DEFAULT_CACHE_BYTES);

        let mut raw = RawConfig::default();
        raw.upstream.url = Some("https://dynamodb.eu-west-1.amazonaws.com".into());
        raw.cache.negative_ttl = Some("0".into());
        raw.cache.consistency = Some("dax".into());
        let c = raw.validate().unwrap_or_else(|e| panic!("{e}"));
        match &c.upstream {
            UpstreamConfig::Remote(r) => assert_eq!(r.region, "eu-west-1"),
            UpstreamConfig::Embedded => panic!("expected a remote upstream"),
        }
        assert_eq!(c.cache.negative_ttl, None);
        assert_eq!(c.cache.consistency, Consistency::Dax);
        assert_eq!(c.admin, None, "the admin listener is off by default");

        let mut raw = RawConfig::default();
        raw.admin.listen = Some("127.0.0.1:8001".into());
        let c = raw.validate().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.admin, Some(SocketAddr::from(([127, 0, 0, 1], 8001))));
        let mut raw = RawConfig::default();
        raw.admin.listen = Some("nowhere".into());
        assert!(raw
            .validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
            .starts_with("admin.listen"));
        let env =
            RawConfig::from_env(|k| (k == "DAXLITE_ADMIN_LISTEN").then(|| "127.0.0.1:0".into()))
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(env.admin.listen.as_deref(), Some("127.0.0.1:0"));

        let mut raw = RawConfig::default();
        raw.upstream.url = Some("ftp://x".into());
        assert!(raw
            .validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
            .starts_with("upstream.url"));
        let mut raw = RawConfig::default();
        raw.cache.item_ttl = Some("5 parsecs".into());
        assert!(raw
            .validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
            .starts_with("cache.item_ttl"));
    }
}

#[cfg(test)]
mod stream_ttl_settings {
    use super::*;

    #[test]
    fn stream_and_ttl_settings_have_defaults_env_and_checks() {
        let c = RawConfig::default()
            .validate()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.engine.stream_retention_ms, 86_400_000);
        assert_eq!(c.engine.stream_iterator_ttl_ms, 900_000);
        assert_eq!(c.engine.ttl_sweep_interval_ms, 1_000);
        assert_eq!(c.engine.ttl_change_cooldown_ms, 0);
        let env = RawConfig::from_env(|k| match k {
            "DAXLITE_STREAM_SHARD_MAX_RECORDS" => Some("5".into()),
            "DAXLITE_TTL_CHANGE_COOLDOWN_MS" => Some("3600000".into()),
            _ => None,
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let c = env.validate().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.engine.stream_shard_max_records, 5);
        assert_eq!(c.engine.ttl_change_cooldown_ms, 3_600_000);
        let mut bad = RawConfig::default();
        bad.engine.ttl_sweep_interval_ms = Some(0);
        assert!(matches!(
            bad.clone().validate().err(),
            Some(ConfigError::Setting { ref setting, .. }) if setting == "engine.ttl_sweep_interval_ms"
        ));
        assert_eq!(
            bad.validate().err().map(|e| e.to_string()).as_deref(),
            Some("engine.ttl_sweep_interval_ms: 0 must be at least 1")
        );
        let file: RawConfig = toml::from_str("[engine]\nstream_retention_ms = 60000\n")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(file.engine.stream_retention_ms, Some(60_000));
    }

    #[test]
    fn the_page_cache_size_reaches_the_engine_from_file_and_env() {
        let c = RawConfig::default()
            .validate()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.engine.page_cache_bytes, 0);
        let env =
            RawConfig::from_env(|k| (k == "DAXLITE_PAGE_CACHE_BYTES").then(|| "268435456".into()))
                .unwrap_or_else(|e| panic!("{e}"));
        let c = env.validate().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.engine.page_cache_bytes, 256 << 20);
        let file: RawConfig = toml::from_str("[storage]\npage_cache_bytes = 1048576\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let c = file.validate().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.engine.page_cache_bytes, 1 << 20);
        assert!(RawConfig::from_env(|k| {
            (k == "DAXLITE_PAGE_CACHE_BYTES").then(|| "lots".into())
        })
        .is_err());
    }
}

#[cfg(test)]
mod auth_settings {
    use super::*;

    #[test]
    fn verification_is_off_by_default_and_needs_credentials() {
        let c = RawConfig::default()
            .validate()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(c.service.auth.is_none());
        let env = RawConfig::from_env(|k| (k == "DAXLITE_AUTH_VERIFY").then(|| "true".into()))
            .unwrap_or_else(|e| panic!("{e}"));
        let err = env
            .validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.starts_with("auth.credentials:"), "{err}");
        let env = RawConfig::from_env(|k| match k {
            "DAXLITE_AUTH_VERIFY" => Some("true".into()),
            "DAXLITE_AUTH_ACCESS_KEY" => Some("AKID".into()),
            "DAXLITE_AUTH_SECRET_KEY" => Some("s3cret".into()),
            _ => None,
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let c = env.validate().unwrap_or_else(|e| panic!("{e}"));
        let keys = c.service.auth.clone().unwrap_or_default();
        assert_eq!(keys.secret("AKID"), Some("s3cret"));
        assert!(!format!("{c:?}").contains("s3cret"), "Debug hides secrets");
        assert!(
            RawConfig::from_env(|k| (k == "DAXLITE_AUTH_ACCESS_KEY").then(|| "AKID".into()))
                .is_err()
        );
        let file: RawConfig = toml::from_str(
            "[auth]\nverify = true\ncredentials = [{ access_key = \"A\", secret_key = \"B\" }, { access_key = \"C\", secret_key = \"D\" }]\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let c = file.validate().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.service.auth.map(|k| k.len()), Some(2));
    }

    #[test]
    fn policies_load_inline_and_from_files_and_bad_ones_stop_the_start() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let doc = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*"}}"#;
        std::fs::create_dir(dir.path().join("p")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.path().join("p/a.json"), doc).unwrap_or_else(|e| panic!("{e}"));
        let write = |policies: &str| {
            let path = dir.path().join("daxlite.toml");
            std::fs::write(
                &path,
                format!("[auth]\nverify = true\ncredentials = [{{ access_key = \"A\", secret_key = \"B\", principal = \"arn:aws:iam::123456789012:user/alice\", policies = {policies} }}, {{ access_key = \"C\", secret_key = \"D\" }}]\n"),
            )
            .unwrap_or_else(|e| panic!("{e}"));
            RawConfig::from_file(&path).and_then(RawConfig::validate)
        };
        let c = write(&format!("['{doc}', \"p/a.json\"]")).unwrap_or_else(|e| panic!("{e}"));
        let ids = c.service.identities.clone().unwrap_or_default();
        let alice = ids.get("A").cloned();
        assert_eq!(alice.as_ref().map(|a| a.policies.len()), Some(2));
        assert_eq!(
            alice.and_then(|a| a.username.clone()).as_deref(),
            Some("alice")
        );
        assert!(ids.get("C").is_none(), "no policies: full access");
        for (policies, needle) in [
            ("[\"p/missing.json\"]", "A: policy file"),
            (
                "['{\"Statement\":[]'] ",
                "A: policy 1: the policy is not valid JSON",
            ),
            (
                "['{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\"}}']",
                "exactly one of Resource and NotResource",
            ),
        ] {
            let err = write(policies)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(
                err.starts_with("auth.credentials:") && err.contains(needle),
                "{err}"
            );
        }
        // Policies without verification would be a silent no-op: refused.
        let file: RawConfig = toml::from_str(&format!(
            "[auth]\ncredentials = [{{ access_key = \"A\", secret_key = \"B\", policies = ['{doc}'] }}]\n"
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        let err = file
            .validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("auth.verify = true"), "{err}");
        let file: RawConfig = toml::from_str(
            "[auth]\nverify = true\ncredentials = [{ access_key = \"A\", secret_key = \"B\", principal = \"alice\" }]\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let err = file
            .validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("must be arn:aws:iam::"), "{err}");
    }
}

mod documentation {
    use super::*;

    /// One `# key = value` line of `config/daxlite.toml`, with the comment lines above it
    /// (back to the previous setting or the section header).
    struct Documented {
        section: String,
        key: String,
        value: toml::Value,
        block: String,
    }

    fn documented(text: &str) -> Vec<Documented> {
        let mut out = Vec::new();
        let mut section = String::new();
        let mut block = String::new();
        for line in text.lines() {
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = name.to_string();
                block.clear();
                continue;
            }
            if let Some(name) = line
                .trim()
                .strip_prefix("# [[")
                .and_then(|l| l.strip_suffix("]]"))
            {
                section = name.to_string();
                continue;
            }
            let setting = line.strip_prefix("# ").and_then(|rest| {
                let (k, v) = rest.split_once(" = ")?;
                k.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                    .then_some((k, v))
            });
            match setting {
                Some((key, value)) if section != "trigger" => {
                    let parsed: toml::Table = toml::from_str(&format!("v = {value}"))
                        .unwrap_or_else(|e| panic!("[{section}] {key}: {e}"));
                    out.push(Documented {
                        section: section.clone(),
                        key: key.to_string(),
                        value: parsed["v"].clone(),
                        block: std::mem::take(&mut block),
                    });
                }
                _ => {
                    block.push_str(line);
                    block.push('\n');
                }
            }
        }
        out
    }

    /// Whether `text` names variable `name` as a whole word.
    fn names(text: &str, name: &str) -> bool {
        text.match_indices(name).any(|(i, _)| {
            !text[i + name.len()..]
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        })
    }

    #[test]
    fn every_setting_is_documented_with_its_default_and_env() {
        let text = include_str!("../../../config/daxlite.toml");
        let docs = documented(text);
        let code = settings();
        assert!(
            code.len() > 30,
            "the sections define {} settings",
            code.len()
        );
        for s in &code {
            let Some(d) = docs
                .iter()
                .find(|d| d.section == s.section && d.key == s.key)
            else {
                panic!("{}.{} is not in config/daxlite.toml", s.section, s.key);
            };
            if let Some(default) = &s.default {
                assert_eq!(
                    &d.value, default,
                    "{}.{}: the file documents {} but the default is {}",
                    s.section, s.key, d.value, default
                );
            }
            if let Some(env) = &s.env {
                assert!(
                    names(&d.block, &format!("env {env}")),
                    "{}.{}: its comment does not name `env {env}`",
                    s.section,
                    s.key
                );
            }
        }
        for d in &docs {
            assert!(
                code.iter()
                    .any(|s| s.section == d.section && s.key == d.key),
                "config/daxlite.toml documents [{}] {}, which no section defines",
                d.section,
                d.key
            );
        }
        // Every variable the file names is one the code reads.
        let known: Vec<String> = code
            .iter()
            .filter_map(|s| s.env.clone())
            .chain([auth::ACCESS_KEY_ENV.into(), auth::SECRET_KEY_ENV.into()])
            .collect();
        for (i, _) in text.match_indices("DAXLITE_") {
            let name: String = text[i..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            if name == "DAXLITE_" {
                continue; // `DAXLITE_*`, the family
            }
            assert!(
                known.contains(&name),
                "config/daxlite.toml names {name}, which nothing reads"
            );
        }
    }

    #[test]
    fn env_names_are_derived_from_the_section_and_key() {
        let env = |section: &str, key: &str| {
            settings()
                .into_iter()
                .find(|s| s.section == section && s.key == key)
                .and_then(|s| s.env)
        };
        assert_eq!(env("server", "port").as_deref(), Some("DAXLITE_PORT"));
        assert_eq!(
            env("cache", "item_ttl").as_deref(),
            Some("DAXLITE_CACHE_ITEM_TTL")
        );
        assert_eq!(env("cache", "enabled").as_deref(), Some("DAXLITE_CACHE"));
        assert_eq!(env("log", "level").as_deref(), Some("DAXLITE_LOG"));
        assert_eq!(env("upstream", "url").as_deref(), Some("DAXLITE_UPSTREAM"));
        assert_eq!(
            env("upstream", "region").as_deref(),
            Some("DAXLITE_UPSTREAM_REGION")
        );
        assert_eq!(env("auth", "credentials"), None);
        // Each derived name is read: setting it changes the layer.
        for s in settings() {
            let Some(name) = s.env.clone() else { continue };
            let value = match s.default.as_ref() {
                Some(toml::Value::Boolean(_)) => "true".to_string(),
                Some(toml::Value::Integer(_)) => "7".to_string(),
                _ => "x".to_string(),
            };
            let raw = RawConfig::from_env(|k| (k == name).then(|| value.clone()))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let merged = RawConfig::default().merge(&raw);
            assert!(
                format!("{merged:?}") != format!("{:?}", RawConfig::default()),
                "{name} changes nothing"
            );
        }
    }

    #[test]
    fn built_in_defaults_validate() {
        let c = RawConfig::defaults()
            .validate()
            .unwrap_or_else(|e| panic!("{e}"));
        let e = EngineConfig::default();
        assert_eq!(c.engine.stream_retention_ms, e.stream_retention_ms);
        assert_eq!(c.cache.item_ttl, CacheConfig::default().item_ttl);
        assert!(CacheConfig::default().enabled);
        assert_eq!(FollowConfig::default().interval, Duration::from_secs(1));
        assert_eq!(Config::ephemeral().listen.port(), 0);
    }
}

mod typed_errors {
    use super::*;

    #[test]
    fn errors_name_the_setting_the_variable_or_the_file() {
        let env = RawConfig::from_env(|k| (k == "DAXLITE_PORT").then(|| "x".to_string()));
        assert!(matches!(
            env,
            Err(ConfigError::Env { ref variable, ref value }) if variable == "DAXLITE_PORT" && value == "x"
        ));
        assert_eq!(
            env.err().map(|e| e.to_string()).as_deref(),
            Some("invalid value \"x\" for DAXLITE_PORT")
        );
        let missing = std::path::Path::new("/nonexistent/daxlite.toml");
        match RawConfig::from_file(missing) {
            Err(ConfigError::Read { path, .. }) => assert_eq!(path, missing),
            other => panic!("expected a read error, got {other:?}"),
        }
        let pair = RawConfig::from_env(|k| (k == auth::ACCESS_KEY_ENV).then(|| "A".into()));
        assert!(matches!(pair, Err(ConfigError::EnvPair { .. })));
        let mut raw = RawConfig::default();
        raw.server.host = Some("nowhere".into());
        let err = raw.validate().err();
        assert!(matches!(
            &err,
            Some(ConfigError::Setting { setting, .. }) if setting == "server.host"
        ));
        assert_eq!(
            err.map(|e| e.to_string()).as_deref(),
            Some("server.host: \"nowhere\" is not an IP address")
        );
    }

    #[test]
    fn global_peers_are_checked() {
        let check = |toml: &str| {
            let raw: RawConfig = toml::from_str(toml).unwrap_or_else(|e| panic!("{e}"));
            raw.validate().map(|c| c.peers).map_err(|e| e.to_string())
        };
        let ok =
            check("[[global.peer]]\nregion = \"eu-west-1\"\nurl = \"http://127.0.0.1:8001\"\n");
        assert_eq!(ok.map(|p| p.len()), Ok(1));
        assert_eq!(
            check("[[global.peer]]\nregion = \"us-east-1\"\nurl = \"http://127.0.0.1:8001\"\n"),
            Err(
                "global.peer[0].region: \"us-east-1\" is this process's own region (engine.region)"
                    .into()
            )
        );
        assert_eq!(
            check("[[global.peer]]\nregion = \"eu-west-1\"\nurl = \"ftp://x\"\n"),
            Err("global.peer[0].url: \"ftp://x\" must be an http:// or https:// URL".into())
        );
        assert_eq!(
            check("[[global.peer]]\nurl = \"http://127.0.0.1:8001\"\n"),
            Err("global.peer[0].region: required".into())
        );
        let raw: RawConfig = toml::from_str("[global]\nreplication_delay_ms = 250\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let c = raw.validate().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.replication_delay, std::time::Duration::from_millis(250));
    }
}
