"""Every image that the pages use is published for linux/amd64 and
linux/arm64, the two architectures that the workflows test on, so that a
reader on either kind of machine can follow every page.

The images are the runner's list (IMAGES in tests/docrunner/plugin.py) and the
FROM lines of examples/*/Dockerfile. Each image's manifest list is read from
its registry with ``docker manifest inspect``. Where the registry cannot be
reached, the check is skipped with the reason, so it never passes untested.

The weekly workflow runs this file as a script to list the images to pull.
"""

import json
import shutil
import subprocess
import urllib.error
import urllib.request
from functools import cache
from pathlib import Path

import pytest

from docrunner.plugin import IMAGES

PROJECT = Path(__file__).resolve().parents[1]
REQUIRED_PLATFORMS = {("linux", "amd64"), ("linux", "arm64")}
# Docker Hub's images are named without a registry, and served from this host.
DOCKER_HUB = "registry-1.docker.io"
# Timeouts in seconds.
REGISTRY_TIMEOUT = 15
INSPECT_TIMEOUT = 120


def dockerfile_bases(dockerfile: Path) -> list[str]:
    """Return the images that a Dockerfile's FROM lines name, leaving out
    earlier build stages and ``scratch``.

    NOTE: build arguments in a FROM line (``${VERSION}``) are not expanded.
    """
    bases: list[str] = []
    stages: set[str] = set()
    for line in dockerfile.read_text().splitlines():
        words = line.split()
        if not words or words[0].upper() != "FROM":
            continue
        arguments = [word for word in words[1:] if not word.startswith("--")]
        image = arguments[0]
        if len(arguments) >= 3 and arguments[1].upper() == "AS":
            stages.add(arguments[2].lower())
        if image.lower() not in stages and image != "scratch" and image not in bases:
            bases.append(image)
    return bases


def tutorial_images() -> list[str]:
    """Return the images that the pages and the examples use, each once."""
    images = list(IMAGES)
    for dockerfile in sorted(PROJECT.glob("examples/*/Dockerfile")):
        images += [
            image for image in dockerfile_bases(dockerfile) if image not in images
        ]
    return images


def registry_host(reference: str) -> str:
    """Return the host of the registry that serves an image reference."""
    first, slash, _ = reference.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return first
    return DOCKER_HUB


@cache
def registry_responds(host: str) -> tuple[bool, str]:
    """Send a request to a registry's API root (``/v2/``) and return whether
    a registry responded, with the reason when none did."""
    url = f"https://{host}/v2/"
    try:
        with urllib.request.urlopen(url, timeout=REGISTRY_TIMEOUT) as response:
            headers = response.headers
    except urllib.error.HTTPError as error:
        # A registry that requires a token responds 401 Unauthorized.
        headers = error.headers
    except (urllib.error.URLError, OSError) as error:
        return False, f"{url} is unreachable: {error}"
    if "Docker-Distribution-API-Version" not in headers:
        return False, f"{url} responded, but not as a registry"
    return True, ""


def platforms(manifest: dict) -> set[tuple[str, str]]:
    """Return the (os, architecture) pairs of a manifest list or OCI image
    index. A single-platform manifest lists none."""
    found = set()
    for entry in manifest.get("manifests", []):
        platform = entry.get("platform", {})
        found.add((platform.get("os"), platform.get("architecture")))
    return found


@pytest.mark.parametrize("reference", tutorial_images())
def test_image_has_both_architectures(reference: str) -> None:
    host = registry_host(reference)
    responded, reason = registry_responds(host)
    if not responded:
        pytest.skip(f"cannot check the architectures of {reference}: {reason}")
    docker = shutil.which("docker")
    assert docker is not None, "the docker command is needed to read manifests"

    result = subprocess.run(
        [docker, "manifest", "inspect", reference],
        capture_output=True,
        text=True,
        timeout=INSPECT_TIMEOUT,
    )

    assert result.returncode == 0, result.stderr
    missing = REQUIRED_PLATFORMS - platforms(json.loads(result.stdout))
    assert not missing, f"{reference} is not published for " + ", ".join(
        f"{os}/{architecture}" for os, architecture in sorted(missing)
    )


# The helpers above, on inputs whose results are known.


def test_tutorial_images_include_dockerfile_bases() -> None:
    images = tutorial_images()
    assert set(IMAGES) <= set(images)
    assert "python:3.13-slim" in images
    assert len(images) == len(set(images))


def test_dockerfile_bases_skip_stages(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "FROM --platform=$BUILDPLATFORM golang:1.24 AS build\n"
        "RUN go build\n"
        "from build as test\n"
        "FROM scratch\n"
        "FROM gcr.io/distroless/static:nonroot\n"
        "COPY --from=build /app /app\n"
    )
    assert dockerfile_bases(dockerfile) == [
        "golang:1.24",
        "gcr.io/distroless/static:nonroot",
    ]


@pytest.mark.parametrize(
    ("reference", "host"),
    [
        ("alpine:latest", DOCKER_HUB),
        ("library/python:3.13-slim", DOCKER_HUB),
        ("ghcr.io/owner/image:1", "ghcr.io"),
        ("localhost:5000/image", "localhost:5000"),
        ("localhost/image", "localhost"),
    ],
)
def test_registry_host(reference: str, host: str) -> None:
    assert registry_host(reference) == host


def test_platforms_of_index() -> None:
    index = {
        "manifests": [
            {"platform": {"os": "linux", "architecture": "amd64"}},
            {"platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
            # An attestation manifest, as BuildKit attaches to each platform.
            {"platform": {"os": "unknown", "architecture": "unknown"}},
        ]
    }
    assert REQUIRED_PLATFORMS.issubset(platforms(index))


def test_platforms_of_single_manifest() -> None:
    manifest = {"schemaVersion": 2, "config": {}, "layers": []}
    assert platforms(manifest) == set()


if __name__ == "__main__":
    print("\n".join(tutorial_images()))
