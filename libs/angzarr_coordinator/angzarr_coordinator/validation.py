"""Request validation for every coordinator RPC (spec/coordinator.md §2).

Everything here runs before any I/O and raises ``RpcFailure``: ``INVALID_ARGUMENT`` for malformed
input, ``NOT_FOUND`` for an unknown domain, ``UNIMPLEMENTED`` for release-2 features (named editions,
``cascade_id``, claim-check payloads). Unknown enum values fall back to their defaults.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection
from dataclasses import dataclass

import grpc

from angzarr_client.proto.angzarr import types_pb2

from .richerror import RpcFailure, invalid
from .store.base import MAIN_EDITION, AggregateKey
from .topology import Limits

_DOMAIN = re.compile(r"[a-z_][a-z0-9_-]{0,63}")
_EDITION = re.compile(r"[a-z][a-z0-9_-]{0,63}")
_CORRELATION = re.compile(r"[A-Za-z0-9_-]{1,128}")
MAX_TYPE_URL = 512
MAX_EXTERNAL_ID = 256
MAX_REACTION_ID = 1024

MERGE_STRATEGIES = frozenset(types_pb2.MergeStrategy.values())
SYNC_MODES = frozenset(types_pb2.SyncMode.values())
CASCADE_ERROR_MODES = frozenset(types_pb2.CascadeErrorMode.values())


def merge_strategy(value: int) -> int:
    """The page's strategy; unknown values are COMMUTATIVE."""
    return value if value in MERGE_STRATEGIES else types_pb2.MERGE_COMMUTATIVE


def sync_mode(value: int) -> int:
    return value if value in SYNC_MODES else types_pb2.SYNC_MODE_ASYNC


def cascade_error_mode(value: int) -> int:
    return value if value in CASCADE_ERROR_MODES else types_pb2.CASCADE_ERROR_FAIL_FAST


def check_domain_name(domain: str, what: str = "cover.domain") -> None:
    if not _DOMAIN.fullmatch(domain):
        raise invalid(
            f"{what} {domain!r} is not a valid domain: use 1-64 characters a-z, 0-9, '_' or '-', "
            "starting with a letter or '_'"
        )


def check_known(domain: str, known: Collection[str]) -> None:
    if domain not in known:
        served = ", ".join(sorted(known)) or "none"
        raise RpcFailure(grpc.StatusCode.NOT_FOUND, f"unknown domain '{domain}'; served: {served}")


def root_of(msg: types_pb2.UUID, what: str = "cover.root") -> uuid.UUID:
    if len(msg.value) != 16:
        raise invalid(f"{what} must be a UUID of exactly 16 bytes, got {len(msg.value)} bytes")
    return uuid.UUID(bytes=msg.value)


def check_correlation_id(correlation_id: str) -> None:
    if correlation_id and not _CORRELATION.fullmatch(correlation_id):
        raise invalid(
            "correlation id must be empty or 1-128 characters of A-Z, a-z, 0-9, '_' or '-'"
            f" (got {len(correlation_id)} characters)"
        )


def check_edition(cover: types_pb2.Cover) -> str:
    """The edition of ``cover``; only the main timeline is served in release 1."""
    if not cover.HasField("edition"):
        return MAIN_EDITION
    name = cover.edition.name
    if name not in ("", MAIN_EDITION) and not _EDITION.fullmatch(name):
        raise invalid(f"edition name {name!r} is invalid: use 1-64 characters a-z, 0-9, '_' or '-'")
    if name not in ("", MAIN_EDITION) or cover.edition.divergences:
        raise RpcFailure(
            grpc.StatusCode.UNIMPLEMENTED,
            f"editions are not supported in this release (got edition {name!r}); use the main timeline",
        )
    return MAIN_EDITION


def aggregate_key(cover: types_pb2.Cover, known: Collection[str], what: str = "cover") -> AggregateKey:
    """Validate a cover naming one aggregate and return its key."""
    check_domain_name(cover.domain, f"{what}.domain")
    if not cover.HasField("root"):
        raise invalid(f"{what}.root is required")
    root = root_of(cover.root, f"{what}.root")
    check_correlation_id(cover.correlation_id)
    edition = check_edition(cover)
    check_known(cover.domain, known)
    return AggregateKey(cover.domain, root, edition)


def check_payload(any_msg, index: int, kind: str, limits: Limits) -> None:
    url = any_msg.type_url
    if not url or len(url) > MAX_TYPE_URL or "/" not in url:
        raise invalid(
            f"{kind} page {index}: type_url must be non-empty, at most {MAX_TYPE_URL} characters and "
            "contain '/' (e.g. type.googleapis.com/pkg.Message)"
        )
    if len(any_msg.value) > limits.max_payload_bytes:
        raise invalid(
            f"{kind} page {index}: payload is {len(any_msg.value)} bytes, over the limit of "
            f"{limits.max_payload_bytes} bytes"
        )


def check_inline_page(page, index: int, kind: str, field: str, limits: Limits) -> None:
    """A ``kind`` page carries its ``field`` (``command`` or ``event``) inline and within the limits.

    Raises:
        RpcFailure: UNIMPLEMENTED for a ``PayloadReference``; INVALID_ARGUMENT for no payload or a bad one.
    """
    payload = page.WhichOneof("payload")
    if payload == "external":
        raise RpcFailure(
            grpc.StatusCode.UNIMPLEMENTED,
            f"{kind} page {index}: PayloadReference payloads are not supported; send the {field} inline",
        )
    if payload is None:
        raise invalid(f"{kind} page {index} has no {field} payload")
    check_payload(getattr(page, field), index, kind, limits)


def check_page_count(count: int, kind: str, limits: Limits) -> None:
    if count < 1:
        raise invalid(f"{kind} book has no pages; send 1 to {limits.max_pages_per_book}")
    if count > limits.max_pages_per_book:
        raise invalid(f"{kind} book has {count} pages, over the limit of {limits.max_pages_per_book}")


@dataclass(frozen=True, slots=True)
class CommandTarget:
    """What the pipeline needs from a valid command book."""

    key: AggregateKey
    correlation_id: str
    strategy: int
    expected: int | None  # None for deferred headers (reaction commands): no expectation
    provenance: str | None  # dedupe key of a deferred command


def deferred_provenance(deferred: types_pb2.AngzarrDeferredSequence) -> str:
    """The fallback provenance key ``source domain;root hex;edition;source_seq`` (§4.1)."""
    src = deferred.source
    if not src.domain:
        raise invalid("angzarr_deferred.source.domain is required")
    check_domain_name(src.domain, "angzarr_deferred.source.domain")
    root = root_of(src.root, "angzarr_deferred.source.root")
    edition = src.edition.name if src.HasField("edition") and src.edition.name else MAIN_EDITION
    return f"{src.domain};{root.hex};{edition};{deferred.source_seq}"


def command_target(
    book: types_pb2.CommandBook,
    limits: Limits,
    known: Collection[str],
    *,
    reaction_id: str | None = None,
    sidecar_domain: str | None = None,
) -> CommandTarget:
    """Validate a command book (§2, §3.1 step 1); raise ``RpcFailure``."""
    if not book.HasField("cover"):
        raise invalid("command.cover is required (domain and root)")
    key = aggregate_key(book.cover, known)
    if sidecar_domain is not None and key.domain != sidecar_domain:
        raise RpcFailure(
            grpc.StatusCode.NOT_FOUND,
            f"this coordinator takes commands for domain '{sidecar_domain}' only, not '{key.domain}'",
        )
    check_page_count(len(book.pages), "command", limits)
    for i, page in enumerate(book.pages):
        check_inline_page(page, i, "command", "command", limits)
    first = book.pages[0]
    header_kind = first.header.WhichOneof("sequence_type") if first.HasField("header") else None
    expected: int | None
    provenance = None
    if header_kind == "angzarr_deferred":
        expected = None
        provenance = deferred_provenance(first.header.angzarr_deferred)
        if reaction_id:
            if len(reaction_id) > MAX_REACTION_ID:
                raise invalid(f"x-angzarr-reaction is over {MAX_REACTION_ID} characters")
            provenance = reaction_id
    elif header_kind == "external_deferred":
        expected = None
    else:
        expected = first.header.sequence
    return CommandTarget(
        key=key,
        correlation_id=book.cover.correlation_id,
        strategy=merge_strategy(first.merge_strategy),
        expected=expected,
        provenance=provenance,
    )


def check_cascade_id(request) -> None:
    if request.HasField("cascade_id"):
        raise RpcFailure(
            grpc.StatusCode.UNIMPLEMENTED,
            "cascade_id (two-phase cascade commit) is not supported in this release; leave it unset",
        )


@dataclass(frozen=True, slots=True)
class FactTarget:
    key: AggregateKey
    correlation_id: str
    external_id: str


def fact_target(book: types_pb2.EventBook, limits: Limits, known: Collection[str]) -> FactTarget:
    """Validate a fact book (§3.6); raise ``RpcFailure``."""
    if not book.HasField("cover"):
        raise invalid("events.cover is required (domain and root)")
    key = aggregate_key(book.cover, known, "events.cover")
    check_page_count(len(book.pages), "fact", limits)
    external_id = ""
    for i, page in enumerate(book.pages):
        check_inline_page(page, i, "fact", "event", limits)
        if not external_id and page.header.WhichOneof("sequence_type") == "external_deferred":
            external_id = page.header.external_deferred.external_id
    if not external_id:
        raise invalid(
            "a fact needs an external id: set header.external_deferred.external_id on a page "
            "(it makes the injection idempotent)"
        )
    if len(external_id) > MAX_EXTERNAL_ID:
        raise invalid(f"external id is {len(external_id)} characters, over the limit of {MAX_EXTERNAL_ID}")
    return FactTarget(key=key, correlation_id=book.cover.correlation_id, external_id=external_id)


@dataclass(frozen=True, slots=True)
class QuerySpec:
    """A validated ``Query``: one aggregate (``key``) or a correlation id narrowed by domain/root."""

    key: AggregateKey | None
    domain: str | None
    root: uuid.UUID | None
    correlation_id: str | None
    lower: int = 0
    upper: int | None = None
    sequences: tuple[int, ...] | None = None
    as_of_time: object | None = None  # datetime (UTC)


def query_spec(query: types_pb2.Query, limits: Limits, known: Collection[str]) -> QuerySpec:
    """Validate a ``Query`` (§2, §5.1); raise ``RpcFailure``."""
    if not query.HasField("cover"):
        raise invalid("query.cover is required: give a domain and root, or a correlation id")
    cover = query.cover
    check_correlation_id(cover.correlation_id)
    check_edition(cover)
    has_root = cover.HasField("root") and len(cover.root.value) > 0
    if not has_root and not cover.correlation_id:
        raise invalid("query.cover needs a root (with its domain) or a correlation id")
    domain = cover.domain or None
    root = None
    if has_root:
        root = root_of(cover.root, "query.cover.root")
        if domain is None and not cover.correlation_id:
            raise invalid("query.cover.domain is required with a root")
    if domain is not None:
        check_domain_name(domain, "query.cover.domain")
        check_known(domain, known)
    spec = dict(lower=0, upper=None, sequences=None, as_of_time=None)
    kind = query.WhichOneof("selection")
    if kind == "range":
        rng = query.range
        upper = rng.upper if rng.HasField("upper") else None
        if upper is not None and rng.lower > upper:
            raise invalid(f"range lower {rng.lower} is above upper {upper}; bounds are inclusive")
        spec.update(lower=rng.lower, upper=upper)
    elif kind == "sequences":
        values = query.sequences.values
        if len(values) > limits.max_query_sequences:
            raise invalid(
                f"sequence set has {len(values)} values, over the limit of {limits.max_query_sequences}; "
                "use a range"
            )
        spec.update(sequences=tuple(sorted(set(values))))
    elif kind == "temporal":
        point = query.temporal.WhichOneof("point_in_time")
        if point == "as_of_sequence":
            spec.update(upper=query.temporal.as_of_sequence)
        elif point == "as_of_time":
            spec.update(as_of_time=timestamp_to_datetime(query.temporal.as_of_time))
        else:
            raise invalid("temporal query needs as_of_sequence or as_of_time")
    if cover.correlation_id:
        return QuerySpec(None, domain, root, cover.correlation_id, **spec)
    return QuerySpec(AggregateKey(domain, root, MAIN_EDITION), domain, root, None, **spec)


def timestamp_to_datetime(ts):
    """A protobuf ``Timestamp`` as an aware UTC datetime; out-of-range values are INVALID_ARGUMENT."""
    from datetime import UTC

    try:
        return ts.ToDatetime(tzinfo=UTC)
    except (ValueError, OverflowError) as exc:
        raise invalid(f"timestamp out of range: {exc}") from None
