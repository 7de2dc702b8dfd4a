"""Record what a page creates in Docker, and remove exactly that.

Before a page runs, the runner takes a snapshot of the daemon's containers,
images (by ID and by tag), networks and volumes. After the page, whether it
passed or failed, everything that is in a new snapshot but not in the first
one is removed. Nothing that existed before the page is touched: a tag that a
page added to an existing image is removed as a tag (``docker rmi NAME:TAG``
only untags), never by the image's ID.

NOTE: the snapshot cannot tell the page's objects from those that another
client creates on the same daemon while the page runs, so the runner assumes
that it has the daemon to itself while a page runs.
"""

import logging
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Snapshot:
    """The Docker objects present at one moment."""

    containers: frozenset[str]
    image_ids: frozenset[str]
    image_tags: frozenset[str]
    networks: frozenset[str]
    volumes: frozenset[str]

    @classmethod
    def take(cls) -> "Snapshot":
        images = docker_lines("images", "--all", "--no-trunc", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}")
        image_ids, image_tags = set(), set()
        for line in images:
            image_id, reference = line.split(" ", 1)
            image_ids.add(image_id)
            if "<none>" not in reference:
                image_tags.add(reference)
        return cls(
            containers=frozenset(docker_lines("ps", "--all", "--quiet", "--no-trunc")),
            image_ids=frozenset(image_ids),
            image_tags=frozenset(image_tags),
            networks=frozenset(docker_lines("network", "ls", "--quiet", "--no-trunc")),
            volumes=frozenset(docker_lines("volume", "ls", "--quiet")),
        )

    def added_since(self, before: "Snapshot") -> "Snapshot":
        return Snapshot(
            containers=self.containers - before.containers,
            image_ids=self.image_ids - before.image_ids,
            image_tags=self.image_tags - before.image_tags,
            networks=self.networks - before.networks,
            volumes=self.volumes - before.volumes,
        )

    def is_empty(self) -> bool:
        return not (self.containers or self.image_ids or self.image_tags or self.networks or self.volumes)

    def describe(self) -> str:
        parts = []
        for kind in ("containers", "image_ids", "image_tags", "networks", "volumes"):
            names = sorted(getattr(self, kind))
            if names:
                shown = ", ".join(name.removeprefix("sha256:")[:12] if kind != "image_tags" else name for name in names)
                parts.append(f"{kind.replace('_', ' ')}: {shown}")
        return "; ".join(parts) or "nothing"


def docker_lines(*arguments: str) -> list[str]:
    result = subprocess.run(["docker", *arguments], capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(
            f"Command 'docker {' '.join(arguments)}' returned non-zero exit status "
            f"{result.returncode}: {result.stderr.strip()}"
        )
    return [line for line in result.stdout.splitlines() if line.strip()]


def remove_added(before: Snapshot) -> Snapshot:
    """Remove every Docker object added since ``before``, and return what
    could not be removed (an empty snapshot when all went)."""
    added = Snapshot.take().added_since(before)
    if added.is_empty():
        return added
    log.info("removing what the page created: %s", added.describe())
    remove(["rm", "--force", "--volumes"], added.containers)
    remove(["network", "rm"], added.networks)
    remove(["volume", "rm", "--force"], added.volumes)
    # Tags first: removing a page's last tag of a new image deletes the image.
    # Images are untagged or deleted one at a time, so one in use by a
    # container that survived does not stop the others.
    for tag in sorted(added.image_tags):
        remove(["rmi"], [tag])
    remaining = Snapshot.take().added_since(before)
    # Newest first, so an image goes before the parent it was built on.
    for image_id in sorted(remaining.image_ids, key=image_created, reverse=True):
        remove(["rmi"], [image_id])
    left = Snapshot.take().added_since(before)
    if not left.is_empty():
        log.warning("could not remove everything the page created: %s", left.describe())
    return left


def image_created(image_id: str) -> str:
    result = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Created}}", image_id],
        capture_output=True, text=True, timeout=60,
    )
    return result.stdout.strip()


def remove(command: list[str], names: Iterable[str]) -> None:
    """Run a docker removal command on ``names``, if there are any, and log a
    failure instead of raising, so that one stuck object does not keep the
    others from being removed."""
    names = sorted(names)
    if not names:
        return
    arguments = [*command, *names]
    result = subprocess.run(["docker", *arguments], capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        log.warning(
            "Command 'docker %s' returned non-zero exit status %d: %s",
            " ".join(arguments), result.returncode, result.stderr.strip(),
        )
