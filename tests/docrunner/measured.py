"""Values that the pages show and that the test run measures.

A page cannot write a build time or an image size into its text by hand:
the number would be stale after the next run, so the page's own checks show
``...`` in its place. Instead, a console block with one command and the
directive ``<!-- test: record=NAME -->`` has its actual output saved to
``NAME.txt`` in the measured folder (``docs/includes/measured/``), and the page
includes that file with pymdownx.snippets, inside a fenced ``text`` block::

    ```text title="Measured by the tests"
    --8<-- "docs/includes/measured/NAME.txt"
    ```

The run also writes ``versions.txt``, one sentence that names the Docker
Engine and Docker Compose versions it used, for the pages to include as they
are.

A page's values are written only when every example on the page passed, and
``versions.txt`` only when every page of the run passed, so that the files
always show the output of a passing run. A file whose text has not changed is
not written again. The files are committed, because the site is built from
them where no Docker daemon runs.
"""

import logging
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .matching import ANSI_SEQUENCE

log = logging.getLogger(__name__)

VERSIONS_FILE = "versions.txt"
# A name becomes a file name, so it is kept to lower case words and digits.
VALID_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def is_valid_name(name: str) -> bool:
    return VALID_NAME.fullmatch(name) is not None


def clean_output(output: str) -> str:
    """Return a command's output as a terminal would leave it: no colour
    sequences, only the text after a carriage return, and no trailing white
    space or blank lines."""
    text = ANSI_SEQUENCE.sub("", output)
    lines = [
        line.rstrip("\r").rsplit("\r", 1)[-1].rstrip() for line in text.split("\n")
    ]
    return "\n".join(lines).strip("\n") + "\n"


def versions_sentence(engine: str, compose: str) -> str:
    return (
        f"The tests last ran these steps with Docker Engine {engine} and "
        f"Docker Compose {compose}.\n"
    )


def compose_version() -> str:
    """Return the version of ``docker compose``, or 'unknown'."""
    result = subprocess.run(
        ["docker", "compose", "version", "--short"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return (
        result.stdout.strip()
        if result.returncode == 0 and result.stdout.strip()
        else "unknown"
    )


@dataclass
class Measurements:
    """The measured values of one run, written to ``folder`` as the pages pass."""

    folder: Path
    engine_version: str
    compose_version: str
    # Page path -> {name: output}, for the pages that have not finished yet.
    pending: dict[str, dict[str, str]] = field(default_factory=dict)
    passed_pages: int = 0
    failed_pages: int = 0

    def record(self, page: str, name: str, output: str) -> None:
        """Keep the output of a command under ``name`` until its page ends."""
        self.pending.setdefault(page, {})[name] = clean_output(output)

    def finish_page(self, page: str, passed: bool) -> list[Path]:
        """Write the values of a page that passed, drop those of one that
        failed, and return the files written."""
        values = self.pending.pop(page, {})
        if not passed:
            self.failed_pages += 1
            return []
        self.passed_pages += 1
        return [
            path
            for name, text in sorted(values.items())
            if (path := self.write(f"{name}.txt", text))
        ]

    def finish_run(self) -> Path | None:
        """Write the versions file if pages ran and every one passed."""
        if self.failed_pages or not self.passed_pages:
            return None
        return self.write(
            VERSIONS_FILE, versions_sentence(self.engine_version, self.compose_version)
        )

    def write(self, name: str, text: str) -> Path | None:
        """Write ``text`` to a file in the folder unless the file contains
        that text already, and return its path if it was written."""
        path = self.folder / name
        if path.exists() and path.read_text() == text:
            return None
        self.folder.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        log.info("wrote measured value %s", path)
        return path
