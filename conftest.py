"""Collect the tutorial's pages as tests: Sybil finds the examples on each page
in docs/, and the runner in tests/docrunner executes them against Docker."""

from sybil import Sybil

from docrunner import page
from docrunner.parsing import PageParser

pytest_plugins = ["docrunner.plugin"]

pytest_collect_file = Sybil(
    parsers=[PageParser(page.EVALUATORS)],
    patterns=["*.md"],
    path="docs",
    fixtures=["page_settings"],
    teardown=page.teardown,
).pytest()
