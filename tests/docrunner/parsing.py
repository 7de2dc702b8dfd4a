"""Find the examples in a page.

A page is a Sybil document, a fenced code block is a region, and a command with
its expected output is an example. These parsers read fenced blocks whatever
their info string carries (``console title="x"``, ``{ .console .annotate }``,
``python linenums="1"``) and wherever they sit: inside content tabs, admonitions
and list items, where the block is indented.

A ``console`` block holds commands, each on a line that starts with ``$ ``.
A command ends with its line unless the line ends with a backslash, or the
command opens a here-document, which runs to its terminator. The lines that
follow a command, up to the next ``$ `` line, are its expected output.

An HTML comment of the form ``<!-- test: key=value ... -->`` just before a
block sets options for that block; see ``Directive``.
"""

import re
import shlex
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from sybil import Document, Lexeme, Region
from sybil.parsers.abstract.doctest import DocTestStringParser
from sybil.parsers.markdown.lexers import RawFencedCodeBlockLexer

from .errors import PageSyntaxError
from .measured import is_valid_name

PROMPT = "$ "
SHELL_LANGUAGES = {"console"}
SCRIPT_LANGUAGES = {"bash", "sh", "shell"}
PYTHON_LANGUAGES = {"python", "py", "pycon"}
# Windows PowerShell blocks, shown in content tabs beside the Linux and macOS
# commands. The tests run on Linux, so these are skipped, with a reason.
POWERSHELL_LANGUAGES = {"powershell", "pwsh", "ps1", "posh", "pwsh-session", "ps1con"}
POWERSHELL_REASON = (
    "Windows PowerShell syntax; the tests run the Linux and macOS commands"
)
RUNNABLE_LANGUAGES = (
    SHELL_LANGUAGES | SCRIPT_LANGUAGES | PYTHON_LANGUAGES | POWERSHELL_LANGUAGES
)

# The whole info string of a fenced block, whatever follows the language.
INFO_STRING = re.compile(r"(?P<info>[^\n]*)$\n", re.MULTILINE)
# A directive comment, alone on its lines, just before a fence.
DIRECTIVE = re.compile(
    r"<!--\s*test:(?!\s*wait-for\b)(?P<arguments>(?:(?!-->).)*)-->"
    r"[ \t]*\n(?:[ \t]*\n)?[ \t]*(?:>[ \t]*)*\Z",
    re.DOTALL,
)
# A standalone directive that is an example of its own, such as a wait.
STANDALONE_DIRECTIVE = re.compile(
    r"^[ \t]*<!--\s*test:\s*(?P<action>wait-for)\b(?P<arguments>.*?)-->",
    re.MULTILINE | re.DOTALL,
)
# A line of pymdownx.snippets that includes a file into the block.
SNIPPET = re.compile(r'^\s*-{1,}8<-{1,}\s+"(?P<path>[^"]+)"\s*$')
HEREDOC = re.compile(
    r"(?<!<)<<(?!<)(?P<dash>-?)\s*(['\"]?)(?P<word>[A-Za-z_][A-Za-z0-9_]*)\2"
)


def block_language(info: str) -> str:
    """Return the language of a fenced block from its info string, or ''.

    Material writes attributes after the language (``console title="x"``) or
    in braces (``{ .console .annotate }``); both name the language first.
    """
    info = info.strip()
    if info.startswith("{"):
        match = re.search(r"\.([\w+-]+)", info)
        return match.group(1).lower() if match else ""
    match = re.match(r"[\w+-]+", info)
    return match.group(0).lower() if match else ""


@dataclass
class Directive:
    """Options for the block that follows an HTML comment ``<!-- test: ... -->``.

    - ``skip="reason"``: do not run the block, and report it as skipped with
      that reason;
    - ``exit=N``: every command in the block is expected to exit with status N;
    - ``timeout=SECONDS``: the time limit of each command in the block;
    - ``record=NAME``: save the block's command output as the measured value
      NAME, which the page includes (see measured.py). In a block of several
      commands, the last one's output is kept.
    """

    skip: str | None = None
    exit_status: int = 0
    timeout: float | None = None
    record: str | None = None

    @classmethod
    def parse(cls, arguments: str, path: str, line: int) -> "Directive":
        directive = cls()
        for key, value in split_options(arguments, path, line).items():
            if key == "skip":
                if not value:
                    raise PageSyntaxError(path, line, 'skip needs a reason: skip="why"')
                directive.skip = value
            elif key == "exit":
                directive.exit_status = parse_number(int, key, value, path, line)
            elif key == "timeout":
                directive.timeout = parse_number(float, key, value, path, line)
            elif key == "record":
                if not is_valid_name(value):
                    raise PageSyntaxError(
                        path,
                        line,
                        "record= needs lower case words and digits joined by "
                        f"hyphens, such as record=rebuild-time, found {value!r}",
                    )
                directive.record = value
            else:
                raise PageSyntaxError(
                    path,
                    line,
                    f"unknown option {key!r} in a test directive; "
                    "use skip=, exit=, timeout= or record=",
                )
        return directive


@dataclass
class Command:
    """One command of a console block and the output the page expects of it."""

    source: str
    expected: str
    directive: Directive = field(default_factory=Directive)
    # Where the expected output is on the page: its first line, for failure
    # reports, and its span and indentation, for update mode.
    expected_line: int = 0
    expected_span: tuple[int, int] = (0, 0)
    indent: str = ""


@dataclass
class Script:
    """A ``bash``/``sh``/``shell`` block: run as it is, output not compared."""

    source: str
    directive: Directive = field(default_factory=Directive)


@dataclass
class Skipped:
    """A runnable block that its page asks not to run, and why."""

    reason: str


@dataclass
class Include:
    """A block that only includes files from the project (pymdownx.snippets):
    the file is the example, and the page's commands build and run it."""

    paths: list[str]


@dataclass
class Inventory:
    """The runnable blocks of a page that no example came from: found by a
    plain scan of the page's fences, independent of Sybil's lexer, so that no
    block goes untested without notice."""

    ignored: list[tuple[int, str]]


@dataclass
class Wait:
    """A readiness wait: a URL that answers, a port that accepts, or a
    container that reports healthy, within a time limit."""

    target: str
    kind: str
    timeout: float = 60.0


def split_options(arguments: str, path: str, line: int) -> dict[str, str]:
    """Split ``key=value key="two words"`` into a dict."""
    try:
        words = shlex.split(arguments)
    except ValueError as error:
        raise PageSyntaxError(
            path, line, f"cannot read test directive: {error}"
        ) from None
    options = {}
    for word in words:
        key, sign, value = word.partition("=")
        if not sign:
            raise PageSyntaxError(
                path, line, f"expected key=value in test directive, found {word!r}"
            )
        options[key] = value
    return options


def parse_number(kind: type, key: str, value: str, path: str, line: int):
    try:
        return kind(value)
    except ValueError:
        raise PageSyntaxError(
            path, line, f"{key}= needs a number, found {value!r}"
        ) from None


def directive_before(document: Document, start: int) -> tuple[str, int] | None:
    """Return the arguments and line of a directive comment that ends just
    before position ``start`` (the fence), if there is one."""
    head = document.text[max(0, start - 2000) : start]
    match = DIRECTIVE.search(head)
    if match is None:
        return None
    position = start - len(head) + match.start()
    return match.group("arguments"), document.text.count("\n", 0, position) + 1


def line_of(document: Document, position: int) -> int:
    return document.text.count("\n", 0, position) + 1


def split_console(
    source: str, path: str, line: int
) -> Iterator[tuple[int, str, int, str]]:
    """Split a console block into commands.

    Yields ``(line index, command, line index of output, expected output)``
    for each command, with line indexes counted from the block's first line.
    """
    lines = source.splitlines()
    index = 0
    while index < len(lines):
        text = lines[index]
        if not text.startswith(PROMPT):
            raise PageSyntaxError(
                path,
                line + index,
                f"console block has output before its first command: {text!r}; "
                f"start each command with {PROMPT!r}",
            )
        start = index
        command_lines = [text[len(PROMPT) :]]
        index += 1
        while command_lines[-1].endswith("\\") and index < len(lines):
            command_lines.append(lines[index])
            index += 1
        for word, strip_tabs in heredoc_terminators("\n".join(command_lines)):
            while index < len(lines):
                command_lines.append(lines[index])
                index += 1
                # As in bash: the terminator is the whole line, and <<- lets
                # it, like the lines before it, start with tabs.
                ending = (
                    command_lines[-1].lstrip("\t") if strip_tabs else command_lines[-1]
                )
                if ending == word:
                    break
            else:
                raise PageSyntaxError(
                    path, line + start, f"here-document has no terminator line {word!r}"
                )
        output_start = index
        while index < len(lines) and not lines[index].startswith(PROMPT):
            index += 1
        yield (
            start,
            "\n".join(command_lines),
            output_start,
            "\n".join(lines[output_start:index]),
        )


def snippet_paths(source: str) -> list[str]:
    """Return the files that a block includes, if it holds nothing else."""
    lines = [line for line in source.splitlines() if line.strip()]
    matches = [SNIPPET.match(line) for line in lines]
    if not lines or not all(matches):
        return []
    return [match.group("path") for match in matches]


FENCE_LINE = re.compile(
    r"^[ \t>]*(?:[-*+][ \t]+|\d+[.)][ \t]+)?(?P<fence>`{3,}|~{3,})(?P<info>.*)$"
)


def scan_runnable_fences(text: str) -> list[tuple[int, int, str]]:
    """Return the first and last line and the info string of each fenced
    block in a runnable language, by a plain scan of the page's lines."""
    return [
        fence
        for fence in scan_fences(text)
        if block_language(fence[2]) in RUNNABLE_LANGUAGES
    ]


def scan_fences(text: str) -> list[tuple[int, int, str]]:
    """Return the first and last line and the info string of each outermost
    fenced block, by a plain scan of the page's lines."""
    found = []
    opening = None
    for number, line in enumerate(text.splitlines(), start=1):
        match = FENCE_LINE.match(line)
        if match is None:
            continue
        fence, info = match.group("fence"), match.group("info").strip()
        if opening is None:
            opening = (number, fence, info)
        elif fence[0] == opening[1][0] and len(fence) >= len(opening[1]) and not info:
            found.append((opening[0], number, opening[2]))
            opening = None
    if opening is not None:
        found.append((opening[0], len(text.splitlines()), opening[2]))
    return found


def heredoc_terminators(command: str) -> list[tuple[str, bool]]:
    """Return each here-document's terminator in a command, and whether it
    may be indented with tabs (``<<-``)."""
    return [
        (match.group("word"), match.group("dash") == "-")
        for match in HEREDOC.finditer(command)
    ]


class PageParser:
    """The Sybil parser for a page: yields a region for each command of each
    console block, each Python block, each shell script block, and each
    standalone directive, in page order.

    ``evaluators`` maps the kind of region (``command``, ``script``,
    ``python``, ``doctest``, ``include``, ``skipped``, ``wait``) to the callable that
    runs it.
    """

    def __init__(self, evaluators: dict[str, Callable]) -> None:
        self.evaluators = evaluators
        self.lexer = RawFencedCodeBlockLexer(info_pattern=INFO_STRING)
        self.doctest = DocTestStringParser(evaluators["doctest"])

    def __call__(self, document: Document) -> Iterable[Region]:
        regions = list(self.block_regions(document)) + list(self.wait_regions(document))
        regions.sort(key=lambda region: region.start)
        lines = [line_of(document, region.start) for region in regions]
        ignored = [
            (first, info)
            for first, last, info in scan_runnable_fences(document.text)
            if not any(first <= line <= last for line in lines)
        ]
        end = len(document.text)
        regions.append(self.region(end, end, Inventory(ignored), "inventory"))
        return regions

    def block_regions(self, document: Document) -> Iterator[Region]:
        for block in self.lexer(document):
            language = block_language(block.lexemes["info"])
            if language not in RUNNABLE_LANGUAGES:
                continue
            directive = self.block_directive(document, block.start)
            included = snippet_paths(str(block.lexemes["source"]))
            if included:
                yield self.region(block.start, block.end, Include(included), "include")
            elif directive.skip or language in POWERSHELL_LANGUAGES:
                reason = directive.skip or POWERSHELL_REASON
                yield self.region(block.start, block.end, Skipped(reason), "skipped")
            elif language in SHELL_LANGUAGES:
                yield from self.command_regions(document, block, directive)
            elif language in SCRIPT_LANGUAGES:
                script = Script(str(block.lexemes["source"]), directive)
                yield self.region(block.start, block.end, script, "script")
            else:
                yield from self.python_regions(document, block)

    def block_directive(self, document: Document, start: int) -> Directive:
        found = directive_before(document, start)
        if found is None:
            return Directive()
        arguments, line = found
        return Directive.parse(arguments, document.path, line)

    def command_regions(
        self, document: Document, block: Region, directive: Directive
    ) -> Iterator[Region]:
        source: Lexeme = block.lexemes["source"]
        source_start = block.start + source.offset
        first_line = line_of(document, source_start)
        # The source has its indentation stripped; map its lines back to
        # positions on the page through the page's own lines.
        page_lines = document.text[source_start:].splitlines(keepends=True)
        line_starts = [source_start]
        for page_line in page_lines:
            line_starts.append(line_starts[-1] + len(page_line))
        commands = list(split_console(str(source), document.path, first_line))
        if not commands:
            raise PageSyntaxError(
                document.path, first_line, "console block holds no command"
            )
        source_lines = len(str(source).splitlines())
        indent = re.match(r"[ \t>]*", document.text[block.start :]).group(0)
        for number, (line, text, output_line, expected) in enumerate(commands):
            next_line = (
                commands[number + 1][0] if number + 1 < len(commands) else source_lines
            )
            start, end = line_starts[line], line_starts[next_line]
            command = Command(
                text,
                expected,
                directive,
                first_line + output_line,
                expected_span=(line_starts[output_line], end),
                indent=indent,
            )
            yield self.region(
                start,
                end if next_line < source_lines else block.end,
                command,
                "command",
            )

    def python_regions(self, document: Document, block: Region) -> Iterator[Region]:
        source: Lexeme = block.lexemes["source"]
        if str(source).lstrip().startswith(">>>"):
            for region in self.doctest(source, document.path):
                region.adjust(block, source)
                yield region
            return
        yield self.region(block.start, block.end, source, "python")

    def wait_regions(self, document: Document) -> Iterator[Region]:
        fenced = [(first, last) for first, last, _ in scan_fences(document.text)]
        for match in STANDALONE_DIRECTIVE.finditer(document.text):
            line = line_of(document, match.start())
            if any(first < line < last for first, last in fenced):
                continue  # a directive shown as text inside a block
            options = split_options(match.group("arguments"), document.path, line)
            yield self.region(
                match.start(),
                match.end(),
                parse_wait(options, document.path, line),
                "wait",
            )

    def region(self, start: int, end: int, parsed, kind: str) -> Region:
        return Region(start, end, parsed, self.evaluators[kind])


def parse_wait(options: dict[str, str], path: str, line: int) -> Wait:
    kinds = [kind for kind in ("url", "port", "healthy") if kind in options]
    if len(kinds) != 1:
        raise PageSyntaxError(
            path,
            line,
            "wait-for needs exactly one of url=, port= or healthy=, "
            "for example <!-- test: wait-for url=http://localhost:9191/ -->",
        )
    unknown = set(options) - {"url", "port", "healthy", "timeout"}
    if unknown:
        raise PageSyntaxError(
            path, line, f"unknown wait-for option(s): {', '.join(sorted(unknown))}"
        )
    wait = Wait(options[kinds[0]], kinds[0])
    if "timeout" in options:
        wait.timeout = parse_number(float, "timeout", options["timeout"], path, line)
    return wait
