"""Payload decoding for the CLI: modules, descriptor sets, and never failing on a payload."""

from __future__ import annotations

import base64
import subprocess
import sys

from google.protobuf import any_pb2, descriptor_pb2, timestamp_pb2
from hypothesis import given
from hypothesis import strategies as st

from angzarr_coordinator.decode import PayloadDecoder
from poker_contracts import player_pb2

PROTO = """
syntax = "proto3";
package cli_decode_probe;
import "google/protobuf/timestamp.proto";
message Shipped { string parcel = 1; google.protobuf.Timestamp at = 2; repeated int32 sizes = 3; }
"""


def test_a_descriptor_set_decodes_types_no_module_provides(tmp_path):
    (tmp_path / "probe.proto").write_text(PROTO)
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", f"-I{tmp_path}", "--include_imports",
                    f"--descriptor_set_out={tmp_path / 'probe.pb'}", str(tmp_path / "probe.proto")], check=True)
    # Build the bytes by hand from the descriptor's field numbers: this process never imports the type.
    files = descriptor_pb2.FileDescriptorSet.FromString((tmp_path / "probe.pb").read_bytes())
    assert [f.name for f in files.file][-1] == "probe.proto"
    at = timestamp_pb2.Timestamp(seconds=1_700_000_000)
    raw = b"\x0a\x03box" + b"\x12" + bytes([len(at.SerializeToString())]) + at.SerializeToString() + b"\x1a\x02\x01\x02"
    payload = any_pb2.Any(type_url="type.googleapis.com/cli_decode_probe.Shipped", value=raw)

    assert PayloadDecoder().any_to_json(payload)["value"] == base64.b64encode(raw).decode()
    decoded = PayloadDecoder(descriptor_sets=[tmp_path / "probe.pb"]).any_to_json(payload)
    assert decoded == {"@type": "type.googleapis.com/cli_decode_probe.Shipped", "parcel": "box",
                       "at": "2023-11-14T22:13:20Z", "sizes": [1, 2]}


def test_type_matching_uses_the_name_after_the_last_slash():
    payload = any_pb2.Any(type_url="custom.example/prefix/examples.SitOut",
                          value=player_pb2.SitOut().SerializeToString())
    assert PayloadDecoder(["poker_contracts.player_pb2"]).any_to_json(payload) == {
        "@type": "custom.example/prefix/examples.SitOut"}


@given(type_url=st.sampled_from(["type.googleapis.com/examples.RegisterPlayer", "type.googleapis.com/x.Y",
                                 "", "no-slash", "type.googleapis.com/google.protobuf.Timestamp"]),
       value=st.binary(max_size=64))
def test_any_payload_decodes_or_falls_back_to_base64(type_url, value):
    out = PayloadDecoder(["poker_contracts.player_pb2"]).any_to_json(any_pb2.Any(type_url=type_url, value=value))
    assert out["@type"] == type_url
    raw = {"@type": type_url, "value": base64.b64encode(value).decode()}
    if type_url.endswith(("x.Y", "no-slash")) or type_url == "":
        assert out == raw  # unknown type
    elif out != raw:  # a known type whose bytes parsed: the JSON form of that message
        assert "value" not in out or not isinstance(out["value"], str) or type_url.endswith("Timestamp")
