"""Finding the examples in a page: console commands, Python blocks, directives."""

import pytest
from sybil import Document

from docrunner.errors import PageSyntaxError
from docrunner.parsing import (
    POWERSHELL_REASON,
    Command,
    Include,
    Inventory,
    PageParser,
    Skipped,
    Wait,
    block_language,
    split_console,
)


class RecordingEvaluators(dict):
    def __missing__(self, kind):
        return lambda example: None


def parse(text: str) -> list:
    document = Document(text, "page.md")
    return [region.parsed for region in PageParser(RecordingEvaluators())(document)]


@pytest.mark.parametrize(
    ("info", "language"),
    [
        ("console", "console"),
        ('console title="Run it"', "console"),
        ('python linenums="1" hl_lines="2"', "python"),
        ("{ .console .annotate }", "console"),
        ("", ""),
        ("text", "text"),
    ],
)
def test_block_language(info, language):
    assert block_language(info) == language


def test_console_block_splits_into_commands():
    commands = list(
        split_console(
            "$ one\nout\n$ two \\\n  more\n$ cat <<END\nx\nEND\nx\n", "p.md", 1
        )
    )
    assert [(command, expected) for _, command, _, expected in commands] == [
        ("one", "out"),
        ("two \\\n  more", ""),
        ("cat <<END\nx\nEND", "x"),
    ]


def test_output_before_first_prompt_is_an_error():
    with pytest.raises(
        PageSyntaxError,
        match=r"p.md:3: console block has output before its first command",
    ):
        list(split_console("oops\n$ ls\n", "p.md", 3))


def test_unterminated_heredoc_is_an_error():
    with pytest.raises(
        PageSyntaxError, match="here-document has no terminator line 'END'"
    ):
        list(split_console("$ cat <<END\nx\n", "p.md", 1))


def test_blocks_in_tabs_and_admonitions_are_found():
    parsed = parse(
        '=== "Linux"\n\n    ```console\n    $ echo tab\n    tab\n    ```\n\n'
        "!!! tip\n\n    ```console\n    $ echo tip\n    tip\n    ```\n"
    )
    commands = [item for item in parsed if isinstance(item, Command)]
    assert [
        (command.source, command.expected, command.indent) for command in commands
    ] == [
        ("echo tab", "tab", "    "),
        ("echo tip", "tip", "    "),
    ]
    assert parsed[-1] == Inventory(ignored=[])


def test_directives_set_options_and_skips():
    parsed = parse(
        "<!-- test: exit=2 timeout=5 -->\n```console\n$ false\n```\n\n"
        '<!-- test: skip="needs Windows" -->\n```console\n$ dir\n```\n\n'
        "<!-- test: wait-for url=http://localhost:1/ timeout=9 -->\n"
    )
    command, skipped, wait, _ = parsed
    assert (command.directive.exit_status, command.directive.timeout) == (2, 5.0)
    assert skipped == Skipped("needs Windows")
    assert wait == Wait("http://localhost:1/", "url", 9.0)


def test_directive_only_applies_to_the_next_block():
    parsed = parse(
        "<!-- test: exit=2 -->\n```console\n$ a\n```\n\n```console\n$ b\n```\n"
    )
    assert [
        item.directive.exit_status for item in parsed if isinstance(item, Command)
    ] == [2, 0]


@pytest.mark.parametrize(
    ("directive", "problem"),
    [
        ("<!-- test: retries=3 -->", "unknown option 'retries'"),
        ("<!-- test: exit=one -->", "exit= needs a number"),
        ('<!-- test: skip="" -->', "skip needs a reason"),
    ],
)
def test_bad_directive_names_page_and_line(directive, problem):
    with pytest.raises(PageSyntaxError, match=f"page.md:3: {problem}"):
        parse(f"# Title\n\n{directive}\n```console\n$ true\n```\n")


def test_included_files_are_examples_of_their_own():
    parsed = parse('```python title="app.py"\n--8<-- "examples/app.py"\n```\n')
    assert parsed[0] == Include(["examples/app.py"])


def test_other_languages_are_not_examples():
    assert parse("```text\n$ not run\n```\n\n```dockerfile\nFROM x\n```\n") == [
        Inventory(ignored=[])
    ]


def test_block_the_lexer_misses_is_listed():
    parsed = parse("> - ```console\n>   $ echo hidden\n>   ```\n")
    assert parsed == [Inventory(ignored=[(1, "console")])]


def test_powershell_blocks_are_skipped_with_a_reason():
    parsed = parse("```powershell\ndocker rm (docker ps -q)\n```\n")
    assert parsed[0] == Skipped(POWERSHELL_REASON)
    assert parsed[-1] == Inventory(ignored=[])


def test_heredoc_terminator_must_be_the_whole_line():
    source = "$ cat <<END\n  END\nEND\nout\n"
    commands = list(split_console(source, "p.md", 1))
    assert [command for _, command, _, _ in commands] == ["cat <<END\n  END\nEND"]


def test_heredoc_with_dash_allows_tabs_before_terminator():
    source = "$ cat <<-END\n\tx\n\tEND\nx\n"
    commands = list(split_console(source, "p.md", 1))
    assert [(command, expected) for _, command, _, expected in commands] == [
        ("cat <<-END\n\tx\n\tEND", "x")
    ]
