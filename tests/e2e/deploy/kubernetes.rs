//! `deploy/kubernetes/`: every pathwise config in a ConfigMap passes `check-config` with its
//! container's environment; the sidecar is the pod's only resolver and is probed on its
//! metrics port; memory requests cover a full cache and limits a load test's peak, as
//! measured; the PodMonitor selects what it scrapes; kustomize renders. The helpers here
//! serve `node_local` too.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use pathwise_tests::Run;
use serde_json::Value;

use super::{check_config, parse, repo};

/// Measured (tests/load/RESULTS.md): resident memory of an idle pathwise; per cached entry
/// (829 to 927 bytes, the larger taken); and the peak of a saturating load test with
/// `cache.max_entries` 10000.
const IDLE_BYTES: u64 = 7 << 20;
const BYTES_PER_ENTRY: u64 = 930;
const PEAK_BYTES: u64 = 39 << 20;
const PEAK_ENTRIES: u64 = 10_000;
/// What the manifests' downward-API fields stand for here.
pub(super) const HOST_IP: &str = "192.0.2.10";

fn yaml_documents(path: &Path) -> Vec<Value> {
    match parse("yaml", &[path]).pop() {
        Some(Value::Array(documents)) => documents,
        other => panic!("{}: no YAML documents: {other:?}", path.display()),
    }
}

/// Every document of every `*.yaml` under `deploy/kubernetes`, with its file.
pub(super) fn manifests() -> Vec<(PathBuf, Value)> {
    let mut files = Vec::new();
    let mut dirs = vec![repo("deploy/kubernetes")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)
            .expect("read deploy/kubernetes")
            .flatten()
        {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                files.push(path);
            }
        }
    }
    files.sort();
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let parsed = parse("yaml", &refs);
    let mut documents = Vec::new();
    for (file, docs) in files.iter().zip(parsed) {
        for doc in docs.as_array().into_iter().flatten() {
            documents.push((file.clone(), doc.clone()));
        }
    }
    documents
}

pub(super) fn find<'a>(documents: &'a [(PathBuf, Value)], kind: &str, name: &str) -> &'a Value {
    documents
        .iter()
        .map(|(_, doc)| doc)
        .find(|doc| doc["kind"] == kind && doc["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in deploy/kubernetes"))
}

pub(super) fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// A container of a pod spec with its pathwise config: the ConfigMap file its `--config`
/// names, and its `PATHWISE_*` environment with `$(VAR)` references to the downward API
/// filled in.
pub(super) struct Configured {
    pub(super) container: Value,
    pub(super) toml: String,
    pub(super) env: Vec<(String, String)>,
}

pub(super) fn pathwise_containers(documents: &[(PathBuf, Value)], pod: &Value) -> Vec<Configured> {
    let mut found = Vec::new();
    let all = array(&pod["initContainers"])
        .into_iter()
        .chain(array(&pod["containers"]));
    for container in all {
        let args = strings(&container["args"]);
        let Some(at) = args.iter().position(|a| *a == "--config") else {
            continue;
        };
        let config = Path::new(args[at + 1]);
        let dir = config.parent().and_then(Path::to_str).expect("a directory");
        let mount = container["volumeMounts"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["mountPath"] == dir)
            .unwrap_or_else(|| panic!("no volume mounted at {dir} for {config:?}"));
        let volume = pod["volumes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|v| v["name"] == mount["name"])
            .expect("the mounted volume");
        let map_name = volume["configMap"]["name"].as_str().expect("a ConfigMap");
        let file = config.file_name().and_then(|f| f.to_str()).expect("a file");
        let config_map = find(documents, "ConfigMap", map_name);
        let toml = config_map["data"][file]
            .as_str()
            .unwrap_or_else(|| panic!("ConfigMap {map_name} has no {file}"))
            .to_owned();
        found.push(Configured {
            env: environment(&container),
            container,
            toml,
        });
    }
    found
}

fn array(value: &Value) -> Vec<Value> {
    value.as_array().cloned().unwrap_or_default()
}

/// The container's `PATHWISE_*` variables, `$(HOST_IP)` and the like resolved.
fn environment(container: &Value) -> Vec<(String, String)> {
    let mut known: Vec<(String, String)> = Vec::new();
    for var in container["env"].as_array().into_iter().flatten() {
        let name = var["name"].as_str().expect("env name").to_owned();
        let value = match (&var["value"], &var["valueFrom"]["fieldRef"]["fieldPath"]) {
            (Value::String(value), _) => known
                .iter()
                .fold(value.clone(), |v, (k, x)| v.replace(&format!("$({k})"), x)),
            (_, Value::String(field)) if field == "status.hostIP" => HOST_IP.to_owned(),
            (_, Value::String(field)) if field == "status.podIP" => "192.0.2.20".to_owned(),
            _ => panic!("env {name}: no value this test knows how to fill in"),
        };
        known.push((name, value));
    }
    known.retain(|(k, _)| k.starts_with("PATHWISE_"));
    known
}

pub(super) fn pod_spec(documents: &[(PathBuf, Value)], kind: &str, name: &str) -> Value {
    find(documents, kind, name)["spec"]["template"]["spec"].clone()
}

/// The container port named `name`.
pub(super) fn port_named(container: &Value, name: &str) -> u64 {
    container["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == name)
        .and_then(|p| p["containerPort"].as_u64())
        .unwrap_or_else(|| panic!("container {} has no port {name}", container["name"]))
}

/// Bytes of a Kubernetes memory quantity in Mi or Gi.
fn mebibytes(quantity: &Value) -> u64 {
    let text = quantity.as_str().expect("a quantity");
    let (number, unit) = text.split_at(text.len() - 2);
    let n: u64 = number.parse().expect("a number");
    match unit {
        "Mi" => n << 20,
        "Gi" => n << 30,
        _ => panic!("memory quantity {text}: this test reads Mi and Gi"),
    }
}

/// The probes go to the metrics endpoint's port, which is not on loopback (kubelet probes
/// the pod's IP), and the memory request covers the measured footprint of a full cache.
pub(super) fn assert_probes_and_sizing(configured: &Configured, effective: &Value) {
    let container = &configured.container;
    let listen = effective["metrics"]["listen"].as_str().expect("metrics on");
    let metrics: SocketAddr = listen.parse().expect("an address");
    assert!(
        !metrics.ip().is_loopback(),
        "metrics.listen {listen}: kubelet probes the pod IP, so not loopback"
    );
    for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
        let get = &container[probe]["httpGet"];
        assert_eq!(get["path"], path, "{probe}");
        let port = get["port"].as_str().expect("a named port");
        assert_eq!(
            port_named(container, port),
            u64::from(metrics.port()),
            "{probe}"
        );
    }
    let entries = effective["cache"]["max_entries"].as_u64().expect("entries");
    let full = IDLE_BYTES + entries * BYTES_PER_ENTRY;
    let peak = PEAK_BYTES + entries.saturating_sub(PEAK_ENTRIES) * BYTES_PER_ENTRY;
    let resources = &container["resources"];
    let request = mebibytes(&resources["requests"]["memory"]);
    let limit = mebibytes(&resources["limits"]["memory"]);
    assert!(
        full <= request && peak <= limit,
        "memory for cache.max_entries {entries}: about {full} bytes full (request {request}), \
         {peak} at a saturating load's peak (limit {limit})"
    );
    assert!(resources["requests"]["cpu"].is_string(), "a CPU request");
    let security = &container["securityContext"];
    assert_eq!(security["runAsNonRoot"], true);
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert_eq!(strings(&security["capabilities"]["drop"]), ["ALL"]);
    assert_eq!(
        strings(&security["capabilities"]["add"]),
        ["NET_BIND_SERVICE"]
    );
}

#[test]
fn every_config_map_passes_check_config_as_its_pod_sees_it() {
    let documents = manifests();
    let mut checked = Vec::new();
    for (file, doc) in &documents {
        if !matches!(doc["kind"].as_str(), Some("Deployment" | "DaemonSet")) {
            continue;
        }
        let pod = &doc["spec"]["template"]["spec"];
        for configured in pathwise_containers(&documents, pod) {
            let what = format!("{} in {}", configured.container["name"], file.display());
            check_config(&configured.toml, &configured.env, &what);
            checked.push(what);
        }
    }
    let maps = documents
        .iter()
        .filter(|(_, d)| d["kind"] == "ConfigMap")
        .count();
    assert_eq!(
        checked.len(),
        maps,
        "one pathwise per ConfigMap, each checked: {checked:?}"
    );
}

#[test]
fn sidecar_is_the_pods_only_resolver_and_is_probed_on_its_metrics_port() {
    let documents = manifests();
    let pod = pod_spec(&documents, "Deployment", "example-app");
    assert_eq!(pod["dnsPolicy"], "None");
    assert_eq!(strings(&pod["dnsConfig"]["nameservers"]), ["127.0.0.1"]);
    let searches = strings(&pod["dnsConfig"]["searches"]);
    assert!(searches.contains(&"svc.cluster.local") && searches.contains(&"cluster.local"));
    assert!(pod["dnsConfig"]["options"].to_string().contains("ndots"));

    let [sidecar] = &pathwise_containers(&documents, &pod)[..] else {
        panic!("one pathwise container in example-app");
    };
    assert_eq!(
        sidecar.container["restartPolicy"], "Always",
        "a native sidecar"
    );
    assert!(
        array(&pod["initContainers"]).contains(&sidecar.container),
        "the sidecar is an initContainer, so it starts before the application"
    );
    assert_eq!(
        sidecar.container["startupProbe"]["httpGet"]["path"],
        "/healthz"
    );
    let effective = check_config(&sidecar.toml, &sidecar.env, "the sidecar's config");
    assert!(strings(&effective["listen"]["addresses"]).contains(&"127.0.0.1:53"));
    // The pod's resolv.conf names pathwise itself: the upstreams must be named.
    let servers = strings(&effective["upstream"]["servers"]);
    assert!(
        !servers.is_empty() && servers.iter().all(|s| !s.starts_with("127.")),
        "upstream.servers {servers:?}: the cluster DNS, not loopback"
    );
    assert_probes_and_sizing(sidecar, &effective);

    let monitor = find(&documents, "PodMonitor", "pathwise");
    let labels =
        &find(&documents, "Deployment", "example-app")["spec"]["template"]["metadata"]["labels"];
    for (key, value) in monitor["spec"]["selector"]["matchLabels"]
        .as_object()
        .expect("matchLabels")
    {
        assert_eq!(
            &labels[key], value,
            "the PodMonitor selects the pod by {key}"
        );
    }
    let endpoint = &monitor["spec"]["podMetricsEndpoints"][0];
    let port = endpoint["port"].as_str().expect("a port name");
    assert_eq!(port_named(&sidecar.container, port), 9153);
    assert_job_is_pathwise(&endpoint["relabelings"]);
}

/// PathwiseDown (deploy/prometheus) alerts on `up{job="pathwise"}`.
pub(super) fn assert_job_is_pathwise(relabelings: &Value) {
    assert!(
        relabelings
            .as_array()
            .into_iter()
            .flatten()
            .any(|r| r["targetLabel"] == "job" && r["replacement"] == "pathwise"),
        "job relabelled to pathwise: {relabelings}"
    );
}

#[test]
fn kustomizations_list_every_manifest_and_render() {
    for dir in ["deploy/kubernetes", "deploy/kubernetes/node-local"] {
        let dir = repo(dir);
        let kustomization = &yaml_documents(&dir.join("kustomization.yaml"))[0];
        let mut listed = strings(&kustomization["resources"]);
        listed.sort_unstable();
        let mut present: Vec<String> = std::fs::read_dir(&dir)
            .expect("read the folder")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".yaml") && n != "kustomization.yaml")
            .collect();
        present.sort_unstable();
        assert_eq!(listed, present, "{}: resources", dir.display());

        if Command::new("kubectl")
            .arg("version")
            .arg("--client")
            .output()
            .is_err()
        {
            eprintln!("kubectl is not installed: {} not rendered", dir.display());
            continue;
        }
        let run = Run::command(Command::new("kubectl").arg("kustomize").arg(&dir));
        run.success();
        let image = &kustomization["images"][0];
        let wanted = format!(
            "image: {}:{}",
            image["newName"].as_str().unwrap_or_default(),
            image["newTag"].as_str().unwrap_or_default()
        );
        run.check(run.stdout().contains(&wanted), format!("expected {wanted}"));
    }
}
