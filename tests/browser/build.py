"""Build the site with MkDocs or Zensical, and list its pages."""

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from mkdocs.utils import yaml_load

PROJECT = Path(__file__).resolve().parents[2]
BUILDERS = ("mkdocs", "zensical")
# What a build reads: the configuration, the pages, the theme overrides, and
# the example files that the pages include.
SOURCES = ("mkdocs.yml", "docs", "overrides", "examples")
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


def environment() -> dict[str, str]:
    """Return the environment for a build, without Material 9's notice about
    its end of life, which would otherwise fill the build's output."""
    return dict(os.environ, NO_MKDOCS_2_WARNING="1")


def plain_output(result: subprocess.CompletedProcess) -> str:
    """Return a build's output and errors without terminal colour codes,
    which Zensical 0.0.73 writes even when its output is not a terminal."""
    return ANSI_ESCAPE.sub("", result.stdout + result.stderr)


def configuration(project: Path = PROJECT) -> dict:
    with open(project / "mkdocs.yml", encoding="utf-8") as file:
        return yaml_load(file)


def site_prefix(project: Path = PROJECT) -> str:
    """Return the path of site_url, under which the site is served."""
    path = urlsplit(configuration(project)["site_url"]).path
    return path if path.endswith("/") else path + "/"


def page_address(source: str) -> str:
    """Return the address of a page relative to the site's root, from its
    path under docs/: "" for index.md, "hello-world/" for hello-world.md."""
    relative = PurePosixPath(source).with_suffix("")
    if relative.name == "index":
        relative = relative.parent
    return "" if str(relative) == "." else f"{relative}/"


def page_sources(project: Path = PROJECT) -> dict[str, str]:
    """Return each page's address with its source file under docs/, in file
    name order: {"hello-world/": "hello-world.md", ...}."""
    docs = project / "docs"
    sources = (path.relative_to(docs).as_posix() for path in sorted(docs.rglob("*.md")))
    return {page_address(source): source for source in sources}


def page_paths(project: Path = PROJECT) -> list[str]:
    """Return the address of each page in docs/, in file name order."""
    return list(page_sources(project))


def nav_page_paths(project: Path = PROJECT) -> list[str]:
    """Return the address of each page in the nav, in the nav's order."""

    def sources(entries: list) -> Iterator[str]:
        for entry in entries:
            value = next(iter(entry.values())) if isinstance(entry, dict) else entry
            if isinstance(value, list):
                yield from sources(value)
            elif not value.startswith(("http://", "https://")):
                yield value

    return [page_address(source) for source in sources(configuration(project)["nav"])]


def copy_sources(target: Path, project: Path = PROJECT) -> Path:
    """Copy what a build reads into ``target``, and return it."""
    target.mkdir(parents=True, exist_ok=True)
    for name in SOURCES:
        source = project / name
        if source.is_dir():
            shutil.copytree(source, target / name)
        elif source.exists():
            shutil.copy2(source, target / name)
    return target


def run_build(builder: str, project: Path, site: Path) -> subprocess.CompletedProcess:
    """Build the site of ``project`` in strict mode into ``site``.

    Zensical writes its output to the configuration's site_dir, which must be
    inside the project, and keeps a cache in the project's .cache folder, so
    it is given a copy of the project: ``site`` must then be ``project/site``.
    """
    if builder == "mkdocs":
        command = ["-m", "mkdocs", "build", "--strict", "--site-dir", str(site)]
    elif builder == "zensical":
        if site != project / "site":
            raise ValueError(f"Zensical builds into {project / 'site'}, not {site}")
        command = ["-m", "zensical", "build", "--strict", "--clean"]
    else:
        raise ValueError(f"unknown builder {builder!r}; expected one of {BUILDERS}")
    return subprocess.run(
        [sys.executable, *command],
        cwd=project,
        capture_output=True,
        text=True,
        env=environment(),
        timeout=300,
    )


def build_copy(
    builder: str,
    folder: Path,
    extra_pages: tuple[Path, ...] = (),
    site_url: str | None = None,
) -> tuple[Path, subprocess.CompletedProcess]:
    """Copy the project's sources into ``folder``, build them there, and
    return the site folder and the build's result.

    ``extra_pages`` are added to docs/ outside the nav, and ``site_url``
    replaces the configuration's own.
    """
    project = copy_sources(folder / "project")
    settings = []
    for page in extra_pages:
        shutil.copy2(page, project / "docs" / page.name)
    if extra_pages:
        # A page outside the nav fails a strict build unless it is listed here.
        listed = "".join(f"  /{page.name}\n" for page in extra_pages)
        settings.append(f"not_in_nav: |\n{listed}")
    if site_url is not None:
        settings.append(f"site_url: {site_url}\n")
    if settings:
        # A key repeated at the end of the YAML file overrides the first one.
        with open(project / "mkdocs.yml", "a", encoding="utf-8") as config:
            config.write("\n# Set by the tests.\n" + "".join(settings))
    site = project / "site"
    return site, run_build(builder, project, site)
