"""What the runner costs over the bare commands.

Each repetition runs the bare script (bare.py), the doc-test run in one
process, and the doc-test run with ``-n auto``, in an order that rotates from
one repetition to the next. The ratio of each doc-test run to the bare
script of the same repetition is one sample, and the figures are the
medians of those ratios. All runs use the image cache as the warm-up run left it.
"""

import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from docrunner import cleanup
from docrunner.repository import serve_working_tree

from . import bare
from .measure import Figure, MeasurementError, rotated, run_timed

RUN_TIMEOUT = 1800
PLUGIN_NAME = "bench_timestamps"
KINDS = ("bare", "sequential", "parallel")
WARM_UP = "warm-up"


@dataclass
class Overhead:
    """The runs of the overhead measurement, for the results page."""

    pages: list[str] = field(default_factory=list)
    commands: int = 0
    runs: list[dict[str, float]] = field(default_factory=list)
    startup: list[float] = field(default_factory=list)
    teardown: list[float] = field(default_factory=list)
    bare_leftovers: list[str] = field(default_factory=list)
    # One snapshot of Docker's objects, which the runner takes before and
    # after each page (docrunner/cleanup.py), in seconds.
    snapshot: list[float] = field(default_factory=list)
    # Page -> "bare" or "runner" -> the page's time in each repetition.
    page_times: dict[str, dict[str, list[float]]] = field(default_factory=dict)

    def add_page_time(self, page: str, kind: str, seconds: float) -> None:
        self.page_times.setdefault(page, {}).setdefault(kind, []).append(seconds)


def install_plugin(folder: Path) -> Path:
    """Copy the timestamps plugin into ``folder`` under the name that
    ``-p bench_timestamps`` loads, and return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(Path(__file__).with_name("timestamps.py"), folder / f"{PLUGIN_NAME}.py")
    return folder


def plugin_environment(plugins: Path, timestamps: Path) -> dict[str, str]:
    """Return the environment of a pytest run that loads the timestamps
    plugin. It keeps the Docker lock variable, so that the run does not wait
    for the lock that the benchmark holds."""
    python_path = os.pathsep.join(
        filter(None, [str(plugins), os.environ.get("PYTHONPATH")])
    )
    return dict(os.environ, PYTHONPATH=python_path, BENCH_TIMESTAMPS=str(timestamps))


def pytest_command(page_arguments: list[str], parallel: bool) -> list[str]:
    """Return the doc-test run as an author types it: ``.venv/bin/pytest``."""
    command = [str(Path(sys.executable).with_name("pytest")), *page_arguments]
    if parallel:
        command += ["-n", "auto"]
    return [*command, "-p", PLUGIN_NAME]


class OverheadRun:
    """The bare script and the doc-test runs of one set of pages."""

    def __init__(self, project: Path, work: Path, logs: Path, pages: list[str]):
        self.project = project
        self.work = work
        self.logs = logs
        self.page_arguments = pages
        self.plugins = install_plugin(work / "plugins")
        git_config = serve_working_tree(project, work / "repository")
        paths = []
        for argument in pages:
            path = project / argument
            paths += bare.page_paths(path) if path.is_dir() else [path]
        self.script = logs / "bare.sh"
        self.script.write_text(bare.generate(paths, project, git_config))
        self.result = Overhead(
            pages=[path.relative_to(project).as_posix() for path in paths],
            commands=self.script.read_text().count("\nbench_check "),
        )

    def run_bare(self, label: str) -> float:
        """Run the bare script and return its time. Whatever it left in Docker
        is removed afterwards, outside the timing, and listed on the page."""
        before = cleanup.Snapshot.take()
        page_times = self.logs / f"bare-{label}-pages.tsv"
        page_times.unlink(missing_ok=True)
        seconds = run_timed(
            ["bash", str(self.script)],
            cwd=self.work,
            environment=dict(os.environ, BENCH_PAGE_TIMES=str(page_times)),
            log_path=self.logs / f"bare-{label}.log",
            timeout=RUN_TIMEOUT,
        )
        if label != WARM_UP and page_times.exists():
            for line in page_times.read_text().splitlines():
                page, started, ended = line.split("\t")
                self.result.add_page_time(page, "bare", float(ended) - float(started))
        left = cleanup.Snapshot.take().added_since(before)
        if not left.is_empty():
            self.result.bare_leftovers.append(left.describe())
            cleanup.remove_added(before)
        return seconds

    def run_pages(self, label: str, parallel: bool) -> float:
        """Run the pages under pytest and return the time of the whole run."""
        kind = "parallel" if parallel else "sequential"
        timestamps = self.logs / f"pytest-{kind}-{label}.json"
        timestamps.unlink(missing_ok=True)
        launched = time.time()
        seconds = run_timed(
            pytest_command(self.page_arguments, parallel),
            cwd=self.project,
            environment=plugin_environment(self.plugins, timestamps),
            log_path=self.logs / f"pytest-{kind}-{label}.log",
            timeout=RUN_TIMEOUT,
        )
        ended = launched + seconds
        if parallel or label == WARM_UP or not timestamps.exists():
            return seconds
        times = json.loads(timestamps.read_text())
        if "first_example" in times:
            self.result.startup.append(times["first_example"] - launched)
            self.result.teardown.append(ended - times["last_example"])
        for page, (started, stopped) in times.get("pages", {}).items():
            self.result.add_page_time(page, "runner", stopped - started)
        return seconds

    def run(self, kind: str, label: str) -> float:
        if kind == "bare":
            return self.run_bare(label)
        return self.run_pages(label, parallel=kind == "parallel")


def measure(
    project: Path,
    work: Path,
    logs: Path,
    pages: list[str],
    repetitions: int,
    warm_up: bool,
    sequential: Figure,
    parallel: Figure,
) -> Overhead:
    """Measure the runner's overhead into the two figures."""
    runs = OverheadRun(project, work, logs, pages)
    for _ in range(repetitions):
        started = time.perf_counter()
        cleanup.Snapshot.take()
        runs.result.snapshot.append(time.perf_counter() - started)
    if warm_up:
        runs.run("bare", WARM_UP)
        runs.run("sequential", WARM_UP)
    for repetition in range(repetitions):
        times = {}
        for kind in rotated(KINDS, repetition):
            times[kind] = runs.run(kind, str(repetition + 1))
        runs.result.runs.append(times)
    if min(times["bare"] for times in runs.result.runs) <= 0:
        raise MeasurementError("the bare script took no measurable time")
    for figure, kind in ((sequential, "sequential"), (parallel, "parallel")):
        ratios = [times[kind] / times["bare"] for times in runs.result.runs]
        figure.set_median(ratios)
    return runs.result
