"""One page under test: its shell session, scratch folder and Docker snapshot,
and the evaluators that run its examples.

A page's examples run in page order in one ``Page``. The first one that fails
stops the page: the examples after it are reported as skipped because of that
failure, so each root cause shows as one failure. Whatever happens, the
page's teardown removes what it created.
"""

import difflib
import logging
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sybil import Example
from sybil.evaluators.doctest import DocTestEvaluator
from sybil.evaluators.python import PythonEvaluator

from . import cleanup, matching
from .errors import ExampleFailure, location, relative
from .measured import Measurements
from .parsing import Command, Include, Inventory, Script, Skipped, Wait
from .shell import ShellSession

log = logging.getLogger(__name__)

PAGE_KEY = "_docrunner_page"
DEFAULT_TIMEOUT = 300.0
CONTAINER_LOG_LINES = 50

# What every page's shell starts with: fixed locale, time zone and terminal
# width, and no colours, so that outputs do not depend on the machine.
FIXED_ENVIRONMENT = {
    "LC_ALL": "C.UTF-8",
    "LANG": "C.UTF-8",
    "TZ": "UTC",
    "COLUMNS": "80",
    "TERM": "dumb",
    "NO_COLOR": "1",
    "BUILDKIT_PROGRESS": "plain",
    "DOCKER_CLI_HINTS": "false",
    "PAGER": "cat",
}


@dataclass
class PageSettings:
    """What the pages of one run share."""

    # Extra environment variables for every page's shell.
    environment: dict[str, str] = field(default_factory=dict)
    # A git configuration file for the pages' shells (see plugin.py).
    git_config: Path | None = None
    # The folder that included files (pymdownx.snippets) are relative to.
    project: Path = Path.cwd()
    # In update mode, outputs that differ are recorded here instead of failing.
    updates: "Updates | None" = None
    # Where a failing page's container logs are saved, for CI to upload.
    artifacts: Path | None = None
    # The outputs that pages save with <!-- test: record=NAME -->.
    measurements: Measurements | None = None


@dataclass
class Updates:
    """New expected outputs for update mode, written to the pages at the end
    of the run: page path -> [(start, end, new text)]."""

    edits: dict[str, list[tuple[int, int, str]]] = field(default_factory=dict)

    def record(self, path: str, command: Command, actual: str) -> None:
        lines = matching.updated_expectation(command.expected, actual)
        text = "".join(f"{command.indent}{line}".rstrip() + "\n" for line in lines)
        start, end = command.expected_span
        self.edits.setdefault(path, []).append((start, end, text))

    def write(self) -> list[str]:
        """Apply the edits to the pages and return a unified diff of each."""
        diffs = []
        for path, edits in sorted(self.edits.items()):
            old = Path(path).read_text()
            new = old
            for start, end, text in sorted(edits, reverse=True):
                new = new[:start] + text + new[end:]
            if new != old:
                Path(path).write_text(new)
                name = relative(path)
                diffs.append(
                    "\n".join(
                        difflib.unified_diff(
                            old.splitlines(),
                            new.splitlines(),
                            f"a/{name}",
                            f"b/{name}",
                            lineterm="",
                        )
                    )
                )
        return diffs


@dataclass
class Page:
    """The state of one page while its examples run."""

    path: str
    settings: PageSettings
    shell: ShellSession
    folder: Path
    before: cleanup.Snapshot
    failure: str | None = None

    @classmethod
    def start(cls, path: str, settings: PageSettings) -> "Page":
        folder = Path(tempfile.mkdtemp(prefix=f"docrunner-{Path(path).stem}-"))
        environment = dict(os.environ, **FIXED_ENVIRONMENT, **settings.environment)
        environment["HOME"] = os.environ.get("HOME", str(folder))
        if settings.git_config is not None:
            environment["GIT_CONFIG_GLOBAL"] = str(settings.git_config)
            environment["GIT_CONFIG_NOSYSTEM"] = "1"
        before = cleanup.Snapshot.take()
        log.debug("page %s: running in %s", relative(path), folder)
        return cls(
            path, settings, ShellSession(str(folder), environment), folder, before
        )

    def finish(self) -> cleanup.Snapshot:
        """Close the shell, remove what the page created in Docker and its
        scratch folder, and return what could not be removed."""
        self.shell.close()
        left = cleanup.remove_added(self.before)
        shutil.rmtree(self.folder, ignore_errors=True)
        return left

    def container_logs(self) -> str:
        """Return the last log lines of each container the page started."""
        added = cleanup.Snapshot.take().added_since(self.before)
        reports = []
        for container in sorted(added.containers):
            result = subprocess.run(
                ["docker", "logs", "--tail", str(CONTAINER_LOG_LINES), container],
                capture_output=True,
                text=True,
                timeout=60,
            )
            name = (
                subprocess.run(
                    [
                        "docker",
                        "inspect",
                        "--format",
                        "{{.Name}} ({{.Config.Image}}, {{.State.Status}})",
                        container,
                    ],
                    capture_output=True,
                    text=True,
                    timeout=60,
                )
                .stdout.strip()
                .lstrip("/")
            )
            text = (result.stdout + result.stderr).rstrip() or "(no output)"
            reports.append(
                f"--- last {CONTAINER_LOG_LINES} log lines of container "
                f"{name or container[:12]}\n{text}"
            )
        return "\n".join(reports)


def skip(reason: str) -> None:
    """Skip the current example; plugin.py reports it at its page and line."""
    pytest.skip(reason)


def page_for(example: Example) -> Page:
    """Return the page that ``example`` belongs to, starting it if needed, and
    skip the example if an earlier one on the page failed."""
    page: Page | None = example.namespace.get(PAGE_KEY)
    if page is None:
        settings: PageSettings = example.namespace["page_settings"]
        page = Page.start(example.path, settings)
        example.namespace[PAGE_KEY] = page
    if page.failure is not None:
        skip(f"not run: an earlier example on this page failed ({page.failure})")
    return page


def fail(page: Page, example: Example, report: str) -> None:
    page.failure = location(example)
    logs = page.container_logs()
    if logs:
        report = f"{report}\n{logs}"
        save_logs(page, example, logs)
    raise ExampleFailure(example, report)


def save_logs(page: Page, example: Example, logs: str) -> None:
    """Write the container logs of a failure to the artifacts folder."""
    if page.settings.artifacts is None:
        return
    folder = page.settings.artifacts / "container-logs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{Path(example.path).stem}-line-{example.line}.log"
    path.write_text(f"{location(example)}\n{logs}\n")


def check_syntax(page: Page, example: Example, source: str) -> None:
    result = subprocess.run(
        ["bash", "-n"], input=source, capture_output=True, text=True
    )
    if result.returncode != 0:
        fail(
            page,
            example,
            f"the command is not valid bash:\n$ {source}\n{result.stderr.strip()}",
        )


def run_in_shell(page: Page, example: Example, source: str, timeout: float | None):
    check_syntax(page, example, source)
    limit = timeout or DEFAULT_TIMEOUT
    result = page.shell.run(source, limit)
    if result.timed_out:
        fail(
            page,
            example,
            f"timed out after {limit:g} s, so it was killed with the page's "
            f"shell:\n$ {source}\n"
            f"output so far:\n{result.output.rstrip() or '(none)'}\n"
            "If the command is slow, give its block a longer limit with "
            "<!-- test: timeout=SECONDS -->; otherwise make sure that it does "
            "not wait for input.",
        )
    return result


def evaluate_command(example: Example) -> None:
    """Run one console command and compare its exit status and output."""
    page = page_for(example)
    command: Command = example.parsed
    result = run_in_shell(page, example, command.source, command.directive.timeout)
    expected_status = command.directive.exit_status
    status_ok = result.exit_status == expected_status
    output_ok = matching.matches(command.expected, result.output)
    measurements = page.settings.measurements
    if status_ok and command.directive.record and measurements is not None:
        measurements.record(example.path, command.directive.record, result.output)
    if status_ok and output_ok:
        return
    updates = page.settings.updates
    if status_ok and updates is not None:
        updates.record(example.path, command, result.output)
        return
    lines = [
        f"$ {command.source}",
        f"exit status {result.exit_status} after {result.seconds:.1f} s",
    ]
    if not status_ok:
        lines[-1] += f", expected {expected_status}"
        if expected_status == 0:
            lines.append(
                "(a page shows a failing command with <!-- test: exit=N --> before "
                "its block)"
            )
    if output_ok:
        lines.append("output as expected:")
        lines.append(result.output.rstrip() or "(none)")
    else:
        label = f"{relative(example.path)}:{command.expected_line}"
        lines.append(
            matching.diff(command.expected, result.output, label)
            or "(output differs in white space only)"
        )
    fail(page, example, "\n".join(lines))


def evaluate_script(example: Example) -> None:
    """Run a shell script block; only its exit status is checked."""
    page = page_for(example)
    script: Script = example.parsed
    result = run_in_shell(page, example, script.source, script.directive.timeout)
    if result.exit_status != script.directive.exit_status:
        fail(
            page,
            example,
            f"the script exited with status {result.exit_status} after "
            f"{result.seconds:.1f} s, expected {script.directive.exit_status}:\n"
            f"{script.source.rstrip()}\n"
            f"output:\n{result.output.rstrip()}",
        )


def evaluate_include(example: Example) -> None:
    """Check that the files a block includes exist, and that included Python
    compiles; the page's commands then build and run them."""
    page = page_for(example)
    include: Include = example.parsed
    for name in include.paths:
        path = page.settings.project / name
        if not path.is_file():
            fail(
                page,
                example,
                f"the included file {name} does not exist in {page.settings.project}",
            )
        if path.suffix == ".py":
            try:
                compile(path.read_text(), str(path), "exec")
            except SyntaxError as error:
                fail(
                    page,
                    example,
                    f"the included file {name} is not valid Python: {error}",
                )


def evaluate_inventory(example: Example) -> None:
    """Fail if the page has a runnable block that no example came from."""
    inventory: Inventory = example.parsed
    if inventory.ignored:
        blocks = "\n".join(
            f"  line {line}: ```{info}" for line, info in inventory.ignored
        )
        raise ExampleFailure(
            example,
            f"{len(inventory.ignored)} block(s) in a runnable language were "
            f"neither run nor skipped:\n{blocks}\nCheck the fences, or put "
            '<!-- test: skip="reason" --> just before a block that cannot run.',
        )


def evaluate_skipped(example: Example) -> None:
    skipped: Skipped = example.parsed
    skip(f"skipped: {skipped.reason}")


def in_page(evaluator):
    """Wrap a Sybil evaluator for Python so that it runs in the page's scratch
    folder and a failure stops the rest of the page."""

    def evaluate(example: Example):
        __tracebackhide__ = True
        page = page_for(example)
        previous = os.getcwd()
        os.chdir(page.folder)
        try:
            result = evaluator(example)
        except Exception:
            page.failure = location(example)
            raise
        finally:
            os.chdir(previous)
        if result:
            # A doctest evaluator returns the mismatch as text.
            page.failure = location(example)
        return result

    return evaluate


def evaluate_wait(example: Example) -> None:
    """Wait until a URL answers, a port accepts connections, or a container
    is healthy."""
    page = page_for(example)
    wait: Wait = example.parsed
    check = {"url": url_answers, "port": port_accepts, "healthy": container_healthy}[
        wait.kind
    ]
    deadline = time.monotonic() + wait.timeout
    last = ""
    while time.monotonic() < deadline:
        ready, last = check(wait.target)
        if ready:
            return
        time.sleep(0.2)
    fail(
        page,
        example,
        f"timed out after {wait.timeout:g} s waiting for {wait.kind} "
        f"{wait.target}: {last}\n"
        "Check that the container started (docker ps -a) and listens on that port.",
    )


def url_answers(url: str) -> tuple[bool, str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return True, f"HTTP {response.status}"
    except urllib.error.HTTPError as error:
        return error.code < 500, f"HTTP {error.code}"
    except OSError as error:
        return False, str(error)


def port_accepts(port: str) -> tuple[bool, str]:
    host, _, number = port.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(number)), timeout=2):
            return True, "connected"
    except OSError as error:
        return False, str(error)


def container_healthy(container: str) -> tuple[bool, str]:
    health = (
        "{{if .State.Health}}{{.State.Health.Status}}{{else}}no health check{{end}}"
    )
    result = subprocess.run(
        ["docker", "inspect", "--format", health, container],
        capture_output=True,
        text=True,
        timeout=60,
    )
    status = result.stdout.strip() or result.stderr.strip()
    return status == "healthy", status


EVALUATORS = {
    "command": evaluate_command,
    "script": evaluate_script,
    "python": in_page(PythonEvaluator()),
    "doctest": in_page(DocTestEvaluator()),
    "include": evaluate_include,
    "inventory": evaluate_inventory,
    "skipped": evaluate_skipped,
    "wait": evaluate_wait,
}


def teardown(namespace: dict) -> None:
    """Sybil's teardown for a page: finish it if any example started it."""
    page: Page | None = namespace.pop(PAGE_KEY, None)
    if page is None:
        return
    left = page.finish()
    if page.settings.measurements is not None:
        page.settings.measurements.finish_page(page.path, passed=page.failure is None)
    if not left.is_empty():
        # NOTE: a teardown cannot fail the page's own tests any more, so what
        # is left is logged and checked again by the run's leak check.
        log.error(
            "page %s left Docker objects behind: %s",
            relative(page.path),
            left.describe(),
        )
