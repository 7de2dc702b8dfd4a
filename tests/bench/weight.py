"""The weight of the site's pages in Chromium.

The built site is served on 127.0.0.1 under the path of its site_url, as
GitHub Pages serves it, and each page is opened in a new browser context, so
with an empty cache: its first view. When the load has settled (no request
for 500 ms, Playwright's "networkidle"), the bytes that the server sent for
the page's requests, status lines and headers included, are added up. The
server counts them because Chromium reports no body size for the script of
a web worker, such as the search's. Requests to any host other than
127.0.0.1 are counted as third-party and blocked, so nothing leaves the
machine.

Each page is weighed twice: served with gzip, as GitHub Pages compresses
HTML, CSS, JavaScript, JSON, XML and SVG, and served without compression.
"""

import contextlib
import functools
import gzip
import http.server
import logging
import statistics
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from browser import build, chromium

from .measure import Figure, MeasurementError

log = logging.getLogger(__name__)

COMPRESSED_SUFFIXES = {".html", ".css", ".js", ".json", ".xml", ".svg", ".txt"}
# Per browser action, in milliseconds.
TIMEOUT = 30_000


class CountingWriter:
    """A response stream that counts the bytes written to it."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.count = 0

    def write(self, data: bytes) -> int:
        self.count += len(data)
        return self.stream.write(data)

    def flush(self) -> None:
        self.stream.flush()


class SiteServer(http.server.ThreadingHTTPServer):
    """A server that records the bytes it sent for each request."""

    def __init__(self, *arguments, **keywords) -> None:
        super().__init__(*arguments, **keywords)
        self.lock = threading.Lock()
        self.sent: list[tuple[str, int]] = []

    def record(self, path: str, count: int) -> None:
        with self.lock:
            self.sent.append((path, count))

    def take_sent(self) -> list[tuple[str, int]]:
        """Return what was sent since the last call, and forget it."""
        with self.lock:
            sent, self.sent = self.sent, []
        return sent


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Serve a built site under a path prefix, with gzip where the server
    is set to compress and the browser accepts it."""

    def __init__(self, *arguments, prefix: str, compress: bool, **keywords):
        self.prefix = prefix
        self.compress = compress
        super().__init__(*arguments, **keywords)

    def setup(self) -> None:
        super().setup()
        self.wfile = CountingWriter(self.wfile)

    def finish(self) -> None:
        counter = self.wfile
        self.wfile = counter.stream
        if counter.count:
            self.server.record(getattr(self, "path", ""), counter.count)
        super().finish()

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if not path.startswith(self.prefix):
            self.send_error(404)
            return
        local = Path(self.translate_path("/" + path[len(self.prefix) :]))
        if local.is_dir():
            local = local / "index.html"
        if not local.is_file():
            self.send_error(404)
            return
        body = local.read_bytes()
        accepts_gzip = "gzip" in self.headers.get("Accept-Encoding", "")
        compressed = (
            self.compress and accepts_gzip and local.suffix in COMPRESSED_SUFFIXES
        )
        if compressed:
            body = gzip.compress(body, compresslevel=6)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(local)))
        self.send_header("Content-Length", str(len(body)))
        if compressed:
            self.send_header("Content-Encoding", "gzip")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *arguments) -> None:
        log.debug("%s %s", self.address_string(), format % arguments)


@contextlib.contextmanager
def serve(folder: Path, prefix: str, compress: bool) -> Iterator[SiteServer]:
    """Serve ``folder`` on a free port of 127.0.0.1 until the block ends."""
    handler = functools.partial(
        SiteHandler, directory=str(folder), prefix=prefix, compress=compress
    )
    server = SiteServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def address_of(server: SiteServer, prefix: str) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}{prefix}"


def page_paths(site: Path) -> list[str]:
    """Return the address of each page of a built site, relative to its
    root: '' for the home page, 'hello-world/' for the others."""
    paths = []
    for index in sorted(site.rglob("index.html")):
        folder = index.parent.relative_to(site).as_posix()
        paths.append("" if folder == "." else f"{folder}/")
    return paths


def find_chromium() -> Path:
    """Return the browser that the browser tests drive (tests/browser/),
    installing Debian's Chromium where they would; raise MeasurementError
    where none can be had."""
    executable = chromium.find_or_install()
    if executable is None:
        raise MeasurementError(chromium.missing_message())
    return executable


def installed_chromium() -> Path:
    """Return the browser that find_chromium returns where one is
    installed, without installing one, for its version."""
    for path in (chromium.EXECUTABLE, *chromium.ALTERNATIVES):
        if path.exists():
            return path
    return chromium.EXECUTABLE


@dataclass
class PageWeight:
    """What the first views of one page transferred, one sample a view."""

    path: str
    compressed_bytes: list[int] = field(default_factory=list)
    uncompressed_bytes: list[int] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)
    third_party: set[str] = field(default_factory=set)

    def add(self, compressed: bool, transferred: int, requests: int, third_party):
        if compressed:
            self.compressed_bytes.append(transferred)
            self.requests.append(requests)
            self.third_party.update(third_party)
        else:
            self.uncompressed_bytes.append(transferred)


def weigh(browser, server: SiteServer, address: str) -> tuple[int, int, list[str]]:
    """Open a page in a new context and return the bytes that the server sent
    for it, the number of requests, and the URLs of the third-party ones."""
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT)
    third_party: list[str] = []
    requests: list[str] = []

    def is_local(url: str) -> bool:
        return urlsplit(url).hostname in (None, "127.0.0.1")

    def block(route) -> None:
        third_party.append(route.request.url)
        route.abort()

    context.route(lambda url: not is_local(url), block)
    context.on("request", lambda request: requests.append(request.url))
    server.take_sent()
    page = context.new_page()
    page.goto(address)
    page.wait_for_load_state("networkidle")
    context.close()
    transferred = sum(count for _, count in server.take_sent())
    # data: and blob: addresses load nothing over the network.
    network = [url for url in requests if urlsplit(url).scheme in ("http", "https")]
    return transferred, len(network), third_party


def measure(
    project: Path, site: Path, repetitions: int, figures: dict[str, Figure]
) -> list[PageWeight]:
    """Weigh every page of ``site`` into ``figures``: the home page and the
    page with the most bytes transferred with gzip."""
    from playwright.sync_api import sync_playwright

    executable = find_chromium()
    prefix = build.site_prefix(project)
    weights = [PageWeight(path) for path in page_paths(site)]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(executable), args=chromium.LAUNCH_ARGUMENTS
        )
        try:
            for _ in range(repetitions):
                for compressed in (True, False):
                    with serve(site, prefix, compressed) as server:
                        address = address_of(server, prefix)
                        for weight in weights:
                            result = weigh(browser, server, address + weight.path)
                            weight.add(compressed, *result)
        finally:
            browser.close()
    home = next(weight for weight in weights if weight.path == "")
    heaviest = max(
        weights, key=lambda weight: statistics.median(weight.compressed_bytes)
    )
    for name, weight in (("home", home), ("heaviest", heaviest)):
        kilobytes = [size / 1000 for size in weight.compressed_bytes]
        figures[f"{name}-bytes"].set_median(kilobytes)
        kilobytes = [size / 1000 for size in weight.uncompressed_bytes]
        figures[f"{name}-bytes-uncompressed"].set_median(kilobytes)
        figures[f"{name}-requests"].set_median(weight.requests)
        figures[f"{name}-third-party"].set_median([len(weight.third_party)])
    for key in ("bytes", "bytes-uncompressed", "requests", "third-party"):
        figures[f"heaviest-{key}"].note = f"page {heaviest.path or '(home)'}"
    return weights
