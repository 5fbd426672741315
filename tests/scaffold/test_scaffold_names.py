"""The scaffold's name checks, its rendering for any accepted name, the proto target discovery and the
``make new-context`` entry point. Nothing here writes to the real repository."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys

import gen_proto
import new_context
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from new_context import ContextNameError, ContextNames, check_name, render
from scaffold_run import REPO, run_new_context

VALID = re.compile(r"^[a-z][a-z0-9_]{1,30}$")


@pytest.mark.parametrize(("name", "reason"), [
    ("", "invalid name"),
    ("x", "2-31 characters"),
    ("Inventory", "lowercase"),
    ("1stock", "starting with a letter"),
    ("in-ventory", "lowercase letters, digits and '_'"),
    ("a" * 32, "2-31 characters"),
    ("class", "Python keyword"),
    ("match", "Python keyword"),
    ("json", "standard-library module"),
    ("typing", "standard-library module"),
    ("player", "already installed"),
    ("poker", "'poker_contracts' is already installed"),
    ("yaml", "already installed"),
    ("examples", "reserved"),
    ("angzarr", "reserved"),
    ("message", "reserved"),
    ("timestamp", "clashes with a name the generated code uses"),
    ("command_handler", "clashes with a name the generated code uses"),
])
def test_a_bad_name_is_refused_with_the_reason_and_nothing_is_written(tmp_path, name, reason):
    result = run_new_context("--name", name, "--out", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.startswith("new-context: error: ") and reason in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("folder", ["services/probe_stock", "proto/probe_stock", "libs/probe_stock_contracts"])
def test_a_name_whose_folder_exists_is_refused(tmp_path, folder):
    (tmp_path / folder).mkdir(parents=True)
    with pytest.raises(ContextNameError, match="'probe_stock' already exists"):
        check_name("probe_stock", roots=(tmp_path,))
    result = run_new_context("--name", "probe_stock", "--out", str(tmp_path))
    assert result.returncode == 2 and "already exists" in result.stderr
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()) == []


def test_the_existing_services_cannot_be_scaffolded_again():
    for service in (p.name for p in (REPO / "services").iterdir() if p.is_dir()):
        with pytest.raises(ContextNameError):
            check_name(service)


def test_register_without_a_workspace_root_is_refused_before_anything_is_written(tmp_path):
    result = run_new_context("--name", "probe_stock", "--out", str(tmp_path), "--register")
    assert result.returncode == 2 and "--register needs a workspace root" in result.stderr
    assert list(tmp_path.iterdir()) == []


@given(st.text(max_size=40).filter(lambda s: not VALID.fullmatch(s)))
def test_any_name_outside_the_pattern_raises_the_typed_error(name):
    with pytest.raises(ContextNameError, match="invalid name"):
        check_name(name)


names = st.from_regex(VALID, fullmatch=True)


def _accepted(name: str) -> ContextNames | None:
    try:
        return check_name(name, roots=())
    except ContextNameError:
        return None


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names)
def test_any_accepted_name_renders_parseable_python_and_valid_proto(tmp_path, name):
    ctx = _accepted(name)
    if ctx is None:
        return
    out = tmp_path / name
    shutil.rmtree(out, ignore_errors=True)
    for relative, text in render(ctx).items():
        assert "{{" not in text and "{{" not in str(relative)
        if relative.suffix == ".py":
            ast.parse(text, filename=str(relative))
        (out / relative).parent.mkdir(parents=True, exist_ok=True)
        (out / relative).write_text(text)
    package_dir = out / "libs" / ctx.contracts / ctx.contracts
    gen_proto.generate_package(name, package_dir, ctx.contracts, proto_dir=out / "proto")
    assert (package_dir / f"{name}_pb2.py").exists()


def test_rendered_imports_are_sorted_as_ruff_wants_for_names_before_and_after_angzarr_client(tmp_path):
    # The context's packages sort among angzarr_client by name, so the scaffold orders each import block.
    chosen = ["aa", "account", "angzarr_b", "b0", "inventory", "order_book", "zz_9"]
    for name in chosen:
        for relative, text in render(ContextNames(name)).items():
            (tmp_path / name / relative).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name / relative).write_text(text)
    first_party = ", ".join(f'"{m}"' for n in chosen for m in (n, f"{n}_contracts"))
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--config", str(REPO / "pyproject.toml"), "--config",
         f"lint.isort.known-first-party = [\"angzarr_client\", {first_party}]", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_templates_use_only_known_placeholders():
    for template in new_context.TEMPLATE_DIR.rglob("*.tmpl"):
        for placeholder in re.findall(r"\{\{(\w+)\}\}", str(template) + template.read_text()):
            assert placeholder in ContextNames("x1").placeholders(), (template, placeholder)


def test_gen_proto_discovers_a_new_proto_package_as_a_contracts_target(tmp_path, monkeypatch):
    for known in ("angzarr", "examples"):
        (tmp_path / known).mkdir()
        (tmp_path / known / "a.proto").write_text('syntax = "proto3";\n')
    (tmp_path / "stock").mkdir()
    (tmp_path / "stock" / "stock.proto").write_text('syntax = "proto3";\npackage stock;\n')
    (tmp_path / "empty").mkdir()  # no .proto files: not a target
    monkeypatch.setattr(gen_proto, "PROTO_DIR", tmp_path)
    found = gen_proto.targets()
    assert sorted(found) == ["angzarr", "examples", "stock"]
    assert found["stock"] == (REPO / "libs/stock_contracts/stock_contracts", "stock_contracts")
    assert found["examples"] == gen_proto.TARGETS["examples"]


def test_make_new_context_needs_a_name_and_registers_then_syncs():
    missing = subprocess.run(["make", "-s", "--no-print-directory", "new-context"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert missing.returncode != 0 and "usage: make new-context NAME=<name>" in missing.stderr
    planned = subprocess.run(["make", "-n", "--no-print-directory", "new-context", "NAME=probe_stock"], cwd=REPO, capture_output=True,
                             text=True, timeout=60)
    assert planned.returncode == 0, planned.stderr
    commands = [line.strip() for line in planned.stdout.splitlines() if line.strip()]
    assert any(c.endswith('tools/new_context.py --name "probe_stock" --register') for c in commands), commands
    assert commands[-2].endswith("lock") and commands[-1].endswith("sync --all-packages")



def test_a_failed_generation_leaves_no_half_made_context(tmp_path, monkeypatch):
    def protoc_fails(*args, **kwargs):
        raise SystemExit("protoc failed for proto/probe_stock")

    monkeypatch.setattr(new_context, "generate_package", protoc_fails)
    with pytest.raises(new_context.ScaffoldError, match="protoc failed for proto/probe_stock"):
        new_context.scaffold(check_name("probe_stock", roots=(tmp_path,)), tmp_path)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    assert not any((tmp_path / folder).exists() for folder in ContextNames("probe_stock").destinations())
