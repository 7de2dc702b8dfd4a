"""The site itself: it builds with MkDocs and with Zensical in strict mode, so
a broken link, anchor or included file fails the tests, and what it builds
loads nothing from other hosts."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from browser import build, scan

PROJECT = Path(__file__).resolve().parents[1]

# A link that each builder must reject, added to a copy of the home page,
# and the text that each builder's error message contains.
BROKEN_LINKS = {
    "missing-page": (
        "[a page that does not exist](no-such-page.md)",
        {"mkdocs": "no-such-page.md", "zensical": "page does not exist"},
    ),
    "missing-anchor": (
        "[a section that does not exist](hello-world.md#no-such-section)",
        {"mkdocs": "no-such-section", "zensical": "anchor does not exist"},
    ),
}


def network_reason() -> str | None:
    """Return why the external link check cannot run here, or None if it can.

    The check needs the internet. It runs where CI_NETWORK=1, and on GitHub
    Actions' runners, which have the internet, unless CI_NETWORK=0.
    """
    setting = os.environ.get("CI_NETWORK")
    if setting == "1":
        return None
    if setting is None and os.environ.get("GITHUB_ACTIONS") == "true":
        return None
    return (
        "checking external links needs the internet: set CI_NETWORK=1 to run "
        "it (GitHub Actions runs it without that)"
    )


@pytest.fixture(scope="module", params=build.BUILDERS)
def built_site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    builder = request.param
    site, result = build.build_copy(
        builder, tmp_path_factory.mktemp(f"{builder}-build")
    )
    assert result.returncode == 0, (
        f"{builder} build failed:\n{build.plain_output(result)}"
    )
    return site


def test_site_builds_strict(tmp_path: Path) -> None:
    environment = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "--site-dir",
            str(tmp_path),
        ],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        env=environment,
    )
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    assert (tmp_path / "example-service" / "index.html").exists()


@pytest.mark.parametrize("case", BROKEN_LINKS)
@pytest.mark.parametrize("builder", build.BUILDERS)
def test_broken_link_fails_build(tmp_path: Path, builder: str, case: str) -> None:
    link, messages = BROKEN_LINKS[case]
    project = build.copy_sources(tmp_path / "project")
    home = project / "docs" / "index.md"
    home.write_text(
        home.read_text(encoding="utf-8") + f"\nSee {link}.\n", encoding="utf-8"
    )
    result = build.run_build(builder, project, project / "site")
    output = build.plain_output(result)
    assert result.returncode != 0, f"{builder} built a page with {link}:\n{output}"
    assert messages[builder] in output


def test_build_has_every_page_and_asset(built_site: Path) -> None:
    for path in build.page_paths():
        assert (built_site / path / "index.html").is_file(), (
            f"page {path!r} was not built"
        )
    for asset in (
        build.configuration()["extra_css"] + build.configuration()["extra_javascript"]
    ):
        assert (built_site / asset).is_file(), f"{asset} was not copied into the site"
    assert "Page not found" in (built_site / "404.html").read_text(encoding="utf-8")


def test_built_pages_load_nothing_from_other_hosts(built_site: Path) -> None:
    assert scan.external_loads(built_site) == {}


def test_external_links_are_listed(built_site: Path) -> None:
    links = scan.external_links(built_site)
    config = build.configuration()
    assert config["repo_url"] in links
    written = set()
    for page in (PROJECT / "docs").rglob("*.md"):
        written |= set(
            re.findall(r"\]\((https?://[^)\s]+)\)", page.read_text(encoding="utf-8"))
        )
    assert written - set(links) == set(), (
        "links in the Markdown that the built site lacks"
    )


@pytest.mark.skipif(network_reason() is not None, reason=network_reason() or "")
def test_external_links_answer(tmp_path: Path) -> None:
    # The site that the Pages workflow publishes: the MkDocs build.
    site, result = build.build_copy("mkdocs", tmp_path)
    assert result.returncode == 0, build.plain_output(result)
    links = scan.external_links(site)
    failures = scan.check_links(sorted(links))
    report = [
        f"{url}: {error} (on {', '.join(links[url])})"
        for url, error in failures.items()
    ]
    assert report == []
