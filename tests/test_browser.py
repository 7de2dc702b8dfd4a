"""The built site in a real browser: Debian's Chromium, driven by Playwright.

The site is built with MkDocs and with Zensical, each build is served on
127.0.0.1, and every test runs against both. Requests to any other host are
blocked and recorded, so a failure never depends on the network.

Screenshots of each page at desktop and at phone width are written to
test-artifacts/screenshots/BUILDER/ on every run, replacing the last run's,
so that a failed run leaves a picture of what the browser showed.
"""

import doctest
import html
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import axe_playwright_python
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    Response,
    expect,
    sync_playwright,
)

from browser import build, chromium, server
from docrunner.parsing import split_console

PAGES = build.page_paths()
NAV_PAGES = build.nav_page_paths()
# An address with no page behind it, for the 404 page.
MISSING_PAGE = "no-such-page/"
ARTIFACTS = build.PROJECT / "test-artifacts" / "screenshots"
AXE_SCRIPT = Path(axe_playwright_python.__file__).parent / "axe.min.js"
COPY_EXAMPLES = Path(__file__).parent / "browser" / "copy-examples.md"

VIEWPORTS = {
    "desktop": {"width": 1280, "height": 800},
    "phone": {"width": 390, "height": 844},
}
# The system setting that the browser reports, and the Material scheme that
# the site must then show.
PALETTES = {"light": "default", "dark": "slate"}
BLOCKING_IMPACTS = {"serious", "critical"}
SEARCH_TERMS = ("Dockerfile", "port", "alpine")
# The time limit of each browser action, in milliseconds.
TIMEOUT = 15_000
CLIPBOARD_PLACEHOLDER = "(the copy button did not write to the clipboard)"

# What each block of tests/browser/copy-examples.md must copy, in page order.
COPY_EXAMPLES_EXPECTED = [
    ("two commands with output", "echo one\necho two"),
    (
        "a backslash continuation",
        'docker run --rm \\\n    alpine echo "a long command"',
    ),
    (
        "a here-document",
        "cat <<EOF > greeting.txt\nhello\n$ not a prompt inside a here-document\nEOF\n"
        "wc -l < greeting.txt",
    ),
    ("a quoted delimiter", "cat <<'END' | tr a-z A-Z\n  indented $HOME\n  END\nEND"),
    ("an annotated command", "docker ps --all"),
    ("a Python session", "def double(number):\n    return 2 * number\n\ndouble(21)"),
    ("a text block, unchanged", "$ a text block is copied as it is"),
]


def is_loopback(url: str) -> bool:
    """Return whether a request for ``url`` stays on this machine. URLs
    without a host (data:, blob:, about:) make no network request at all."""
    return urlsplit(url).hostname in (None, "127.0.0.1")


def page_id(path: str) -> str:
    return path.strip("/") or "index"


def fenced_block_languages(markdown: str) -> Iterator[str]:
    """Yield the language of each fenced block of a page, skipping blocks
    shown inside other blocks (a ```console example in a ````markdown one)."""
    fence_line = re.compile(
        r"^[ \t>]*(?:[-*+][ \t]+|\d+[.)][ \t]+)?(`{3,}|~{3,})[ \t]*(.*)$"
    )
    opening: str | None = None
    for line in markdown.splitlines():
        match = fence_line.match(line)
        if match is None:
            continue
        fence, info = match.groups()
        if opening is None:
            opening = fence
            language = re.match(r"\{?[ \t]*\.?([\w+-]*)", info)
            yield language.group(1).lower()
        elif fence[0] == opening[0] and len(fence) >= len(opening) and not info.strip():
            opening = None


def pages_with_commands() -> list[str]:
    """Return the pages that have a console or pycon block."""
    docs = build.PROJECT / "docs"
    found = []
    for path, source in build.page_sources().items():
        languages = fenced_block_languages((docs / source).read_text(encoding="utf-8"))
        if {"console", "pycon"} & set(languages):
            found.append(path)
    return found


@dataclass
class Site:
    """A built site and the address it is served at."""

    builder: str
    folder: Path
    address: str

    def url(self, path: str) -> str:
        return urljoin(self.address, path)

    def path_of(self, url: str) -> str:
        """Return the page path of a URL on this site, without its fragment."""
        return (
            urlsplit(url)
            ._replace(fragment="", query="")
            .geturl()
            .removeprefix(self.address)
        )


@dataclass
class RequestLog:
    """Every request that pages of a site made, as (page URL, request URL),
    and the pages that were open until the network was idle."""

    requests: list[tuple[str, str]] = field(default_factory=list)
    settled_pages: set[str] = field(default_factory=set)


@dataclass
class Visit:
    """A page opened in a fresh browser context, with what it logged."""

    page: Page
    response: Response | None
    errors: list[str] = field(default_factory=list)


# -- Fixtures ----------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium.find_or_install()
    if executable is None:
        # The workflows run the browser tests, so there a skip would hide them.
        if os.environ.get("GITHUB_ACTIONS") == "true":
            pytest.fail(chromium.missing_message())
        pytest.skip(chromium.missing_message())
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(executable), args=chromium.LAUNCH_ARGUMENTS
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module", params=build.BUILDERS)
def builder(request: pytest.FixtureRequest) -> str:
    return request.param


def serve_build(
    builder: str,
    folder: Path,
    extra_pages: tuple[Path, ...] = (),
    local_site_url: bool = False,
) -> Iterator[Site]:
    """Build a copy of the project in ``folder`` and serve it. With
    ``local_site_url``, the build's site_url is the server's own address."""
    site_folder = folder / "project" / "site"
    with server.serve(site_folder, build.site_prefix()) as address:
        site_url = address if local_site_url else None
        _, result = build.build_copy(builder, folder, extra_pages, site_url)
        if result.returncode != 0:
            output = build.plain_output(result)
            pytest.fail(f"{builder} build failed ({result.returncode}):\n{output}")
        yield Site(builder, site_folder, address)


@pytest.fixture(scope="module")
def site(builder: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    yield from serve_build(builder, tmp_path_factory.mktemp(f"{builder}-site"))


@pytest.fixture(scope="module")
def copy_examples_site(
    builder: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """The site with tests/browser/copy-examples.md added, outside the nav."""
    folder = tmp_path_factory.mktemp(f"{builder}-copy-examples")
    yield from serve_build(builder, folder, extra_pages=(COPY_EXAMPLES,))


@pytest.fixture(scope="module")
def instant_site(
    builder: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """The site built with its server's address as site_url.

    Instant navigation only follows links to addresses in sitemap.xml, and
    Material compares them after replacing the sitemap's scheme and host name
    with the page's, but not its port. On a server at a port of its own, it
    finds no link in the sitemap and loads each page in full. `mkdocs serve`
    avoids this the same way, by setting site_url to its own address.
    """
    folder = tmp_path_factory.mktemp(f"{builder}-instant")
    yield from serve_build(builder, folder, local_site_url=True)


@pytest.fixture(scope="module")
def request_log(site: Site) -> RequestLog:
    """The requests of every page that the tests open while ``site`` is served."""
    return RequestLog()


@pytest.fixture
def open_page(
    browser: Browser, site: Site, request_log: RequestLog
) -> Iterator[Callable[..., Visit]]:
    """Return a function that opens a page of a site in a new browser context.

    It waits for the page's load event, or for ``wait_until="networkidle"``:
    no request for half a second, which takes longer but also lets the
    requests that scripts make after the load event finish.
    """
    contexts: list[BrowserContext] = []

    def open_page(
        path: str,
        *,
        viewport: str = "desktop",
        palette: str = "light",
        on: Site | None = None,
        wait_until: str = "load",
    ) -> Visit:
        target = on or site
        context = browser.new_context(
            viewport=VIEWPORTS[viewport], color_scheme=palette
        )
        contexts.append(context)

        context.set_default_timeout(TIMEOUT)
        context.grant_permissions(
            ["clipboard-read", "clipboard-write"], origin=target.url("/")
        )
        # Nothing leaves the machine: a request to another host fails at once,
        # and the tests below find it in the log.
        context.route(lambda url: not is_loopback(url), lambda route: route.abort())

        page = context.new_page()
        context.on(
            "request",
            lambda request: request_log.requests.append((page.url, request.url)),
        )
        errors: list[str] = []
        page.on(
            "console",
            lambda message: (
                errors.append(
                    f"console error: {message.text} (at {message.location['url']})"
                )
                if message.type == "error"
                else None
            ),
        )
        page.on(
            "pageerror", lambda error: errors.append(f"uncaught exception: {error}")
        )

        response = page.goto(target.url(path), wait_until=wait_until)
        if wait_until == "networkidle" and target is site:
            request_log.settled_pages.add(path)
        return Visit(page, response, errors)

    yield open_page
    for context in contexts:
        context.close()


# -- Helpers -----------------------------------------------------------------


def save_screenshot(visit: Visit, site: Site, path: str, viewport: str) -> Path:
    folder = ARTIFACTS / site.builder
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{page_id(path)}-{viewport}.png"
    visit.page.screenshot(path=target, full_page=True)
    return target


def color_scheme(page: Page) -> str:
    return page.evaluate("document.body.getAttribute('data-md-color-scheme')")


def visible_code_text(block: Locator) -> str:
    """Return a code block's text without the markers and notes of code
    annotations, which Material inserts into the block."""
    return block.locator("code").evaluate(
        """code => {
            const copy = code.cloneNode(true);
            copy.querySelectorAll(".md-annotation").forEach(marker => marker.remove());
            return copy.textContent;
        }"""
    )


def expected_copy(block: Locator, page_path: str) -> str:
    """Return what the copy button of a console or pycon block must copy: the
    commands that the page runner runs, or the source of the doctests."""
    text = visible_code_text(block)
    classes = block.get_attribute("class") or ""
    if "language-pycon" in classes:
        examples = doctest.DocTestParser().get_examples(text)
        return "\n".join(example.source.removesuffix("\n") for example in examples)
    commands = split_console(text, page_path or "index", 1)
    return "\n".join(command for _, command, _, _ in commands)


def show_block(page: Page, block: Locator) -> None:
    """Select the content tab that holds ``block``, if it sits in a hidden one."""
    if block.is_visible():
        return
    label = block.evaluate(
        """block => {
            const panel = block.closest(".tabbed-block");
            if (panel === null) return null;
            const set = panel.closest(".tabbed-set");
            const index = Array.from(panel.parentElement.children).indexOf(panel);
            const input = set.querySelectorAll(":scope > input")[index];
            return input ? input.id : null;
        }"""
    )
    if label is not None:
        page.locator(f'label[for="{label}"]').first.click()


def copy_with_button(page: Page, block: Locator) -> str:
    """Click a block's copy button with the mouse, and return what it put on
    the clipboard."""
    page.evaluate("text => navigator.clipboard.writeText(text)", CLIPBOARD_PLACEHOLDER)
    show_block(page, block)
    block.scroll_into_view_if_needed()
    block.hover()
    block.locator("button[data-clipboard-target]").click()
    deadline = time.monotonic() + TIMEOUT / 1000
    copied = CLIPBOARD_PLACEHOLDER
    while copied == CLIPBOARD_PLACEHOLDER and time.monotonic() < deadline:
        copied = page.evaluate("navigator.clipboard.readText()")
        time.sleep(0.05)
    return copied


def built_page(site: Site, path: str) -> str:
    return (site.folder / path / "index.html").read_text(encoding="utf-8")


def article_text(site: Site, path: str) -> str:
    """Return the text of a built page's article, tags removed."""
    source = built_page(site, path)
    match = re.search(r"<article\b[^>]*>(.*?)</article>", source, re.DOTALL)
    assert match, f"{site.builder}: no <article> in the built page {path!r}"
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(1)))


def run_axe(page: Page) -> list[dict]:
    """Run axe-core on the page and return its violations."""
    page.add_script_tag(path=AXE_SCRIPT)
    return page.evaluate(
        """async () => {
            const results = await axe.run(document, {resultTypes: ["violations"]});
            return results.violations.map(violation => ({
                id: violation.id,
                impact: violation.impact,
                help: violation.help,
                nodes: violation.nodes.slice(0, 5).map(node => node.target.join(" ")),
            }));
        }"""
    )


@dataclass
class SearchInterface:
    """Where a builder's theme puts its search: the button that opens it (if
    the field is not always there), the field, the result count, and the
    links of the results."""

    opener: str | None
    field: str
    status: str
    results: str


SEARCH_INTERFACES = {
    "mkdocs": SearchInterface(
        opener=None,
        field="input.md-search__input",
        status=".md-search-result__meta",
        results="a.md-search-result__link",
    ),
    # Zensical's own search dialog, which replaces Material's.
    "zensical": SearchInterface(
        opener="button.md-search__button",
        field='input[role="combobox"][aria-label="Search"]',
        status='[role="status"][aria-live="polite"]',
        results='[role="listbox"] a[role="option"]',
    ),
}


def search(page: Page, builder: str, term: str) -> list[str]:
    """Type ``term`` into the search field key by key, as a reader does (the
    search runs on key presses), and return the addresses of all results.

    Both themes show the first results and add more as the reader scrolls
    the list, so the list is scrolled to its end until no more appear.
    """
    interface = SEARCH_INTERFACES[builder]
    if interface.opener is not None:
        page.locator(interface.opener).click()
    field = page.locator(interface.field)
    field.click()
    field.press_sequentially(term)
    status = page.locator(interface.status)
    expect(status).to_have_text(re.compile(r"\d+ (matching document|result)"))
    announced = int(re.search(r"\d+", status.inner_text()).group(0))
    results = page.locator(interface.results)
    # The list grows as it scrolls, and on a busy machine a batch can take a
    # while: scroll until the announced number is shown, or the list stops
    # growing for a whole second.
    deadline = time.monotonic() + 20
    result_count, unchanged_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = results.count()
        if count >= announced:
            break
        if count != result_count:
            result_count, unchanged_since = count, time.monotonic()
        elif time.monotonic() - unchanged_since > 1:
            break
        # Scrolled from the page's side, because the theme may replace the
        # list's elements while the results still come in.
        results.evaluate_all("links => links.at(-1)?.scrollIntoView()")
        page.wait_for_timeout(200)
    return results.evaluate_all("links => links.map(link => link.href)")


def is_missing_page_status(error: str, site: Site) -> bool:
    """Return whether a console error is Chromium's note that the missing
    page's own address answered 404, which is what the 404 test expects."""
    return "status of 404" in error and f"(at {site.url(MISSING_PAGE)})" in error


# -- Pages -------------------------------------------------------------------


def test_sitemap_lists_every_page(site: Site) -> None:
    sitemap = (site.folder / "sitemap.xml").read_text(encoding="utf-8")
    site_url = build.configuration()["site_url"]
    listed = {
        location.removeprefix(site_url)
        for location in re.findall(r"<loc>([^<]*)</loc>", sitemap)
    }
    assert listed == set(PAGES)


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("path", PAGES + [MISSING_PAGE], ids=page_id)
def test_page_renders_without_errors(
    site: Site, open_page: Callable[..., Visit], path: str, viewport: str
) -> None:
    # At desktop width the page stays open until the network is idle, so
    # that errors of the requests that scripts make after loading show too.
    wait_until = "networkidle" if viewport == "desktop" else "load"
    visit = open_page(path, viewport=viewport, wait_until=wait_until)
    save_screenshot(visit, site, path, viewport)
    expected_status = 404 if path == MISSING_PAGE else 200
    assert visit.response is not None and visit.response.status == expected_status
    expect(visit.page.locator("article h1")).to_be_visible()
    errors = [
        error for error in visit.errors if not is_missing_page_status(error, site)
    ]
    assert errors == []
    overflow = visit.page.evaluate(
        "document.documentElement.scrollWidth - window.innerWidth"
    )
    assert overflow <= 0, f"the page is {overflow} px wider than the {viewport} window"


def test_missing_page_shows_404_page(
    site: Site, open_page: Callable[..., Visit]
) -> None:
    visit = open_page(MISSING_PAGE)
    expect(visit.page.locator("article h1")).to_have_text("Page not found")
    # Styled by the site's own stylesheet, served from site_url's path.
    header = visit.page.locator(".md-header")
    assert header.evaluate("element => getComputedStyle(element).position") == "sticky"
    visit.page.get_by_role("link", name="the first page").click()
    expect(visit.page).to_have_url(site.url(""))


def link_target(site: Site, path: str, html_text: str, css_class: str) -> str | None:
    """Return the page path that the first link with ``css_class`` on a built
    page points to, or None if the page has no such link."""
    match = re.search(
        rf'<a\b[^>]*\bhref="([^"]*)"[^>]*\bclass="[^"]*\b{css_class}\b', html_text
    )
    if match is None:
        return None
    return site.path_of(urljoin(site.url(path), html.unescape(match.group(1))))


def test_footer_links_follow_nav(site: Site) -> None:
    for number, path in enumerate(NAV_PAGES):
        page = built_page(site, path)
        previous_page = NAV_PAGES[number - 1] if number > 0 else None
        next_page = NAV_PAGES[number + 1] if number + 1 < len(NAV_PAGES) else None
        previous_link = link_target(site, path, page, "md-footer__link--prev")
        next_link = link_target(site, path, page, "md-footer__link--next")
        assert previous_link == previous_page, f"previous link on {page_id(path)}"
        assert next_link == next_page, f"next link on {page_id(path)}"


@pytest.mark.parametrize("path", PAGES, ids=page_id)
def test_page_links_repository_and_source(site: Site, path: str) -> None:
    config = build.configuration()
    page = built_page(site, path)
    edit_url = (
        f"{config['repo_url']}/{config['edit_uri'].strip('/')}/"
        f"{build.page_sources()[path]}"
    )
    assert f'href="{config["repo_url"]}"' in page, "no link to the repository"
    assert f'href="{edit_url}"' in page, "no link to edit the page"


# -- Search ------------------------------------------------------------------


@pytest.mark.parametrize("term", SEARCH_TERMS)
def test_search_finds_pages(
    site: Site, open_page: Callable[..., Visit], term: str
) -> None:
    word = re.compile(rf"\b{re.escape(term)}\b", re.IGNORECASE)
    expected = {path for path in PAGES if word.search(article_text(site, path))}
    assert expected, f"no page contains {term!r}, so the search for it proves nothing"

    links = search(open_page("").page, site.builder, term)
    found = {site.path_of(link) for link in links}
    assert expected - found == set(), f"search for {term!r} found {sorted(found)}"


# -- Copy button -------------------------------------------------------------


@pytest.mark.parametrize("path", pages_with_commands(), ids=page_id)
def test_copy_button_copies_commands(
    site: Site, open_page: Callable[..., Visit], path: str
) -> None:
    page = open_page(path).page
    blocks = page.locator("div.language-console, div.language-pycon")
    assert blocks.count() > 0, (
        "the Markdown has a console or pycon block, the page none"
    )
    for index in range(blocks.count()):
        block = blocks.nth(index)
        expected = expected_copy(block, path)
        assert copy_with_button(page, block) == expected, (
            f"block {index + 1} of {blocks.count()}"
        )


def test_copy_button_examples(
    open_page: Callable[..., Visit], copy_examples_site: Site
) -> None:
    page = open_page(f"{COPY_EXAMPLES.stem}/", on=copy_examples_site).page
    blocks = page.locator("div.highlight")
    assert blocks.count() == len(COPY_EXAMPLES_EXPECTED)
    for index, (case, expected) in enumerate(COPY_EXAMPLES_EXPECTED):
        assert copy_with_button(page, blocks.nth(index)) == expected, case


def test_copy_button_after_instant_navigation(
    open_page: Callable[..., Visit], instant_site: Site
) -> None:
    page = open_page("", on=instant_site).page
    page.evaluate("window.loadedOnce = true")
    blocks = page.locator("article div.language-console")
    # Follow "next" links to the first page after the home page with a
    # console block.
    for _ in NAV_PAGES:
        page.locator("a.md-footer__link--next").click()
        page.wait_for_load_state("networkidle")
        if blocks.count() > 0:
            break
    assert page.url != instant_site.url(""), "no next page"
    assert page.evaluate("window.loadedOnce === true"), (
        "the next page was loaded in full, not by instant navigation"
    )
    assert blocks.count() > 0, "no page after the home page has a console block"
    first = blocks.first
    assert copy_with_button(page, first) == expected_copy(
        first, instant_site.path_of(page.url)
    )


# -- Palette and accessibility -----------------------------------------------


@pytest.mark.parametrize("palette", PALETTES)
def test_palette_follows_system(open_page: Callable[..., Visit], palette: str) -> None:
    page = open_page("", palette=palette).page
    assert color_scheme(page) == PALETTES[palette]


def test_palette_toggle_steps_through_schemes(open_page: Callable[..., Visit]) -> None:
    page = open_page("", palette="light").page
    toggle = page.locator('[data-md-component="palette"] label:visible')
    seen = [color_scheme(page)]
    for _ in range(2):
        toggle.first.click()
        seen.append(color_scheme(page))
    page.reload()
    seen.append(color_scheme(page))
    toggle.first.click()
    seen.append(color_scheme(page))
    # System (light), light, dark, dark kept across a reload, system again.
    assert seen == ["default", "default", "slate", "slate", "default"]


@pytest.mark.parametrize("palette", PALETTES)
@pytest.mark.parametrize("path", PAGES + [MISSING_PAGE], ids=page_id)
def test_page_has_no_serious_axe_violations(
    open_page: Callable[..., Visit], path: str, palette: str
) -> None:
    page = open_page(path, palette=palette).page
    assert color_scheme(page) == PALETTES[palette]
    violations = [
        violation
        for violation in run_axe(page)
        if violation["impact"] in BLOCKING_IMPACTS
    ]
    report = [
        f"{violation['impact']} {violation['id']}: {violation['help']},"
        f" at {', '.join(violation['nodes'])}"
        for violation in violations
    ]
    assert report == []


# -- Requests ----------------------------------------------------------------


def test_no_request_leaves_the_site(
    site: Site, open_page: Callable[..., Visit], request_log: RequestLog
) -> None:
    # The log holds every request of the tests above: page loads, searches,
    # copies, instant navigation. Pages that no test kept open until the
    # network was idle are opened here, so the check is whole when this test
    # runs alone.
    for path in PAGES + [MISSING_PAGE]:
        if path not in request_log.settled_pages:
            open_page(path, wait_until="networkidle")
    search(open_page("").page, site.builder, "docker")
    assert any(url.endswith(".css") for _, url in request_log.requests), (
        "no stylesheet request was recorded"
    )
    elsewhere = sorted(
        {
            f"{url} (from {page_url})"
            for page_url, url in request_log.requests
            if not is_loopback(url)
        }
    )
    assert elsewhere == []
