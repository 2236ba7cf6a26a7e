//! `deploy/kubernetes/node-local/`: the DaemonSet runs on the host network, replaces one
//! node's pod at a time (no surge: two pathwise cannot share the address), serves metrics on
//! the node's IP and binds the address its init container makes; and, in a network namespace
//! standing in for a node, that init container's script and the ConfigMap serve the pod
//! network from the link-local address and refuse others.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;

use pathwise_tests::{Dig, NetNs, Pathwise, Run, Upstream, require_root};
use serde_json::Value;

use super::check_config;
use super::kubernetes::{
    HOST_IP, assert_job_is_pathwise, assert_probes_and_sizing, find, manifests,
    pathwise_containers, pod_spec, port_named, strings,
};
use crate::serve::zone::{DUAL, DUAL_A, unsigned};

#[test]
fn node_local_daemonset_binds_the_address_its_init_container_makes() {
    let documents = manifests();
    let daemonset = find(&documents, "DaemonSet", "pathwise-node-local");
    let pod = &daemonset["spec"]["template"]["spec"];
    assert_eq!(pod["hostNetwork"], true);
    // No SO_REUSEPORT: a surge pod could never bind the address beside the old one.
    let rolling = &daemonset["spec"]["updateStrategy"]["rollingUpdate"];
    assert_eq!(rolling["maxSurge"], 0);
    assert_eq!(rolling["maxUnavailable"], 1);

    let [pathwise] = &pathwise_containers(&documents, pod)[..] else {
        panic!("one pathwise container in the DaemonSet");
    };
    let effective = check_config(&pathwise.toml, &pathwise.env, "the node-local config");
    assert_eq!(
        effective["metrics"]["listen"],
        format!("{HOST_IP}:9153"),
        "metrics on the node's IP, from the downward API"
    );
    assert_probes_and_sizing(pathwise, &effective);
    let listen = strings(&effective["listen"]["addresses"]);
    let [address] = listen[..] else {
        panic!("one listen address: {listen:?}");
    };
    let ip = address.trim_end_matches(":53");
    let init = &pod["initContainers"][0];
    let script = setup_script(&documents);
    assert!(
        script.contains(&format!("{ip}/32")),
        "the init container adds {ip}:\n{script}"
    );
    assert_eq!(
        strings(&init["securityContext"]["capabilities"]["add"]),
        ["NET_ADMIN"]
    );
    assert_eq!(
        strings(&init["securityContext"]["capabilities"]["drop"]),
        ["ALL"]
    );

    let service = find(&documents, "Service", "pathwise-node-local");
    assert_eq!(service["spec"]["clusterIP"], "None", "headless");
    let labels = &daemonset["spec"]["template"]["metadata"]["labels"];
    for (key, value) in service["spec"]["selector"].as_object().expect("selector") {
        assert_eq!(&labels[key], value, "the Service selects the pods by {key}");
    }
    let target = service["spec"]["ports"][0]["targetPort"]
        .as_str()
        .expect("a name");
    assert_eq!(port_named(&pathwise.container, target), 9153);
    let monitor = find(&documents, "ServiceMonitor", "pathwise-node-local");
    assert_eq!(
        monitor["spec"]["selector"]["matchLabels"],
        service["metadata"]["labels"]
    );
    assert_job_is_pathwise(&monitor["spec"]["endpoints"][0]["relabelings"]);
}

/// The `sh -c` script of the DaemonSet's init container.
fn setup_script(documents: &[(PathBuf, Value)]) -> String {
    let pod = pod_spec(documents, "DaemonSet", "pathwise-node-local");
    let command = strings(&pod["initContainers"][0]["command"]);
    let [_, "-c", script] = command[..] else {
        panic!("the init container runs `sh -c SCRIPT`: {command:?}");
    };
    script.to_owned()
}

/// The node-local set-up in a network namespace standing in for a node: the init container's
/// script (run twice, as at every pod start) makes the link-local address; pathwise with the
/// DaemonSet's ConfigMap binds it, answers the node itself and an address of the allowed pod
/// network, and refuses a client outside that network.
#[test]
fn node_local_setup_serves_the_pod_network_from_its_link_local_address() {
    if !require_root("node_local_setup_serves_the_pod_network_from_its_link_local_address") {
        return;
    }
    let documents = manifests();
    let pod = pod_spec(&documents, "DaemonSet", "pathwise-node-local");
    let [pathwise] = &pathwise_containers(&documents, &pod)[..] else {
        panic!("one pathwise container in the DaemonSet");
    };
    let effective = check_config(&pathwise.toml, &[], "the node-local config");
    let listen = strings(&effective["listen"]["addresses"])[0].to_owned();
    let address: SocketAddr = listen.parse().expect("an address");
    let pod_network = strings(&effective["listen"]["allow"])[0].to_owned();
    let pod_address = host_in(&pod_network, 0x0105);

    let ns = NetNs::new("pwnode");
    let mut script = setup_script(&documents);
    // Some kernels (this project's test machines) lack the dummy link type (CONFIG_DUMMY); a
    // veth pair holds a local address the same way, so the rest of the script runs as is.
    let probe = Run::command(Command::new("ip").args([
        "-n",
        ns.name(),
        "link",
        "add",
        "pwprobe",
        "type",
        "dummy",
    ]));
    if probe.stderr().is_empty() {
        ns.ip(&["link", "del", "pwprobe"]);
    } else {
        script = script.replace("type dummy", "type veth peer name pathwise0-peer");
    }
    for _ in 0..2 {
        ns.exec("sh", &["-c", &script]);
    }
    ns.ip(&["address", "add", &format!("{pod_address}/32"), "dev", "pw0"]);
    ns.ip(&["address", "add", "192.0.2.77/32", "dev", "pw0"]);

    let nsd: SocketAddr = "127.0.0.1:5300".parse().expect("an address");
    let upstream = Upstream::start_in_netns(&ns, nsd, &unsigned());
    // --upstream replaces the cluster DNS Service address (nothing could leave the namespace
    // anyway: it has no route out).
    let args = ["--listen", &listen, "--upstream", &upstream.spec()];
    // The harness reads text log lines (`listening on ...`), not the ConfigMap's JSON.
    let json = "format = \"json\"";
    assert!(
        pathwise.toml.contains(json),
        "the node-local config logs JSON"
    );
    let config = pathwise.toml.replace(json, "format = \"text\"");
    let _pathwise = Pathwise::start_in_netns(&ns, &config, &args);
    let dig = |source: Option<&str>| {
        let dig = Dig::new(address, DUAL, "A").in_netns(ns.name());
        match source {
            Some(source) => dig.from(source).run(),
            None => dig.run(),
        }
    };
    dig(None).rcode_is("NOERROR").answers_are("A", &[DUAL_A]);
    dig(Some(&pod_address))
        .rcode_is("NOERROR")
        .answers_are("A", &[DUAL_A]);
    dig(Some("192.0.2.77")).rcode_is("REFUSED");
}

/// The address `offset` into an IPv4 prefix (`10.244.0.0/16`, 0x0105: `10.244.1.5`).
fn host_in(prefix: &str, offset: u32) -> String {
    let network = prefix.split('/').next().unwrap_or_default();
    let network: std::net::Ipv4Addr = network
        .parse()
        .unwrap_or_else(|e| panic!("the first listen.allow entry {prefix} is no IPv4 prefix: {e}"));
    std::net::Ipv4Addr::from(u32::from(network) + offset).to_string()
}
