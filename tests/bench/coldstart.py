"""The time from a fresh clone to the first example run.

The clone is taken from the project's repository with ``git clone``, so it
contains the last commit, not changes that are not committed. Then the README's
test command runs in it: a new virtual environment, ``pip install -e
'.[test]'``, and ``.venv/bin/pytest``, which stops after its first example
(the timestamps plugin) and cleans up as a run stopped by ``-x`` does. The
times come from timestamps: the clock before ``git clone``, and the time the
plugin records when the first example's report arrives.

Without the image cache, the stand-in images (those with the label
org.docker-tutorial.stand-in) are removed first, so the run builds them
again. No other image is removed.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from docrunner import images

from .measure import Figure, MeasurementError, run_timed, tail
from .overhead import PLUGIN_NAME, install_plugin, plugin_environment

CLONE_TIMEOUT = 300
INSTALL_TIMEOUT = 1800
RUN_TIMEOUT = 3600
# The README's install step, run in the clone.
INSTALL_COMMAND = "python3 -m venv .venv && .venv/bin/pip install --quiet -e '.[test]'"
# pytest's exit status when a plugin stops the session (session.shouldstop).
INTERRUPTED = 2


@dataclass
class ColdStart:
    """The steps of one cold start, in seconds, for the results page."""

    clone: float
    install: float | None
    until_first_example: float
    stand_ins_removed: list[str]
    stand_ins_built: list[str]


def stand_in_references() -> list[str]:
    """Return the runner's stand-in images that are present here."""
    return [
        reference
        for reference in images.STAND_INS
        if images.inspect_label(reference)  # '' or None: not a stand-in here
    ]


def remove_stand_ins() -> list[str]:
    """Remove the stand-in images by name, and return their names. Only the
    names that the runner builds stand-ins for, and only where the image
    carries the stand-in label, are removed."""
    removed = stand_in_references()
    for reference in removed:
        result = subprocess.run(
            ["docker", "rmi", reference], capture_output=True, text=True, timeout=120
        )
        if result.returncode != 0:
            raise MeasurementError(
                f"could not remove the stand-in image {reference}: "
                f"{result.stderr.strip()}"
            )
    return removed


def built_stand_ins(log: Path) -> list[str]:
    """Return the stand-ins that a run's log reports as built."""
    return re.findall(r"built stand-in image (\S+):", log.read_text())


def measure(
    project: Path,
    work: Path,
    logs: Path,
    label: str,
    install: bool,
    without_image_cache: bool,
    figure: Figure,
) -> ColdStart:
    """Measure one cold start into ``figure``. Without ``install``, the
    clone runs with this interpreter's packages instead of its own."""
    removed = remove_stand_ins() if without_image_cache else []
    clone = work / f"clone-{label}"
    shutil.rmtree(clone, ignore_errors=True)
    plugins = install_plugin(work / "plugins")
    timestamps = logs / f"cold-start-{label}.json"
    timestamps.unlink(missing_ok=True)
    try:
        started = time.time()
        run_timed(
            ["git", "clone", "--quiet", str(project), str(clone)],
            cwd=work,
            environment=dict(os.environ),
            log_path=logs / f"cold-start-{label}-clone.log",
            timeout=CLONE_TIMEOUT,
        )
        cloned = time.time()
        installed = None
        pytest = Path(sys.executable).with_name("pytest")
        if install:
            run_timed(
                ["bash", "-c", INSTALL_COMMAND],
                cwd=clone,
                environment=dict(os.environ),
                log_path=logs / f"cold-start-{label}-install.log",
                timeout=INSTALL_TIMEOUT,
            )
            installed = time.time()
            pytest = clone / ".venv" / "bin" / "pytest"
        run_until_first_example(pytest, clone, plugins, timestamps, logs, label)
    finally:
        shutil.rmtree(clone, ignore_errors=True)
    first_example = json.loads(timestamps.read_text())["first_example"]
    figure.set_median([first_example - started])
    return ColdStart(
        clone=cloned - started,
        install=None if installed is None else installed - cloned,
        until_first_example=first_example - (installed or cloned),
        stand_ins_removed=removed,
        stand_ins_built=built_stand_ins(logs / f"cold-start-{label}-pytest.log"),
    )


def run_until_first_example(
    pytest: Path, clone: Path, plugins: Path, timestamps: Path, logs: Path, label: str
) -> None:
    """Run the clone's test command until its first example has run."""
    log = logs / f"cold-start-{label}-pytest.log"
    environment = dict(
        plugin_environment(plugins, timestamps), BENCH_STOP_AFTER_FIRST="1"
    )
    with open(log, "w", encoding="utf-8") as log_file:
        result = subprocess.run(
            [str(pytest), "-p", PLUGIN_NAME],
            cwd=clone,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            timeout=RUN_TIMEOUT,
        )
    summary = log.read_text().rstrip().splitlines()[-1:]
    failed = re.search(r"\d+ (failed|errors?)\b", summary[0]) if summary else None
    if result.returncode not in (0, INTERRUPTED) or failed:
        raise MeasurementError(
            f"the test run in the fresh clone failed with exit status "
            f"{result.returncode}: {tail(log)} (whole output in {log})"
        )
    if not timestamps.exists() or "first_example" not in timestamps.read_text():
        raise MeasurementError(
            f"the test run in the fresh clone ran no example: {tail(log)}"
        )
