"""The benchmark (tests/bench/): its smoke run, which runs every part once on
a small subset so that the benchmark keeps working between its full runs,
and the parts that need no Docker daemon. The smoke run writes its results
to a temporary folder, never to the recorded BENCHMARKS.md."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import bare, image, report
from bench.measure import MET, MISSED, NO_TARGET, NOT_MEASURED, Figure
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
        assert f"| {report.format_target(figure)} |" in row
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


# The parts of the benchmark that need no Docker daemon.

SAMPLE_PAGE = """\
# A sample page

```console
$ cd /tmp
$ export GREETING=hello
```

<!-- test: exit=3 -->
```console
$ (exit 3)
```

<!-- test: wait-for port=9191 timeout=5 -->

```python
total = 40
```

```pycon
>>> total + 2
42
```

```console
$ cat <<EOF
$GREETING
EOF
hello
```
"""


def test_bare_script_keeps_commands_in_order(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "sample.md").write_text(SAMPLE_PAGE)
    script = bare.generate(bare.page_paths(docs), tmp_path, tmp_path / "gitconfig")
    expected = [
        "{ cd /tmp",
        "bench_check $? 0 docs/sample.md:4",
        "{ export GREETING=hello",
        "{ (exit 3)",
        "bench_check $? 3 docs/sample.md:10",
        "bench_wait port 9191 5",
        "total = 40",
        "exec(compile('total + 2\\n', '<pycon>', 'single'))",
        "{ cat <<EOF",
        "$GREETING",
        "EOF",
    ]
    lines = script.splitlines()
    positions = [lines.index(line) for line in expected]
    assert positions == sorted(positions)
    assert f"export GIT_CONFIG_GLOBAL={tmp_path / 'gitconfig'}" in lines
    assert "export TZ=UTC" in lines
    result = subprocess.run(
        ["bash", "-n"], input=script, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


BUILDKIT_OUTPUT = """\
#8 [4/6] RUN pip install --no-cache-dir -r requirements.txt
#8 CACHED

#9 [5/6] COPY app.py .
#9 DONE 0.0s
"""
CLASSIC_OUTPUT = """\
Step 4/6 : RUN pip install --no-cache-dir -r requirements.txt
 ---> Using cache
 ---> 3b5775973686
"""


@pytest.mark.parametrize(
    ("output", "cached"),
    [
        (BUILDKIT_OUTPUT, True),
        (BUILDKIT_OUTPUT.replace("#8 CACHED", "#8 0.412 Collecting aiohttp"), False),
        (CLASSIC_OUTPUT, True),
        (CLASSIC_OUTPUT.replace(" ---> Using cache", " ---> Running in 1f2e"), False),
    ],
    ids=["buildkit-cached", "buildkit-run", "classic-cached", "classic-run"],
)
def test_dependency_step_cached_reads_build_output(output: str, cached: bool) -> None:
    assert image.dependency_step_cached(output) is cached


@pytest.mark.parametrize(
    ("value", "target", "status"),
    [(1.02, 1.03, MET), (1.04, 1.03, MISSED), (0, 0, MET), (5, None, NO_TARGET)],
)
def test_figure_status_against_target(value, target, status) -> None:
    figure = Figure("key", "label", "s", target)
    figure.set_median([value])
    assert figure.status == status


def test_figure_without_value_is_not_measured() -> None:
    figure = Figure("key", "label", "s", 2.0)
    figure.not_measured("no daemon")
    assert figure.status == NOT_MEASURED
    assert "not measured: no daemon" in report.format_result(figure)
