"""Generate the Python protobuf and gRPC modules from ``proto/``.

Framework messages (``proto/angzarr``) go to ``angzarr_client.proto.angzarr``; poker messages
(``proto/examples``) go to ``poker_contracts``; any other ``proto/<pkg>/`` (a bounded context added with
``make new-context``) goes to ``libs/<pkg>_contracts/<pkg>_contracts``. Imports inside generated code are
rewritten to those packages. ``--check`` regenerates into a temporary directory and fails if the committed modules differ.
Generated files are never edited by hand: change the ``.proto`` and run ``make proto``.
"""

from __future__ import annotations

import argparse
import filecmp
import re
import sys
import tempfile
from pathlib import Path

import grpc_tools
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "proto"
# proto package directory -> (output directory, python package the imports are rewritten to)
TARGETS = {
    "angzarr": (ROOT / "libs/angzarr_client/angzarr_client/proto/angzarr", "angzarr_client.proto.angzarr"),
    "examples": (ROOT / "libs/poker_contracts/poker_contracts", "poker_contracts"),
}
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")


def contracts_target(proto_pkg: str, root: Path = ROOT) -> tuple[Path, str]:
    """Output directory and python package of a bounded context's own messages (``proto/<proto_pkg>``)."""
    py_pkg = f"{proto_pkg}_contracts"
    return root / "libs" / py_pkg / py_pkg, py_pkg


def targets() -> dict[str, tuple[Path, str]]:
    """``TARGETS`` plus a contracts target for every other ``proto/<pkg>/`` directory with ``.proto`` files."""
    found = dict(TARGETS)
    for pkg_dir in sorted(PROTO_DIR.iterdir()):
        if pkg_dir.is_dir() and pkg_dir.name not in found and any(pkg_dir.glob("*.proto")):
            found[pkg_dir.name] = contracts_target(pkg_dir.name)
    return found


def generate_package(proto_pkg: str, out_dir: Path, py_pkg: str, proto_dir: Path = PROTO_DIR) -> None:
    """Generate ``<proto_dir>/<proto_pkg>/*.proto`` into ``out_dir``, imports rewritten to ``py_pkg``.

    Raises:
        SystemExit: protoc reported an error (it printed the details).
    """
    sources = sorted((proto_dir / proto_pkg).glob("*.proto"))
    with tempfile.TemporaryDirectory() as raw:
        raw_dir = Path(raw)
        include = Path(grpc_tools.__file__).parent / "_proto"
        args = [
            "grpc_tools.protoc",
            f"-I{proto_dir}",
            f"-I{include}",
            f"--python_out={raw_dir}",
            f"--pyi_out={raw_dir}",
            f"--grpc_python_out={raw_dir}",
            *[str(s.relative_to(proto_dir)) for s in sources],
        ]
        if protoc.main(args) != 0:
            raise SystemExit(f"protoc failed for proto/{proto_pkg}")
        out_dir.mkdir(parents=True, exist_ok=True)
        pattern = re.compile(rf"^from {proto_pkg} import (\w+)", re.M)
        for produced in sorted((raw_dir / proto_pkg).iterdir()):
            text = produced.read_text()
            text = pattern.sub(rf"from {py_pkg} import \1", text)
            (out_dir / produced.name).write_text(text)


def generate(root_out: Path | None = None) -> dict[str, Path]:
    """Generate every target; with ``root_out`` write below it instead of into the packages."""
    written = {}
    for proto_pkg, (out_dir, py_pkg) in targets().items():
        dest = out_dir if root_out is None else root_out / proto_pkg
        generate_package(proto_pkg, dest, py_pkg)
        written[proto_pkg] = dest
    return written


def stale_files() -> list[str]:
    """Names of generated files that differ from what ``proto/`` produces now."""
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate(Path(tmp))
        for proto_pkg, (out_dir, _) in targets().items():
            new = {p.name for p in fresh[proto_pkg].iterdir()}
            existing = out_dir.iterdir() if out_dir.is_dir() else ()  # a new proto package not generated yet
            old = {p.name for p in existing if p.name.endswith(GENERATED_SUFFIXES)}
            for name in sorted(new | old):
                a, b = fresh[proto_pkg] / name, out_dir / name
                if not (a.exists() and b.exists() and filecmp.cmp(a, b, shallow=False)):
                    problems.append(str(b.relative_to(ROOT)))
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if generated code is stale")
    ns = parser.parse_args()
    if ns.check:
        stale = stale_files()
        if stale:
            print("generated code is stale; run `make proto`:\n  " + "\n  ".join(stale), file=sys.stderr)
            return 1
        print("generated code is current")
        return 0
    for proto_pkg, dest in generate().items():
        print(f"proto/{proto_pkg} -> {dest.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
