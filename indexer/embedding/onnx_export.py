"""The same embedding model run through onnxruntime: no torch at run time, about three times faster.

`export_onnx` turns a sentence-transformers model (a BERT-like encoder with mean pooling, such as the
bundled all-MiniLM-L6-v2) into one ONNX graph that also pools and normalizes, and writes it beside the
model's tokenizer. `OnnxEmbedder` loads that folder with onnxruntime and tokenizers only; its vectors
match the torch model's to about 1e-7.
"""

from __future__ import annotations

import json
import os
import re
import threading
import warnings
from pathlib import Path

import numpy as np

from .protocol import PrefixedEncoder

EXPORT_FORMAT = 2


def export_dir(cache_dir: Path, model_name: str) -> Path:
    """Where the ONNX export of `model_name` lives in a cache folder."""
    slug = re.sub(r"[^\w.-]+", "_", model_name).strip("_")[:100] or "model"
    return Path(cache_dir) / slug


def export_onnx(model_name: str, target: Path) -> Path:
    """Export `model_name` (name or path) to `target`; needs torch and sentence-transformers, once."""
    import torch

    from .sentence_transformer import load_sentence_transformer, model_prefixes

    model = load_sentence_transformer(model_name)
    encoder = model[0].auto_model.eval()

    class Pooled(torch.nn.Module):
        """The encoder with sentence-transformers' mean pooling and normalization folded in."""

        def __init__(self):
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=1)

    target = Path(target)
    # A folder of this process's own: two workers exporting at once never write into the same files.
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    partial.mkdir(parents=True, exist_ok=True)
    sample = model.tokenizer(["a sample", "another, longer sample sentence"], padding=True, return_tensors="pt")
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
            "token_type_ids": {0: "batch", 1: "tokens"}, "embedding": {0: "batch"}}
    # The tracer warns about shape-dependent branches in the attention mask code; for an encoder they are
    # constant, and the export is checked against the torch model's vectors (tests/test_minilm.py).
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Pooled().eval(),
            (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"]),
            str(partial / "model.onnx"),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["embedding"], dynamic_axes=axes, opset_version=17, dynamo=False,
        )
    model.tokenizer.backend_tokenizer.save(str(partial / "tokenizer.json"))
    getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    (partial / "export.json").write_text(json.dumps({
        "format": EXPORT_FORMAT, "model": model_name, "dimension": int(getter()),
        "max_seq_length": int(model.max_seq_length),
        "prefixes": dict(zip(("query", "passage"), model_prefixes(model), strict=True)),
    }, indent=2), encoding="utf-8")
    import shutil

    if (target / "export.json").exists():
        shutil.rmtree(partial)  # another process finished the same export first
        return target
    shutil.rmtree(target, ignore_errors=True)
    os.replace(partial, target)
    return target


class OnnxEmbedder(PrefixedEncoder):
    """The Embedder interface over an exported folder: normalized vectors and the model's token counts."""

    def __init__(self, name: str, folder: Path, batch_size: int = 32):
        self.name = name
        self.folder = Path(folder)
        self.batch_size = batch_size
        self._session = None
        self._tokenizer = None
        self._counter = None
        self._lock = threading.Lock()
        info = json.loads((self.folder / "export.json").read_text(encoding="utf-8"))
        self.dimension = int(info["dimension"])
        self.max_seq_length = int(info["max_seq_length"])
        prefixes = info.get("prefixes", {})
        self.query_prefix, self.passage_prefix = prefixes.get("query", ""), prefixes.get("passage", "")

    def _load(self):
        if self._session is None:
            with self._lock:
                if self._session is None:
                    import onnxruntime
                    from tokenizers import Tokenizer

                    options = onnxruntime.SessionOptions()
                    threads = int(os.environ.get("OMP_NUM_THREADS", "0") or 0)
                    options.intra_op_num_threads = threads
                    tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
                    tokenizer.enable_truncation(self.max_seq_length)
                    tokenizer.no_padding()
                    # Counting must see the whole text: chunking relies on it to stay within the limit.
                    counter = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
                    counter.no_truncation()
                    counter.no_padding()
                    self._tokenizer, self._counter = tokenizer, counter
                    self._session = onnxruntime.InferenceSession(
                        str(self.folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
                    )
        return self._session, self._tokenizer

    @property
    def model(self):
        """Loads the session now (for callers that warm the model up)."""
        return self._load()[0]

    def count_tokens(self, text: str) -> int:
        """Word pieces in `text`, without special tokens, as the model's tokenizer counts them."""
        self._load()
        return len(self._counter.encode(text, add_special_tokens=False).ids)


    def _encode(self, texts: list[str], progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        session, tokenizer = self._load()
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        batches = range(0, len(texts), self.batch_size)
        if progress:
            from ..progress import track

            # Batches go shortest texts first, so each one's characters tell the time left, not its texts.
            batches = track(list(batches), "Embedding", [len(order[start: start + self.batch_size])
                                                         for start in batches],
                            costs=[sum(len(texts[i]) for i in order[start: start + self.batch_size])
                                   for start in batches])
        for start in batches:
            chosen = order[start: start + self.batch_size]
            encodings = tokenizer.encode_batch([texts[i] for i in chosen])
            width = max(len(e.ids) for e in encodings)
            feed = {name: np.zeros((len(chosen), width), dtype=np.int64)
                    for name in ("input_ids", "attention_mask", "token_type_ids")}
            for row, encoding in enumerate(encodings):
                size = len(encoding.ids)
                feed["input_ids"][row, :size] = encoding.ids
                feed["attention_mask"][row, :size] = encoding.attention_mask
                feed["token_type_ids"][row, :size] = encoding.type_ids
            vectors[chosen] = session.run(None, feed)[0]
        return vectors
