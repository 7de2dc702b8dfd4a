"""The exceptions that the runner raises."""

from pathlib import Path

from sybil import Example
from sybil.example import SybilFailure


class ExampleFailure(SybilFailure):
    """An example whose command or code did not do what its page shows.

    It is an AssertionError (through SybilFailure), so pytest reports it as a
    test failure, and its message starts with the page and line.
    """

    def __init__(self, example: Example, report: str) -> None:
        super().__init__(example, report)
        self.args = (f"{location(example)}: {report}",)


class PageSyntaxError(ValueError):
    """A block or directive on a page that the runner cannot read."""

    def __init__(self, path: str, line: int, problem: str) -> None:
        super().__init__(f"{relative(path)}:{line}: {problem}")


class SetupError(Exception):
    """The machine cannot run the pages: no daemon, no image or no tool."""


def relative(path: str) -> str:
    """Return a path relative to the working folder where it can be."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def location(example: Example) -> str:
    """Return ``page:line`` for an example."""
    return f"{relative(example.path)}:{example.line}"
