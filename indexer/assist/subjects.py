"""What a customer can be talking about: the products (or places, or entities) the KB's articles name.

The vocabulary is built from the live index: every product code in the articles' front matter, with the
synonyms editors keep for it (`AU55-Q4: [Aura 55, Aura-TV]`). A name is found in text by its words, so
"the Aura 55", "aura-55" and "AURA 55" are all AU55-Q4. Words many names share ("hotel", "restaurant",
"san francisco") count little, so "the grant hotel" finds "GRANT HOTEL" and not every other hotel; a name
written as one word or two ("dragoneats", "dragon eats") is the same name.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass

from ..lexical import fold

_WORD = re.compile(r"[0-9a-zæøå]+")
# A name counts as mentioned when this share of its weight (its rarer words weigh more) is in the text:
# "the taco shop at underdogs" names "UNDERDOGS TOO" and "dragon eats" names "DRAGONEATS SOMA" (a district
# added to the name); DSTC10's conversations name their places like this (bench/assist_quality.py).
MIN_MENTION_SHARE = 0.5
MAX_ALIASES_PER_SUBJECT = 20


def words(text: str) -> list[str]:
    """Folded words of a name or a text, letters and digits apart: "AU55-Q4" is au55, q4."""
    return _WORD.findall(fold(text).lower())


@dataclass(frozen=True)
class Mention:
    """A subject found in a text: its name as the KB writes it, and how fully it was named (0-1)."""

    subject: str
    share: float


class Subjects:
    """The KB's subjects and their aliases, matched by weighted words."""

    def __init__(self, aliases: dict[str, list[str]]):
        self._aliases: list[tuple[str, list[str]]] = []
        for subject, names in aliases.items():
            for name in dict.fromkeys([subject, *names[:MAX_ALIASES_PER_SUBJECT]]):
                tokens = list(dict.fromkeys(words(name)))
                if tokens:
                    self._aliases.append((subject, tokens))
        document_frequency: dict[str, int] = defaultdict(int)
        for _, tokens in self._aliases:
            for token in tokens:
                document_frequency[token] += 1
        total = max(1, len(self._aliases))
        self._weight = {token: math.log(1 + total / count) for token, count in document_frequency.items()}
        self._by_token: dict[str, list[int]] = defaultdict(list)
        for index, (_, tokens) in enumerate(self._aliases):
            for token in tokens:
                self._by_token[token].append(index)

    def __bool__(self) -> bool:
        return bool(self._aliases)

    @classmethod
    def of_version(cls, version) -> Subjects:
        """The products of an index version with their synonyms from the KB."""
        products = version.facets().get("product", [])
        folded = {" ".join(words(product)): product for product in products}
        aliases: dict[str, list[str]] = {product: [] for product in products}
        for group in version.synonyms.groups:
            named = [folded[key] for key in (" ".join(words(member)) for member in group) if key in folded]
            for product in named:
                aliases[product].extend(member for member in group if member != product)
        return cls(aliases)

    def mentions(self, text: str) -> list[Mention]:
        """Subjects named in `text`, best named first."""
        tokens = words(text)
        present = set(tokens) | {a + b for a, b in zip(tokens, tokens[1:], strict=False)}
        best: dict[str, float] = {}
        candidates = {index for token in present for index in self._by_token.get(token, ())}
        for index in candidates:
            subject, alias_tokens = self._aliases[index]
            total = sum(self._weight[token] for token in alias_tokens)
            share = sum(self._weight[token] for token in alias_tokens if token in present) / total
            if share >= MIN_MENTION_SHARE and share > best.get(subject, 0.0):
                best[subject] = share
        return [Mention(subject, round(share, 4)) for subject, share in
                sorted(best.items(), key=lambda item: (-item[1], item[0]))]

    def best(self, text: str) -> str | None:
        """The subject `text` names most fully, or None."""
        found = self.mentions(text)
        return found[0].subject if found else None
