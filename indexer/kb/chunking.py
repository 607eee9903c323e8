"""Cut an article's sections into passages that fit the embedding model's input, keeping lists together."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass

from .markup import Block, Section

HEADING_SEPARATOR = " > "
# Where packing stops adding blocks to a passage: about one topic, whatever the model's limit.
TARGET_TOKENS = 160
_SENTENCE_END = re.compile(r"(?<=[.!?:;])\s+(?=[\"'(«A-ZÆØÅ0-9])|\n+")


@dataclass(frozen=True)
class ChunkSettings:
    """How long passages may be, in the model's word pieces.

    `max_tokens` is a hard bound below the model's input limit (the model cuts off the rest silently);
    `target_tokens` is where packing stops adding blocks, so a passage stays about one topic.
    """

    max_tokens: int = 254
    target_tokens: int = 160

    def as_dict(self) -> dict:
        """For the manifest: a change here means every passage must be rebuilt."""
        return asdict(self)

    @classmethod
    def for_limit(cls, token_limit: int) -> ChunkSettings:
        """Bounds derived from the pieces the model reads of a passage (its limit less prefix and specials)."""
        limit = max(32, token_limit)
        return cls(max_tokens=limit, target_tokens=min(TARGET_TOKENS, limit * 2 // 3))


@dataclass
class Passage:
    """One searchable piece of an article."""

    heading_path: list[str]
    anchor: str
    text: str
    token_count: int

    @property
    def embed_text(self) -> str:
        """What the model reads: the heading path gives a short passage its context."""
        return passage_embed_text(self.heading_path, self.text)


def passage_embed_text(heading_path: list[str], text: str) -> str:
    """The heading path and the passage text, as the model reads them."""
    return HEADING_SEPARATOR.join(heading_path) + "\n" + text


def chunk_sections(
    sections: list[Section], count_tokens: Callable[[str], int], settings: ChunkSettings
) -> list[Passage]:
    """Passages for every section, in article order, each within `settings.max_tokens` with its heading."""
    passages: list[Passage] = []
    for section in sections:
        header_tokens = count_tokens(HEADING_SEPARATOR.join(section.heading_path) + "\n")
        budget = max(16, settings.max_tokens - header_tokens)
        target = min(budget, settings.target_tokens)
        units = [unit for block in section.blocks for unit in _units(block, count_tokens, budget)]
        for text in _pack(units, target, budget):
            passage = Passage(section.heading_path, section.anchor, text, 0)
            passage.token_count = count_tokens(passage.embed_text)
            passages.extend(_enforce_bound(passage, count_tokens, settings.max_tokens))
    return passages


def _units(block: Block, count_tokens: Callable[[str], int], budget: int) -> list[tuple[str, int]]:
    """A block as one unit when it fits, else its items (a table's header row repeated), else sentences."""
    tokens = count_tokens(block.text)
    if tokens <= budget:
        return [(block.text, tokens)]
    if block.items:
        units = []
        lead = block.lead
        lead_tokens = count_tokens(lead) if lead else 0
        group: list[str] = []
        group_tokens = lead_tokens
        for item in block.items:
            item_tokens = count_tokens(item)
            if group and group_tokens + item_tokens > budget:
                units.append(("\n".join(([lead] if lead else []) + group), group_tokens))
                group, group_tokens = [], lead_tokens
            if item_tokens + lead_tokens > budget:
                units.extend(_split_text(item, count_tokens, budget))
                continue
            group.append(item)
            group_tokens += item_tokens
        if group:
            units.append(("\n".join(([lead] if lead else []) + group), group_tokens))
        return units
    return _split_text(block.text, count_tokens, budget)


def _split_text(text: str, count_tokens: Callable[[str], int], budget: int) -> list[tuple[str, int]]:
    """Sentences packed up to the budget; a sentence longer than the budget is cut between words."""
    pieces: list[tuple[str, int]] = []
    for sentence in filter(None, (s.strip() for s in _SENTENCE_END.split(text))):
        tokens = count_tokens(sentence)
        if tokens <= budget:
            pieces.append((sentence, tokens))
        else:
            pieces.extend(_split_words(sentence, count_tokens, budget))
    return [(text, tokens) for text, tokens in _pack_units(pieces, budget, budget, " ")]


def _split_words(text: str, count_tokens: Callable[[str], int], budget: int) -> list[tuple[str, int]]:
    words = text.split()
    pieces, current = [], []
    for word in words:
        candidate = current + [word]
        if current and count_tokens(" ".join(candidate)) > budget:
            pieces.append(" ".join(current))
            current = [word]
        else:
            current = candidate
    if current:
        pieces.append(" ".join(current))
    return [(piece, count_tokens(piece)) for piece in pieces]


def _pack(units: list[tuple[str, int]], target: int, budget: int) -> list[str]:
    return [text for text, _ in _pack_units(units, target, budget, "\n")]


def _pack_units(units: list[tuple[str, int]], target: int, budget: int, joiner: str) -> list[tuple[str, int]]:
    """Greedy packing: fill to the target; a short passage may take one more unit up to the hard budget."""
    packed: list[tuple[str, int]] = []
    current: list[str] = []
    current_tokens = 0
    for text, tokens in units:
        fits_target = current_tokens + tokens <= target
        too_short = current_tokens < target // 3 and current_tokens + tokens <= budget
        if current and not (fits_target or too_short):
            packed.append((joiner.join(current), current_tokens))
            current, current_tokens = [], 0
        current.append(text)
        # One per joint: joining can add a word piece where two units meet.
        current_tokens += tokens + 1
    if current:
        packed.append((joiner.join(current), current_tokens))
    return packed


def _enforce_bound(passage: Passage, count_tokens: Callable[[str], int], max_tokens: int) -> list[Passage]:
    """The exact count decides: split again in the rare case joining pushed a passage over the limit."""
    if passage.token_count <= max_tokens:
        return [passage]
    header_tokens = count_tokens(HEADING_SEPARATOR.join(passage.heading_path) + "\n")
    budget = max(8, max_tokens - header_tokens - 8)
    result = []
    for text, _ in _split_text(passage.text, count_tokens, budget):
        piece = Passage(passage.heading_path, passage.anchor, text, 0)
        piece.token_count = count_tokens(piece.embed_text)
        result.append(piece)
    return result
