"""Files with personal data: DATA_DIR 0700, everything in it 0600.

Question texts, the salt and the vector cache are personal data or lead to it. The
bot creates them readable by its own user only and tightens what it finds looser
(a volume created 0755 by Docker, a file restored from a backup as 0644). It never
loosens: a database an admin made read-only stays read-only.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) as 0700, or take group and other access away."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _tighten(path)
    return path


def private_file(path: Path) -> None:
    """Take group and other access away from an existing file (never adds access)."""
    _tighten(path)


def create_private(path: Path) -> None:
    """Create ``path`` empty as 0600 if it does not exist (before SQLite opens it)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))


def write_private(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write ``data`` to ``path`` atomically, as 0600: readers never see half a file.

    ``durable`` also waits for the disk (fsync), for files worth keeping after a crash."""
    private_dir(path.parent)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as handle:  # mkstemp creates 0600
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _tighten(path: Path) -> None:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            os.chmod(path, mode & 0o700)
    except FileNotFoundError:
        return
    except OSError as exc:  # e.g. a volume owned by another user: say so, go on
        logger.warning("Cannot restrict access to %s: %s", path, exc)
