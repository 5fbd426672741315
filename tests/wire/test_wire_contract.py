"""The generated descriptors match the wire contract field for field.

``wire-contract.md`` beside this file is the project's wire specification (the listing every message,
field, enum value and service method must match, plus the table of project additions). This test parses
its ``proto`` listings and compares them with the descriptors our generated modules register.
"""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import FieldDescriptor

ROOT = Path(__file__).resolve().parents[2]
SPEC = Path(__file__).with_name("wire-contract.md").read_text()

MODULES = [
    f"angzarr_client.proto.angzarr.{m}_pb2"
    for m in ("types", "command_handler", "query", "stream", "saga", "projector", "process_manager",
              "upcaster", "meta", "cloudevents")
] + [f"poker_contracts.{m}_pb2" for m in ("poker_types", "player", "table", "hand")]

SCALARS = {
    "double": FieldDescriptor.TYPE_DOUBLE, "float": FieldDescriptor.TYPE_FLOAT,
    "int64": FieldDescriptor.TYPE_INT64, "uint64": FieldDescriptor.TYPE_UINT64,
    "int32": FieldDescriptor.TYPE_INT32, "uint32": FieldDescriptor.TYPE_UINT32,
    "bool": FieldDescriptor.TYPE_BOOL, "string": FieldDescriptor.TYPE_STRING,
    "bytes": FieldDescriptor.TYPE_BYTES,
}
FIELD = re.compile(r"^(repeated |optional )?(map<(\w+), ([\w.]+)>|[\w.]+) (\w+) = (\d+);$")


def _parse_listing(text: str):
    """Yield (kind, package, name, body) for every message, enum and service in the proto blocks."""
    for block in re.findall(r"```proto\n(.*?)```", text, re.S):
        package = re.search(r"^package (\w+);", block, re.M).group(1)
        lines = [ln.strip() for ln in block.splitlines()]
        i = 0
        while i < len(lines):
            m = re.match(r"^(message|enum|service) (\w+) \{$", lines[i])
            if not m:
                i += 1
                continue
            body, depth = [], 1
            i += 1
            while depth:
                ln = lines[i]
                if ln.endswith("{"):
                    depth += 1
                elif ln == "}":
                    depth -= 1
                if depth:
                    body.append(ln)
                i += 1
            yield m.group(1), package, m.group(2), body


def _fields(body):
    """(name, number, type text, label, oneof) for each field line of a message body."""
    oneof = None
    for ln in body:
        m1 = re.match(r"^oneof (\w+) \{$", ln)
        if m1:
            oneof = m1.group(1)
            continue
        if ln == "}":
            oneof = None
            continue
        m = FIELD.match(ln)
        assert m, f"unparsed contract line: {ln!r}"
        yield m.group(5), int(m.group(6)), m.group(2), (m.group(1) or "").strip(), oneof


@pytest.fixture(scope="module")
def pool():
    for name in MODULES:
        importlib.import_module(name)
    return descriptor_pool.Default()


CONTRACT = list(_parse_listing(SPEC))


def test_listing_was_parsed():
    kinds = {k for k, *_ in CONTRACT}
    assert kinds == {"message", "enum", "service"}
    assert len(CONTRACT) > 150


def _check_type(fd, type_text, package):
    if type_text in SCALARS:
        assert fd.type == SCALARS[type_text], fd.full_name
        return
    full = type_text if "." in type_text else f"{package}.{type_text}"
    target = fd.message_type or fd.enum_type
    assert target is not None, f"{fd.full_name} should reference {full}"
    assert target.full_name == full, f"{fd.full_name}: {target.full_name} != {full}"


@pytest.mark.parametrize("kind,package,name,body", CONTRACT, ids=lambda v: v if isinstance(v, str) else None)
def test_contract_item_exists_identically(pool, kind, package, name, body):
    full = f"{package}.{name}"
    if kind == "enum":
        ed = pool.FindEnumTypeByName(full)
        for ln in body:
            vname, number = re.match(r"^(\w+) = (\d+);$", ln).groups()
            assert ed.values_by_name[vname].number == int(number), f"{full}.{vname}"
    elif kind == "service":
        sd = pool.FindServiceByName(full)
        for ln in body:
            mname, streaming_in, req, streaming_out, resp = re.match(
                r"^rpc (\w+)\((stream )?([\w.]+)\) returns \((stream )?([\w.]+)\);$", ln).groups()
            md = sd.methods_by_name[mname]
            assert md.input_type.full_name == req and md.output_type.full_name == resp, f"{full}/{mname}"
            assert md.client_streaming == bool(streaming_in) and md.server_streaming == bool(streaming_out)
    else:
        md = pool.FindMessageTypeByName(full)
        for fname, number, type_text, label, oneof in _fields(body):
            assert fname in md.fields_by_name, f"{full}.{fname} missing"
            fd = md.fields_by_name[fname]
            assert fd.number == number, f"{full}.{fname} number {fd.number} != {number}"
            if type_text.startswith("map<"):
                key, value = re.match(r"map<(\w+), ([\w.]+)>", type_text).groups()
                entry = fd.message_type
                assert entry.GetOptions().map_entry, f"{full}.{fname} is not a map"
                _check_type(entry.fields_by_name["key"], key, package)
                _check_type(entry.fields_by_name["value"], value, package)
                continue
            _check_type(fd, type_text, package)
            repeated = fd.is_repeated
            assert repeated == (label == "repeated"), f"{full}.{fname} label"
            if label == "optional":
                assert fd.has_presence and fd.containing_oneof is not None, f"{full}.{fname} optional"
            elif oneof:
                assert fd.containing_oneof is not None and fd.containing_oneof.name == oneof, f"{full}.{fname}"
            else:
                assert fd.containing_oneof is None, f"{full}.{fname} must not be in a oneof"


def _additions():
    """Fields listed in the contract's 'Project additions' tables: {message full name: {field: number}}."""
    section = SPEC.split("## Project additions", 1)[1]
    found: dict[str, dict[str, int]] = {}
    package = "angzarr"
    for ln in section.splitlines():
        if ln.startswith("### Poker"):
            package = "examples"
        m = re.match(r"^\| (?:new )?`(\w+)` \(", ln)
        if not m:
            continue
        for fname, number in re.findall(r"[\w.<>, ]+? (\w+) = (\d+)", ln.split("|")[2]):
            found.setdefault(f"{package}.{m.group(1)}", {})[fname] = int(number)
    return found


def test_nothing_beyond_the_contract_and_its_additions(pool):
    listed = {}
    for kind, package, name, body in CONTRACT:
        if kind == "message":
            listed[f"{package}.{name}"] = {f[0] for f in _fields(body)}
    additions = _additions()
    assert additions["angzarr.CommandResponse"] == {"cascade_books": 4}
    assert additions["examples.HandFlowEvent"] == {"hand_root": 1, "event": 2}
    for full in set(listed) | set(additions):
        md = pool.FindMessageTypeByName(full)
        extra = {f.name: f.number for f in md.fields if f.name not in listed.get(full, set())}
        assert extra == additions.get(full, {}), f"{full}: unlisted fields {extra}"


def test_generated_code_is_current():
    result = subprocess.run([sys.executable, str(ROOT / "tools/gen_proto.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
