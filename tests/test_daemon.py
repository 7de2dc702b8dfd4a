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
        # A child run sees the variable and does not wait for its parent.
        with daemon.exclusive_use():
            pass
    assert daemon.LOCK_HELD not in os.environ
