"""The pytest side of the runner: fixtures for the daemon, the images and the
services that pages need, and the report at the end of the run."""

import logging
import os
import subprocess
from pathlib import Path

import pytest
from sybil.integration.pytest import SybilItem

from . import cleanup, daemon, images, measured
from .errors import SetupError, relative
from .measured import Measurements
from .page import PageSettings, Updates, url_answers
from .parsing import Inventory
from .repository import serve_working_tree

log = logging.getLogger(__name__)

PROJECT = Path(__file__).resolve().parents[2]
# The images that pages and services use; see images.py for the stand-ins.
IMAGES = [
    "alpine:latest",
    "python:3.13-slim",
    "python:3.13",
    "registry:3",
    "redis:8",
]
# Where the values that pages record are written (measured.py).
MEASURED_FOLDER = PROJECT / "docs" / "includes" / "measured"
REGISTRY_TIMEOUT = 60
DOCKER_GROUP = "docker"


@pytest.fixture(scope="session")
def docker_engine() -> str:
    """The version of the Docker daemon that the tests use. The run holds the
    machine's Docker lock until it ends (see daemon.exclusive_use)."""
    try:
        with daemon.exclusive_use(), daemon.engine() as version:
            yield version
    except SetupError as error:
        pytest.exit(f"docrunner: {error}", returncode=3)


@pytest.fixture(scope="session")
def tutorial_images(
    docker_engine: str, pytestconfig: pytest.Config
) -> list[images.ImageNotice]:
    """The images that the pages use, pulled or built as stand-ins."""
    try:
        notices = images.ensure_images(IMAGES)
    except SetupError as error:
        pytest.exit(f"docrunner: {error}", returncode=3)
    pytestconfig.stash[summary_key].notices = notices
    for notice in notices:
        if notice.source == "stand-in":
            log.debug("using stand-in image %s: %s", notice.reference, notice.detail)
    return notices


@pytest.fixture(scope="session")
def leak_check(tutorial_images):
    """Fail the run if it leaves any Docker object behind that it created.
    It first removes what earlier runs, killed before they could clean up,
    left behind, and keeps a journal of its own in case it is killed too."""
    journals = daemon.cache_folder() / "journals"
    cleanup.recover_killed_runs(journals)
    before = cleanup.Snapshot.take()
    journal = cleanup.RunJournal(journals, before)
    yield
    journal.close()
    added = cleanup.Snapshot.take().added_since(before)
    assert added.is_empty(), (
        f"the test run left Docker objects behind: {added.describe()}"
    )


@pytest.fixture(scope="session")
def docker_compose_file() -> str:
    """The Compose file of the services that pages need (pytest-docker)."""
    return str(PROJECT / "tests" / "compose.yml")


@pytest.fixture(scope="session")
def docker_compose_command(leak_check) -> str:
    """Compose v2; it depends on the leak check so that the daemon and the
    images are ready before pytest-docker starts the services."""
    return "docker compose"


@pytest.fixture(scope="session")
def docker_compose_project_name() -> str:
    return f"docrunner{os.getpid()}"


@pytest.fixture(scope="session")
def docker_setup() -> list[str]:
    return ["up --detach --wait"]


@pytest.fixture(scope="session")
def registry(docker_services, docker_compose_file, docker_compose_project_name) -> str:
    """The address (``localhost:PORT``) of a registry for the pages to push to."""
    port = docker_services.port_for("registry", 5000)
    url = f"http://127.0.0.1:{port}/v2/"
    try:
        docker_services.wait_until_responsive(
            check=lambda: url_answers(url)[0], timeout=REGISTRY_TIMEOUT, pause=0.2
        )
    except Exception:
        # pytest-docker raises a bare Exception on a time-out. The service's
        # own log gives the reason, and pytest-docker removes it on cleanup.
        logs = subprocess.run(
            [
                "docker",
                "compose",
                "-f",
                docker_compose_file,
                "-p",
                docker_compose_project_name,
                "logs",
                "--tail",
                "50",
                "registry",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        raise SetupError(
            f"the registry service of {relative(docker_compose_file)} did not "
            f"answer at {url} within {REGISTRY_TIMEOUT} s ({url_answers(url)[1]}). "
            f"Its last log lines:\n{logs.stdout}{logs.stderr}"
        ) from None
    return f"localhost:{port}"


@pytest.fixture(scope="session")
def example_repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git configuration that serves the project's own working tree in
    place of its public repository, so ``git clone URL`` on a page clones the
    code under test (see repository.py)."""
    return serve_working_tree(PROJECT, tmp_path_factory.mktemp("repository"))


@pytest.fixture(scope="session")
def page_updates(pytestconfig: pytest.Config) -> Updates | None:
    """The new expected outputs in update mode (None otherwise); they are
    written to the pages when the run ends."""
    if not pytestconfig.getoption("update_examples"):
        yield None
        return
    updates = Updates()
    yield updates
    pytestconfig.stash[summary_key].diffs = updates.write()


@pytest.fixture(scope="session")
def measurements(docker_engine: str) -> Measurements:
    """The values that pages record, written to MEASURED_FOLDER as the pages
    pass, and the versions of Docker that the run used, written at its end."""
    values = Measurements(MEASURED_FOLDER, docker_engine, measured.compose_version())
    yield values
    values.finish_run()


@pytest.fixture(scope="session")
def page_settings(
    docker_engine, registry, example_repository, page_updates, measurements
) -> PageSettings:
    """What every page's shell gets: the registry address and the git
    configuration that serves the example code."""
    return PageSettings(
        environment={"REGISTRY": registry},
        git_config=example_repository,
        project=PROJECT,
        updates=page_updates,
        artifacts=PROJECT / "test-artifacts",
        measurements=measurements,
    )


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-examples",
        action="store_true",
        help="write the actual output of each console command whose output differs "
        "into its page, keeping the ... wildcards that still match, and print the diff",
    )


EXAMPLE_PROPERTY = ("docrunner", "example")
INVENTORY_PROPERTY = "docrunner-ignored"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        # With pytest-xdist, every test that uses Docker runs in one worker,
        # one after another: pages share names and ports (exampy, 9191), and
        # a page's cleanup removes whatever appeared in Docker while it ran.
        if "docker_engine" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group(DOCKER_GROUP))
        if not isinstance(item, SybilItem):
            continue
        # The marks below travel with each report, across xdist workers too.
        if isinstance(item.example.parsed, Inventory):
            item.user_properties.append(
                (INVENTORY_PROPERTY, len(item.example.parsed.ignored))
            )
        else:
            item.user_properties.append(EXAMPLE_PROPERTY)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo
) -> pytest.TestReport:
    report = yield
    # A skipped example is reported at its own page and line, not at the
    # runner's code that skipped it.
    if (
        report.skipped
        and isinstance(item, SybilItem)
        and isinstance(report.longrepr, tuple)
    ):
        reason = report.longrepr[2]
        report.longrepr = (relative(item.example.path), item.example.line, reason)
    return report


class ExampleSummary:
    """Counts the examples that ran and were skipped, and reports them with
    the stand-in images at the end of the run."""

    def __init__(self) -> None:
        self.run = self.failed = self.skipped = self.ignored = 0
        self.notices: list[images.ImageNotice] = []
        self.diffs: list[str] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for key, value in report.user_properties:
            if key == INVENTORY_PROPERTY and report.when == "call":
                self.ignored += value
        if EXAMPLE_PROPERTY not in report.user_properties:
            return
        if report.skipped:
            self.skipped += 1
        elif report.when == "call":
            self.run += 1
            self.failed += report.failed

    def pytest_terminal_summary(self, terminalreporter) -> None:
        for notice in self.notices:
            if notice.source == "stand-in":
                terminalreporter.write_line(
                    f"docrunner: stand-in image {notice.reference}: {notice.detail}",
                    yellow=True,
                )
        for diff in self.diffs:
            terminalreporter.write_line(diff)
        if self.run or self.skipped or self.ignored:
            examples = "example" if self.run == 1 else "examples"
            terminalreporter.write_line(
                f"docrunner: {self.run} {examples} run ({self.failed} failed), "
                f"{self.skipped} skipped with a reason, {self.ignored} ignored"
            )


summary_key = pytest.StashKey[ExampleSummary]()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """Tell each pytest-xdist worker which distribution mode is in force."""
    node.workerinput["docrunner_dist"] = node.config.option.dist


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "xdist_group(name): run in the same pytest-xdist worker as the group"
    )
    # The groups only keep Docker tests together under --dist loadgroup, so
    # that becomes the default when -n is given without --dist. Workers
    # learn it from the controller (pytest_configure_node below).
    if getattr(config.option, "dist", "no") == "load":
        config.option.dist = "loadgroup"
    worker_input = getattr(config, "workerinput", {})
    if worker_input.get("docrunner_dist") == "loadgroup":
        config.option.loadgroup = True
    summary = ExampleSummary()
    config.stash[summary_key] = summary
    config.pluginmanager.register(summary, "docrunner-summary")
