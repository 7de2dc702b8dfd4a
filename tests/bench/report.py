"""The results page (Markdown) and the same results as JSON."""

import contextlib
import json
import statistics
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path

from .measure import MISSED, NOT_MEASURED, Figure

# Reported with the request for this benchmark, for ten `docker run`
# examples on the requester's machine; this script does not measure them.
REFERENCE_RATIOS = {"prysk": 1.05, "byexample": 1.10, "a plain Sybil evaluator": 1.10}


@dataclass
class Results:
    """Everything that one benchmark run found."""

    command: str
    smoke: bool
    repetitions: int
    date: str
    minutes: float
    commit: str
    machine: dict[str, str]
    versions: dict[str, str]
    figures: list[Figure]
    load_averages: dict[str, str] = field(default_factory=dict)
    details: dict[str, object] = field(default_factory=dict)

    def figure(self, key: str) -> Figure:
        return next(figure for figure in self.figures if figure.key == key)

    def to_dict(self) -> dict:
        record = asdict(self)
        record["figures"] = [figure.to_dict() for figure in self.figures]
        record["details"] = {name: plain(value) for name, value in self.details.items()}
        return record


def plain(value):
    """Return ``value`` with dataclasses and sets turned into JSON types."""
    if is_dataclass(value):
        return plain(asdict(value))
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, set):
        return sorted(value)
    return value


def format_value(value: float, unit: str) -> str:
    if unit == "ratio":
        return f"{value:.2f}"
    if unit == "s":
        return f"{value:.2f} s" if value < 10 else f"{value:.0f} s"
    if unit in ("kB", "MB"):
        return f"{value:.0f} {unit}"
    return f"{value:.0f}"


def format_target(figure: Figure) -> str:
    if figure.target is None:
        return "none"
    unit = "" if figure.unit in ("ratio", "requests") else f" {figure.unit}"
    return f"at most {figure.target:g}{unit}"


def format_result(figure: Figure) -> str:
    if figure.status == MISSED:
        return "**missed**"
    if figure.status == NOT_MEASURED:
        return f"not measured: {figure.reason}"
    return figure.status


def figures_table(figures: list[Figure]) -> list[str]:
    lines = [
        "| Figure | Measured | Target | Result | Notes |",
        "| --- | ---: | ---: | --- | --- |",
    ]
    for figure in figures:
        value = "–" if figure.value is None else format_value(figure.value, figure.unit)
        cells = [figure.label, value, format_target(figure), format_result(figure)]
        lines.append("| " + " | ".join([*cells, figure.note]) + " |")
    return lines


def key_value_table(header: tuple[str, str], rows: dict[str, str]) -> list[str]:
    lines = [f"| {header[0]} | {header[1]} |", "| --- | --- |"]
    lines += [f"| {key} | {value} |" for key, value in rows.items()]
    return lines


def seconds(value: float | None) -> str:
    return "–" if value is None else format_value(value, "s")


def render(results: Results) -> str:
    """Return the results page."""
    lines = [
        "# Benchmarks",
        "",
        "What the page runner costs over the bare commands, how long a fresh",
        "clone takes to run its first example, how fast the site builds, how",
        "heavy its pages are in Chromium, and how fast the example image",
        "rebuilds. The benchmark measures them on the machine it runs on and",
        "writes this page; the README's Benchmarks section shows how to run it.",
        "",
    ]
    if results.smoke:
        lines += [
            "**Smoke run**: one repetition on a subset of the pages, to check",
            "that the benchmark still works. These figures are not the benchmark.",
            "",
        ]
    runs = "one run" if results.repetitions == 1 else f"{results.repetitions} runs"
    lines += [
        f"Measured on {results.date}, in {results.minutes:.0f} minutes, at commit",
        f"{results.commit}, by:",
        "",
        "```text",
        results.command,
        "```",
        "",
        f"Each timed figure is the median of {runs}, paired as each part describes.",
        "A figure that misses its target is marked **missed**.",
        "",
        "## Results",
        "",
        *figures_table(results.figures),
        "",
        "## Machine",
        "",
        *key_value_table(("", ""), results.machine),
        "",
        "Load average (1, 5 and 15 minutes) as each part began and ended:",
        "",
        *key_value_table(("Part", "Load average"), results.load_averages),
        "",
        *busy_machine_note(results),
        "## Versions",
        "",
        *key_value_table(("Tool", "Version"), results.versions),
        "",
    ]
    lines += overhead_section(results)
    lines += cold_start_section(results)
    lines += site_section(results)
    lines += weight_section(results)
    lines += image_section(results)
    return "\n".join(lines).rstrip("\n") + "\n"


def busy_machine_note(results: Results) -> list[str]:
    """Return a warning when the load average was above the number of
    cores at the start or end of a part."""
    cores = results.machine.get("Cores", "")
    loads = []
    for text in results.load_averages.values():
        for value in text.replace("→", " ").split()[::3]:
            with contextlib.suppress(ValueError):  # 'unknown'
                loads.append(float(value))
    if not cores.isdigit() or not loads or max(loads) <= int(cores):
        return []
    return [
        f"The 1-minute load average reached {max(loads):.1f} on {cores} cores:",
        "processes, the benchmark's own or others', waited for a core, so the",
        "timed figures vary more than on an idle machine.",
        "",
    ]


def overhead_section(results: Results) -> list[str]:
    details = plain(results.details.get("overhead"))
    lines = ["## 1. Runner overhead", "", *overhead_method(results.smoke)]
    if not details:
        return [*lines, "Not measured: see the results table.", ""]
    return [
        *lines,
        *overhead_runs(details),
        *page_times_table(details["page_times"]),
        *overhead_notes(details, results.smoke),
    ]


def overhead_method(smoke: bool) -> list[str]:
    warm_up = (
        "(the smoke run has no warm-up run)"
        if smoke
        else "after one unmeasured run of each"
    )
    return [
        "The ratio of the doc-test run (`.venv/bin/pytest` on the pages) to a",
        "bare bash script that contains exactly the commands of the examples,",
        "in order, each page in a scratch folder of its own, with the image",
        f"cache warm {warm_up}. Each repetition runs the bare script, the",
        "doc-test run, and the doc-test run with `-n auto`, in an order that",
        "rotates, and the ratios are taken within a repetition.",
        "",
        "The bare script is generated by `tests/bench/bare.py` with the",
        "runner's own parser and gets the environment the runner gives every",
        "page. Where the runner does more than run a command, the script does",
        "the plain equivalent:",
        "",
        "- The registry that `$REGISTRY` names is started with `docker run`",
        "  and removed at the end; the runner starts it with Docker Compose.",
        "- A `wait-for` directive becomes a bash loop that polls every 0.2 s,",
        "  as the runner polls.",
        "- Each contiguous run of `python` and `pycon` blocks becomes one",
        "  `python3` process; a doctest line runs as the interactive",
        "  interpreter runs it. The runner runs them in its own process.",
        "- Outputs are not compared, but each exit status is checked against",
        "  the page's with a shell test.",
        "- Blocks that only include a file, and skipped blocks, run nothing.",
        "- The pages' own cleanup steps remove what they create; the script",
        "  removes each scratch folder and the registry.",
        "",
    ]


def overhead_runs(details: dict) -> list[str]:
    """Return the times of each repetition, and the doc-test run's start-up
    and teardown."""
    lines = [
        f"Pages: {', '.join(f'`{page}`' for page in details['pages'])}; "
        f"{details['commands']} commands and waits in the bare script.",
        "",
        "| Repetition | Bare script | Doc-test run | Ratio | With `-n auto` | Ratio |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for number, times in enumerate(details["runs"], start=1):
        bare = times["bare"]
        lines.append(
            f"| {number} | {seconds(bare)} | {seconds(times['sequential'])} | "
            f"{times['sequential'] / bare:.2f} | {seconds(times['parallel'])} | "
            f"{times['parallel'] / bare:.2f} |"
        )
    lines.append("")
    if not details["startup"]:
        return lines
    startup = statistics.median(details["startup"])
    teardown = statistics.median(details["teardown"])
    return [
        *lines,
        "Where the doc-test run's time goes (medians of the runs in one",
        "process): from the start of `pytest` to the end of its first",
        f"example, {seconds(startup)}, for Python's start, the collection,",
        "the daemon checks, the images, the registry service, the copy of",
        "the working tree and the first example itself; after its last",
        f"example, {seconds(teardown)}, for the last page's cleanup, the",
        "registry's removal and the leak check.",
        "",
    ]


def overhead_notes(details: dict, smoke: bool) -> list[str]:
    """Return why parallel pages do not help, the reference ratios, the
    snapshot time and what the bare script left behind."""
    lines = [
        "Under `-n auto` the runner keeps every test that uses Docker in one",
        "pytest-xdist worker (`docrunner/plugin.py`), because pages share",
        "container names and ports, so the pages still run one after another",
        "and the workers' start is added.",
        "",
        "For reference, the request for this benchmark gave the same ratio for",
        "other runners on ten `docker run` examples, measured on another",
        "machine and not by this script: "
        + ", ".join(
            f"{name} about {ratio:.2f}" for name, ratio in REFERENCE_RATIOS.items()
        )
        + ".",
        "",
    ]
    if details["snapshot"]:
        lines += [
            "The runner takes a snapshot of Docker's objects before and after",
            "each page, and twice more when a page left objects to remove",
            "(`docrunner/cleanup.py`). One snapshot took "
            f"{seconds(statistics.median(details['snapshot']))} here (median),",
            f"for {len(details['pages'])} page(s).",
            "",
        ]
    leftovers = details["bare_leftovers"]
    if leftovers:
        bare_runs = len(details["runs"]) + (0 if smoke else 1)
        lines += [
            f"The bare script left Docker objects behind in {len(leftovers)} of",
            f"its {bare_runs} runs, which the benchmark removed",
            "after the timing, where the runner removes them within its time.",
            f"The last run left: {leftovers[-1]}.",
            "",
        ]
    return lines


def page_times_table(page_times: dict[str, dict[str, list[float]]]) -> list[str]:
    """Return each page's median time in the bare script and in the runner."""
    if not page_times:
        return []
    lines = [
        "Each page's time (medians): in the bare script from its scratch",
        "folder's creation to its removal, in the runner from the start of its",
        "first example to the end of its cleanup. The last page's time in the",
        "runner includes the run's teardown too.",
        "",
        "| Page | Bare script | Runner | Difference |",
        "| --- | ---: | ---: | ---: |",
    ]
    for page, times in page_times.items():
        if "bare" not in times or "runner" not in times:
            continue
        bare = statistics.median(times["bare"])
        runner = statistics.median(times["runner"])
        lines.append(
            f"| `{page}` | {bare:.2f} s | {runner:.2f} s | {runner - bare:+.2f} s |"
        )
    return [*lines, ""]


def cold_start_section(results: Results) -> list[str]:
    runs = plain(results.details.get("cold_start", {}))
    lines = [
        "## 2. Cold start",
        "",
        "The time from `git clone` of the repository to the end of the first",
        "example, when the README's test command runs in the clone: a new",
        "virtual environment, `pip install -e '.[test]'`, and",
        "`.venv/bin/pytest`, which a small plugin stops after its first",
        "example. The times come from timestamps: the clock before the clone,",
        "and the time the plugin recorded. The clone contains the last",
        "commit. pip uses this machine's download cache, as it would on a",
        "developer's machine that has installed the project before.",
        "",
        "Without the image cache, the stand-in images (label",
        "`org.docker-tutorial.stand-in`) are removed first, so the run builds",
        "them again from Debian's packages, as on a machine where no registry",
        "answers. No other image is removed. No target was set for this figure.",
        "",
    ]
    if results.smoke:
        lines += [
            "The smoke run skips the install and runs the clone's tests with",
            "the packages that the benchmark runs with.",
            "",
        ]
    if not runs:
        return [*lines, "Not measured: see the results table.", ""]
    lines += [
        "| Run | Clone | Install | `pytest` to 1st example | Total | Stand-ins built |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for label, run in runs.items():
        total = run["clone"] + (run["install"] or 0) + run["until_first_example"]
        install = "skipped" if run["install"] is None else seconds(run["install"])
        built = ", ".join(f"`{name}`" for name in run["stand_ins_built"]) or "none"
        lines.append(
            f"| {label} | {seconds(run['clone'])} | {install} | "
            f"{seconds(run['until_first_example'])} | {seconds(total)} | {built} |"
        )
    return [*lines, ""]


def site_section(results: Results) -> list[str]:
    lines = [
        "## 3. Site build",
        "",
        "`mkdocs build --strict` and `zensical build --strict --clean` of the",
        "whole site, each in a fresh copy of the project's files, so Zensical",
        "starts without its cache every time, as MkDocs always does. Each",
        "repetition runs both, in an order that rotates.",
        "",
        "| Builder | Builds (s) |",
        "| --- | --- |",
    ]
    for key, name in (("build-mkdocs", "MkDocs"), ("build-zensical", "Zensical")):
        figure = results.figure(key)
        samples = ", ".join(f"{sample:.2f}" for sample in figure.samples) or "–"
        lines.append(f"| {name} | {samples} |")
    return [*lines, ""]


def weight_section(results: Results) -> list[str]:
    weights = plain(results.details.get("weights"))
    lines = [
        "## 4. Page weight",
        "",
        "The site as `mkdocs build` writes it, served on 127.0.0.1 under the",
        "path of its `site_url`, and each page opened in Debian's Chromium",
        "(through Playwright) in a new browser context, so with an empty",
        "cache. When no request has been made for 500 ms, the bytes that the",
        "server sent for the page's requests (status lines, headers and",
        "bodies) are added up. The server counts them, because Chromium",
        "reports no body size for the search's web worker script.",
        "Each page is weighed served with gzip, as GitHub Pages compresses",
        "HTML, CSS, JavaScript and JSON, and served without compression; the",
        "target applies to the first. A request to any host other than",
        "127.0.0.1 counts as third-party and is blocked. 1 kB is 1,000 bytes.",
        "",
    ]
    if not weights:
        return [*lines, "Not measured: see the results table.", ""]
    lines += [
        "| Page | With gzip | Without compression | Requests | Third-party |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for weight in weights:
        compressed = statistics.median(weight["compressed_bytes"]) / 1000
        uncompressed = statistics.median(weight["uncompressed_bytes"]) / 1000
        requests = statistics.median(weight["requests"])
        lines.append(
            f"| `{weight['path'] or '(home)'}` | {compressed:.0f} kB | "
            f"{uncompressed:.0f} kB | {requests:.0f} | "
            f"{len(weight['third_party'])} |"
        )
    third_party = sorted({url for weight in weights for url in weight["third_party"]})
    if third_party:
        lines += ["", "Third-party requests: " + ", ".join(third_party) + "."]
    return [*lines, ""]


def image_section(results: Results) -> list[str]:
    details = plain(results.details.get("image"))
    lines = [
        "## 5. The example image",
        "",
        "`examples/hello-server/` is copied to a scratch folder and built with",
        "`docker build`, which leaves the build cache warm. Each repetition",
        "then appends a comment to `app.py` and times the rebuild; the build",
        "output shows whether the dependency layer (`RUN pip install`) came",
        "from the cache. The size is Docker's, of the image with its base",
        "image. 1 MB is 1,000,000 bytes. No target was set for the size.",
        "",
    ]
    if not details:
        return [*lines, "Not measured: see the results table.", ""]
    rebuild = results.figure("image-rebuild")
    samples = ", ".join(f"{sample:.2f}" for sample in rebuild.samples)
    lines += [
        f"Base image: {details['base']}.",
        "",
        f"First build, with the cache that earlier builds left: "
        f"{seconds(details['first_build'])}. Rebuilds after a code change (s): "
        f"{samples}.",
        "",
    ]
    return lines


def write(results: Results, markdown: Path, json_path: Path | None) -> None:
    markdown.write_text(render(results), encoding="utf-8")
    if json_path is not None:
        json_path.write_text(
            json.dumps(results.to_dict(), indent=2) + "\n", encoding="utf-8"
        )
