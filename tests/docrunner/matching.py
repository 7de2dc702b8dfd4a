"""Compare a command's actual output with the output its page shows.

Both sides are normalized first, so that what no page can fix in advance does
not count:

- ANSI colour and cursor sequences are removed, a carriage return keeps only
  the text after it (as a terminal shows a progress line), and trailing spaces
  and blank lines at the end are ignored;
- full and short IDs and digests (64 or 12 hexadecimal digits) read ``<id>``,
  timestamps read ``<time>``, and Docker's durations ("2 seconds",
  "About a minute", "Less than a second") read ``<duration>``;
- the per-layer progress lines of ``docker pull`` and ``docker push``
  ("a1b2c3d4e5f6: Pull complete") are dropped, since their number and order
  vary from run to run.

After that, the comparison is exact, line by line, except where a page writes
``...``. Alone on a line, ``...`` matches zero or more whole lines. Inside a
line, it matches any text within that line, such as a port number.
"""

import difflib
import re

WILDCARD = "..."
# Dropping a line the page wrote costs more than adding an actual line, so an
# update keeps the page's lines where it can.
DROP_COST = 2
ANSI_SEQUENCE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07")
LAYER_PROGRESS = re.compile(
    r"^(?:<id>|[0-9a-f]{12}): (?:Pulling fs layer|Waiting|Downloading|Verifying "
    r"Checksum|"
    r"Download complete|Extracting|Pull complete|Already exists|Preparing|Pushing|"
    r"Pushed|Layer already exists|Mounted from .*)"
)
REPLACEMENTS = [
    (re.compile(r"\b[0-9a-f]{64}\b"), "<id>"),
    (re.compile(r"\b[0-9a-f]{12}\b"), "<id>"),
    (
        re.compile(
            r"\b\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?"
        ),
        "<time>",
    ),
    (
        re.compile(
            r"\b(?:About an? (?:minute|hour)|Less than a second|"
            r"\d+ (?:second|minute|hour|day|week|month|year)s?)\b"
        ),
        "<duration>",
    ),
]


def normalize_line(line: str) -> str:
    for pattern, replacement in REPLACEMENTS:
        line = pattern.sub(replacement, line)
    return line


def normalize(text: str) -> list[str]:
    """Return the lines of ``text`` as they are compared."""
    text = ANSI_SEQUENCE.sub("", text)
    lines = []
    for line in text.split("\n"):
        # A carriage return rewinds the line: the text after the last one shows.
        line = normalize_line(line.rstrip("\r").rsplit("\r", 1)[-1].rstrip())
        if not LAYER_PROGRESS.match(line):
            lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def is_wildcard_line(line: str) -> bool:
    return line.strip() == WILDCARD


def line_pattern(line: str) -> re.Pattern:
    """Compile one expected line, with ``...`` inside it, into a pattern."""
    return re.compile("[^\n]*".join(re.escape(piece) for piece in line.split(WILDCARD)))


def pattern_for(expected: list[str]) -> re.Pattern:
    """Compile the expected lines into a regular expression over the actual
    lines joined with newlines."""
    parts = []
    for line in expected:
        if is_wildcard_line(line):
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            parts.append(line_pattern(line).pattern + r"\n")
    return re.compile("".join(parts))


def matches(expected: str, actual: str) -> bool:
    """Return whether the actual output matches the expected output."""
    text = "".join(line + "\n" for line in normalize(actual))
    return pattern_for(normalize(expected)).fullmatch(text) is not None


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


def updated_expectation(expected: str, actual: str) -> list[str]:
    """Return new expected lines for an output that no longer matches: the
    actual lines, except that each expected line which still matches, ``...``
    wildcards included, is kept as the page wrote it.

    The lines are aligned by dynamic programming, so the result keeps as many
    of the page's lines as possible and adds the fewest actual lines.

    NOTE: a line that no longer matches is replaced by the actual line whole,
    so an in-line ``...`` on that line is lost and must be written again.
    """
    old = expected.rstrip("\n").split("\n") if expected.strip() else []
    new = [
        line.rstrip() for line in ANSI_SEQUENCE.sub("", actual).rstrip("\n").split("\n")
    ]
    if not actual.strip():
        new = []
    compared = [normalize_line(line) for line in new]
    patterns = [
        None if is_wildcard_line(line) else line_pattern(normalize_line(line.rstrip()))
        for line in old
    ]
    infinity = DROP_COST * len(old) + len(new) + 1
    # cost[i][j]: fewest edits to align old[i:] with new[j:].
    cost = [[infinity] * (len(new) + 1) for _ in range(len(old) + 1)]
    cost[len(old)][len(new)] = 0
    for i in range(len(old), -1, -1):
        for j in range(len(new), -1, -1):
            if i == len(old) and j == len(new):
                continue
            options = []
            if i < len(old):
                if patterns[i] is None:
                    options.append(cost[i + 1][j])  # the wildcard ends here
                    if j < len(new):
                        options.append(cost[i][j + 1])  # it absorbs new[j]
                elif j < len(new) and patterns[i].fullmatch(compared[j]):
                    options.append(cost[i + 1][j + 1])
                options.append(cost[i + 1][j] + DROP_COST)  # drop old[i]
            if j < len(new):
                options.append(cost[i][j + 1] + 1)  # add new[j]
            cost[i][j] = min(options)
    result, i, j = [], 0, 0
    while i < len(old) or j < len(new):
        if i < len(old) and patterns[i] is None:
            if cost[i][j] == cost[i + 1][j]:
                result.append(old[i])
                i += 1
                continue
            if j < len(new) and cost[i][j] == cost[i][j + 1]:
                j += 1
                continue
        elif (
            i < len(old)
            and j < len(new)
            and patterns[i].fullmatch(compared[j])
            and cost[i][j] == cost[i + 1][j + 1]
        ):
            result.append(old[i])
            i, j = i + 1, j + 1
            continue
        if i < len(old) and cost[i][j] == cost[i + 1][j] + DROP_COST:
            i += 1
        else:
            result.append(new[j])
            j += 1
    return result
