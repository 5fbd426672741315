"""A scaffolded bounded context serves, answers commands (directly and through a coordinator), passes its
own tests and lint, and was registered in the workspace copy it was written into."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
import tomllib

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from scaffold_run import CLASS, NAME, REPO, run_new_context

from angzarr_client import Client, decode_event
from angzarr_client.proto.angzarr import command_handler_pb2_grpc
from angzarr_client.testing import build_contextual_command, uuid_for
from poker_demo import StandaloneSystem
from poker_demo.system import short_socket_dir

STARTUP_LIMIT_SECONDS = 60
CONTRACTS = f"{NAME}_contracts"


def test_the_scaffold_writes_proto_contracts_and_service_and_says_what_to_do_next(scaffolded):
    root = scaffolded.root
    expected = [
        f"proto/{NAME}/{NAME}.proto",
        f"libs/{CONTRACTS}/pyproject.toml",
        f"libs/{CONTRACTS}/{CONTRACTS}/__init__.py",
        f"libs/{CONTRACTS}/{CONTRACTS}/{NAME}_pb2.py",
        f"libs/{CONTRACTS}/{CONTRACTS}/{NAME}_pb2.pyi",
        f"libs/{CONTRACTS}/{CONTRACTS}/{NAME}_pb2_grpc.py",
        f"services/{NAME}/pyproject.toml",
        f"services/{NAME}/Dockerfile",
        f"services/{NAME}/README.md",
        f"services/{NAME}/{NAME}/__init__.py",
        f"services/{NAME}/{NAME}/__main__.py",
        f"services/{NAME}/{NAME}/aggregate.py",
        f"services/{NAME}/tests/test_{NAME}_aggregate.py",
        f"services/{NAME}/tests/test_{NAME}_server.py",
    ]
    written = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    assert written == sorted([*expected, "pyproject.toml"])
    assert f"package {NAME};" in (root / f"proto/{NAME}/{NAME}.proto").read_text()
    assert f"class {CLASS}(CommandHandler[pb.{CLASS}State]):" in (scaffolded.service_dir / NAME / "aggregate.py").read_text()
    dockerfile = (scaffolded.service_dir / "Dockerfile").read_text()
    assert f'CMD ["python", "-m", "{NAME}"]' in dockerfile and f"COPY libs/{CONTRACTS}" in dockerfile
    assert "poker_contracts" not in dockerfile and "player" not in dockerfile
    assert f"- name: {NAME}" in scaffolded.output and "uv lock && uv sync --all-packages" in scaffolded.output


def test_the_messages_are_the_new_context_s_own(scaffolded):
    pb = scaffolded.messages()
    assert pb.DESCRIPTOR.package == NAME
    assert set(pb.DESCRIPTOR.message_types_by_name) == {
        f"Create{CLASS}", f"Rename{CLASS}", f"{CLASS}Created", f"{CLASS}Renamed", f"{CLASS}State"}


def test_register_added_the_packages_to_the_workspace_copy(scaffolded):
    data = tomllib.loads((scaffolded.root / "pyproject.toml").read_text())
    projects = {"scaffold-probe", "scaffold-probe-contracts"}
    assert projects <= set(data["project"]["dependencies"])
    assert all(data["tool"]["uv"]["sources"][p] == {"workspace": True} for p in projects)
    assert {NAME, CONTRACTS} <= set(data["tool"]["ruff"]["lint"]["isort"]["known-first-party"])
    before = tomllib.loads((REPO / "pyproject.toml").read_text())
    before["project"]["dependencies"] += sorted(projects)
    before["tool"]["uv"]["sources"].update({p: {"workspace": True} for p in sorted(projects)})
    before["tool"]["ruff"]["lint"]["isort"]["known-first-party"] += [NAME, CONTRACTS]
    assert data == before, "nothing else changed"
    assert NAME not in (REPO / "pyproject.toml").read_text(), "the real workspace is untouched"


def test_python_m_serves_the_new_context_and_answers_a_command(scaffolded):
    base = short_socket_dir("scf-")
    socket = base / f"business-{NAME}.sock"
    env = {**scaffolded.env(), "TRANSPORT_TYPE": "uds", "UDS_BASE_PATH": str(base), "SERVICE_NAME": "business"}
    process = subprocess.Popen([sys.executable, "-m", NAME], env=env, cwd=scaffolded.root,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        with grpc.insecure_channel(f"unix://{socket}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            _wait_until_serving(health, process)
            reply = health.Check(health_pb2.HealthCheckRequest(service=NAME), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING

            pb = scaffolded.messages()
            stub = command_handler_pb2_grpc.CommandHandlerServiceStub(channel)
            create = getattr(pb, f"Create{CLASS}")(title=" Shelf ")
            request = build_contextual_command(create, domain=NAME, root=uuid_for("scaffold shelf"))
            (page,) = stub.Handle(request, timeout=10).events.pages
            assert page.event.type_url == f"type.googleapis.com/{NAME}.{CLASS}Created"
            assert decode_event(page, getattr(pb, f"{CLASS}Created")).title == "Shelf"
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
        shutil.rmtree(base, ignore_errors=True)
    assert process.returncode == 0, output.decode(errors="replace")


def _wait_until_serving(health: health_pb2_grpc.HealthStub, process: subprocess.Popen) -> None:
    give_up = time.monotonic() + STARTUP_LIMIT_SECONDS
    while True:
        if process.poll() is not None:
            raise AssertionError(f"python -m {NAME} exited: {process.stdout.read().decode(errors='replace')}")
        try:
            if health.Check(health_pb2.HealthCheckRequest(), timeout=1).status == health_pb2.HealthCheckResponse.SERVING:
                return
        except grpc.RpcError:
            pass
        if time.monotonic() > give_up:
            raise AssertionError(f"python -m {NAME} did not report SERVING")
        time.sleep(0.1)


def test_the_new_folder_s_own_tests_pass(scaffolded):
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=scaffolded.service_dir, env=scaffolded.env(), capture_output=True, text=True, timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "8 passed" in result.stdout, result.stdout


def test_the_new_folder_is_ruff_clean_under_the_registered_workspace_config(scaffolded):
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--config", str(scaffolded.root / "pyproject.toml"),
         str(scaffolded.root / "services"), str(scaffolded.root / "libs")],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_printed_standalone_entry_runs_it_behind_a_coordinator(scaffolded, tmp_path):
    # The `services:` entry exactly as the scaffold printed it, in a system of its own.
    printed = scaffolded.output.split("under services:\n", 1)[1].split("\n    and ", 1)[0]
    config = tmp_path / "standalone.yaml"
    config.write_text("version: 1\nstorage:\n  sqlite: {path: ./data/angzarr.db}\nlisten:\n  uds_base: /tmp/angzarr\n"
                      f"services:\n{printed}\ndecode:\n  modules: [{CONTRACTS}.{NAME}_pb2]\n")
    pb = scaffolded.messages()
    create, rename = getattr(pb, f"Create{CLASS}"), getattr(pb, f"Rename{CLASS}")
    created_type, renamed_type = getattr(pb, f"{CLASS}Created"), getattr(pb, f"{CLASS}Renamed")
    sockets = short_socket_dir("scs-")
    system = StandaloneSystem(config, tmp_path / "run", uds_base=sockets, environ=scaffolded.env())
    try:
        system.start()
        root = uuid_for("scaffold through the coordinator")
        with Client.connect(str(system.client_socket(NAME))) as client:
            # As docs/new-bounded-context.md shows it: a new root, one command.
            fresh = client.command_new(NAME).with_command(create(title="Bin")).execute(timeout=30)
            assert decode_event(fresh.events.pages[0], created_type).title == "Bin"

            (page,) = client.command(NAME, root).with_command(create(title="Shelf")).execute(timeout=30).events.pages
            assert (page.header.sequence, decode_event(page, created_type).title) == (0, "Shelf")
            renamed = client.command(NAME, root).with_command(rename(title="Rack")).with_sequence(1).execute(timeout=30)
            assert decode_event(renamed.events.pages[0], renamed_type).title == "Rack"
            stored = client.query(NAME, root).get_pages(timeout=30)
            assert [p.event.type_url.rsplit(".", 1)[1] for p in stored] == [f"{CLASS}Created", f"{CLASS}Renamed"]
    finally:
        system.stop()
        shutil.rmtree(sockets, ignore_errors=True)


def test_scaffolding_over_an_existing_context_is_refused_and_changes_nothing(scaffolded):
    before = {p: p.read_bytes() for p in scaffolded.root.rglob("*") if p.is_file()}
    result = run_new_context("--name", NAME, "--out", str(scaffolded.root), "--register")
    assert result.returncode == 2
    assert "already exists" in result.stderr and "choose another name" in result.stderr
    assert {p: p.read_bytes() for p in scaffolded.root.rglob("*") if p.is_file()} == before


def test_the_real_repository_has_no_trace_of_the_scaffold(scaffolded):
    for folder in (f"proto/{NAME}", f"libs/{CONTRACTS}", f"services/{NAME}"):
        assert not (REPO / folder).exists()
    assert scaffolded.root != REPO and REPO not in scaffolded.root.parents
