"""The validators the deployment tests run, found or installed by the project itself.

* Compose: ``docker compose`` (the v2 plugin) when it answers, else ``docker-compose`` on ``PATH``, else
  the Python ``docker-compose`` 1.29.2 installed from the package index into ``<repo>/.tools/compose-venv``
  (its PyYAML 5.4 builds from source only with Cython < 3, hence the build constraint). ``config``
  validates a file without a Docker engine.
* Kubernetes schemas: ``kubernetes-validate`` from the package index, in ``<repo>/.tools/kube-venv``
  (its own environment: it needs a newer ``jsonschema`` than ``docker-compose`` allows).
* ``kubectl`` (for ``kubectl kustomize``) must be on ``PATH``.

A tool that cannot be found or installed skips the test with the reason, except in CI (``CI`` set),
where it fails: a validation that silently does not run is no validation.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / ".tools"
COMPOSE_PACKAGE = "docker-compose==1.29.2"
KUBE_VALIDATE_PACKAGE = "kubernetes-validate==1.37.0"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def unavailable(reason: str):
    """Skip (a user's machine) or fail (CI) because a validator is missing."""
    if in_ci():
        pytest.fail(f"{reason} (required because CI is set)", pytrace=False)
    pytest.skip(reason)


def _works(cmd: list[str]) -> bool:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _venv_tool(name: str, packages: list[str], executable: str, build_constraints: list[str] = ()) -> Path:
    """``executable`` of a private environment ``.tools/<name>`` holding ``packages`` (built once,
    under a file lock so concurrent test runs share it). Skips or fails when it cannot be built."""
    venv = TOOLS / name
    tool = venv / "bin" / executable
    if _works([str(tool), "--help"]):
        return tool
    TOOLS.mkdir(parents=True, exist_ok=True)
    with (TOOLS / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _works([str(tool), "--help"]):
            return tool
        if venv.exists():
            shutil.rmtree(venv)  # stale or half-built
        uv = shutil.which("uv")
        python = venv / "bin" / "python"
        constraints = TOOLS / f"{name}-build-constraints.txt"
        constraints.write_text("".join(f"{c}\n" for c in build_constraints))
        env = dict(os.environ)
        steps: list[list[str]] = []
        if uv:
            steps.append([uv, "venv", "--quiet", "--python", sys.executable, str(venv)])
            install = [uv, "pip", "install", "--quiet", "--python", str(python)]
            if build_constraints:
                install += ["--build-constraint", str(constraints)]
            steps.append(install + list(packages))
        else:
            steps.append([sys.executable, "-m", "venv", str(venv)])
            if build_constraints:  # pip's isolated build environments inherit PIP_CONSTRAINT
                env["PIP_CONSTRAINT"] = str(constraints)
            steps.append([str(python), "-m", "pip", "install", "--quiet", *packages])
        for step in steps:
            try:
                done = subprocess.run(step, capture_output=True, text=True, timeout=900, env=env)
            except (OSError, subprocess.TimeoutExpired) as exc:
                unavailable(f"cannot install {', '.join(packages)} into {venv}: {exc}")
            if done.returncode != 0:
                unavailable(f"cannot install {', '.join(packages)} into {venv} (needs the package index): "
                            f"{done.stderr.strip()[-800:]}")
    if not _works([str(tool), "--help"]):
        unavailable(f"{tool} does not run after installing {', '.join(packages)}")
    return tool


def compose_command() -> list[str]:
    """The command that runs Compose (``... config`` validates a file)."""
    docker = shutil.which("docker")
    if docker and _works([docker, "compose", "version"]):
        return [docker, "compose"]
    installed = shutil.which("docker-compose")
    if installed and _works([installed, "version"]):
        return [installed]
    return [str(_venv_tool("compose-venv", [COMPOSE_PACKAGE], "docker-compose", ["cython<3"]))]


def kubernetes_validate() -> Path:
    return _venv_tool("kube-venv", [KUBE_VALIDATE_PACKAGE], "kubernetes-validate")


def kubectl() -> str:
    found = shutil.which("kubectl")
    if found is None:
        unavailable("kubectl is not installed (needed for 'kubectl kustomize')")
    if not _works([found, "kustomize", "--help"]):
        unavailable(f"{found} has no working 'kustomize' subcommand")
    return found
