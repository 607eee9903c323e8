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

from bm25s.stopwords import STOPWORDS_EN_PLUS, STOPWORDS_NORWEGIAN

from ..text.lexical import ANALYZER, fold
from ..vocabulary import LANGUAGES

_WORD = re.compile(r"[0-9a-zæøå]+")
# A name counts as mentioned when its rarest word is in the text and this share of its weight (its rarer
# words weigh more) is too:
# "the taco shop at underdogs" names "UNDERDOGS TOO" and "dragon eats" names "DRAGONEATS SOMA" (a district
# added to the name); DSTC10's conversations name their places like this (bench/assist_quality.py).
MIN_MENTION_SHARE = 0.5
MAX_ALIASES_PER_SUBJECT = 20
# Words that name nothing on their own: small words, and numbers as they are spoken (a phone call spells out
# zip codes and phone numbers, so "two" is said all the time, and "Restaurant Two Two" is not named by it).
_NUMBER_WORDS = frozenset({
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty", "thirty",
    "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "hundred", "thousand", "null", "en", "ett", "to",
    "tre", "fire", "fem", "seks", "sju", "syv", "åtte", "ni", "ti",
})
GENERIC_WORDS = frozenset(STOPWORDS_EN_PLUS) | frozenset(STOPWORDS_NORWEGIAN) | _NUMBER_WORDS
# A word in more than this share of the KB's passages is common in it ("restaurant", "hotel", "good" in a KB
# of restaurant and hotel FAQs) and does not name one subject: "RESTAURANT ONE SEVEN" is not named by
# "restaurant". Measured on DSTC10's 12,039 snippets (bench/assist_quality.py).
COMMON_SHARE = 0.05


def words(text: str) -> list[str]:
    """Folded words of a name or a text, letters and digits apart: "AU55-Q4" is au55, q4."""
    return _WORD.findall(fold(text).lower())


@dataclass(frozen=True)
class Mention:
    """A subject found in a text: its name as the KB writes it, and how fully it was named (0-1)."""

    subject: str
    share: float
    # How much the words said weigh (their rarity in the KB, summed): a full, rare name outweighs a stray word.
    weight: float = 0.0


class Subjects:
    """The KB's subjects and their aliases, matched by weighted words."""

    def __init__(self, aliases: dict[str, list[str]], common=frozenset(), weights: dict[str, float] | None = None):
        """`aliases`: each subject's other names; `common`: words too frequent in the KB to name a subject;
        `weights`: how rare each word is in the KB (by default, how rare it is among the names)."""
        self._aliases: list[tuple[str, list[str]]] = []
        # Names made of common words only must be said as they are written: "km 700", not "700 ... km".
        self._phrases: set[int] = set()
        for subject, names in aliases.items():
            for name in dict.fromkeys([subject, *names[:MAX_ALIASES_PER_SUBJECT]]):
                tokens = list(dict.fromkeys(words(name)))
                # A name is found by its telling words; one made of common words only ("KM-700") by all of them.
                telling = [token for token in tokens if token not in GENERIC_WORDS and token not in common]
                if not telling and tokens:
                    self._phrases.add(len(self._aliases))
                if telling or tokens:
                    self._aliases.append((subject, telling or tokens))
        document_frequency: dict[str, int] = defaultdict(int)
        for _, tokens in self._aliases:
            for token in tokens:
                document_frequency[token] += 1
        total = max(1, len(self._aliases))
        self._weight = {token: (weights or {}).get(token) or math.log(1 + total / count)
                        for token, count in document_frequency.items()}
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
        tokens = {token for product, names in aliases.items() for name in [product, *names] for token in words(name)}
        shares = {token: _share(version, token) for token in tokens}
        common = {token for token, share in shares.items() if share > COMMON_SHARE}
        weights = {token: version.lexical.idf_of_share(share) for token, share in shares.items()}
        return cls(aliases, frozenset(common), weights)

    def mentions(self, text: str) -> list[Mention]:
        """Subjects named in `text`, best named first."""
        tokens = words(text)
        present = set(tokens) | {a + b for a, b in zip(tokens, tokens[1:], strict=False)}
        best: dict[str, tuple[float, float]] = {}
        candidates = {index for token in present for index in self._by_token.get(token, ())}
        for index in candidates:
            subject, alias_tokens = self._aliases[index]
            if index in self._phrases:
                if _contains_phrase(tokens, alias_tokens):
                    weight = sum(self._weight[token] for token in alias_tokens)
                    best[subject] = max(best.get(subject, (0.0, 0.0)), (1.0, weight))
                continue
            rarest = max(self._weight[token] for token in alias_tokens)
            if any(self._weight[token] == rarest and token not in present for token in alias_tokens):
                continue  # "san francisco" alone does not name "INN SAN FRANCISCO", nor "kin" "KIN KHAO"
            total = sum(self._weight[token] for token in alias_tokens)
            said = sum(self._weight[token] for token in alias_tokens if token in present)
            if said / total >= MIN_MENTION_SHARE and (said / total, said) > best.get(subject, (0.0, 0.0)):
                best[subject] = (said / total, said)
        return [Mention(subject, round(share, 4), round(weight, 4)) for subject, (share, weight) in
                sorted(best.items(), key=lambda item: (-item[1][0], -item[1][1], item[0]))]

    def best(self, text: str) -> str | None:
        """The subject `text` names most fully, or None."""
        found = self.mentions(text)
        return found[0].subject if found else None


def _share(version, token: str) -> float:
    """The share of the version's passages that hold a word, in its commonest reading (bokmål or English)."""
    return max(version.lexical.share(ANALYZER.stem(token, lang)) for lang in LANGUAGES)


def _contains_phrase(tokens: list[str], phrase: list[str]) -> bool:
    width = len(phrase)
    return any(tokens[start:start + width] == phrase for start in range(len(tokens) - width + 1))
