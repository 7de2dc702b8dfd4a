"""The benchmark's smoke run: every part of tests/bench/ once, on a small
subset, so that the benchmark keeps working between its full runs. It writes
its results to a temporary folder, never to the recorded BENCHMARKS.md."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.measure import MET, MISSED, NO_TARGET, NOT_MEASURED, Figure
from bench.report import format_target
from bench.run import FIGURES

PROJECT = Path(__file__).resolve().parents[1]
BENCHMARK = PROJECT / "tests" / "bench" / "run.py"
RECORDED = PROJECT / "BENCHMARKS.md"
SMOKE_TIMEOUT = 1800
# The only figure that the smoke run leaves out on purpose: it would remove
# the stand-in images, which take minutes to build again.
LEFT_OUT = {"cold-start-uncached"}
WEIGHT_PREFIXES = ("home-", "heaviest-")
VERSIONS = (
    "Docker Engine",
    "Docker Compose",
    "Python",
    "MkDocs",
    "Material for MkDocs",
    "Zensical",
    "Chromium",
)


@pytest.fixture(scope="module")
def smoke_run(leak_check, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run the benchmark's smoke mode, under this run's Docker lock, and
    return the folder of its results."""
    folder = tmp_path_factory.mktemp("bench")
    recorded = RECORDED.read_bytes() if RECORDED.exists() else None
    result = subprocess.run(
        [
            sys.executable,
            str(BENCHMARK),
            "--smoke",
            "--output",
            str(folder / "BENCHMARKS.md"),
            "--json",
            str(folder / "results.json"),
            "--logs",
            str(folder / "logs"),
        ],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=SMOKE_TIMEOUT,
    )
    output = (result.stdout + result.stderr)[-5000:]
    assert result.returncode == 0, f"the smoke run failed:\n{output}"
    after = RECORDED.read_bytes() if RECORDED.exists() else None
    assert after == recorded, "the smoke run changed the recorded BENCHMARKS.md"
    return folder


@pytest.fixture(scope="module")
def results(smoke_run: Path) -> dict:
    return json.loads((smoke_run / "results.json").read_text())


@pytest.fixture(scope="module")
def page(smoke_run: Path) -> str:
    return (smoke_run / "BENCHMARKS.md").read_text()


def test_smoke_run_is_marked_as_smoke(results: dict, page: str) -> None:
    assert results["smoke"] is True
    assert results["repetitions"] == 1
    assert "**Smoke run**" in page


def test_smoke_run_measures_every_figure(results: dict) -> None:
    figures = {figure["key"]: figure for figure in results["figures"]}
    assert set(figures) == {key for key, *_ in FIGURES}
    for key, figure in figures.items():
        if key in LEFT_OUT:
            assert figure["status"] == NOT_MEASURED
            assert "smoke run" in figure["reason"]
            continue
        if key.startswith(WEIGHT_PREFIXES) and figure["reason"].startswith(
            "Chromium not found"
        ):
            continue  # as the browser tests, where Chromium cannot be had
        assert figure["value"] is not None, f"{key}: {figure['reason']}"
        assert figure["status"] in (MET, MISSED, NO_TARGET), key


def test_page_shows_each_figure_with_target(results: dict, page: str) -> None:
    rows = [line for line in page.splitlines() if line.startswith("| ")]
    for record in results["figures"]:
        figure = Figure(
            record["key"], record["label"], record["unit"], record["target"]
        )
        row = next((row for row in rows if row.startswith(f"| {figure.label} |")), "")
        assert row, f"no row for {figure.label!r}"
        assert f"| {format_target(figure)} |" in row
        result = "**missed**" if record["status"] == MISSED else record["status"]
        assert f"| {result}" in row


def test_page_names_machine_date_and_versions(results: dict, page: str) -> None:
    for name in ("CPU", "Cores", "Memory"):
        assert f"| {name} | {results['machine'][name]} |" in page
    assert f"Measured on {results['date']}" in page
    for tool in VERSIONS:
        assert f"| {tool} | {results['versions'][tool]} |" in page


def test_bare_script_is_valid_bash(smoke_run: Path) -> None:
    script = smoke_run / "logs" / "bare.sh"
    result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
