"""Compare a command's actual output with the output its page shows.

The comparison is exact, line by line, after normalizing what a terminal
would not show or what no page can fix in advance:

- ANSI colour and cursor sequences are removed, and carriage returns dropped;
- trailing spaces on each line, and blank lines at the end, are ignored.

A page writes ``...`` for a part that varies. Alone on a line, ``...`` matches
any number of whole lines, none included; inside a line, it matches any text
within that line, such as a container ID or a time.
"""

import difflib
import re

WILDCARD = "..."
ANSI_SEQUENCE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07")


def normalize(text: str) -> list[str]:
    """Return the lines of ``text`` as a terminal would show them."""
    text = ANSI_SEQUENCE.sub("", text)
    lines = []
    for line in text.split("\n"):
        # A carriage return rewinds the line: the text after the last one shows.
        line = line.rstrip("\r").rsplit("\r", 1)[-1]
        lines.append(line.rstrip())
    while lines and not lines[-1]:
        lines.pop()
    return lines


def pattern_for(expected: list[str]) -> re.Pattern:
    """Compile the expected lines into a regular expression over the actual
    lines joined with newlines."""
    parts = []
    for line in expected:
        if line.strip() == WILDCARD:
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            pieces = [re.escape(piece) for piece in line.split(WILDCARD)]
            parts.append("[^\n]*".join(pieces) + r"\n")
    return re.compile("".join(parts))


def matches(expected: str, actual: str) -> bool:
    """Return whether the actual output matches the expected output."""
    expected_lines = normalize(expected)
    actual_lines = normalize(actual)
    text = "".join(line + "\n" for line in actual_lines)
    return pattern_for(expected_lines).fullmatch(text) is not None


def diff(expected: str, actual: str, expected_label: str) -> str:
    """Return a unified diff of the expected against the actual output."""
    lines = difflib.unified_diff(
        normalize(expected),
        normalize(actual),
        fromfile=f"expected ({expected_label})",
        tofile="actual",
        lineterm="",
    )
    return "\n".join(lines)
