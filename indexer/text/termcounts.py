"""How often each term occurs in each passage, kept beside the keyword index so the next version is derived.

A build where one article changed takes the previous version's counts, drops the rows of the passages that
went, appends those of the new passages, and scores the result (`bm25_matrix`), instead of counting every
passage's terms again. The arithmetic is bm25s's own ("lucene" BM25, float32 scores), step for step, so the
matrix is the one bm25s would build from the same terms (tests/test_termcounts.py checks that).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import numpy as np

# bm25s needs at least one term per document; an empty passage gets this placeholder nobody searches.
EMPTY_PLACEHOLDER = "\x00"
_FILES = {"indptr": "counts.indptr.npy", "terms": "counts.terms.npy", "tf": "counts.tf.npy"}
_VOCABULARY_FILE = "counts.vocabulary.json"


class TermCounts:
    """Per passage (row), the ids of its distinct terms and how often each occurs, as CSR arrays."""

    def __init__(self, vocabulary: list[str], indptr: np.ndarray, terms: np.ndarray, tf: np.ndarray):
        self.vocabulary = vocabulary
        self.indptr = np.asarray(indptr, dtype=np.int64)
        self.terms = np.asarray(terms, dtype=np.int32)
        self.tf = np.asarray(tf, dtype=np.int32)

    @property
    def rows(self) -> int:
        """How many passages are counted."""
        return len(self.indptr) - 1

    @classmethod
    def from_documents(cls, documents: list[list[str]]) -> TermCounts:
        """Count the terms of every passage, one list of terms per passage."""
        return cls([], np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int32)).derive([documents])

    def derive(self, parts: list) -> TermCounts:
        """New counts from `parts` in order: an array of this object's row numbers (passages kept as they are),
        or a list of term lists (new passages). Terms no passage holds any more leave the vocabulary."""
        ids = {term: number for number, term in enumerate(self.vocabulary)}
        vocabulary = list(self.vocabulary)
        lengths, term_blocks, tf_blocks = [], [], []
        for part in parts:
            if isinstance(part, np.ndarray):
                rows = part.astype(np.int64)
                starts, ends = self.indptr[rows], self.indptr[rows + 1]
                counts = ends - starts
                # Positions of every entry of the kept rows, in row order, without a Python loop.
                offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
                positions = offsets + np.arange(int(counts.sum()), dtype=np.int64)
                lengths.append(counts)
                term_blocks.append(self.terms[positions])
                tf_blocks.append(self.tf[positions])
                continue
            for document in part:
                counter = Counter(document or [EMPTY_PLACEHOLDER])
                row_terms = []
                for term in counter:
                    number = ids.get(term)
                    if number is None:
                        number = ids[term] = len(vocabulary)
                        vocabulary.append(term)
                    row_terms.append(number)
                lengths.append(np.array([len(counter)], dtype=np.int64))
                term_blocks.append(np.array(row_terms, dtype=np.int32))
                tf_blocks.append(np.fromiter(counter.values(), dtype=np.int32, count=len(counter)))
        indptr = np.zeros(1 + sum(len(block) for block in lengths), dtype=np.int64)
        if lengths:
            np.cumsum(np.concatenate(lengths), out=indptr[1:])
        terms = np.concatenate(term_blocks) if term_blocks else np.zeros(0, np.int32)
        tf = np.concatenate(tf_blocks) if tf_blocks else np.zeros(0, np.int32)
        return _compacted(vocabulary, indptr, terms, tf)

    def document_frequencies(self) -> np.ndarray:
        """How many passages hold each term of the vocabulary."""
        return np.bincount(self.terms, minlength=len(self.vocabulary))

    def save(self, directory: Path) -> None:
        """Write the counts as .npy arrays and the vocabulary as JSON (no pickle)."""
        directory = Path(directory)
        for name, file in _FILES.items():
            np.save(directory / file, getattr(self, name), allow_pickle=False)
        (directory / _VOCABULARY_FILE).write_text(json.dumps(self.vocabulary, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> TermCounts | None:
        """Counts written by `save`, or None for a version built before counts were kept."""
        directory = Path(directory)
        if not (directory / _VOCABULARY_FILE).is_file():
            return None
        arrays = {name: np.load(directory / file, allow_pickle=False) for name, file in _FILES.items()}
        vocabulary = json.loads((directory / _VOCABULARY_FILE).read_text(encoding="utf-8"))
        counts = cls(vocabulary, **arrays)
        if counts.indptr[-1] != len(counts.terms) or len(counts.terms) != len(counts.tf) or \
                (len(counts.terms) and int(counts.terms.max()) >= len(vocabulary)):
            raise ValueError("term counts do not agree with each other")
        return counts


def _compacted(vocabulary: list[str], indptr: np.ndarray, terms: np.ndarray, tf: np.ndarray) -> TermCounts:
    """The same counts without the vocabulary entries no passage holds, terms renumbered to match."""
    held = np.bincount(terms, minlength=len(vocabulary)) > 0
    if held.all():
        return TermCounts(vocabulary, indptr, terms, tf)
    renumber = np.cumsum(held, dtype=np.int64) - 1
    kept = [term for term, keep in zip(vocabulary, held.tolist(), strict=True) if keep]
    return TermCounts(kept, indptr, renumber[terms].astype(np.int32), tf)


def bm25_matrix(counts: TermCounts, k1: float, b: float) -> dict:
    """The BM25 score of every (passage, term) pair as bm25s stores it: a CSC matrix over terms, float32.

    Computed as bm25s's "lucene" method does: idf log(1 + (N - df + 0.5) / (df + 0.5)) in double precision
    kept as float32, the term-frequency part tf / (k1 (1 - b + b dl / avgdl) + tf) in double precision, their
    product rounded to float32.
    """
    rows = counts.rows
    lengths = np.diff(counts.indptr)
    doc_lengths = np.add.reduceat(counts.tf.astype(np.int64), counts.indptr[:-1]) if len(counts.tf) else \
        np.zeros(rows, np.int64)
    doc_lengths = np.where(lengths > 0, doc_lengths, 0)
    average_length = np.asarray(doc_lengths, dtype=np.int64).mean() if rows else 1.0
    frequencies = counts.document_frequencies()
    distinct, which = np.unique(frequencies, return_inverse=True)
    idf = np.array([math.log(1 + (rows - df + 0.5) / (df + 0.5)) if df else 0.0 for df in distinct.tolist()],
                   dtype=np.float32)[which]
    entry_lengths = np.repeat(doc_lengths, lengths).astype(np.float64)
    tf = counts.tf.astype(np.float32).astype(np.float64)
    tfc = tf / (k1 * ((1 - b) + b * entry_lengths / average_length) + tf)
    scores = (idf[counts.terms].astype(np.float64) * tfc).astype(np.float32)
    doc_ids = np.repeat(np.arange(rows, dtype=np.int32), lengths)
    order = np.argsort((counts.terms.astype(np.int64) << 32) | doc_ids.astype(np.int64))
    indptr = np.zeros(len(counts.vocabulary) + 1, dtype=np.int64)
    np.cumsum(frequencies, out=indptr[1:])
    return {"data": scores[order], "indices": doc_ids[order], "indptr": indptr, "num_docs": rows}
