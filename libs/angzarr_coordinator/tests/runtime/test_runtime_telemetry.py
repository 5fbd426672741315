"""OpenTelemetry export (spec/coordinator.md §11): switched by the standard ``OTEL_*`` variables.

``configure_telemetry`` installs global providers, which can be set once per process, so each case
runs in a fresh interpreter. The end-to-end case runs ``angzarr standalone`` against an OTLP collector
served by the test itself and checks what arrived.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import uuid
from concurrent import futures

import grpc
import pytest
from google.protobuf import any_pb2, wrappers_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from runtime_harness import echo_service

from angzarr_client.proto.angzarr import command_handler_pb2_grpc, types_pb2

PROBE = textwrap.dedent("""
    import json, os, sys
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from angzarr_coordinator.observability import configure_telemetry, metrics, tracer

    env = json.loads(sys.argv[1])
    extra = sys.argv[2] == "memory"
    spans, reader = InMemorySpanExporter(), InMemoryMetricReader()
    t = configure_telemetry(env, span_exporters=[spans] if extra else [], metric_readers=[reader] if extra else [])
    with tracer.start_as_current_span("aggregate.handle", attributes={"angzarr.domain": "player"}):
        pass
    metrics.command_total.add(1, {"domain": "player", "outcome": "ok"})
    out = {
        "enabled": t.enabled,
        "traces": t.tracer_provider is not None,
        "metrics": t.meter_provider is not None,
        "service": t.tracer_provider.resource.attributes.get("service.name") if t.tracer_provider else None,
        "spans": [s.name for s in spans.get_finished_spans()],
        "span_service": [s.resource.attributes.get("service.name") for s in spans.get_finished_spans()],
    }
    data = reader.get_metrics_data() if extra else None
    out["metric_names"] = sorted(
        m.name for rm in (data.resource_metrics if data else []) for sm in rm.scope_metrics for m in sm.metrics
    )
    print(json.dumps(out))
""")


def probe(env: dict[str, str], mode: str = "plain") -> dict:
    result = subprocess.run([sys.executable, "-c", PROBE, json.dumps(env), mode],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_nothing_is_exported_without_otel_variables():
    assert probe({}) == {"enabled": False, "traces": False, "metrics": False, "service": None, "spans": [],
                         "span_service": [], "metric_names": []}


def test_an_otlp_endpoint_enables_traces_and_metrics_named_by_otel_service_name(collector):
    sink, endpoint = collector
    out = probe({"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_SERVICE_NAME": "table"})
    assert (out["traces"], out["metrics"], out["service"]) == (True, True, "table")
    assert [(svc, name) for svc, name, *_ in sink.spans] == [("table", "aggregate.handle")]
    assert ("table", "angzarr.command.total") in sink.metrics


def test_per_signal_variables_enable_one_signal_and_service_name_defaults_to_angzarr(collector):
    _, endpoint = collector
    out = probe({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": endpoint})
    assert (out["traces"], out["metrics"], out["service"]) == (True, False, "angzarr")
    out = probe({"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": endpoint})
    assert (out["traces"], out["metrics"]) == (False, True)
    out = probe({"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_METRICS_EXPORTER": "none"})
    assert (out["traces"], out["metrics"]) == (True, False)


def test_sdk_disabled_wins_over_an_endpoint():
    out = probe({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_SDK_DISABLED": "true"}, "memory")
    assert out["enabled"] is False and out["spans"] == [] and out["metric_names"] == []


def test_in_memory_exporters_capture_the_coordinator_instruments():
    out = probe({"OTEL_SERVICE_NAME": "hand"}, "memory")
    assert out["spans"] == ["aggregate.handle"] and out["span_service"] == ["hand"]
    assert out["metric_names"] == ["angzarr.command.total"]


class Collector(trace_service_pb2_grpc.TraceServiceServicer, metrics_service_pb2_grpc.MetricsServiceServicer):
    """An OTLP/gRPC collector that keeps what it receives."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, str, bytes, bytes, dict]] = []  # service, name, trace id, parent, attrs
        self.metrics: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def Export(self, request, context):
        with self.lock:
            if isinstance(request, trace_service_pb2.ExportTraceServiceRequest):
                for rs in request.resource_spans:
                    service = _service_name(rs.resource)
                    for ss in rs.scope_spans:
                        for s in ss.spans:
                            attrs = {a.key: a.value.string_value or a.value.int_value for a in s.attributes}
                            self.spans.append((service, s.name, s.trace_id, s.parent_span_id, attrs))
                return trace_service_pb2.ExportTraceServiceResponse()
            for rm in request.resource_metrics:
                service = _service_name(rm.resource)
                for sm in rm.scope_metrics:
                    for m in sm.metrics:
                        self.metrics.append((service, m.name))
            return metrics_service_pb2.ExportMetricsServiceResponse()


def _service_name(resource) -> str:
    return next((a.value.string_value for a in resource.attributes if a.key == "service.name"), "")


@pytest.fixture
def collector():
    sink = Collector()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(sink, server)
    metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(sink, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield sink, f"http://127.0.0.1:{port}"
    server.stop(0)


def test_standalone_exports_rpc_and_pipeline_spans_and_metrics_over_otlp(standalone, collector):
    sink, endpoint = collector
    standalone.write_config([echo_service("alpha")])
    standalone.start(OTEL_SDK_DISABLED="false", OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
                     OTEL_EXPORTER_OTLP_INSECURE="true")
    standalone.wait_ready("alpha")
    payload = any_pb2.Any()
    payload.Pack(wrappers_pb2.StringValue(value="traced"))
    request = types_pb2.CommandRequest(command=types_pb2.CommandBook(
        cover=types_pb2.Cover(domain="alpha", root=types_pb2.UUID(value=uuid.uuid4().bytes)),
        pages=[types_pb2.CommandPage(command=payload)],
    ))
    caller_trace = "0af7651916cd43dd8448eb211c80319c"
    with grpc.insecure_channel(standalone.target("alpha")) as channel:
        stub = command_handler_pb2_grpc.CommandHandlerCoordinatorServiceStub(channel)
        stub.HandleCommand(request, timeout=10, metadata=[("traceparent", f"00-{caller_trace}-b7ad6b7169203331-01")])
        request.command.cover.domain = "nowhere"
        with pytest.raises(grpc.RpcError):
            stub.HandleCommand(request, timeout=10)
    standalone.terminate()
    assert standalone.wait_exit() == 0  # shutdown flushes the exporters

    rpc = [s for s in sink.spans if s[1] == "angzarr.CommandHandlerCoordinatorService/HandleCommand"]
    assert len(rpc) == 2
    rpc.sort(key=lambda s: s[4]["rpc.grpc.status_code"])
    assert rpc[1][4]["rpc.grpc.status_code"] == grpc.StatusCode.NOT_FOUND.value[0]
    assert rpc[1][2].hex() != caller_trace  # no traceparent: a trace of its own
    service, _, trace_id, parent, attrs = rpc[0]
    assert service == "angzarr"
    assert trace_id.hex() == caller_trace and parent.hex() == "b7ad6b7169203331"  # joins the caller's trace
    assert attrs["rpc.grpc.status_code"] == 0
    assert attrs["angzarr.domain"] == "alpha"
    handle = [s for s in sink.spans if s[1] == "aggregate.handle"]
    assert len(handle) == 1 and handle[0][2].hex() == caller_trace
    assert not [s for s in sink.spans if "grpc.health" in s[1]]
    assert ("angzarr", "angzarr.command.total") in sink.metrics
