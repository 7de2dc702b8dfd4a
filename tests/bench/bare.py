"""The bare bash script: the pages' examples as a person would type them.

The script contains the commands of the examples, in page order, as the
runner's own parser (docrunner.parsing) finds them. It runs them the way the
runner does, without the runner: each page in a fresh scratch folder of its
own, in a subshell so that a ``cd`` or an ``export`` lasts until the page
ends, and each command with its standard input empty and its standard error
merged into its standard output. It gets the environment that the runner
gives every page: the fixed locale, time zone and terminal settings,
``$REGISTRY``, and a git configuration that serves the working tree for the
pages' ``git clone``.

What the runner does besides running commands is replaced by its plain
equivalent, as the results page says:

- a registry for ``$REGISTRY`` is started with ``docker run`` at the start
  and removed at the end, where the runner starts it with Docker Compose;
- a wait directive becomes a bash loop that polls every 0.2 s, as the runner
  does;
- each contiguous run of ``python`` and ``pycon`` blocks becomes one
  ``python3`` process, and each doctest line is executed as the interactive
  interpreter executes it, printing the value of an expression;
- outputs are not compared, but each exit status is checked against the
  page's, with a shell test, so that the script is known to run the same
  commands to the same end;
- blocks that only include a file, and skipped blocks, run nothing.
"""

import doctest
import math
import shlex
from pathlib import Path

from sybil import Document

from docrunner.page import EVALUATORS, FIXED_ENVIRONMENT
from docrunner.parsing import (
    Command,
    Include,
    Inventory,
    PageParser,
    Script,
    Skipped,
    Wait,
)

# The image of the registry service in tests/compose.yml.
REGISTRY_IMAGE = "registry:3"
REGISTRY_TIMEOUT = 60
PYTHON_END = "BENCH_PYTHON_END"

PREAMBLE = r"""
bench_status=0

# Compare a command's exit status with the one its page expects.
bench_check() {
    if [ "$1" != "$2" ]; then
        echo "bench: $3 exited with status $1, expected $2" >&2
        bench_failures=$((bench_failures + 1))
    fi
}

# Return 0 when a URL responds with a status below 500, a port accepts a
# connection, or a container is healthy, as the runner's wait-for checks do.
bench_ready() {
    case $1 in
    url)
        local code
        code=$(curl --silent --output /dev/null --max-time 2 \
            --write-out '%{http_code}' "$2")
        [ "$code" != 000 ] && [ "$code" -lt 500 ]
        ;;
    port)
        local host=127.0.0.1 port=$2
        case $2 in *:*) host=${2%:*} port=${2##*:} ;; esac
        (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
        ;;
    healthy)
        local format='{{if .State.Health}}{{.State.Health.Status}}{{end}}'
        [ "$(docker inspect --format "$format" "$2" 2>/dev/null)" = healthy ]
        ;;
    esac
}

# Append a page's start and end (seconds since the epoch) to the file that
# BENCH_PAGE_TIMES names, if it names one.
bench_page_time() {
    if [ -n "${BENCH_PAGE_TIMES:-}" ]; then
        printf '%s\t%s\t%s\n' "$1" "$bench_page_started" "$EPOCHREALTIME" \
            >> "$BENCH_PAGE_TIMES"
    fi
}

# Wait for bench_ready KIND TARGET, polling every 0.2 s for SECONDS at most.
bench_wait() {
    local deadline=$((SECONDS + $3))
    until bench_ready "$1" "$2"; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "bench: timed out after $3 s waiting for $1 $2" >&2
            return 1
        fi
        sleep 0.2
    done
}
"""


def page_paths(docs: Path, names: list[str] | None = None) -> list[Path]:
    """Return the pages in the order the test run collects them: by path.
    ``names``, paths relative to the project, select some of them."""
    pages = sorted(docs.rglob("*.md"))
    if names is None:
        return pages
    selected = [docs.parent / name for name in names]
    missing = [str(path) for path in selected if path not in pages]
    if missing:
        raise ValueError(f"not a page in {docs}: {', '.join(missing)}")
    return selected


def page_examples(path: Path) -> list:
    """Return the examples of a page, parsed by the runner's own parser."""
    document = Document.parse(str(path), PageParser(EVALUATORS))
    return list(document)


def quoted_environment(environment: dict[str, str]) -> list[str]:
    return [
        f"export {name}={shlex.quote(value)}" for name, value in environment.items()
    ]


def command_lines(source: str, exit_status: int, where: str) -> list[str]:
    """Return a command as the runner's shell session runs it, and its check."""
    return [
        f"{{ {source}",
        "} < /dev/null 2>&1",
        f"bench_check $? {exit_status} {shlex.quote(where)}",
    ]


def python_lines(sources: list[str], where: str) -> list[str]:
    """Return one python3 process that runs ``sources`` in order, in the
    page's scratch folder, as the runner runs them in the page's namespace."""
    program = "\n".join(sources)
    if PYTHON_END in program:
        raise ValueError(f"{where}: a Python block contains {PYTHON_END}")
    return [
        f"(cd \"$bench_page_folder\" && python3 - 2>&1) <<'{PYTHON_END}'",
        program.rstrip("\n"),
        PYTHON_END,
        f"bench_check $? 0 {shlex.quote(where)}",
    ]


def doctest_statement(example: doctest.Example) -> str:
    """Return Python that executes a doctest line as the interactive
    interpreter does, printing the value of an expression."""
    return f"exec(compile({example.source!r}, '<pycon>', 'single'))"


def page_lines(path: Path, project: Path) -> list[str]:
    """Return the script's part for one page."""
    name = path.relative_to(project).as_posix()
    lines = [
        "",
        f"# {name}",
        "bench_page_started=$EPOCHREALTIME",
        f"bench_page_folder=$(mktemp -d -t bench-{path.stem}-XXXXXXXX)",
        "(",
        'cd "$bench_page_folder" || exit 1',
        "bench_failures=0",
    ]
    python: list[str] = []
    python_start = ""
    for example in page_examples(path):
        parsed = example.parsed
        where = f"{name}:{example.line}"
        # NOTE: a group of Python blocks that shell commands separate from
        # an earlier group does not see the earlier group's names, as it
        # would in the runner's page namespace. No page needs that yet.
        is_python = isinstance(parsed, str | doctest.Example)
        if python and not is_python:
            lines += python_lines(python, python_start)
            python = []
        if is_python:
            python_start = python_start if python else where
            source = str(parsed)
            if isinstance(parsed, doctest.Example):
                source = doctest_statement(parsed)
            python.append(source)
        elif isinstance(parsed, Command | Script):
            status = parsed.directive.exit_status
            lines += command_lines(parsed.source.rstrip("\n"), status, where)
        elif isinstance(parsed, Wait):
            seconds = math.ceil(parsed.timeout)
            target = shlex.quote(parsed.target)
            lines.append(f"bench_wait {parsed.kind} {target} {seconds}")
            lines.append(f"bench_check $? 0 {shlex.quote(where)}")
        elif isinstance(parsed, Include | Skipped | Inventory):
            continue
        else:
            raise TypeError(f"{where}: no bare equivalent for {parsed!r}")
    if python:
        lines += python_lines(python, python_start)
    lines += [
        'exit "$bench_failures"',
        ") || bench_status=1",
        'rm -rf "$bench_page_folder"',
        f"bench_page_time {shlex.quote(name)}",
    ]
    return lines


def generate(pages: list[Path], project: Path, git_config: Path) -> str:
    """Return the bare script for ``pages``."""
    environment = dict(
        FIXED_ENVIRONMENT, GIT_CONFIG_GLOBAL=str(git_config), GIT_CONFIG_NOSYSTEM="1"
    )
    lines = [
        "#!/usr/bin/env bash",
        "# The commands of the tutorial's examples, without the runner; written",
        "# by tests/bench/bare.py, which says how each kind of block is run.",
        *quoted_environment(environment),
        PREAMBLE.strip("\n"),
        "",
        "# The registry that $REGISTRY names, as tests/compose.yml starts it.",
        "bench_registry=$(docker run --detach --publish 127.0.0.1::5000 "
        f"{REGISTRY_IMAGE}) || exit 1",
        'bench_port=$(docker port "$bench_registry" 5000/tcp | sed -n "1s/.*://p")',
        'export REGISTRY="localhost:$bench_port"',
        f'bench_wait url "http://127.0.0.1:$bench_port/v2/" {REGISTRY_TIMEOUT} '
        "|| bench_status=1",
    ]
    for path in pages:
        lines += page_lines(path, project)
    lines += [
        "",
        'docker rm --force --volumes "$bench_registry" > /dev/null',
        'exit "$bench_status"',
    ]
    return "\n".join(lines) + "\n"
