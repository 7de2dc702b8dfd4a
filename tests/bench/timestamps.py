"""A pytest plugin that records when a test run reached its examples.

The benchmark copies this file into a folder of its own and loads it with
``-p bench_timestamps``, so that a run in a fresh clone loads it too.

It writes times, in seconds since the epoch, to the JSON file that
BENCH_TIMESTAMPS names: when pytest loaded it, when the first and the last
example finished, and when the session ended. For each page, it writes the
start of its first example and the end of its last teardown, which includes
the page's cleanup. With BENCH_STOP_AFTER_FIRST set, the run stops after its
first example, and still tears down as a run stopped by ``-x`` does.

It reads nothing from the runner but the mark that the runner's plugin puts
on every example's report, so that it works with whichever runner the clone
has. Under pytest-xdist only the controller writes the file, when a worker's
report reaches it.
"""

import json
import os
import time

import pytest

# The user property that docrunner/plugin.py gives each example's report.
EXAMPLE_PROPERTY = ("docrunner", "example")


class Timestamps:
    def __init__(self, path: str, stop_after_first: bool) -> None:
        self.path = path
        self.stop_after_first = stop_after_first
        self.times: dict[str, float] = {"session_start": time.time()}
        self.pages: dict[str, list[float]] = {}
        self.session: pytest.Session | None = None

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.session = session

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        page = report.nodeid.split("::")[0]
        if page.endswith(".md") and report.when in ("call", "teardown"):
            start, stop = self.pages.get(page, (report.start, report.stop))
            self.pages[page] = [min(start, report.start), max(stop, report.stop)]
        is_example = any(
            tuple(prop) == EXAMPLE_PROPERTY for prop in report.user_properties
        )
        if not (is_example and report.when == "call"):
            return
        now = time.time()
        self.times.setdefault("first_example", now)
        self.times["last_example"] = now
        self.write()
        if self.stop_after_first and self.session is not None:
            self.session.shouldstop = "the benchmark needed only the first example"

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self) -> None:
        self.times["session_finish"] = time.time()
        self.write()

    def write(self) -> None:
        with open(self.path, "w", encoding="utf-8") as file:
            json.dump(dict(self.times, pages=self.pages), file)


def pytest_configure(config: pytest.Config) -> None:
    path = os.environ.get("BENCH_TIMESTAMPS")
    if not path or hasattr(config, "workerinput"):
        return
    stop_after_first = bool(os.environ.get("BENCH_STOP_AFTER_FIRST"))
    config.pluginmanager.register(
        Timestamps(path, stop_after_first), "bench-timestamps"
    )
