"""The page runner end to end: sample pages from tests/samples run in a
separate pytest process against the real Docker daemon."""

import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from docrunner.cleanup import HEARTBEAT, Snapshot

# Docker tests run in one pytest-xdist worker, one after another (plugin.py).
pytestmark = pytest.mark.xdist_group("docker")

SAMPLES = Path(__file__).parent / "samples"
DOCS = Path(__file__).parents[1] / "docs"
# How long after its last heartbeat a killed run's objects stop counting as its own.
HEARTBEAT_WINDOW = 2 * HEARTBEAT + 1
TESTS = Path(__file__).parent


@pytest.fixture
def pages(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, docker_engine: str
) -> pytest.Pytester:
    """A pytest folder with the samples' conftest, ready for sample pages. The
    outer run's daemon serves the inner runs, under the outer run's lock."""
    monkeypatch.setenv("PYTHONPATH", str(TESTS))
    shutil.copy(SAMPLES / "conftest.py", pytester.path / "conftest.py")
    return pytester


def add_sample(pytester: pytest.Pytester, name: str) -> Path:
    return Path(shutil.copy(SAMPLES / name, pytester.path / name))


def run(pytester: pytest.Pytester, *arguments: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs", *arguments)


def docker(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["docker", *arguments], capture_output=True, text=True, timeout=120
    )


def start_inner_run(pytester: pytest.Pytester, *arguments: str) -> subprocess.Popen:
    """Start pytest on the sample folder in the background, with its output
    piped, for tests that interrupt or kill it."""
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *arguments],
        cwd=pytester.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # A shell that starts this suite in the background may ignore SIGINT,
        # and Python keeps an ignored SIGINT ignored: restore Ctrl-C.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def wait_for_object(name: str, process: subprocess.Popen, timeout: float) -> None:
    """Wait until Docker has an object called ``name``, while the inner run
    that should create it is still running."""
    deadline = time.monotonic() + timeout
    while docker("inspect", name).returncode != 0:
        assert time.monotonic() < deadline, f"{name} did not appear in {timeout:g} s"
        assert process.poll() is None, process.stdout.read()
        time.sleep(0.2)


def unique(prefix: str) -> str:
    return f"docrunner-test-{prefix}-{uuid.uuid4().hex[:8]}"


def test_passing_page_runs_every_example(pages):
    add_sample(pages, "passing.md")
    result = run(pages)
    result.assert_outcomes(passed=15, skipped=1)
    result.stdout.fnmatch_lines(
        ["docrunner: 14 examples run (0 failed), 1 skipped with a reason, 0 ignored"]
    )
    result.stdout.fnmatch_lines(["*passing.md:81: skipped: shows what*"])


def test_typo_in_image_name_fails_with_location_and_diff(pages):
    add_sample(pages, "broken.md")
    result = run(pages)
    result.assert_outcomes(passed=2, failed=1, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "broken.md:9: $ docker run --rm alpin /bin/echo 'hello'",
            "exit status 125 after * s, expected 0",
            "--- expected (broken.md:10)",
            "+++ actual",
            "-hello",
            "+Unable to find image 'alpin:latest' locally",
        ]
    )
    result.stdout.fnmatch_lines(
        ["*broken.md:16: not run: an earlier example on this page failed (broken.md:9)"]
    )


def test_block_missed_by_lexer_is_reported(pages):
    add_sample(pages, "ignored.md")
    result = run(pages)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*1 block(s) in a runnable language were neither run nor skipped:",
            "  line 3: ```console",
        ]
    )
    result.stdout.fnmatch_lines(
        ["docrunner: 0 examples run (0 failed), 0 skipped with a reason, 1 ignored"]
    )


def test_hanging_command_times_out_and_leaves_nothing(pages):
    name = unique("hang")
    pages.makefile(
        ".md",
        hang=f"""\
# A hanging command

<!-- test: timeout=3 -->
```console
$ docker run --name {name} alpine sleep 600
```
""",
    )
    started = time.monotonic()
    result = run(pages)
    elapsed = time.monotonic() - started
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(["hang.md:5: timed out after 3 s, so it was killed*"])
    assert docker("inspect", name).returncode != 0, f"container {name} was left behind"
    # The runner's own start-up takes a few seconds; the command may add 3 + 5.
    assert elapsed < 30, f"the hanging page took {elapsed:.0f} s"


def test_interactive_command_fails_at_once(pages):
    name = unique("interactive")
    pages.makefile(
        ".md",
        interactive=f"""\
# A command that would wait for a reader's keyboard

```console
$ docker run -it --name {name} alpine sh
```
""",
    )
    started = time.monotonic()
    result = run(pages)
    elapsed = time.monotonic() - started
    result.assert_outcomes(failed=1, passed=1)
    # No terminal and no input: Docker refuses -t instead of waiting.
    result.stdout.fnmatch_lines(["*the input device is not a TTY*"])
    assert docker("inspect", name).returncode != 0, f"container {name} was left behind"
    assert elapsed < 30, f"the page took {elapsed:.0f} s"


def test_expected_exit_status_must_match(pages):
    pages.makefile(
        ".md",
        status="""\
# Wrong exit status

<!-- test: exit=2 -->
```console
$ (exit 1)
```
""",
    )
    result = run(pages)
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(
        ["status.md:5: $ (exit 1)", "exit status 1 after * s, expected 2"]
    )


def test_failing_page_removes_its_objects_and_keeps_others(pages):
    kept = {kind: unique(kind) for kind in ("container", "image", "volume", "network")}
    docker("create", "--name", kept["container"], "alpine", "true")
    docker("tag", "alpine", f"{kept['image']}:1")
    docker("volume", "create", kept["volume"])
    docker("network", "create", kept["network"])
    made = {kind: unique(kind) for kind in ("container", "image", "volume", "network")}
    pages.makefile(
        ".md",
        leaky=f"""\
# A page that creates objects and then fails

```console
$ docker create --name {made["container"]} --volume {made["volume"]}:/data alpine true
...
$ docker network create {made["network"]}
...
$ docker tag alpine {made["image"]}:1
$ docker commit {made["container"]} {made["image"]}:2
...
$ echo "this output is wrong"
this output is right
```
""",
    )
    try:
        result = run(pages)
        result.assert_outcomes(failed=1, passed=5)
        for name in (
            made["container"],
            made["volume"],
            f"{made['image']}:1",
            f"{made['image']}:2",
            made["network"],
        ):
            assert docker("inspect", name).returncode != 0, f"{name} was left behind"
        for name in (
            kept["container"],
            kept["volume"],
            f"{kept['image']}:1",
            kept["network"],
        ):
            assert docker("inspect", name).returncode == 0, (
                f"{name}, made before the run, is gone"
            )
        assert docker("inspect", "alpine").returncode == 0, "the alpine image is gone"
    finally:
        docker("rm", "--force", kept["container"])
        docker("rmi", f"{kept['image']}:1")
        docker("volume", "rm", kept["volume"])
        docker("network", "rm", kept["network"])


def test_interrupted_run_removes_what_the_page_made(pages):
    name = unique("interrupted")
    pages.makefile(
        ".md",
        interrupted=f"""\
# A page interrupted with Ctrl-C

```console
$ docker run --detach --name {name} alpine sleep 600
...
$ sleep 60
```
""",
    )
    process = start_inner_run(pages)
    try:
        wait_for_object(name, process, timeout=60)
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
        docker("rm", "--force", name)
    assert "KeyboardInterrupt" in output, output
    assert docker("inspect", name).returncode != 0, f"container {name} was left behind"


def test_killed_run_is_cleaned_up_by_the_next(pages):
    before_kill, during_run, after_kill = (
        unique("before"),
        unique("killed"),
        unique("after"),
    )
    docker("create", "--name", before_kill, "alpine", "true")
    pages.makefile(
        ".md",
        killed=f"""\
# A page whose run is killed

```console
$ docker run --detach --name {during_run} alpine sleep 600
...
$ sleep 60
```
""",
    )
    process = start_inner_run(pages, "killed.md")
    try:
        wait_for_object(during_run, process, timeout=60)
        process.kill()
        process.wait(timeout=30)
        assert docker("inspect", during_run).returncode == 0, (
            "SIGKILL should leave the container"
        )
        # An object made after the killed run died is not that run's to remove.
        time.sleep(HEARTBEAT_WINDOW)
        docker("create", "--name", after_kill, "alpine", "true")
        (pages.path / "killed.md").unlink()
        pages.makefile(".md", empty="# Nothing to run\n")
        run(pages)
        assert docker("inspect", during_run).returncode != 0, (
            "the killed run's container is left"
        )
        assert docker("inspect", before_kill).returncode == 0, (
            "a container made before the run is gone"
        )
        assert docker("inspect", after_kill).returncode == 0, (
            "a container made after the kill is gone"
        )
    finally:
        if process.poll() is None:
            process.kill()
        docker("rm", "--force", before_kill, during_run, after_kill)


def test_failure_inside_tab_names_its_line(pages):
    pages.makefile(
        ".md",
        tabbed="""\
# A failure inside a tab and an admonition

=== "Linux"

    !!! note

        ```console title="nested"
        $ echo "actual"
        expected
        ```
""",
    )
    result = run(pages)
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(
        ['tabbed.md:8: $ echo "actual"', "--- expected (tabbed.md:9)", "-expected"]
    )


def test_script_block_runs_and_checks_its_status(pages):
    pages.makefile(
        ".md",
        script="""\
# Script blocks

```bash
echo "runs, output not compared"
false
```
""",
    )
    result = run(pages)
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(["script.md:3: the script exited with status 1*"])


def test_leak_check_after_failing_hanging_and_interrupted_pages(pages):
    names = {kind: unique(kind) for kind in ("failing", "hanging", "interrupted")}
    pages.makefile(
        ".md",
        a_failing=f"""\
# Fails after creating a container, a volume and a network

```console
$ docker create --name {names["failing"]} --volume {names["failing"]}:/data alpine
...
$ docker network create {names["failing"]}
...
$ echo wrong
right
```
""",
        b_hanging=f"""\
# Hangs

<!-- test: timeout=2 -->
```console
$ docker run --name {names["hanging"]} alpine sleep 600
```
""",
        c_interrupted=f"""\
# Interrupted

```console
$ docker run --detach --name {names["interrupted"]} alpine sleep 600
...
$ docker tag alpine {names["interrupted"]}:1
$ sleep 60
```
""",
    )
    before = Snapshot.take()
    process = start_inner_run(pages)
    try:
        wait_for_object(f"{names['interrupted']}:1", process, timeout=120)
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    after = Snapshot.take()
    assert "a_failing.md:8: $ echo wrong" in output, output
    assert "b_hanging.md:5: timed out after 2 s" in output, output
    assert "KeyboardInterrupt" in output, output
    assert after.added_since(before).is_empty(), after.added_since(before).describe()
    assert before.added_since(after).is_empty(), before.added_since(after).describe()


def test_pages_contain_no_sleep():
    # Readiness is a wait-for directive or a health check, never a guess.
    for page in sorted(DOCS.rglob("*.md")):
        for number, line in enumerate(page.read_text().splitlines(), start=1):
            command = line.strip()
            if command.startswith("$ ") and re.search(r"\bsleep\b", command):
                pytest.fail(f"{page.relative_to(DOCS.parent)}:{number}: {command}")


def test_update_mode_rewrites_outputs_and_keeps_wildcards(pages):
    page = pages.path / "outdated.md"
    page.write_text(
        """\
# Outdated outputs

```console
$ printf 'id 1234\\nnew line\\nend\\n'
id ...
end
$ echo changed
unchanged
```
""",
    )
    result = run(pages, "--update-examples")
    result.assert_outcomes(passed=3)
    assert (
        page.read_text()
        == """\
# Outdated outputs

```console
$ printf 'id 1234\\nnew line\\nend\\n'
id ...
new line
end
$ echo changed
changed
```
"""
    )
    result.stdout.fnmatch_lines(["+++ b/outdated.md", "-unchanged", "+changed"])
    again = run(pages)
    again.assert_outcomes(passed=3)
