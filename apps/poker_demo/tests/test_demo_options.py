"""Options and launcher errors of ``poker-demo`` that are decided before any system runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from poker_demo.cli import main
from poker_demo.game import VARIANTS, GameSettings
from poker_demo.system import StandaloneSystem, SystemStartError


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"players": 1}, "players must be between 2 and 9"),
    ({"players": 6, "variant": VARIANTS["draw"]}, "between 2 and 5"),
    ({"hands": 0}, "hands must be at least 1"),
    ({"seed": ""}, "seed"),
    ({"buy_in": 2000}, "cannot exceed the deposit"),
    ({"variant": 4}, "unsupported game variant"),
])
def test_settings_refuse_what_cannot_be_played(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GameSettings(**kwargs)


@pytest.mark.parametrize("argv", [
    ["--players", "1"],
    ["--keep-running"],                                  # needs --standalone
    ["--standalone", "/nonexistent/standalone.yaml"],
])
def test_bad_options_exit_2_with_a_reason(argv, capsys):
    assert main(argv) == 2
    assert "poker-demo:" in capsys.readouterr().err


def test_an_unknown_variant_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--variant", "stud"])
    assert exc.value.code == 2


def test_no_running_system_is_reported_not_a_crash(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ANGZARR_MODE", "standalone")
    monkeypatch.setenv("ANGZARR_UDS_BASE", str(tmp_path))  # nothing listens here
    assert main(["--hands", "1", "--step-timeout", "3"]) == 1
    out = capsys.readouterr()
    assert "is the system running?" in out.err or "the game stopped" in out.out


def test_an_invalid_configuration_is_refused_before_starting(tmp_path: Path):
    config = tmp_path / "bad.yaml"
    config.write_text("version: 1\nstorage: {sqlite: {path: ./x.db}}\nservices: []\n")
    system = StandaloneSystem(config, tmp_path / "run", uds_base=tmp_path / "s")
    with pytest.raises(SystemStartError, match="services"):
        system.start()
    assert system.process is None


def test_a_socket_directory_too_long_for_unix_sockets_is_refused(tmp_path: Path):
    config = Path(__file__).resolve().parents[3] / "standalone.yaml"
    long_base = tmp_path / ("d" * 100)
    system = StandaloneSystem(config, tmp_path / "run", uds_base=long_base)
    with pytest.raises(SystemStartError, match="Unix socket paths must be under 104"):
        system.start()
    assert system.process is None
