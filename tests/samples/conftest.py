"""Runs the sample pages in this folder with the page runner, for the runner's
own tests (tests/test_runner.py). No registry or git server: the pages here
need neither."""

from pathlib import Path

import pytest

from docrunner.collection import page_collector
from docrunner.page import PageSettings

pytest_plugins = ["docrunner.plugin"]


@pytest.fixture(scope="session")
def page_settings(
    docker_engine, tutorial_images, leak_check, page_updates
) -> PageSettings:
    return PageSettings(project=Path(__file__).parent, updates=page_updates)


pytest_collect_file = page_collector(Path(__file__).parent)
