"""Request validation over gRPC (spec/coordinator.md §2): clear INVALID_ARGUMENT / NOT_FOUND /
UNIMPLEMENTED answers, nothing stored on error, and no input that crashes the coordinator."""

from __future__ import annotations

import uuid

import grpc
import pytest
from coord_support import CoordinatorHarness, aggregate_query, bank_topology, command, cover, struct_any
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from angzarr_client.proto.angzarr import types_pb2

INVALID = grpc.StatusCode.INVALID_ARGUMENT


def expect(coordinator, request, code: grpc.StatusCode, text: str = ""):
    before = coordinator.event_count()
    with pytest.raises(grpc.RpcError) as info:
        coordinator.commands.HandleCommand(request)
    assert info.value.code() == code, info.value.details()
    assert text in info.value.details()
    assert coordinator.event_count() == before
    return info.value


def test_missing_cover_root_short_root_or_bad_domain_is_invalid(coordinator):
    no_cover = command()
    no_cover.command.ClearField("cover")
    expect(coordinator, no_cover, INVALID, "cover is required")
    no_root = command()
    no_root.command.cover.ClearField("root")
    expect(coordinator, no_root, INVALID, "root is required")
    short = command()
    short.command.cover.root.value = b"x" * 15
    expect(coordinator, short, INVALID, "exactly 16 bytes")
    for bad in ["", "Bank", "1bank", "bank.x", "b" * 65, "bank\n"]:
        expect(coordinator, command(domain=bad), INVALID, "not a valid domain")


def test_page_count_and_payload_size_limits(coordinator):
    many = command()
    for _ in range(100):
        many.command.pages.add().command.CopyFrom(struct_any(op="deposit"))
    expect(coordinator, many, INVALID, "101 pages")
    empty = command()
    del empty.command.pages[:]
    expect(coordinator, empty, INVALID, "no pages")
    big = types_pb2.CommandRequest(command=types_pb2.CommandBook(cover=cover()))
    page = big.command.pages.add()
    page.command.type_url = "type.googleapis.com/test.Blob"
    page.command.value = b"\x01" * (256 * 1024 + 1)
    expect(coordinator, big, INVALID, "over the limit of 262144 bytes")


def test_100_pages_of_256_kib_succeed(coordinator, bank_service):
    request = types_pb2.CommandRequest(command=types_pb2.CommandBook(cover=cover()))
    for _ in range(100):
        page = request.command.pages.add()
        page.command.type_url = "type.googleapis.com/test.Blob"
        page.command.value = b"\x02" * (256 * 1024)
    response = coordinator.commands.HandleCommand(request)
    assert [p.header.sequence for p in response.events.pages] == [0]


@pytest.mark.parametrize("type_url", ["", "no-slash", "type.googleapis.com/" + "x" * 500])
def test_type_url_rules(coordinator, type_url):
    request = command()
    request.command.pages[0].command.type_url = type_url
    expect(coordinator, request, INVALID, "type_url")


def test_correlation_id_rules(coordinator):
    expect(coordinator, command(correlation_id="c" * 129), INVALID, "correlation id")
    expect(coordinator, command(correlation_id="order.7"), INVALID, "correlation id")
    ok = coordinator.commands.HandleCommand(command(correlation_id="A_z-9" * 25 + "abc"))
    assert len(ok.events.cover.correlation_id) == 128


def test_named_edition_cascade_id_and_payload_references_are_unimplemented(coordinator):
    edition = command()
    edition.command.cover.edition.name = "what-if"
    expect(coordinator, edition, grpc.StatusCode.UNIMPLEMENTED, "editions are not supported")
    bad_edition = command()
    bad_edition.command.cover.edition.name = "What If"
    expect(coordinator, bad_edition, INVALID, "edition name")
    cascade = command()
    cascade.cascade_id = "c-1"
    expect(coordinator, cascade, grpc.StatusCode.UNIMPLEMENTED, "cascade_id")
    external = types_pb2.CommandRequest(command=types_pb2.CommandBook(cover=cover()))
    external.command.pages.add().external.uri = "s3://bucket/key"
    expect(coordinator, external, grpc.StatusCode.UNIMPLEMENTED, "PayloadReference")


def test_unknown_domain_is_not_found_and_lists_served_domains(coordinator):
    err = expect(coordinator, command(domain="nowhere"), grpc.StatusCode.NOT_FOUND)
    assert err.details() == "unknown domain 'nowhere'; served: bank, flow, ghost, rawbank, upbank"
    # A process-manager state domain is known but takes no commands.
    expect(coordinator, command(domain="flow"), grpc.StatusCode.NOT_FOUND, "no command handler")


def test_unknown_enum_values_fall_back_to_defaults(coordinator):
    root = uuid.uuid4()
    coordinator.commands.HandleCommand(command(root=root))
    request = command(root=root, sequence=0, merge=77)  # unknown merge → COMMUTATIVE: stale is fine
    request.sync_mode = 9
    request.cascade_error_mode = 42
    assert coordinator.commands.HandleCommand(request).events.pages[0].header.sequence == 1


def test_sidecar_takes_commands_for_its_domain_only_but_answers_queries(tmp_path, bank_service):
    harness = CoordinatorHarness(
        tmp_path / "e.db", bank_topology(str(bank_service.socket)), tmp_path / "s.sock", sidecar_domain="bank"
    )
    try:
        root = uuid.uuid4()
        harness.commands.HandleCommand(command(root=root))
        with pytest.raises(grpc.RpcError) as info:
            harness.commands.HandleCommand(command(domain="upbank"))
        assert info.value.code() == grpc.StatusCode.NOT_FOUND and "'bank' only" in info.value.details()
        assert harness.queries.GetEventBook(aggregate_query("upbank", uuid.uuid4())).next_sequence == 0
        assert len(harness.queries.GetEventBook(aggregate_query("bank", root)).pages) == 1
    finally:
        harness.close()


# -- fuzzing ---------------------------------------------------------------------------------------
ALLOWED_COMMAND_CODES = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.UNIMPLEMENTED,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.ABORTED,
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.OUT_OF_RANGE,
    grpc.StatusCode.INTERNAL,  # only as "handler ... failed" / "handler returned invalid page"
}

domains = st.one_of(st.sampled_from(["bank", "ghost", "flow", "nowhere", ""]), st.text(max_size=70))
roots = st.one_of(st.binary(min_size=16, max_size=16), st.binary(max_size=20))
correlation_ids = st.one_of(st.just(""), st.from_regex(r"[A-Za-z0-9_-]{1,128}", fullmatch=True), st.text(max_size=140))
type_urls = st.one_of(
    st.sampled_from(["type.googleapis.com/google.protobuf.Struct", "type.googleapis.com/test.Blob", "", "x"]),
    st.text(max_size=600),
)
ops = st.sampled_from(["deposit", "withdraw", "echo", "empty_events", "nothing", "revoke", "nopayload", "bogus"])


@st.composite
def command_pages(draw):
    page = types_pb2.CommandPage(merge_strategy=draw(st.integers(0, 9)))
    header = draw(st.sampled_from(["none", "sequence", "deferred", "external"]))
    if header == "sequence":
        page.header.sequence = draw(st.integers(0, 2**32 - 1))
    elif header == "deferred":
        page.header.angzarr_deferred.source.domain = draw(domains)
        page.header.angzarr_deferred.source.root.value = draw(roots)
        page.header.angzarr_deferred.source_seq = draw(st.integers(0, 2**32 - 1))
    elif header == "external":
        page.header.external_deferred.external_id = draw(st.text(max_size=10))
    payload = draw(st.sampled_from(["struct", "raw", "external", "none"]))
    if payload == "struct":
        page.command.CopyFrom(struct_any(op=draw(ops), amount=draw(st.floats(-5, 5, allow_nan=False))))
        if draw(st.booleans()):
            page.command.type_url = draw(type_urls)
    elif payload == "raw":
        page.command.type_url = draw(type_urls)
        page.command.value = draw(st.binary(max_size=64))
    elif payload == "external":
        page.external.uri = "s3://x"
    return page


@st.composite
def command_requests(draw):
    request = types_pb2.CommandRequest(sync_mode=draw(st.integers(0, 5)), cascade_error_mode=draw(st.integers(0, 5)))
    if draw(st.integers(0, 9)) > 0:
        c = request.command.cover
        c.domain = draw(domains)
        if draw(st.integers(0, 9)) > 0:
            c.root.value = draw(roots)
        c.correlation_id = draw(correlation_ids)
        edition = draw(st.sampled_from([None, "", "angzarr", "other", "Bad Name"]))
        if edition is not None:
            c.edition.name = edition
    request.command.pages.extend(draw(st.lists(command_pages(), max_size=4)))
    if draw(st.integers(0, 19)) == 0:
        request.cascade_id = "x"
    return request


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=command_requests())
def test_fuzzed_commands_get_a_typed_status_and_errors_store_nothing(coordinator, request):
    before = coordinator.event_count()
    try:
        coordinator.commands.HandleCommand(request, timeout=20)
    except grpc.RpcError as err:
        assert err.code() in ALLOWED_COMMAND_CODES, (err.code(), err.details())
        assert err.details()
        if err.code() == grpc.StatusCode.INTERNAL:
            assert err.details().startswith("handler"), err.details()
        assert coordinator.event_count() == before
    else:
        assert coordinator.event_count() >= before


@st.composite
def queries(draw):
    query = types_pb2.Query()
    if draw(st.integers(0, 9)) > 0:
        c = query.cover
        c.domain = draw(domains)
        if draw(st.booleans()):
            c.root.value = draw(roots)
        c.correlation_id = draw(correlation_ids)
        if draw(st.integers(0, 5)) == 0:
            c.edition.name = draw(st.sampled_from(["angzarr", "other", "Bad"]))
    selection = draw(st.sampled_from(["none", "range", "sequences", "temporal_seq", "temporal_time", "temporal_none"]))
    if selection == "range":
        query.range.lower = draw(st.integers(0, 2**32 - 1))
        if draw(st.booleans()):
            query.range.upper = draw(st.integers(0, 2**32 - 1))
    elif selection == "sequences":
        query.sequences.values.extend(draw(st.lists(st.integers(0, 2**32 - 1), max_size=20)))
    elif selection == "temporal_seq":
        query.temporal.as_of_sequence = draw(st.integers(0, 2**32 - 1))
    elif selection == "temporal_time":
        query.temporal.as_of_time.seconds = draw(st.integers(-(2**40), 2**40))
    elif selection == "temporal_none":
        query.temporal.SetInParent()
    return query


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=queries())
def test_fuzzed_queries_get_a_typed_status(coordinator, query):
    allowed = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.UNIMPLEMENTED}
    for call in (coordinator.queries.GetEventBook, lambda q: list(coordinator.queries.GetEvents(q))):
        try:
            call(query)
        except grpc.RpcError as err:
            assert err.code() in allowed, (err.code(), err.details())
            assert err.details()


@st.composite
def fact_requests(draw):
    request = types_pb2.EventRequest(sync_mode=draw(st.integers(0, 5)), route_to_handler=draw(st.booleans()))
    if draw(st.integers(0, 9)) > 0:
        c = request.events.cover
        c.domain = draw(domains)
        if draw(st.integers(0, 9)) > 0:
            c.root.value = draw(roots)
        c.correlation_id = draw(correlation_ids)
    for _ in range(draw(st.integers(0, 3))):
        page = request.events.pages.add()
        header = draw(st.sampled_from(["none", "sequence", "external"]))
        if header == "sequence":
            page.header.sequence = draw(st.integers(0, 2**32 - 1))
        elif header == "external":
            page.header.external_deferred.external_id = draw(st.text(max_size=300))
        if draw(st.integers(0, 5)) > 0:
            page.event.type_url = draw(type_urls)
            page.event.value = draw(st.binary(max_size=32))
    return request


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=fact_requests())
def test_fuzzed_facts_get_a_typed_status_and_errors_store_nothing(coordinator, request):
    before = coordinator.event_count()
    try:
        coordinator.commands.HandleEvent(request, timeout=20)
    except grpc.RpcError as err:
        assert err.code() in {INVALID, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.UNIMPLEMENTED}, err.details()
        assert coordinator.event_count() == before


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=command_requests(), as_of=st.one_of(st.none(), st.integers(0, 5)))
def test_fuzzed_speculation_never_stores_and_compensation_gets_typed_statuses(coordinator, request, as_of):
    from angzarr_client.proto.angzarr import command_handler_pb2

    before = coordinator.event_count()
    speculative = command_handler_pb2.SpeculateCommandHandlerRequest(command=request.command)
    if as_of is not None:
        speculative.point_in_time.as_of_sequence = as_of
    try:
        coordinator.commands.HandleSyncSpeculative(speculative, timeout=20)
    except grpc.RpcError as err:
        assert err.code() in ALLOWED_COMMAND_CODES, (err.code(), err.details())
    assert coordinator.event_count() == before
    assert coordinator.dead_letters() == []
    try:
        coordinator.commands.HandleCompensation(request, timeout=20)
    except grpc.RpcError as err:
        assert err.code() in ALLOWED_COMMAND_CODES, (err.code(), err.details())
        if err.code() == grpc.StatusCode.INTERNAL:
            assert err.details().startswith("handler"), err.details()
        assert coordinator.event_count() == before
