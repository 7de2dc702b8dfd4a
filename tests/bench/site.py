"""The site build with MkDocs and with Zensical.

Each repetition copies the project's files (those git tracks, and those it
does not ignore) into two fresh folders, outside the timing. It then times
``mkdocs build --strict`` in one and ``zensical build --strict --clean`` in
the other, in an order that rotates from one repetition to the next. Zensical
writes into the project's site/ folder and keeps a cache in .cache/, so each
of its builds starts without that cache, as MkDocs always does.
"""

import os
import shutil
import sys
from pathlib import Path

from docrunner.repository import copy_working_tree

from .measure import Figure, MeasurementError, rotated, run_timed

BUILD_TIMEOUT = 600
BUILDERS = ("mkdocs", "zensical")


def build_command(builder: str, copy: Path) -> list[str]:
    executable = str(Path(sys.executable).with_name(builder))
    if builder == "mkdocs":
        return [executable, "build", "--strict", "--site-dir", str(copy / "site")]
    return [executable, "build", "--strict", "--clean"]


def build_once(project: Path, work: Path, logs: Path) -> Path:
    """Build the site with MkDocs, untimed, and return the site folder."""
    copy = copy_working_tree(project, work / "site-mkdocs")
    run_timed(
        build_command("mkdocs", copy),
        cwd=copy,
        environment=dict(os.environ, NO_MKDOCS_2_WARNING="1"),
        log_path=logs / "build-mkdocs.log",
        timeout=BUILD_TIMEOUT,
    )
    return copy / "site"


def measure(
    project: Path,
    work: Path,
    logs: Path,
    repetitions: int,
    figures: dict[str, Figure],
) -> Path:
    """Time the builds into ``figures`` (keyed by builder), and return the
    site folder of the last MkDocs build."""
    # Material 9 prints a notice about its end of life on every build.
    environment = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    samples: dict[str, list[float]] = {builder: [] for builder in BUILDERS}
    failed: dict[str, str] = {}
    site = None
    for repetition in range(repetitions):
        for builder in rotated(BUILDERS, repetition):
            if builder in failed:
                continue
            copy = work / f"site-{builder}-{repetition + 1}"
            shutil.rmtree(copy, ignore_errors=True)
            copy_working_tree(project, copy)
            try:
                seconds = run_timed(
                    build_command(builder, copy),
                    cwd=copy,
                    environment=environment,
                    log_path=logs / f"build-{builder}-{repetition + 1}.log",
                    timeout=BUILD_TIMEOUT,
                )
            except MeasurementError as error:
                failed[builder] = str(error)
                continue
            samples[builder].append(seconds)
            if builder == "mkdocs":
                site = copy / "site"
    for builder in BUILDERS:
        if builder in failed:
            figures[builder].not_measured(f"the build failed: {failed[builder]}")
        else:
            figures[builder].set_median(samples[builder])
    if site is None:
        raise MeasurementError("no MkDocs build succeeded, so no site to weigh")
    return site
