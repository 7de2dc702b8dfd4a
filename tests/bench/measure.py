"""Figures, targets and timed commands."""

import statistics
import subprocess
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

MET = "met"
MISSED = "missed"
NO_TARGET = "no target"
NOT_MEASURED = "not measured"


class MeasurementError(Exception):
    """A measurement that could not be made, with the reason as message."""


@dataclass
class Figure:
    """One result of the benchmark and the target it is held to.

    ``target`` is a maximum: the figure meets it when ``value <= target``.
    A figure without a value carries the reason in ``reason``.
    """

    key: str
    label: str
    unit: str
    target: float | None = None
    value: float | None = None
    samples: list[float] = field(default_factory=list)
    reason: str = ""
    # What the value applies to, or how it was taken, where the label
    # cannot show it: a page's address, a step that was left out.
    note: str = ""

    @property
    def status(self) -> str:
        if self.value is None:
            return NOT_MEASURED
        if self.target is None:
            return NO_TARGET
        return MET if self.value <= self.target else MISSED

    def set_median(self, samples: Sequence[float]) -> None:
        self.samples = [round(sample, 4) for sample in samples]
        self.value = statistics.median(samples)

    def not_measured(self, reason: str) -> None:
        self.value = None
        self.reason = reason

    def to_dict(self) -> dict:
        return dict(asdict(self), status=self.status)


def rotated(items: Sequence, repetition: int) -> list:
    """Return ``items`` rotated by ``repetition`` places, so that paired runs
    take turns at going first and a slow first run does not favour one."""
    shift = repetition % len(items)
    return [*items[shift:], *items[:shift]]


def run_timed(
    command: Sequence[str],
    *,
    cwd: Path,
    environment: dict[str, str],
    log_path: Path,
    timeout: float,
) -> float:
    """Run ``command`` with its output written to ``log_path``, and return
    its wall-clock time in seconds.

    Raises MeasurementError when the command fails or times out, with the
    end of its output.
    """
    with open(log_path, "w", encoding="utf-8") as log_file:
        started = time.perf_counter()
        try:
            result = subprocess.run(
                command,
                cwd=cwd,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            raise MeasurementError(
                f"`{' '.join(command)}` timed out after {timeout:g} s; "
                f"its output is in {log_path}"
            ) from None
        seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise MeasurementError(
            f"`{' '.join(command)}` failed with exit status {result.returncode}: "
            f"{tail(log_path)} (whole output in {log_path})"
        )
    return seconds


def tail(path: Path, lines: int = 15) -> str:
    """Return the last lines of a log file, joined with ' / '."""
    text = path.read_text(encoding="utf-8", errors="replace")
    return " / ".join(line for line in text.splitlines()[-lines:] if line.strip())
