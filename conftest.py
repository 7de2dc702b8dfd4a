"""Collect the tutorial's pages in docs/ as tests, run by tests/docrunner."""

from pathlib import Path

from docrunner.collection import page_collector

pytest_plugins = ["docrunner.plugin", "pytester"]

pytest_collect_file = page_collector(Path(__file__).parent / "docs")

# The runner's sample pages are run by tests/test_runner.py in a pytest of
# their own, with their own conftest.py.
collect_ignore = ["tests/samples"]
