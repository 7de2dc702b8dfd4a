"""The machine the benchmark runs on, the versions of its tools, and the
commit it measures."""

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

UNKNOWN = "unknown"


def output_of(command: list[str], cwd: Path | None = None) -> str:
    """Return the first line of a command's output, or 'unknown' when the
    command is missing or fails."""
    try:
        result = subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        return UNKNOWN
    lines = result.stdout.strip().splitlines()
    return lines[0].strip() if result.returncode == 0 and lines else UNKNOWN


def cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or UNKNOWN
    for line in text.splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return UNKNOWN


def memory_gib() -> float | None:
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024**2
    return None


def operating_system() -> str:
    try:
        text = Path("/etc/os-release").read_text()
    except OSError:
        return platform.platform()
    for line in text.splitlines():
        if line.startswith("PRETTY_NAME="):
            name = line.split("=", 1)[1].strip('"')
            return f"{name}, Linux {platform.release()}"
    return platform.platform()


def load_average() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return UNKNOWN


def describe_machine() -> dict[str, str]:
    memory = memory_gib()
    return {
        "CPU": cpu_model(),
        "Cores": str(os.cpu_count() or UNKNOWN),
        "Memory": f"{memory:.1f} GiB" if memory else UNKNOWN,
        "System": operating_system(),
    }


def package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def chromium_version(executable: Path) -> str:
    if not executable.exists():
        return f"not found at {executable}"
    return output_of([str(executable), "--version"])


def tool_versions(chromium: Path) -> dict[str, str]:
    """Return the versions of the tools that the figures depend on."""
    return {
        "Docker Engine": output_of(
            ["docker", "version", "--format", "{{.Server.Version}}"]
        ),
        "Docker Compose": output_of(["docker", "compose", "version", "--short"]),
        "Python": platform.python_version(),
        "MkDocs": package_version("mkdocs"),
        "Material for MkDocs": package_version("mkdocs-material"),
        "Zensical": package_version("zensical"),
        "Chromium": chromium_version(chromium),
        "Playwright": package_version("playwright"),
        "pytest": package_version("pytest"),
        "pytest-xdist": package_version("pytest-xdist"),
        "Sybil": package_version("sybil"),
        "bash": output_of(["bash", "-c", "echo $BASH_VERSION"]),
    }


def commit_of(project: Path, measured: Path) -> str:
    """Return the commit of ``measured``, a clone of ``project``, and whether
    the project's working tree has changes that were left out because they
    are not committed."""
    commit = output_of(["git", "rev-parse", "--short=12", "HEAD"], cwd=measured)
    changes = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=normal"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.strip()
    if changes:
        return f"{commit} (changes in the working tree not committed: left out)"
    return commit
