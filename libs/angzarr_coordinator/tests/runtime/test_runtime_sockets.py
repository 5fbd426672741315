"""Socket directory and socket file safety (spec/coordinator.md §10.3)."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import tempfile
from pathlib import Path

import pytest

from angzarr_coordinator.sockets import (
    SocketSetupError,
    claim_socket_path,
    prepare_socket_dir,
    remove_socket,
    secure_socket,
    socket_answers,
)


@pytest.fixture
def short_dir():
    path = Path(tempfile.mkdtemp(dir="/tmp", prefix="azs"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_base_directory_is_created_0700_with_parents(short_dir):
    base = prepare_socket_dir(short_dir / "a" / "b")
    assert stat.S_IMODE(base.stat().st_mode) == 0o700


def test_base_writable_by_group_or_others_is_refused(short_dir):
    for mode in (0o777, 0o770, 0o702):
        os.chmod(short_dir, mode)
        with pytest.raises(SocketSetupError, match="writable by others") as info:
            prepare_socket_dir(short_dir)
        assert "ANGZARR_UDS_BASE" in str(info.value)
    os.chmod(short_dir, 0o755)
    assert prepare_socket_dir(short_dir) == short_dir  # readable by others is fine


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a directory to another user")
def test_base_owned_by_another_user_is_refused(short_dir):
    os.chown(short_dir, 65534, 65534)
    with pytest.raises(SocketSetupError, match="belongs to uid 65534"):
        prepare_socket_dir(short_dir)


def test_base_that_is_a_file_is_refused(short_dir):
    (short_dir / "f").write_text("")
    with pytest.raises(SocketSetupError, match="not a directory|cannot create"):
        prepare_socket_dir(short_dir / "f")


def test_stale_socket_is_removed_and_live_one_refused(short_dir):
    path = short_dir / "x.sock"
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))
    stale.close()
    assert not socket_answers(path)
    assert claim_socket_path(path) == path and not path.exists()

    live = socket.socket(socket.AF_UNIX)
    live.bind(str(path))
    live.listen()
    try:
        assert socket_answers(path)
        with pytest.raises(SocketSetupError, match="another process is serving"):
            claim_socket_path(path)
        assert path.exists()
    finally:
        live.close()


def test_regular_file_in_the_way_is_refused_and_left_alone(short_dir):
    path = short_dir / "x.sock"
    path.write_text("data")
    with pytest.raises(SocketSetupError, match="not a socket"):
        claim_socket_path(path)
    assert path.read_text() == "data"


def test_secure_and_remove(short_dir):
    path = short_dir / "y.sock"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    secure_socket(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    s.close()
    remove_socket(path)
    remove_socket(path)  # idempotent
    assert not path.exists()
