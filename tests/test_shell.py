"""The shell session that runs a page's commands."""

import os

import pytest

from docrunner.shell import ShellSession


@pytest.fixture
def shell(tmp_path):
    session = ShellSession(str(tmp_path), dict(os.environ))
    yield session
    session.close()


def test_state_persists_between_commands(shell, tmp_path):
    shell.run("mkdir inner && cd inner", 10)
    shell.run("export NAME=value; greet() { echo hi $1; }", 10)
    result = shell.run('pwd; echo "$NAME"; greet you', 10)
    assert result.output.splitlines() == [str(tmp_path / "inner"), "value", "hi you"]
    assert result.exit_status == 0


def test_exit_status_and_stderr_are_captured(shell):
    result = shell.run("echo out; echo err >&2; (exit 4)", 10)
    assert result.output.splitlines() == ["out", "err"]
    assert result.exit_status == 4


def test_output_without_final_newline(shell):
    assert shell.run("printf 'no newline'", 10).output == "no newline"


def test_command_reading_input_gets_none(shell):
    result = shell.run("cat", 5)
    assert (result.output, result.exit_status, result.timed_out) == ("", 0, False)


def test_hanging_command_times_out(shell):
    result = shell.run("echo started; sleep 60", 1)
    assert result.timed_out
    assert result.output.strip() == "started"
    assert result.seconds < 5
    assert shell.process.poll() is not None
