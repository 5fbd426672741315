"""The benchmarks' system under test: a real ``angzarr standalone`` process running the counter service
(``counter_service.py``) on a SQLite file with ``synchronous: full``, started and stopped with the poker
demo's :class:`poker_demo.system.StandaloneSystem` launcher; and the peak memory of its processes."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import poker_demo.system as launcher
from poker_demo.system import StandaloneSystem

BENCH_DIR = Path(__file__).resolve().parent
SERVICE_SCRIPT = BENCH_DIR / "counter_service.py"


def write_config(run_dir: Path, services: Sequence[str] = ("counter",), *, projector: bool = False,
                 snapshots_read: bool = True, log_level: str = "warning") -> Path:
    """Write a standalone configuration for the counter service(s) into ``run_dir``; return its path.

    ``services`` names counter kinds (``counter``: snapshots every 100 events; ``plain``: none). With
    ``projector`` the ``counter`` service also hosts the ``counter-view`` projector. JSON is YAML, so the
    file is written as JSON.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    entries = []
    for kind in services:
        command = [sys.executable, str(SERVICE_SCRIPT), kind]
        hosts: dict[str, object] = {"command_handler": {"domain": kind, "snapshots": {"read": snapshots_read}}}
        env = {"LOG_LEVEL": log_level}
        if projector and kind == "counter":
            command.append("--projector")
            hosts["projector"] = {"name": "counter-view", "listen": ["counter"]}
            env["BENCH_LAG_FILE"] = str(run_dir / "lag.txt")
        entries.append({"name": kind, "command": command, "working_dir": ".", "transport": "uds",
                        "env": env, "hosts": hosts})
    config = {
        "version": 1,
        "storage": {"sqlite": {"path": "./data/angzarr.db", "synchronous": "full"}},
        "listen": {"uds_base": "/tmp/angzarr-bench"},
        "services": entries,
    }
    path = run_dir / "bench.yaml"
    path.write_text(json.dumps(config, indent=2) + "\n")
    return path


def counter_system(run_dir: Path, services: Sequence[str] = ("counter",), *, projector: bool = False,
                   log_level: str = "warning", environ: dict[str, str] | None = None,
                   profile: Path | None = None) -> StandaloneSystem:
    """A (not yet started) standalone system for the counter service(s) in ``run_dir``.

    With ``profile`` the coordinator runs under a profiler that writes there when the coordinator exits:
    cProfile for a ``.prof`` file, else pyinstrument's text report (py-spy cannot attach to this
    machine's interpreter build: it fails to find the Python version of the target process).
    """
    config = write_config(run_dir, services, projector=projector, log_level=log_level)
    if profile is not None:
        _profile_coordinator(run_dir, profile)
    env = dict(os.environ if environ is None else environ)
    env["ANGZARR_LOG_LEVEL"] = log_level
    return StandaloneSystem(config, run_dir, environ=env)


def _profile_coordinator(run_dir: Path, profile: Path) -> None:
    """Make the launcher start ``angzarr`` under pyinstrument (a wrapper script in ``run_dir``)."""
    angzarr = launcher._angzarr_executable()
    wrapper = run_dir / "angzarr-profiled"
    if profile.suffix == ".prof":  # cProfile: CPU-side call counts and times of the event-loop thread
        runner = f"-m cProfile -o {profile}"
    else:  # pyinstrument: wall-clock samples, rendered as text
        runner = f"-m pyinstrument --renderer text --outfile {profile}"
    wrapper.write_text(f"#!/bin/sh\nexec {sys.executable} {runner} {angzarr} \"$@\"\n")
    wrapper.chmod(0o755)
    launcher._angzarr_executable = lambda: str(wrapper)


def peak_rss_mb(pid: int) -> float | None:
    """The peak resident set size (``VmHWM``) of process ``pid`` in MiB; ``None`` if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def cpu_seconds(pid: int, thread: int | None = None) -> float | None:
    """User + system CPU seconds process ``pid`` has used so far (all its threads, or only ``thread``);
    ``None`` if gone."""
    stat = Path(f"/proc/{pid}/stat") if thread is None else Path(f"/proc/{pid}/task/{thread}/stat")
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def loop_thread_cpu_seconds(pid: int) -> float | None:
    """CPU seconds of process ``pid``'s main thread alone (the coordinator's event loop runs there)."""
    return cpu_seconds(pid, thread=pid)


def system_cpu_seconds(system: StandaloneSystem) -> dict[str, float | None]:
    """CPU seconds used so far by the coordinator process and by each business service."""
    cpu: dict[str, float | None] = {}
    if system.process is not None:
        cpu["coordinator"] = cpu_seconds(system.process.pid)
    for name, pid in sorted(system.service_pids().items()):
        cpu[name] = cpu_seconds(pid)
    return cpu


def system_peak_rss(system: StandaloneSystem) -> dict[str, float | None]:
    """Peak RSS (MiB) of the coordinator process and of each business service of ``system``."""
    rss: dict[str, float | None] = {}
    if system.process is not None:
        rss["coordinator"] = peak_rss_mb(system.process.pid)
    for name, pid in sorted(system.service_pids().items()):
        rss[name] = peak_rss_mb(pid)
    return rss
