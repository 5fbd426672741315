"""The distributed-mode commands of ``angzarr``: ``coordinator`` (the sidecar) and ``topology export``.

Kept beside, not inside, ``cli``: ``cli.build_parser`` calls ``add_commands``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from angzarr_coordinator.config import ConfigError, load_config


def _exit(code: int, message: str):
    from angzarr_coordinator.cli import CliExit

    return CliExit(code, message)


def cmd_coordinator(args: argparse.Namespace) -> int:
    from angzarr_coordinator.observability import (
        ObservabilityConfigError,
        configure_logging,
        configure_telemetry,
    )
    from angzarr_coordinator.sidecar import run_sidecar
    from angzarr_coordinator.sidecar_config import sidecar_config

    try:
        config = sidecar_config(config_file=args.config)
    except ConfigError as e:
        raise _exit(1, str(e)) from None
    if args.check:
        print(f"{args.config or 'environment'}: ok (domain {config.domain}, business at "
              f"{config.business_endpoint}, {len(config.topology.services)} services in the topology)")
        return 0
    try:
        configure_logging()
    except ObservabilityConfigError as e:
        raise _exit(1, str(e)) from None
    telemetry = configure_telemetry()
    try:
        return asyncio.run(run_sidecar(config))
    finally:
        telemetry.shutdown()


def cmd_topology_export(args: argparse.Namespace) -> int:
    from angzarr_coordinator.topology_export import export_topology

    try:
        config = load_config(args.config)
    except ConfigError as e:
        raise _exit(1, str(e)) from None
    text = export_topology(config)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def migrate_postgres(url: str) -> int:
    """``angzarr db migrate`` for a PostgreSQL URL (sidecars started with ``ANGZARR_MIGRATE=0`` need it).

    Raises ``StoreError`` (the CLI prints it and exits 1)."""
    import asyncpg

    from angzarr_coordinator.store.postgres.schema import applied_migrations, migrate
    from angzarr_coordinator.store.postgres.store import redact

    async def run() -> tuple[list[int], int]:
        try:
            conn = await asyncpg.connect(url)
        except (OSError, asyncpg.PostgresError) as e:
            raise _exit(1, f"cannot connect to {redact(url)}: {e}") from None
        try:
            applied = await migrate(conn)
            return applied, max((m.version for m in await applied_migrations(conn)), default=0)
        finally:
            await conn.close()

    applied, version = asyncio.run(run())
    done = f"applied {', '.join(f'{v:04d}' for v in applied)}" if applied else "nothing to apply"
    print(f"{redact(url)}: schema at version {version} ({done})")
    return 0


def add_commands(sub) -> None:
    """Add ``coordinator`` and ``topology export`` to the ``angzarr`` subcommands ``sub``."""
    p = sub.add_parser("coordinator", help="run the distributed sidecar of one service (configured by environment)")
    p.add_argument("-c", "--config", metavar="FILE", help="coordinator.yaml: defaults for the environment variables")
    p.add_argument("--check", action="store_true", help="validate the configuration and exit")
    p.set_defaults(func=cmd_coordinator)

    topology = sub.add_parser("topology", help="the topology shared by standalone, compose and Kubernetes")
    tsub = topology.add_subparsers(dest="topology_command", required=True, parser_class=sub._parser_class)
    p = tsub.add_parser("export", help="print the sidecar topology file generated from standalone.yaml")
    p.add_argument("-c", "--config", metavar="FILE", required=True, help="standalone.yaml")
    p.add_argument("-o", "--output", metavar="FILE", help="write it to FILE instead of standard output")
    p.set_defaults(func=cmd_topology_export)
