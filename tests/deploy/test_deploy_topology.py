"""standalone.yaml, compose.yaml and k8s/ describe the same topology (DESIGN §3).

standalone.yaml is the one source: ``angzarr topology export`` turns it into ``k8s/base/topology.yaml``,
which the Kubernetes ConfigMap is generated from and compose.yaml mounts into every sidecar. These tests
check that the generated file is current and reads back as standalone's topology (which services exist,
what each hosts, which domains each saga / process manager / projector listens to and emits to), and
that compose.yaml and the Kubernetes base run exactly those services, each with a sidecar for its own
domain that reads that file, reachable at ``ch-<domain>`` on port 1310.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from deploy_tools import REPO

from angzarr_coordinator.config import load_config
from angzarr_coordinator.sidecar_config import read_topology_file
from angzarr_coordinator.topology_export import describe, export_topology

STANDALONE = REPO / "standalone.yaml"
TOPOLOGY = REPO / "k8s" / "base" / "topology.yaml"
SIDECAR_IMAGE = "angzarr-coordinator"


@pytest.fixture(scope="module")
def standalone():
    return load_config(STANDALONE)


@pytest.fixture(scope="module")
def services(standalone) -> list[str]:
    return [s.name for s in standalone.topology.services]


def _env(container_env) -> dict[str, object]:
    """A container's environment: compose's mapping, or Kubernetes' list of {name, value|valueFrom}."""
    if isinstance(container_env, dict):
        return dict(container_env)
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container_env or ()}


def test_the_generated_topology_file_is_current(standalone):
    assert TOPOLOGY.read_text() == export_topology(standalone), (
        "k8s/base/topology.yaml is stale: run 'uv run angzarr topology export -c standalone.yaml "
        "-o k8s/base/topology.yaml'")


def test_the_cli_prints_the_same_export(standalone):
    angzarr = Path(sys.executable).with_name("angzarr")
    done = subprocess.run([str(angzarr), "topology", "export", "-c", str(STANDALONE)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == export_topology(standalone)


def test_the_topology_file_reads_back_as_standalone(standalone):
    topology, limits = read_topology_file(TOPOLOGY)
    assert describe(topology) == describe(standalone.topology)
    assert limits == standalone.limits


def test_compose_runs_every_service_with_its_sidecar(services):
    compose = yaml.safe_load((REPO / "compose.yaml").read_text())
    defined = compose["services"]
    sidecars = {name: svc for name, svc in defined.items() if svc.get("image", "").startswith(SIDECAR_IMAGE)}
    by_domain = {_env(svc["environment"])["DOMAIN"]: (name, svc) for name, svc in sidecars.items()}
    assert sorted(by_domain) == sorted(services), "compose sidecars differ from standalone's services"
    assert len(sidecars) == len(services), "two sidecars front the same domain"
    for domain, (name, sidecar) in by_domain.items():
        env = _env(sidecar["environment"])
        mounts = {v.split(":")[1]: v.split(":")[0] for v in sidecar["volumes"]}
        assert mounts.get(env["ANGZARR_TOPOLOGY"]) == "./k8s/base/topology.yaml", f"{name} reads another topology"
        assert sidecar["network_mode"] == f"service:{domain}", f"{name} does not share {domain}'s network"
        assert "postgres" in sidecar["depends_on"] and env["DATABASE_URL"].startswith("postgresql://")
        business = defined[domain]
        assert _env(business["environment"])["DOMAIN"] == domain
        assert business["build"]["dockerfile"] == f"services/{domain}/Dockerfile"
        assert (REPO / business["build"]["dockerfile"]).exists()
        aliases = business["networks"]["default"]["aliases"]
        assert f"ch-{domain}.angzarr.svc" in aliases, f"clients cannot resolve ch-{domain}.angzarr.svc"
    assert (REPO / sidecars[next(iter(sidecars))]["build"]["dockerfile"]).exists()


def _base_documents() -> list[dict]:
    base = REPO / "k8s" / "base"
    kustomization = yaml.safe_load((base / "kustomization.yaml").read_text())
    documents = []
    for resource in kustomization["resources"]:
        documents += [d for d in yaml.safe_load_all((base / resource).read_text()) if d]
    return documents


def test_kubernetes_runs_every_service_with_its_sidecar(services):
    base = REPO / "k8s" / "base"
    kustomization = yaml.safe_load((base / "kustomization.yaml").read_text())
    [generator] = [g for g in kustomization["configMapGenerator"] if g["name"] == "angzarr-topology"]
    assert generator["files"] == ["topology.yaml"], "the ConfigMap is not generated from the exported topology"

    documents = _base_documents()
    deployments = {d["metadata"]["name"]: d for d in documents if d["kind"] == "Deployment"}
    k8s_services = {d["metadata"]["name"]: d for d in documents if d["kind"] == "Service"}
    assert sorted(deployments) == sorted(services)
    assert sorted(k8s_services) == sorted(f"ch-{s}" for s in services)
    for domain, deployment in deployments.items():
        pod = deployment["spec"]["template"]
        containers = {c["name"]: c for c in pod["spec"]["containers"]}
        assert set(containers) == {"business", "coordinator"}, f"{domain}: containers {sorted(containers)}"
        sidecar, business = containers["coordinator"], containers["business"]
        env = _env(sidecar["env"])
        assert sidecar["image"].startswith(SIDECAR_IMAGE) and env["DOMAIN"] == domain
        assert env["DATABASE_URL"] == {"secretKeyRef": {"name": "angzarr-database", "key": "url"}}
        assert _env(business["env"])["DOMAIN"] == domain and business["image"] == f"poker-{domain}:dev"
        assert env["PORT"] == _env(business["env"])["PORT"], f"{domain}: sidecar and business disagree on PORT"
        topology_dir = str(Path(env["ANGZARR_TOPOLOGY"]).parent)
        mount = next(m for m in sidecar["volumeMounts"] if m["mountPath"] == topology_dir)
        volume = next(v for v in pod["spec"]["volumes"] if v["name"] == mount["name"])
        assert volume["configMap"]["name"] == "angzarr-topology"
        for container in (sidecar, business):
            assert "grpc" in container["readinessProbe"] and "grpc" in container["livenessProbe"]
            assert container["resources"]["requests"]
        service = k8s_services[f"ch-{domain}"]
        assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
        assert [p["port"] for p in service["spec"]["ports"]] == [1310]
        assert pod["metadata"]["labels"].get("angzarr.io/sidecar") == "true"


def test_network_policies_let_only_the_sidecar_port_in():
    policies = {d["metadata"]["name"]: d["spec"] for d in _base_documents() if d["kind"] == "NetworkPolicy"}
    deny = policies["default-deny-ingress"]
    assert deny["podSelector"] == {} and deny["policyTypes"] == ["Ingress"] and not deny.get("ingress")
    grpc = policies["coordinators-grpc"]
    assert grpc["podSelector"]["matchLabels"] == {"angzarr.io/sidecar": "true"}
    ports = [p["port"] for rule in grpc["ingress"] for p in rule["ports"]]
    assert ports == [1310], "only the coordinator port may be reachable; business containers stay behind it"
