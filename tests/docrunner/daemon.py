"""Find a Docker daemon, or install and start one.

The runner uses whatever daemon the ``docker`` command reaches (DOCKER_HOST,
the current context, or /var/run/docker.sock). Where none answers and the
tests run as root on Debian or a system derived from it, ``engine`` installs
Docker Engine from the distribution's packages (``docker.io``), starts
``dockerd``, and stops it when the tests end. Anywhere else it stops at once
and says how to start a daemon.

Docker Compose and Buildx come as CLI plugins. Where either is missing on such
a system, it is taken from Debian 13 (trixie), whose packages carry them, and
unpacked into /usr/local/lib/docker/cli-plugins.
"""

import contextlib
import fcntl
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from .errors import SetupError

log = logging.getLogger(__name__)

DEBIAN_MIRROR = os.environ.get(
    "DOCRUNNER_DEBIAN_MIRROR", "http://deb.debian.org/debian"
)
PLUGIN_FOLDER = Path("/usr/local/lib/docker/cli-plugins")
# CLI plugin name -> the Debian 13 package that ships it.
PLUGIN_PACKAGES = {"compose": "docker-compose", "buildx": "docker-buildx"}
START_TIMEOUT = 60
STOP_TIMEOUT = 30

HOW_TO_START = (
    "Start Docker and run the tests again: open Docker Desktop, or run "
    "`sudo systemctl start docker` on Linux. As root on Debian or Ubuntu, the "
    "tests install Docker Engine and start it themselves."
)


def cache_folder() -> Path:
    """Return the folder for the runner's state between runs (the dockerd log
    and pid file, and the stand-in image builds)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    folder = Path(base) / "docker-tutorial"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def server_version() -> str | None:
    """Return the version of the daemon that ``docker`` reaches, or None."""
    if shutil.which("docker") is None:
        return None
    try:
        result = subprocess.run(
            ["docker", "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except subprocess.TimeoutExpired:
        return None
    version = result.stdout.strip()
    return version if result.returncode == 0 and version else None


def can_install() -> bool:
    """Return whether this machine lets the runner install Docker itself."""
    return (
        os.geteuid() == 0
        and Path("/etc/debian_version").exists()
        and shutil.which("apt-get") is not None
    )


def apt_get(*arguments: str) -> None:
    environment = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    result = subprocess.run(
        ["apt-get", "-q", *arguments],
        capture_output=True,
        text=True,
        env=environment,
        timeout=1200,
    )
    if result.returncode != 0:
        raise SetupError(
            f"Command 'apt-get {' '.join(arguments)}' returned non-zero exit status "
            f"{result.returncode}: {result.stderr.strip()[-2000:]}"
        )


_apt_updated = False


def install_packages(*packages: str) -> None:
    """Install Debian packages, reading the package lists once per run."""
    global _apt_updated
    if not _apt_updated:
        log.info("reading Debian's package lists (apt-get update)")
        apt_get("update")
        _apt_updated = True
    log.info("installing Debian packages: %s", " ".join(packages))
    apt_get("install", "--yes", "--no-install-recommends", *packages)


def require_tool(command: str, package: str) -> None:
    """Make sure a command exists, installing its Debian package if allowed."""
    if shutil.which(command):
        return
    if not can_install():
        raise SetupError(
            f"{command} not found: install the {package} package and run the tests "
            "again."
        )
    install_packages(package)


LOCK_PATH = Path(tempfile.gettempdir()) / "docrunner-docker.lock"
# Set for the processes that a run starts, such as the runner's own tests'
# inner pytest runs, which work under the lock that their parent holds.
LOCK_HELD = "DOCRUNNER_DOCKER_LOCK_HELD"


@contextlib.contextmanager
def exclusive_use() -> Iterator[None]:
    """Hold the machine's Docker lock, so that two test runs on one daemon
    take turns: each page's cleanup removes whatever appeared in Docker while
    the page ran, which must not be another run's objects."""
    if os.environ.get(LOCK_HELD):
        yield
        return
    with open(LOCK_PATH, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning(
                "another test run is using Docker (lock %s); waiting for it to end",
                LOCK_PATH,
            )
            fcntl.flock(lock, fcntl.LOCK_EX)
        os.environ[LOCK_HELD] = str(os.getpid())
        try:
            yield
        finally:
            del os.environ[LOCK_HELD]
            fcntl.flock(lock, fcntl.LOCK_UN)


def lock_held_by_parent() -> bool:
    """Return whether the Docker lock is held by a process that started this
    one, rather than by this process or by no process."""
    holder = os.environ.get(LOCK_HELD)
    return bool(holder) and holder != str(os.getpid())


@contextlib.contextmanager
def engine() -> Iterator[str]:
    """Yield the version of a running Docker daemon, starting one if needed
    (and allowed), and stop the daemon afterwards if this run started it."""
    version = server_version()
    pid_file = cache_folder() / "dockerd.pid"
    if version is not None:
        # A run that another run started under its lock (the runner's own
        # tests, the benchmark) uses the daemon of the run that started it,
        # and must leave it running for that run.
        started_here = None if lock_held_by_parent() else adopt_leftover(pid_file)
        log.info("using the Docker daemon that answers (Engine %s)", version)
    elif can_install():
        process_id = start_dockerd(pid_file)
        version = server_version()
        started_here = process_id
    else:
        raise SetupError(
            f"No Docker daemon answers (`docker version` failed). {HOW_TO_START}"
        )
    ensure_cli_plugins()
    try:
        yield version
    finally:
        if started_here:
            stop_dockerd(started_here, pid_file)


def adopt_leftover(pid_file: Path) -> int | None:
    """Return the pid of a dockerd that an earlier, killed run started and
    left running, so that this run stops it; None when there is none."""
    try:
        process_id = int(pid_file.read_text())
        command = Path(f"/proc/{process_id}/comm").read_text().strip()
    except (OSError, ValueError):
        return None
    if command != "dockerd":
        return None
    log.info(
        "stopping, at the end, the dockerd (pid %d) that an interrupted run left",
        process_id,
    )
    return process_id


def start_dockerd(pid_file: Path) -> int:
    """Install Docker Engine if needed, start dockerd, and wait until it answers."""
    if shutil.which("dockerd") is None:
        log.info(
            "no Docker daemon answers: installing Docker Engine from Debian's packages"
        )
        install_packages("docker.io")
    log_path = cache_folder() / "dockerd.log"
    log.info("starting dockerd (its log: %s)", log_path)
    # Each start writes a new log, so the file does not grow from run to run.
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            ["dockerd"],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    pid_file.write_text(str(process.pid))
    deadline = time.monotonic() + START_TIMEOUT
    while server_version() is None:
        if process.poll() is not None:
            raise SetupError(
                f"dockerd exited with status {process.returncode} before it answered; "
                f"read {log_path} for the reason."
            )
        if time.monotonic() > deadline:
            process.kill()
            raise SetupError(
                f"dockerd did not answer within {START_TIMEOUT} s of starting; "
                f"read {log_path}."
            )
        time.sleep(0.2)
    return process.pid


def stop_dockerd(process_id: int, pid_file: Path) -> None:
    log.info("stopping the dockerd (pid %d) that this run started", process_id)
    with contextlib.suppress(ProcessLookupError):
        os.kill(process_id, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while Path(f"/proc/{process_id}").exists() and time.monotonic() < deadline:
        # Reap it if it is our child; a leftover from an earlier run is not.
        with contextlib.suppress(ChildProcessError):
            os.waitpid(process_id, os.WNOHANG)
        time.sleep(0.1)
    if Path(f"/proc/{process_id}").exists():
        log.warning(
            "dockerd (pid %d) did not stop within %d s; killing it",
            process_id,
            STOP_TIMEOUT,
        )
        with contextlib.suppress(ProcessLookupError):
            os.kill(process_id, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)


def plugin_works(name: str) -> bool:
    result = subprocess.run(
        ["docker", name, "version"], capture_output=True, timeout=60
    )
    return result.returncode == 0


def ensure_cli_plugins() -> None:
    """Make sure ``docker compose`` and ``docker buildx`` work."""
    missing = [name for name in PLUGIN_PACKAGES if not plugin_works(name)]
    if not missing:
        return
    if not can_install():
        raise SetupError(
            f"docker {' and docker '.join(missing)} not found: install the Docker "
            "Compose and "
            "Buildx plugins (they come with Docker Desktop and Docker's own packages)."
        )
    packages = [PLUGIN_PACKAGES[name] for name in missing]
    log.info(
        "installing Docker CLI plugins from Debian 13 packages: %s", " ".join(packages)
    )
    with tempfile.TemporaryDirectory(prefix="docrunner-apt-") as folder:
        unpack_trixie_packages(Path(folder), packages)
    for name in missing:
        if not plugin_works(name):
            raise SetupError(
                f"docker {name} still fails after installing it into {PLUGIN_FOLDER}."
            )


def unpack_trixie_packages(folder: Path, packages: list[str]) -> None:
    """Download Debian 13 packages with a private apt configuration, leaving
    the system's own sources alone, and copy their CLI plugins into place."""
    (folder / "lists" / "partial").mkdir(parents=True)
    (folder / "sources.list").write_text(f"deb {DEBIAN_MIRROR} trixie main\n")
    private = [
        f"-oDir::Etc::SourceList={folder / 'sources.list'}",
        "-oDir::Etc::SourceParts=/dev/null",
        f"-oDir::State::Lists={folder / 'lists'}",
        "-oAPT::Sandbox::User=root",
    ]
    apt_get(*private, "update")
    result = subprocess.run(
        ["apt-get", "-q", *private, "download", *packages],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        raise SetupError(
            f"Command 'apt-get download {' '.join(packages)}' failed: "
            f"{result.stderr.strip()}"
        )
    unpacked = folder / "unpacked"
    for package in folder.glob("*.deb"):
        subprocess.run(["dpkg-deb", "-x", str(package), str(unpacked)], check=True)
    PLUGIN_FOLDER.mkdir(parents=True, exist_ok=True)
    for plugin in (unpacked / "usr/libexec/docker/cli-plugins").iterdir():
        shutil.copy2(plugin, PLUGIN_FOLDER / plugin.name)
