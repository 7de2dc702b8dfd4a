"""Find Debian's Chromium for Playwright, installing it where allowed.

Playwright's own browser download (`playwright install`) is not used: the
tests drive the distribution's Chromium at /usr/bin/chromium. Where it is
missing and the tests run as root on Debian or a system derived from it, the
package is installed with apt-get, the way tests/docrunner/daemon.py installs
Docker. Anywhere else the browser tests are skipped with the command that
installs it, except on GitHub Actions, where a missing browser fails them.
"""

import logging
import os
from pathlib import Path

from docrunner.daemon import can_install, install_packages

log = logging.getLogger(__name__)

EXECUTABLE = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# Where Debian's Chromium is missing, a Chrome or Chromium that is already
# installed serves as well: GitHub's Ubuntu runners have Google Chrome.
ALTERNATIVES = (Path("/usr/bin/google-chrome"), Path("/usr/bin/chromium-browser"))
# fonts-liberation gives the pages' system font stack a sans-serif and a
# monospace font to render with, so that screenshots show readable text.
PACKAGES = ("chromium", "fonts-liberation")
HOW_TO_INSTALL = (
    "Chromium not found at {path}: install it (`sudo apt-get install chromium` "
    "on Debian or Ubuntu) or set CHROMIUM to the path of a Chromium or Chrome "
    "executable, and run the tests again. As root on Debian the tests install "
    "it themselves."
)

LAUNCH_ARGUMENTS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    # Resolve no host name at all: the site is served on 127.0.0.1, and a
    # request to any other host must fail here instead of leaving the machine.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]


def find_or_install() -> Path | None:
    """Return the Chromium executable, installing Debian's package if it is
    missing and this machine allows it; None when it cannot be had."""
    if EXECUTABLE.exists():
        return EXECUTABLE
    if not can_install():
        found = [path for path in ALTERNATIVES if path.exists()]
        return found[0] if found and "CHROMIUM" not in os.environ else None
    log.info(
        "Chromium not found at %s: installing Debian's %s",
        EXECUTABLE,
        " and ".join(PACKAGES),
    )
    install_packages(*PACKAGES)
    return EXECUTABLE if EXECUTABLE.exists() else None


def missing_message() -> str:
    return HOW_TO_INSTALL.format(path=EXECUTABLE)
