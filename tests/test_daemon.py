"""Finding a Docker daemon: what happens where none answers."""

import os

import pytest

from docrunner import daemon
from docrunner.errors import SetupError


def test_no_daemon_and_no_install_stops_with_advice(monkeypatch):
    monkeypatch.setattr(daemon, "server_version", lambda: None)
    monkeypatch.setattr(daemon, "can_install", lambda: False)
    with pytest.raises(SetupError) as raised, daemon.engine():
        pass
    message = str(raised.value)
    assert "No Docker daemon answers" in message
    assert "Docker Desktop" in message
    assert "systemctl start docker" in message


def test_exclusive_use_is_reentrant_for_child_runs(monkeypatch, tmp_path):
    monkeypatch.setattr(daemon, "LOCK_PATH", tmp_path / "docker.lock")
    monkeypatch.delenv(daemon.LOCK_HELD, raising=False)
    with daemon.exclusive_use():
        assert daemon.LOCK_HELD in os.environ
        # A child run finds the variable set and does not wait for its parent.
        with daemon.exclusive_use():
            pass
    assert daemon.LOCK_HELD not in os.environ


@pytest.mark.parametrize(
    ("holder", "stopped"), [("parent", []), ("self", [4242])], ids=["child", "own"]
)
def test_engine_stops_leftover_daemon_only_for_lock_holder(
    monkeypatch, tmp_path, holder, stopped
):
    # The dockerd named in the pid file is running, as after an interrupted
    # run, or as the daemon of a parent run that holds the lock.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(daemon, "server_version", lambda: "27.0.0")
    monkeypatch.setattr(daemon, "adopt_leftover", lambda pid_file: 4242)
    monkeypatch.setattr(daemon, "ensure_cli_plugins", lambda: None)
    calls = []
    monkeypatch.setattr(
        daemon, "stop_dockerd", lambda process_id, pid_file: calls.append(process_id)
    )
    lock_pid = os.getppid() if holder == "parent" else os.getpid()
    monkeypatch.setenv(daemon.LOCK_HELD, str(lock_pid))
    with daemon.engine() as version:
        assert version == "27.0.0"
    assert calls == stopped
