"""Serve a built site on 127.0.0.1, the way GitHub Pages serves it.

The site is served under the path of its site_url (/docker-tutorial/), so the
404 page, whose links start from that path, loads its styles and scripts. An
address with no file behind it gets 404.html with status 404.
"""

import contextlib
import functools
import http.server
import logging
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

log = logging.getLogger(__name__)


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Serve files of one folder under a path prefix, with GitHub Pages' 404."""

    def __init__(self, *arguments, prefix: str, **keywords) -> None:
        self.prefix = prefix
        super().__init__(*arguments, **keywords)

    def send_head(self):
        address = urlsplit(self.path)
        if not address.path.startswith(self.prefix):
            return self.send_not_found()
        inside = "/" + self.path[len(self.prefix) :]
        local = Path(self.translate_path(inside))
        if local.is_dir():
            if not (local / "index.html").is_file():
                return self.send_not_found()
            if not address.path.endswith("/"):
                self.send_response(301)
                self.send_header("Location", address.path + "/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
        elif not local.is_file():
            return self.send_not_found()
        self.path = inside
        return super().send_head()

    def send_not_found(self):
        page = Path(self.directory) / "404.html"
        body = page.read_bytes() if page.exists() else b"Not found"
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        return None

    def log_message(self, format: str, *arguments) -> None:
        log.debug("%s %s", self.address_string(), format % arguments)


class SiteServer(http.server.ThreadingHTTPServer):
    """The HTTP server, quiet about browsers that hang up mid-response, as
    they do when a test closes its page while a file is still being sent."""

    def handle_error(self, request, client_address) -> None:
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            log.debug(
                "%s closed the connection before the response ended", client_address
            )
            return
        super().handle_error(request, client_address)


@contextlib.contextmanager
def serve(folder: Path, prefix: str) -> Iterator[str]:
    """Serve ``folder`` under ``prefix`` on a free port of 127.0.0.1 until the
    block ends, and yield the site's address, such as
    http://127.0.0.1:41234/docker-tutorial/."""
    handler = functools.partial(SiteHandler, directory=str(folder), prefix=prefix)
    server = SiteServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(
        target=server.serve_forever, name="site-server", daemon=True
    )
    thread.start()
    host, port = server.server_address[:2]
    log.info("serving %s at http://%s:%d%s", folder, host, port, prefix)
    try:
        yield f"http://{host}:{port}{prefix}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
