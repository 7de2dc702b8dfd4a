"""Serve the project's working tree in place of its public repository.

The pages tell readers to ``git clone`` the tutorial's repository
(``repo_url`` in mkdocs.yml). The tests clone the working tree under test
instead, uncommitted changes included: a git configuration rewrites the
public URL to a local copy of the files that git does not ignore.
"""

import os
import shutil
import subprocess
from pathlib import Path

from .errors import SetupError


def copy_working_tree(project: Path, target: Path) -> Path:
    """Copy the files of the project's working tree that git does not ignore
    into ``target``, and return it."""
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for name in filter(None, files):
        source = project / name
        if source.is_file():
            destination = target / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)
    return target


def repository_url(project: Path) -> str:
    """Return the repository address that the pages tell readers to clone
    (``repo_url`` in mkdocs.yml)."""
    for line in (project / "mkdocs.yml").read_text().splitlines():
        if line.startswith("repo_url:"):
            return line.split(":", 1)[1].strip().strip("'\"")
    raise SetupError("mkdocs.yml has no repo_url, which the pages' git clone needs.")


def serve_working_tree(project: Path, folder: Path) -> Path:
    """Commit a copy of the working tree in ``folder`` and return a git
    configuration file that serves it in place of the public repository."""
    copy = copy_working_tree(project, folder / "docker-tutorial")
    environment = dict(
        os.environ,
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_AUTHOR_NAME="docrunner",
        GIT_AUTHOR_EMAIL="docrunner@localhost",
        GIT_COMMITTER_NAME="docrunner",
        GIT_COMMITTER_EMAIL="docrunner@localhost",
    )
    for command in (
        ["init", "--quiet", "--initial-branch=main"],
        ["add", "--all"],
        ["commit", "--quiet", "-m", "Working tree under test"],
    ):
        subprocess.run(["git", *command], cwd=copy, env=environment, check=True)
    config = folder / "gitconfig"
    url = repository_url(project)
    config.write_text(
        f'[url "{copy.as_uri()}"]\n\tinsteadOf = {url}\n\tinsteadOf = {url}.git\n'
    )
    return config
