"""The bash session in which a page's commands run, one after another.

One session lasts for a whole page, as a reader's terminal would, so a ``cd``,
an ``export`` or a shell function in one block still holds in the next. Each
command's standard output and standard error are read together, as a terminal
shows them, and its standard input is /dev/null, so a command that waits for
input ends at once instead of hanging.
"""

import contextlib
import logging
import os
import select
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass
class CommandResult:
    """What a command printed, its exit status, and how long it ran."""

    output: str
    exit_status: int | None
    seconds: float
    timed_out: bool = False


class ShellSession:
    """A bash process that runs commands in order and keeps its state."""

    def __init__(self, cwd: str, env: dict[str, str]) -> None:
        self.marker = f"__docrunner_done_{uuid.uuid4().hex}__"
        self.process = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            # The session leads its own process group, so a command that hangs
            # can be killed with everything it started.
            start_new_session=True,
        )

    def run(self, command: str, timeout: float) -> CommandResult:
        """Run one command and return its output and exit status.

        A command still running after ``timeout`` seconds is killed together
        with the whole session, which cannot be trusted after that.
        """
        # The braces keep the command in this shell, so cd and export persist.
        wrapped = (
            f"{{ {command}\n}} < /dev/null 2>&1\n"
            f"printf '\\n%s %s\\n' '{self.marker}' \"$?\"\n"
        )
        started = time.monotonic()
        self.process.stdin.write(wrapped.encode())
        self.process.stdin.flush()
        output, status = self.read_until_marker(started + timeout)
        seconds = time.monotonic() - started
        if status is None:
            self.close()
            return CommandResult(output, None, seconds, timed_out=True)
        return CommandResult(output, status, seconds)

    def read_until_marker(self, deadline: float) -> tuple[str, int | None]:
        buffer = b""
        marker = self.marker.encode()
        stream = self.process.stdout.fileno()
        while True:
            position = buffer.find(marker)
            if position >= 0 and buffer.endswith(b"\n", position):
                status = int(buffer[position + len(marker) :].split()[0])
                # printf put a newline before the marker; it is not output.
                text = buffer[:position].removesuffix(b"\n")
                return text.decode(errors="replace"), status
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return buffer.decode(errors="replace"), None
            ready, _, _ = select.select([stream], [], [], min(remaining, 1.0))
            if ready:
                chunk = os.read(stream, 65536)
                if not chunk:
                    # bash ended: a command ran `exit`, or the session was killed.
                    return buffer.decode(errors="replace"), self.process.wait()
                buffer += chunk

    def close(self) -> None:
        """End the session and every process it started."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            stream.close()
