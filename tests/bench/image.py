"""The example image: its size, and its rebuild after a change to the code.

The example (examples/hello-server/) is copied to a scratch folder and built
once with ``docker build``, as the tutorial builds it, which leaves the build
cache warm. Each repetition then appends a comment to app.py and times the
rebuild. The build output shows whether the dependency layer (the ``RUN pip
install`` step) came from the cache. Every image that the measurement created
is removed at the end, with the runner's own cleanup.
"""

import os
import re
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from docrunner import cleanup, images
from docrunner.page import FIXED_ENVIRONMENT

from .measure import Figure, MeasurementError, run_timed

EXAMPLE = Path("examples") / "hello-server"
BUILD_TIMEOUT = 900


@dataclass
class ImageDetails:
    """The example image's base and first build, for the results page."""

    base: str = ""
    first_build: float = 0.0
    dependencies_cached: list[bool] = field(default_factory=list)


def base_image(dockerfile: Path) -> str:
    for line in dockerfile.read_text().splitlines():
        if line.upper().startswith("FROM "):
            return line.split()[1]
    raise MeasurementError(f"{dockerfile} has no FROM line")


def dependency_step_cached(output: str) -> bool:
    """Return whether the ``RUN pip install`` step came from the build cache,
    from BuildKit's plain output (``#7 CACHED``) or the classic builder's
    (`` ---> Using cache``)."""
    step = re.search(r"^#(\d+) \[[^\]]*\] RUN .*pip install", output, re.MULTILINE)
    if step:
        return (
            re.search(rf"^#{step.group(1)} CACHED$", output, re.MULTILINE) is not None
        )
    classic = re.search(
        r"^Step \d+/\d+ : RUN .*pip install.*\n(.*)", output, re.MULTILINE
    )
    return classic is not None and "Using cache" in classic.group(1)


def image_size(tag: str) -> int:
    result = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Size}}", tag],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode != 0:
        raise MeasurementError(f"docker image inspect {tag} failed: {result.stderr}")
    return int(result.stdout.strip())


def measure(
    project: Path,
    work: Path,
    logs: Path,
    repetitions: int,
    size: Figure,
    rebuild: Figure,
) -> ImageDetails:
    """Measure the example image into the two figures."""
    folder = work / "hello-server"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(project / EXAMPLE, folder)
    base = base_image(folder / "Dockerfile")
    label = images.inspect_label(base)
    details = ImageDetails(base=f"{base}, {label}" if label else base)
    tag = f"bench-hello-server-{uuid.uuid4().hex[:8]}"
    environment = dict(os.environ, **FIXED_ENVIRONMENT)
    command = ["docker", "build", "--tag", tag, "."]
    before = cleanup.Snapshot.take()
    try:
        details.first_build = run_timed(
            command,
            cwd=folder,
            environment=environment,
            log_path=logs / "image-build.log",
            timeout=BUILD_TIMEOUT,
        )
        size.set_median([image_size(tag) / 1e6])
        samples = []
        for repetition in range(repetitions):
            with open(folder / "app.py", "a", encoding="utf-8") as app:
                app.write(f"# A change to the code, {uuid.uuid4().hex}\n")
            log = logs / f"image-rebuild-{repetition + 1}.log"
            samples.append(
                run_timed(
                    command,
                    cwd=folder,
                    environment=environment,
                    log_path=log,
                    timeout=BUILD_TIMEOUT,
                )
            )
            details.dependencies_cached.append(dependency_step_cached(log.read_text()))
        rebuild.set_median(samples)
    finally:
        cleanup.remove_added(before)
    cached = sum(details.dependencies_cached)
    rebuild.note = (
        f"dependency layer from the cache in {cached} of "
        f"{len(details.dependencies_cached)} rebuilds"
    )
    size.note = f"on {base}, a stand-in built here" if label else f"on {base}"
    return details
