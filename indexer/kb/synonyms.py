"""Synonyms and domain terms that editors keep in the KB (`_synonyms.yaml`), applied to questions.

The file maps a term to its equivalents; every entry is a group whose members all mean the same:

    angrerett: [angrefrist, right of withdrawal]
    bedrift: [firma, selskap, company]

When a question contains any member of a group (as whole words, case and accents ignored), the other
members are added to the keyword side of the search. The dense side keeps the question as typed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ArticleError
from ..text.lexical import ANALYZER, STEMMERS, Analyzer
from .files import read_kb_yaml

SYNONYMS_FILE = "_synonyms.yaml"
MAX_GROUPS = 10_000
MAX_MEMBER_CHARS = 100


@dataclass
class Synonyms:
    """Groups of equivalent terms, matched on folded words."""

    groups: list[list[str]] = field(default_factory=list)

    def __post_init__(self):
        # Every member's stemmed form per language, computed once here instead of on every question.
        self._forms = [[[phrase_form(member, lang) for lang in STEMMERS] for member in group]
                       for group in self.groups]
        # The members by their first stemmed word per language: a question is compared only with the members
        # that start with one of its words, not with every member of every group.
        self._starting: dict[tuple[int, str], list[tuple[int, int]]] = {}
        for group_index, members in enumerate(self._forms):
            for member_index, variants in enumerate(members):
                for lang_index, variant in enumerate(variants):
                    words = variant.split()
                    if words:
                        self._starting.setdefault((lang_index, words[0]), []).append((group_index, member_index))

    @classmethod
    def load(cls, kb_dir: Path) -> Synonyms:
        """The KB's synonyms file, or no synonyms when there is none; ArticleError names the line of a mistake."""
        data = read_kb_yaml(kb_dir, SYNONYMS_FILE)
        return cls.from_mapping(data or {})

    @classmethod
    def from_mapping(cls, data) -> Synonyms:
        """Groups from `{term: [equivalents]}`; a plain list of lists is accepted too."""
        if isinstance(data, dict):
            raw_groups = [[key, *(value if isinstance(value, list) else [value])] for key, value in data.items()]
        elif isinstance(data, list):
            raw_groups = [group for group in data if isinstance(group, list)]
        else:
            raise ArticleError(SYNONYMS_FILE, "expected a mapping of terms to lists of equivalents")
        groups = []
        for group in raw_groups[:MAX_GROUPS]:
            members = [str(member).strip()[:MAX_MEMBER_CHARS] for member in group if member is not None]
            members = [member for member in members if member]
            if len(members) > 1:
                groups.append(members)
        return cls(groups)

    def as_list(self) -> list[list[str]]:
        """For storing beside the index."""
        return self.groups

    def expand(self, question: str) -> list[str]:
        """Members of every group the question mentions, other than the words it already has.

        Words match after stemming in either language, so `erased` finds the group of `erase`.
        """
        forms = [phrase_form(question, lang) for lang in STEMMERS]
        mentioned: set[tuple[int, int]] = set()
        for lang_index, form in enumerate(forms):
            for word in set(form.split()):
                for group_index, member_index in self._starting.get((lang_index, word), ()):
                    if contains_phrase(form, self._forms[group_index][member_index][lang_index]):
                        mentioned.add((group_index, member_index))
        additions: list[str] = []
        for group_index in sorted({group_index for group_index, _ in mentioned}):
            additions.extend(member for member_index, member in enumerate(self.groups[group_index])
                             if (group_index, member_index) not in mentioned)
        return additions


def phrase_form(text: str, lang: str) -> str:
    """Folded, stemmed words without stopword removal (multi-word members keep their small words), padded
    with spaces so `contains_phrase` matches whole words only."""
    return " " + " ".join(ANALYZER.stem(word, lang) for word in Analyzer.words(text)) + " "


def contains_phrase(text: str, member: str) -> bool:
    """Whether the phrase form `member` occurs in the phrase form `text`, as whole words."""
    return bool(member.strip()) and member in text
