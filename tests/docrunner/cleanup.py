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

import contextlib
import json
import logging
import os
import re
import subprocess
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

log = logging.getLogger(__name__)

KINDS = ("containers", "image_ids", "image_tags", "networks", "volumes")


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
        images = docker_lines(
            "images",
            "--all",
            "--no-trunc",
            "--format",
            "{{.ID}} {{.Repository}}:{{.Tag}}",
        )
        image_ids, image_tags = set(), set()
        for line in images:
            identifier, reference = line.split(" ", 1)
            image_ids.add(identifier)
            if "<none>" not in reference:
                image_tags.add(reference)
        return cls(
            containers=frozenset(docker_lines("ps", "--all", "--quiet", "--no-trunc")),
            image_ids=frozenset(image_ids),
            image_tags=frozenset(image_tags),
            networks=frozenset(docker_lines("network", "ls", "--quiet", "--no-trunc")),
            volumes=frozenset(docker_lines("volume", "ls", "--quiet")),
        )

    def to_dict(self) -> dict[str, list[str]]:
        return {kind: sorted(getattr(self, kind)) for kind in KINDS}

    @classmethod
    def from_dict(cls, record: dict[str, list[str]]) -> "Snapshot":
        return cls(**{kind: frozenset(record.get(kind, [])) for kind in KINDS})

    def added_since(self, before: "Snapshot") -> "Snapshot":
        return Snapshot(
            containers=self.containers - before.containers,
            image_ids=self.image_ids - before.image_ids,
            image_tags=self.image_tags - before.image_tags,
            networks=self.networks - before.networks,
            volumes=self.volumes - before.volumes,
        )

    def is_empty(self) -> bool:
        return not (
            self.containers
            or self.image_ids
            or self.image_tags
            or self.networks
            or self.volumes
        )

    def describe(self) -> str:
        parts = []
        for kind in KINDS:
            names = sorted(getattr(self, kind))
            if names:
                shown = ", ".join(
                    name.removeprefix("sha256:")[:12] if kind != "image_tags" else name
                    for name in names
                )
                parts.append(f"{kind.replace('_', ' ')}: {shown}")
        return "; ".join(parts) or "nothing"


def docker_lines(*arguments: str) -> list[str]:
    result = subprocess.run(
        ["docker", *arguments], capture_output=True, text=True, timeout=60
    )
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
    log.debug("removing what the page created: %s", added.describe())
    remove_objects(added, before)
    left = Snapshot.take().added_since(before)
    if not left.is_empty():
        log.warning("could not remove everything the page created: %s", left.describe())
    return left


def remove_objects(added: Snapshot, before: Snapshot) -> None:
    """Remove the objects in ``added``, and the images that removing its
    tags leaves untagged, unless ``before`` has them."""
    remove(["rm", "--force", "--volumes"], added.containers)
    remove(["network", "rm"], added.networks)
    remove(["volume", "rm", "--force"], added.volumes)
    tagged = {image_id(tag) for tag in added.image_tags} - {None}
    # Tags one at a time, so an image that a surviving container uses does
    # not stop the others. Removing the last tag of an image deletes it.
    for tag in sorted(added.image_tags):
        remove(["rmi"], [tag])
    untagged = (tagged | added.image_ids) - before.image_ids
    now = Snapshot.take()
    # Newest first, so an image goes before the parent it was built on.
    for image in sorted(untagged & now.image_ids, key=image_created, reverse=True):
        remove(["rmi"], [image])


def image_id(reference: str) -> str | None:
    result = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Id}}", reference],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.stdout.strip() if result.returncode == 0 else None


def image_created(image_id: str) -> str:
    result = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Created}}", image_id],
        capture_output=True,
        text=True,
        timeout=60,
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
    result = subprocess.run(
        ["docker", *arguments], capture_output=True, text=True, timeout=120
    )
    if result.returncode != 0:
        log.warning(
            "Command 'docker %s' returned non-zero exit status %d: %s",
            " ".join(arguments),
            result.returncode,
            result.stderr.strip(),
        )


# What a killed run left behind.
#
# A run records its start snapshot in a journal file, and touches the file
# every HEARTBEAT seconds while it lives. A run killed with SIGKILL cannot
# clean up, so the next run reads its journal and removes every object that
# was not in the snapshot and that Docker records as created, or tagged, while
# the killed run was alive.

HEARTBEAT = 2.0


class RunJournal:
    """The journal of the current run: its start snapshot and a heartbeat."""

    def __init__(self, folder: Path, before: Snapshot) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"run-{os.getpid()}-{uuid.uuid4().hex[:8]}.json"
        record = {
            "pid": os.getpid(),
            "started": time.time(),
            "before": before.to_dict(),
        }
        self.path.write_text(json.dumps(record))
        self.stopped = threading.Event()
        self.thread = threading.Thread(
            target=self.beat, name="docrunner-heartbeat", daemon=True
        )
        self.thread.start()

    def beat(self) -> None:
        while not self.stopped.wait(HEARTBEAT):
            with contextlib.suppress(OSError):
                os.utime(self.path)

    def close(self) -> None:
        self.stopped.set()
        self.thread.join()
        self.path.unlink(missing_ok=True)


def recover_killed_runs(folder: Path) -> None:
    """Remove what runs that were killed left behind, and their journals."""
    for journal in sorted(folder.glob("run-*.json")) if folder.exists() else []:
        try:
            record = json.loads(journal.read_text())
            last_alive = journal.stat().st_mtime
        except (OSError, ValueError):
            continue
        if process_alive(record["pid"]) and time.time() - last_alive < 10 * HEARTBEAT:
            continue
        before = Snapshot.from_dict(record["before"])
        window = (record["started"] - 1, last_alive + HEARTBEAT + 1)
        left = Snapshot.take().added_since(before)
        stale = created_within(left, *window)
        if not stale.is_empty():
            log.warning(
                "removing what a killed run (pid %d) left behind: %s",
                record["pid"],
                stale.describe(),
            )
            remove_objects(stale, before)
        journal.unlink(missing_ok=True)


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def created_within(objects: Snapshot, start: float, end: float) -> Snapshot:
    """Return the objects that Docker records as created (for tags: tagged)
    between ``start`` and ``end``, in seconds since the epoch."""

    def keep(kind: str, names: frozenset[str], template: str) -> frozenset[str]:
        kept = set()
        for name in names:
            result = subprocess.run(
                ["docker", *kind.split(), "inspect", "--format", template, name],
                capture_output=True,
                text=True,
                timeout=60,
            )
            moment = parse_time(result.stdout.strip())
            if result.returncode == 0 and moment is not None and start <= moment <= end:
                kept.add(name)
        return frozenset(kept)

    return Snapshot(
        containers=keep("container", objects.containers, "{{.Created}}"),
        image_ids=keep("image", objects.image_ids, "{{.Created}}"),
        image_tags=keep("image", objects.image_tags, "{{.Metadata.LastTagTime}}"),
        networks=keep("network", objects.networks, "{{.Created}}"),
        volumes=keep("volume", objects.volumes, "{{.CreatedAt}}"),
    )


def parse_time(text: str) -> float | None:
    """Parse Docker's RFC 3339 times (nanoseconds, 'Z' or an offset) and the
    '2006-01-02 15:04:05 +0000 UTC' form of LastTagTime."""
    text = text.replace(" UTC", "").strip()
    match = re.match(
        r"(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.(\d+))?\s*(Z|[+-]\d\d:?\d\d)?", text
    )
    if match is None:
        return None
    day, clock, fraction, zone = match.groups()
    zone = "+00:00" if zone in (None, "Z") else zone
    moment = datetime.fromisoformat(
        f"{day}T{clock}{zone if ':' in zone else zone[:3] + ':' + zone[3:]}"
    )
    return moment.timestamp() + float(f"0.{fraction or 0}")
