"""The linters, each run over the project as one test that fails with the
tool's own output: ruff on the Python code, codespell on docs and code,
pymarkdownlnt on docs/, and zizmor and actionlint on the GitHub workflows.
Their settings are in pyproject.toml and .github/zizmor.yml, and
.pre-commit-config.yaml runs the same tools before each commit.

The last tests prove that the settings catch what they are for: an action
that is not pinned to a commit, a misspelled word, a long line of prose.
"""

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
# pip installs the tools' commands next to the interpreter that runs pytest,
# which need not be on PATH (the README runs .venv/bin/pytest).
SCRIPTS = Path(sysconfig.get_path("scripts"))
TOOL_TIMEOUT = 300


def find_command(name: str) -> str | None:
    """Return the path of a command, looked up next to the interpreter first
    and then on PATH, or None if it is not installed."""
    search_path = os.pathsep.join([str(SCRIPTS), os.environ.get("PATH", "")])
    return shutil.which(name, path=search_path)


def tool(name: str) -> str:
    """Return the path of a linter's command, or fail the test if the test
    extra that installs it is missing."""
    path = find_command(name)
    if path is None:
        pytest.fail(
            f"{name} is not installed in {SCRIPTS} or on PATH; install the "
            "test extra: .venv/bin/pip install -e '.[test]'"
        )
    return path


def run(*command: str, cwd: Path = PROJECT) -> subprocess.CompletedProcess[str]:
    """Run a linter and return its result, with standard error merged into
    ``result.stdout``."""
    environment = dict(os.environ, NO_COLOR="1")
    return subprocess.run(
        command,
        cwd=cwd,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=TOOL_TIMEOUT,
    )


def zizmor(folder: Path) -> subprocess.CompletedProcess[str]:
    """Run zizmor on the workflows and the Dependabot and pre-commit settings
    in a folder, with the folder's .github/zizmor.yml and no network access."""
    return run(
        tool("zizmor"),
        "--offline",
        "--strict-collection",
        "--persona=pedantic",
        "--no-progress",
        "--color=never",
        ".",
        cwd=folder,
    )


# The project as it is.


def test_ruff_format() -> None:
    result = run(tool("ruff"), "format", "--check", "--diff", ".")
    assert result.returncode == 0, result.stdout


def test_ruff_check() -> None:
    result = run(tool("ruff"), "check", "--output-format=concise", ".")
    assert result.returncode == 0, result.stdout


def test_codespell() -> None:
    # The paths and words to skip are in [tool.codespell] in pyproject.toml.
    result = run(tool("codespell"))
    assert result.returncode == 0, result.stdout


def test_markdown_lint() -> None:
    result = run(tool("pymarkdown"), "--strict-config", "scan", "docs")
    assert result.returncode == 0, result.stdout


def test_zizmor() -> None:
    result = zizmor(PROJECT)
    assert result.returncode == 0, result.stdout


def test_actionlint() -> None:
    actionlint = find_command("actionlint")
    # shellcheck lets actionlint check the script of each run: step.
    shellcheck = find_command("shellcheck")
    if actionlint is None or shellcheck is None:
        message = (
            "actionlint or shellcheck is not installed: the test extra brings "
            "them on Linux (x86_64 for shellcheck); elsewhere install both on "
            "PATH."
        )
        # The workflows run on Linux, so there both must be present.
        if os.environ.get("GITHUB_ACTIONS") == "true" or sys.platform == "linux":
            pytest.fail(message)
        pytest.skip(message)
    result = run(actionlint, "-no-color", f"-shellcheck={shellcheck}")
    assert result.returncode == 0, result.stdout


def test_actionlint_rejects_broken_workflow(tmp_path: Path) -> None:
    actionlint = find_command("actionlint")
    if actionlint is None:
        pytest.skip("actionlint is not installed (see test_actionlint)")
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    workflow = workflows / "broken.yml"
    workflow.write_text(
        "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.event.missing }\n"
    )
    result = run(actionlint, "-no-color", str(workflow), cwd=tmp_path)
    # actionlint exits with 1 when it finds problems, 2 or 3 when it fails.
    assert result.returncode == 1, result.stdout
    assert "broken.yml:6:" in result.stdout, result.stdout


# The settings catch what they are for.


def copy_github_folder(destination: Path) -> Path:
    """Copy the project's .github folder into ``destination`` and return the
    copy of suite.yml, the workflow that runs the tests."""
    shutil.copytree(PROJECT / ".github", destination / ".github")
    return destination / ".github" / "workflows" / "suite.yml"


def test_zizmor_rejects_unpinned_action(tmp_path: Path) -> None:
    workflow = copy_github_folder(tmp_path)
    pinned = re.compile(r"actions/checkout@[0-9a-f]{40}[^\n]*")
    text, count = pinned.subn("actions/checkout@v4", workflow.read_text(), count=1)
    assert count == 1, (
        f"{workflow.name} no longer checks out with a pinned actions/checkout"
    )
    workflow.write_text(text)

    result = zizmor(tmp_path)

    assert result.returncode != 0, result.stdout
    assert "unpinned-uses" in result.stdout, result.stdout


def test_zizmor_accepts_copy_unchanged(tmp_path: Path) -> None:
    # The control for the test above: the copy itself is not what fails.
    copy_github_folder(tmp_path)
    result = zizmor(tmp_path)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize(
    "path",
    ["docs/page.md", "tests/test_page.py", ".github/workflows/test.yml"],
)
def test_codespell_rejects_misspelling(tmp_path: Path, path: str) -> None:
    # A folder laid out like the project, with one misspelled word in one
    # file, checked with the project's settings.
    # The word is split here so that codespell passes this file itself.
    misspelling = "rec" + "ieve"
    file = tmp_path / path
    file.parent.mkdir(parents=True)
    file.write_text(f"# The container will {misspelling} SIGTERM when it stops.\n")

    result = run(
        tool("codespell"), "--toml", str(PROJECT / "pyproject.toml"), cwd=tmp_path
    )

    assert result.returncode != 0, result.stdout
    assert misspelling in result.stdout, result.stdout


SNIPPET_PAGE = """\
# A page that includes a file

```python title="app.py"
--8<-- "examples/hello-server/app.py"
```
"""


def test_ruff_format_leaves_markdown_alone(tmp_path: Path) -> None:
    # ruff would read the pymdownx.snippets line as Python and rewrite it.
    page = tmp_path / "page.md"
    page.write_text(SNIPPET_PAGE)
    configuration = str(PROJECT / "pyproject.toml")

    result = run(
        tool("ruff"), "format", "--force-exclude", "--config", configuration, str(page)
    )

    assert result.returncode == 0, result.stdout
    assert page.read_text() == SNIPPET_PAGE


MATERIAL_PAGE = """\
# A page in Material's syntax

!!! note "An admonition"

    Its content is indented by four spaces, as Python-Markdown needs.

??? tip "A collapsible admonition"

    Hidden until the reader opens it.

=== "Linux"

    ```console
    $ docker version --format '{{.Server.Os}}'
    linux
    ```

=== "macOS"

    Start Docker Desktop first.

- A list item
    - nested by four spaces, as Python-Markdown needs

| Column | Another column |
| --- | --- |
| LONG_CELL | b |

<!-- test: exit=1 -->

```console
$ docker inspect no-such-container
...
```
"""


def test_markdown_lint_accepts_material_syntax(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    # A table's lines may be longer than the 100 columns that prose may take.
    long_cell = " ".join(["a long table cell"] * 8)
    page.write_text(MATERIAL_PAGE.replace("LONG_CELL", long_cell))
    result = run(tool("pymarkdown"), "--strict-config", "scan", str(page))
    assert result.returncode == 0, result.stdout


def test_markdown_lint_rejects_long_prose(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    prose = " ".join(["A line of prose that goes on."] * 4)
    page.write_text(f"# A page\n\n{prose}\n")
    result = run(tool("pymarkdown"), "--strict-config", "scan", str(page))
    assert result.returncode != 0, result.stdout
    assert "MD013" in result.stdout, result.stdout
