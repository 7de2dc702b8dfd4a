"""The Sybil configuration that turns Markdown pages into pytest tests."""

from pathlib import Path

from sybil import Sybil

from . import page
from .parsing import PageParser


def page_collector(path: Path, fixtures: tuple[str, ...] = ("page_settings",)):
    """Return a ``pytest_collect_file`` hook that collects the Markdown pages
    under ``path`` as tests; ``fixtures`` must provide ``page_settings``."""
    return Sybil(
        parsers=[PageParser(page.EVALUATORS)],
        patterns=["*.md"],
        path=str(path),
        fixtures=list(fixtures),
        teardown=page.teardown,
    ).pytest()
