"""Read a built site's files: the links to other sites, and every reference
that would make a browser load something from another host."""

import concurrent.futures
import re
import urllib.error
import urllib.request
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path

# Elements and attributes whose URL the browser fetches as the page loads.
LOADING_ATTRIBUTES = {
    ("audio", "src"),
    ("embed", "src"),
    ("iframe", "src"),
    ("img", "src"),
    ("img", "srcset"),
    ("input", "src"),
    ("object", "data"),
    ("script", "src"),
    ("source", "src"),
    ("source", "srcset"),
    ("track", "src"),
    ("video", "poster"),
    ("video", "src"),
}
# <link rel="..."> types that fetch their href, or open a connection to it.
LOADING_LINK_TYPES = {
    "apple-touch-icon",
    "dns-prefetch",
    "icon",
    "manifest",
    "mask-icon",
    "modulepreload",
    "preconnect",
    "prefetch",
    "preload",
    "stylesheet",
}
CSS_REFERENCE = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""")
# The user agent of the link check: some sites reject Python's default one.
USER_AGENT = (
    "docker-tutorial-link-check (+https://github.com/tested-docs/docker-tutorial)"
)


def is_external(url: str) -> bool:
    """Return whether a URL names another host: http:, https: or //host."""
    return url.startswith(("http://", "https://", "//"))


class PageReader(HTMLParser):
    """Collect a page's outgoing links and the URLs that it loads."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.loads: list[str] = []
        self.in_style = False

    def handle_starttag(
        self, tag: str, attributes: list[tuple[str, str | None]]
    ) -> None:
        values = {name: value or "" for name, value in attributes}
        if tag == "a" and "href" in values:
            self.links.append(values["href"])
        if tag == "link" and LOADING_LINK_TYPES & set(
            values.get("rel", "").lower().split()
        ):
            self.loads.append(values.get("href", ""))
        for name, value in values.items():
            if (tag, name) not in LOADING_ATTRIBUTES:
                continue
            if name == "srcset":
                self.loads.extend(
                    candidate.split()[0]
                    for candidate in value.split(",")
                    if candidate.strip()
                )
            else:
                self.loads.append(value)
        if "style" in values:
            self.loads.extend(css_references(values["style"]))
        self.in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self.in_style = False

    def handle_data(self, data: str) -> None:
        if self.in_style:
            self.loads.extend(css_references(data))


def css_references(css: str) -> list[str]:
    return [url or imported for url, imported in CSS_REFERENCE.findall(css)]


def read_page(path: Path) -> PageReader:
    reader = PageReader()
    reader.feed(path.read_text(encoding="utf-8"))
    reader.close()
    return reader


def external_loads(site: Path) -> dict[str, list[str]]:
    """Return each URL on another host that a page or stylesheet of the site
    loads, with the files that refer to it."""
    found: dict[str, set[str]] = defaultdict(set)
    for page in site.rglob("*.html"):
        for url in read_page(page).loads:
            if is_external(url):
                found[url].add(page.relative_to(site).as_posix())
    for stylesheet in site.rglob("*.css"):
        for url in css_references(stylesheet.read_text(encoding="utf-8")):
            if is_external(url):
                found[url].add(stylesheet.relative_to(site).as_posix())
    return {url: sorted(files) for url, files in sorted(found.items())}


def external_links(site: Path) -> dict[str, list[str]]:
    """Return each link to another site, with the pages that carry it."""
    found: dict[str, set[str]] = defaultdict(set)
    for page in site.rglob("*.html"):
        for url in read_page(page).links:
            if url.startswith(("http://", "https://")):
                found[url].add(page.relative_to(site).as_posix())
    return {url: sorted(pages) for url, pages in sorted(found.items())}


def check_link(url: str, timeout: float = 20) -> str | None:
    """Request a URL and return None if it succeeds, else the error.

    A HEAD request comes first, and a GET follows where the server rejects
    HEAD. Redirects are followed, and a final status below 400 is success.
    """
    error = None
    for method in ("HEAD", "GET"):
        request = urllib.request.Request(
            url, method=method, headers={"User-Agent": USER_AGENT}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout):
                return None
        except urllib.error.HTTPError as failure:
            error = f"HTTP status {failure.code} to {method}"
            if failure.code not in (403, 405, 501):
                return error
        except (urllib.error.URLError, TimeoutError, ConnectionError) as failure:
            return f"{method} failed: {getattr(failure, 'reason', failure)}"
    return error


def check_links(urls: list[str], workers: int = 8) -> dict[str, str]:
    """Check URLs in parallel and return the failing ones with their error."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        errors = dict(zip(urls, pool.map(check_link, urls), strict=True))
    return {url: error for url, error in errors.items() if error is not None}
