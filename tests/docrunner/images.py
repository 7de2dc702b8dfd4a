"""Make sure the images that the pages use exist.

An image that is already present, and is not a stand-in, is used as it is.
Otherwise the runner pulls it. Where the pull fails because no registry can be
reached, it uses a stand-in instead: an image built on this machine from
Debian's packages, tagged with the same name, and labelled
``org.docker-tutorial.stand-in`` with a description of what it is. A stand-in
never replaces an image that a registry supplies: each run tries the pull
first, and a pulled image takes the tag back.

The stand-ins stay in the daemon's image store between runs, so they are built
once per machine (about a minute for the Python one, seconds for the others).
"""

import functools
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .daemon import DEBIAN_MIRROR, install_packages, require_tool
from .errors import SetupError

log = logging.getLogger(__name__)

STAND_IN_LABEL = "org.docker-tutorial.stand-in"
# Raise this when a recipe below changes, so that old stand-ins are rebuilt.
RECIPE_VERSION = "1"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
REGISTRY_CONFIG = """\
version: 0.1
log:
  fields:
    service: registry
storage:
  filesystem:
    rootdirectory: /var/lib/registry
  delete:
    enabled: true
http:
  addr: :5000
"""
# The official redis image's entry point passes options alone to
# redis-server, runs the server as the user redis, and turns protected mode
# off so that other containers can connect; any other command runs as given.
REDIS_ENTRYPOINT = """\
#!/bin/sh
set -e
if [ "${1#-}" != "$1" ]; then
    set -- redis-server "$@"
fi
if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
    find . \\! -user redis -exec chown redis:redis '{}' +
    exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi
if [ "$1" = redis-server ]; then
    set -- "$@" --protected-mode no
fi
exec "$@"
"""


@dataclass
class ImageNotice:
    """How the runner got one image, for the test report."""

    reference: str
    source: str  # "present", "pulled" or "stand-in"
    detail: str = ""


def inspect_label(reference: str) -> str | None:
    """Return the stand-in label of an image: '' for an image that is not a
    stand-in, or None when the image is not present."""
    result = subprocess.run(
        [
            "docker",
            "image",
            "inspect",
            "--format",
            f'{{{{index .Config.Labels "{STAND_IN_LABEL}"}}}}',
            reference,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode != 0:
        return None
    label = result.stdout.strip()
    return "" if label == "<no value>" else label


def pull(reference: str) -> str | None:
    """Pull an image and return None, or return the error when the pull fails."""
    log.info("pulling %s", reference)
    result = subprocess.run(
        ["docker", "pull", "--quiet", reference],
        capture_output=True,
        text=True,
        timeout=900,
    )
    return (
        None
        if result.returncode == 0
        else (result.stderr.strip() or result.stdout.strip())
    )


def ensure_image(reference: str) -> ImageNotice:
    """Make sure the image ``reference`` exists, pulling it or building its
    stand-in, and return how it was got."""
    label = inspect_label(reference)
    if label == "":
        return ImageNotice(reference, "present")
    error = pull(reference)
    if error is None:
        return ImageNotice(reference, "pulled")
    recipe = STAND_INS.get(reference)
    if recipe is None:
        raise SetupError(
            f"Image {reference} is not present and the pull failed: {error}"
        )
    log.info("pull of %s failed: %s", reference, first_line(error))
    if label is not None and label.endswith(f"(recipe {RECIPE_VERSION})"):
        return ImageNotice(reference, "stand-in", label)
    log.warning("building a stand-in for %s from Debian packages", reference)
    build_stand_in(reference, recipe)
    return ImageNotice(
        reference, "stand-in", f"{recipe.description} (built in this run)"
    )


def first_line(text: str) -> str:
    return text.splitlines()[0] if text else ""


@dataclass
class Recipe:
    """How to build the root file system of a stand-in, and how to run it."""

    description: str
    fill: Callable[[Path], None]
    changes: list[str]


def build_stand_in(reference: str, recipe: Recipe) -> None:
    label = f"{recipe.description} (recipe {RECIPE_VERSION})"
    changes = [*recipe.changes, f'LABEL {STAND_IN_LABEL}="{label}"']
    with tempfile.TemporaryDirectory(
        prefix="docrunner-stand-in-", dir="/var/tmp"
    ) as folder:
        root = Path(folder) / "root"
        root.mkdir()
        recipe.fill(root)
        command = ["docker", "import"]
        for change in changes:
            command += ["--change", change]
        tar = subprocess.Popen(
            ["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE
        )
        result = subprocess.run(
            [*command, "-", reference], stdin=tar.stdout, capture_output=True, text=True
        )
        tar.stdout.close()
        tar.wait()
        if result.returncode != 0 or tar.returncode != 0:
            raise SetupError(
                f"docker import of the {reference} stand-in failed: "
                f"{result.stderr.strip()}"
            )
    log.info("built stand-in image %s: %s", reference, recipe.description)


def fill_busybox(root: Path) -> None:
    """Lay out a tiny userland: Debian's static busybox and its applets."""
    require_tool("busybox", "busybox-static")
    busybox = shutil.which("busybox")
    for folder in ("bin", "etc", "tmp", "root", "proc", "sys", "dev", "var/lib"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "tmp").chmod(0o1777)
    shutil.copy2(busybox, root / "bin/busybox")
    applets = subprocess.run(
        [busybox, "--list"], capture_output=True, text=True, check=True
    ).stdout.split()
    for applet in applets:
        link = root / "bin" / applet
        if not link.exists():
            link.symlink_to("busybox")
    (root / "etc/passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"
    )
    (root / "etc/group").write_text("root:x:0:\nnogroup:x:65534:\n")


def fill_registry(root: Path) -> None:
    """Busybox plus Debian's build of the distribution registry and its
    libraries, laid out like the official image."""
    fill_busybox(root)
    with tempfile.TemporaryDirectory(prefix="docrunner-deb-") as folder:
        install_packages("ca-certificates")  # reads the package lists once
        download = subprocess.run(
            [
                "apt-get",
                "-q",
                "-oAPT::Sandbox::User=root",
                "download",
                "docker-registry",
            ],
            cwd=folder,
            capture_output=True,
            text=True,
        )
        if download.returncode != 0:
            raise SetupError(
                "Command 'apt-get download docker-registry' failed: "
                f"{download.stderr.strip()}"
            )
        package = next(Path(folder).glob("docker-registry_*.deb"))
        subprocess.run(
            ["dpkg-deb", "-x", str(package), f"{folder}/unpacked"], check=True
        )
        binary = Path(folder) / "unpacked/usr/bin/docker-registry"
        shutil.copy2(binary, root / "bin/registry")
        copy_libraries(binary, root)
    (root / "etc/docker/registry").mkdir(parents=True)
    (root / "etc/docker/registry/config.yml").write_text(REGISTRY_CONFIG)
    (root / "var/lib/registry").mkdir(parents=True)


def copy_libraries(binary: Path, root: Path) -> None:
    """Copy the shared libraries that ``binary`` loads, at the same paths."""
    output = subprocess.run(
        ["ldd", str(binary)], capture_output=True, text=True, check=True
    ).stdout
    for line in output.splitlines():
        path = line.split("=>")[-1].split("(")[0].strip()
        if path.startswith("/"):
            target = root / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(os.path.realpath(path), target)


def debootstrap_trixie(root: Path, packages: list[str], reference: str) -> None:
    """Install a minimal Debian 13 (``debootstrap --variant=minbase``) with
    ``packages`` into ``root``. debootstrap starts no service of a package
    that it installs (it puts a policy-rc.d that denies it in place)."""
    require_tool("debootstrap", "debootstrap")
    log.info("running debootstrap for the %s stand-in (about a minute)", reference)
    result = subprocess.run(
        [
            "debootstrap",
            "--variant=minbase",
            f"--include={','.join(packages)}",
            "trixie",
            str(root),
            DEBIAN_MIRROR,
        ],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if result.returncode != 0:
        raise SetupError(
            f"debootstrap of Debian 13 failed: {result.stdout.strip()[-2000:]}"
        )


def remove_clutter(root: Path) -> None:
    """Remove documentation, translations and apt's caches and lists."""
    for clutter in (
        "usr/share/doc",
        "usr/share/man",
        "usr/share/locale",
        "var/cache/apt",
        "var/lib/apt/lists",
    ):
        shutil.rmtree(root / clutter, ignore_errors=True)


def fill_python(
    root: Path, reference: str, extra_packages: tuple[str, ...] = ()
) -> None:
    """A minimal Debian 13 with its Python 3.13 and pip, set up like the
    official python image: ``python`` and ``pip`` on the PATH, and pip free to
    install into the system. It trusts this machine's CA bundle, so that pip
    reaches PyPI where TLS is intercepted. ``extra_packages`` are installed
    too, such as the compilers of the full (not slim) image."""
    packages = ["python3", "python3-pip", "ca-certificates", *extra_packages]
    debootstrap_trixie(root, packages, reference)
    for marker in root.glob("usr/lib/python3*/EXTERNALLY-MANAGED"):
        marker.unlink()
    (root / "usr/local/bin/python").symlink_to("/usr/bin/python3")
    (root / "usr/local/bin/pip").symlink_to("/usr/bin/pip3")
    if HOST_CA_BUNDLE.exists():
        shutil.copy2(HOST_CA_BUNDLE, root / HOST_CA_BUNDLE.relative_to("/"))
    remove_clutter(root)


def fill_redis(root: Path) -> None:
    """A minimal Debian 13 with its redis-server and redis-cli, and an entry
    point that starts the server as the official redis image does."""
    debootstrap_trixie(root, ["redis-server"], "redis:8")
    entrypoint = root / "usr/local/bin/docker-entrypoint.sh"
    entrypoint.write_text(REDIS_ENTRYPOINT)
    entrypoint.chmod(0o755)
    data = root / "data"
    data.mkdir()
    owner = user_ids(root, "redis")
    os.chown(data, *owner)
    remove_clutter(root)


def user_ids(root: Path, name: str) -> tuple[int, int]:
    """Return the user and group ID of user ``name`` in ``root``/etc/passwd."""
    for line in (root / "etc/passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == name:
            return int(fields[2]), int(fields[3])
    raise SetupError(f"the {name} user is missing from {root}/etc/passwd")


PYTHON_CHANGES = [
    'CMD ["python3"]',
    "ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
]

STAND_INS = {
    "alpine:latest": Recipe(
        "stand-in for alpine: Debian's busybox-static, built because no registry "
        "answered",
        fill_busybox,
        [
            'CMD ["/bin/sh"]',
            "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        ],
    ),
    "python:3.13-slim": Recipe(
        "stand-in for python:3.13-slim: Debian 13 minbase with python3 and pip, "
        "built because no registry answered",
        functools.partial(fill_python, reference="python:3.13-slim"),
        PYTHON_CHANGES,
    ),
    "python:3.13": Recipe(
        "stand-in for python:3.13: Debian 13 minbase with python3, pip, the C compiler "
        "and Python's headers, built because no registry answered",
        functools.partial(
            fill_python,
            reference="python:3.13",
            extra_packages=("build-essential", "python3-dev"),
        ),
        PYTHON_CHANGES,
    ),
    "registry:3": Recipe(
        "stand-in for registry:3: Debian's docker-registry 2.8 on busybox, built "
        "because no registry answered",
        fill_registry,
        [
            'ENTRYPOINT ["/bin/registry"]',
            'CMD ["serve", "/etc/docker/registry/config.yml"]',
            "EXPOSE 5000",
        ],
    ),
    "redis:8": Recipe(
        "stand-in for redis:8: Debian 13 minbase with redis-server 8.0, built "
        "because no registry answered",
        fill_redis,
        [
            'ENTRYPOINT ["docker-entrypoint.sh"]',
            'CMD ["redis-server"]',
            "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "WORKDIR /data",
            "VOLUME /data",
            "EXPOSE 6379",
        ],
    ),
}


def ensure_images(references: list[str]) -> list[ImageNotice]:
    """Make sure every image in ``references`` exists; return how each was got."""
    return [ensure_image(reference) for reference in references]
