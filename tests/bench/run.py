"""Run the benchmark and write the results page.

    .venv/bin/python tests/bench/run.py            # the benchmark, to BENCHMARKS.md
    .venv/bin/python tests/bench/run.py --smoke --output /tmp/results.md

The parts that use Docker hold the machine's Docker lock, as a test run does,
so they wait for a test run that holds it, and a test run waits for them.
"""

import argparse
import datetime
import logging
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    # The runner and this package are imported from tests/, as pytest does.
    sys.path.insert(0, str(TESTS))

from bench import coldstart, image, machine, overhead, report, site, weight  # noqa: E402
from bench.measure import Figure, MeasurementError  # noqa: E402
from docrunner import daemon  # noqa: E402
from docrunner.errors import SetupError  # noqa: E402

PROJECT = TESTS.parent
MIN_REPETITIONS = 5
SMOKE_PAGES = ["docs/hello-world.md"]
PARTS = ("site", "weight", "image", "overhead", "cold-start")

log = logging.getLogger("bench")


# Each figure: key, label, unit, and target (a maximum), or None.
FIGURES = [
    ("overhead-sequential", "Runner overhead (doc-test run / bare run)", "ratio", 1.03),
    ("overhead-parallel", "Runner overhead, parallel pages (`-n auto`)", "ratio", 0.75),
    ("cold-start-cached", "Cold start to first example, with image cache", "s", None),
    ("cold-start-uncached", "Cold start to first example, no image cache", "s", None),
    ("build-mkdocs", "Site build, `mkdocs build --strict`", "s", 2.0),
    ("build-zensical", "Site build, `zensical build --strict`", "s", 2.0),
    ("home-bytes", "Home page, bytes transferred (gzip)", "kB", 250),
    ("home-bytes-uncompressed", "Home page, bytes, no compression", "kB", None),
    ("home-requests", "Home page, requests", "requests", None),
    ("home-third-party", "Home page, third-party requests", "requests", 0),
    ("heaviest-bytes", "Heaviest page, bytes transferred (gzip)", "kB", 250),
    ("heaviest-bytes-uncompressed", "Heaviest page, bytes, no compression", "kB", None),
    ("heaviest-requests", "Heaviest page, requests", "requests", None),
    ("heaviest-third-party", "Heaviest page, third-party requests", "requests", 0),
    ("image-size", "Example image, size", "MB", None),
    ("image-rebuild", "Example image, rebuild after a code change", "s", 2.0),
]  # fmt: skip


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="tests/bench/run.py",
        description="Measure the runner's overhead, the cold start, the site "
        "build, the page weight and the example image, and write the results "
        "page.",
    )
    parser.add_argument(
        "--repetitions",
        type=int,
        default=MIN_REPETITIONS,
        help=f"paired runs per timed figure (default and minimum "
        f"{MIN_REPETITIONS}; 1 with --smoke)",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="one repetition on a subset, to check that the benchmark works: "
        f"the overhead of {', '.join(SMOKE_PAGES)} only, a cold start without "
        "installing packages and only with the image cache, and no warm-up runs",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=PROJECT / "BENCHMARKS.md",
        help="the results page to write (default: BENCHMARKS.md)",
    )
    parser.add_argument(
        "--json", type=Path, help="also write the results as JSON to this file"
    )
    parser.add_argument(
        "--logs",
        type=Path,
        default=PROJECT / "test-artifacts" / "bench",
        help="the folder for the runs' output and the bare script "
        "(default: test-artifacts/bench)",
    )
    parser.add_argument(
        "--only",
        choices=PARTS,
        action="append",
        help="measure only this part (may be repeated); the others are "
        "reported as not measured",
    )
    arguments = parser.parse_args(argv)
    if arguments.smoke:
        arguments.repetitions = 1
    elif arguments.repetitions < MIN_REPETITIONS:
        parser.error(
            f"--repetitions must be at least {MIN_REPETITIONS} for a result; "
            "use --smoke for a single quick run"
        )
    return arguments


class Benchmark:
    """One run of the benchmark: its settings, figures and findings."""

    def __init__(self, arguments: argparse.Namespace, work: Path) -> None:
        self.arguments = arguments
        self.work = work
        self.logs = arguments.logs
        self.logs.mkdir(parents=True, exist_ok=True)
        self.figures = {key: Figure(key, *rest) for key, *rest in FIGURES}
        self.details: dict[str, object] = {}
        self.load_averages: dict[str, str] = {}
        self.versions: dict[str, str] = {}
        self.parts = set(arguments.only or PARTS)
        self.source = clone_source(work / "source")

    @property
    def repetitions(self) -> int:
        return self.arguments.repetitions

    def attempt(self, part: str, keys: list[str], measurement) -> None:
        """Run one part, or mark its figures as not measured with the reason."""
        if part not in self.parts:
            for key in keys:
                self.figures[key].not_measured(f"--only left out {part}")
            return
        log.info("measuring %s", part)
        load_at_start = machine.load_average()
        try:
            measurement()
        except MeasurementError as error:
            log.error("%s not measured: %s", part, error)
            for key in keys:
                if self.figures[key].value is None:
                    self.figures[key].not_measured(str(error))
        self.load_averages[part] = f"{load_at_start} → {machine.load_average()}"

    def measure_site(self) -> None:
        """Time the site builds, then weigh the pages of the MkDocs build."""
        builds = {
            "mkdocs": self.figures["build-mkdocs"],
            "zensical": self.figures["build-zensical"],
        }
        weight_keys = [
            key for key in self.figures if key.startswith(("home", "heaviest"))
        ]
        built: list[Path] = []

        def build() -> None:
            built.append(
                site.measure(
                    self.source, self.work, self.logs, self.repetitions, builds
                )
            )

        def weigh() -> None:
            if "site" in self.parts and not built:
                raise MeasurementError("the MkDocs build failed, so no site to weigh")
            if not built:
                built.append(site.build_once(self.source, self.work, self.logs))
            self.details["weights"] = weight.measure(
                self.source, built[0], self.repetitions, self.figures
            )

        self.attempt("site", ["build-mkdocs", "build-zensical"], build)
        self.attempt("weight", weight_keys, weigh)

    def measure_docker(self) -> None:
        """Measure the parts that use Docker, holding the machine's lock."""
        parts = {
            "image": (["image-size", "image-rebuild"], self.measure_image),
            "overhead": (
                ["overhead-sequential", "overhead-parallel"],
                self.measure_overhead,
            ),
            "cold-start": (
                ["cold-start-cached", "cold-start-uncached"],
                self.measure_cold_start,
            ),
        }
        if not self.parts & parts.keys():
            for part, (keys, measurement) in parts.items():
                self.attempt(part, keys, measurement)
            self.versions = machine.tool_versions(weight.installed_chromium())
            return
        try:
            with daemon.exclusive_use(), daemon.engine():
                for part, (keys, measurement) in parts.items():
                    self.attempt(part, keys, measurement)
                self.versions = machine.tool_versions(weight.installed_chromium())
        except SetupError as error:
            log.error("no Docker daemon: %s", error)
            for keys, _ in parts.values():
                for key in keys:
                    self.figures[key].not_measured(f"no Docker daemon: {error}")
            self.versions = machine.tool_versions(weight.installed_chromium())

    def measure_image(self) -> None:
        self.details["image"] = image.measure(
            self.source,
            self.work,
            self.logs,
            self.repetitions,
            self.figures["image-size"],
            self.figures["image-rebuild"],
        )

    def measure_overhead(self) -> None:
        smoke = self.arguments.smoke
        self.details["overhead"] = overhead.measure(
            self.source,
            self.work,
            self.logs,
            SMOKE_PAGES if smoke else ["docs"],
            self.repetitions,
            warm_up=not smoke,
            sequential=self.figures["overhead-sequential"],
            parallel=self.figures["overhead-parallel"],
        )

    def measure_cold_start(self) -> None:
        smoke = self.arguments.smoke
        runs: dict[str, coldstart.ColdStart] = {}
        self.details["cold_start"] = runs
        cached = self.figures["cold-start-cached"]
        runs["with the image cache"] = coldstart.measure(
            PROJECT,
            self.work,
            self.logs,
            "cached",
            install=not smoke,
            without_image_cache=False,
            figure=cached,
        )
        uncached = self.figures["cold-start-uncached"]
        if smoke:
            cached.note = "without `pip install` (smoke run)"
            uncached.not_measured("the smoke run keeps the stand-in images")
            return
        runs["without the image cache"] = coldstart.measure(
            PROJECT,
            self.work,
            self.logs,
            "uncached",
            install=True,
            without_image_cache=True,
            figure=uncached,
        )

    def results(self, started: float, date: str) -> report.Results:
        command = " ".join(
            [".venv/bin/python", "tests/bench/run.py", *map(shlex.quote, sys.argv[1:])]
        )
        return report.Results(
            command=command,
            smoke=self.arguments.smoke,
            repetitions=self.repetitions,
            date=date,
            minutes=(time.monotonic() - started) / 60,
            commit=machine.commit_of(PROJECT, self.source),
            machine=machine.describe_machine(),
            versions=self.versions,
            figures=list(self.figures.values()),
            load_averages=self.load_averages,
            details=self.details,
        )


def clone_source(target: Path) -> Path:
    """Clone the project's last commit into ``target``: the benchmark
    measures that commit, whatever changes the working tree has."""
    subprocess.run(
        ["git", "clone", "--quiet", str(PROJECT), str(target)],
        check=True,
        timeout=300,
    )
    return target


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    started = time.monotonic()
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        benchmark = Benchmark(arguments, Path(folder))
        benchmark.measure_site()
        benchmark.measure_docker()
        results = benchmark.results(started, date)
    report.write(results, arguments.output, arguments.json)
    log.info("wrote %s", arguments.output)
    for figure in results.figures:
        log.info("%s: %s (%s)", figure.label, figure.value, figure.status)
    return 0


if __name__ == "__main__":
    sys.exit(main())
