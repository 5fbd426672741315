"""compose.yaml passes ``docker compose config``; every Kubernetes overlay renders with ``kubectl
kustomize`` and every rendered manifest validates against the Kubernetes schemas (``kubernetes-validate
--strict``: unknown fields are errors too). The validators are found or installed by ``deploy_tools``."""

from __future__ import annotations

import subprocess

import pytest
import yaml
from deploy_tools import REPO, compose_command, kubectl, kubernetes_validate

OVERLAYS = sorted(p.name for p in (REPO / "k8s" / "overlays").iterdir() if (p / "kustomization.yaml").exists())


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)


def test_compose_file_is_valid():
    done = _run([*compose_command(), "-f", str(REPO / "compose.yaml"), "config", "-q"], cwd=REPO)
    assert done.returncode == 0, f"compose.yaml is invalid:\n{done.stdout}\n{done.stderr}"


def test_a_broken_compose_file_is_caught(tmp_path):
    """The validator really validates: a misspelt key fails."""
    broken = tmp_path / "compose.yaml"
    broken.write_text((REPO / "compose.yaml").read_text().replace("restart: unless-stopped", "restrat: x", 1))
    done = _run([*compose_command(), "-f", str(broken), "config", "-q"], cwd=tmp_path)
    assert done.returncode != 0 and "restrat" in done.stdout + done.stderr


def test_there_are_the_two_overlays():
    assert OVERLAYS == ["external-db", "local"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_and_every_manifest_is_valid(overlay, tmp_path):
    rendered = _run([kubectl(), "kustomize", str(REPO / "k8s" / "overlays" / overlay)])
    assert rendered.returncode == 0, f"kubectl kustomize {overlay} failed:\n{rendered.stderr}"
    documents = [d for d in yaml.safe_load_all(rendered.stdout) if d]
    kinds = {d["kind"] for d in documents}
    assert {"Namespace", "Deployment", "Service", "ConfigMap", "NetworkPolicy"} <= kinds, kinds
    secrets = {d["metadata"]["name"] for d in documents if d["kind"] == "Secret"}
    referenced = {e["valueFrom"]["secretKeyRef"]["name"] for d in documents if d["kind"] in ("Deployment", "StatefulSet")
                  for c in d["spec"]["template"]["spec"]["containers"] for e in c.get("env", ())
                  if "secretKeyRef" in e.get("valueFrom", {})}
    assert "angzarr-database" in referenced
    if overlay == "local":  # it brings its database; external-db expects the user's Secret (README)
        assert referenced <= secrets, f"secrets referenced but not generated: {referenced - secrets}"
    assert all(d["metadata"].get("namespace") == "angzarr" for d in documents if d["kind"] != "Namespace")
    manifest = tmp_path / f"{overlay}.yaml"
    manifest.write_text(rendered.stdout)
    validated = _run([str(kubernetes_validate()), "--strict", "--quiet", str(manifest)])
    assert validated.returncode == 0, f"{overlay}: invalid manifests:\n{validated.stdout}\n{validated.stderr}"


def test_the_schema_validator_rejects_an_unknown_field(tmp_path):
    """kubernetes-validate --strict fails a Deployment with a misspelt field, so a pass means something."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"},
        "spec": {"selector": {"matchLabels": {"a": "b"}}, "replicaz": 1, "template": {
            "metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}},
    }))
    done = _run([str(kubernetes_validate()), "--strict", "--quiet", str(bad)])
    assert done.returncode != 0 and "replicaz" in done.stdout + done.stderr
