"""What a build tells the operator about warnings: the articles just parsed in full, the rest once per message.

A KB imported from elsewhere often carries the same oddity in thousands of articles (an audience of
'ITPro', say). Repeating that line for each of them on every run buries the one warning about the article
an editor just saved, so the warnings of unchanged articles, and any message shared by many articles, are
summarised in one line with a count and examples. `kb index --verbose`, `kb index --json` and `kb check`
still list every one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A message held by at most this many articles is printed for each of them; more are summarised.
SHOW_EACH = 3
# Paths named in a summary line as examples.
EXAMPLES = 3
_LINE_PREFIX = re.compile(r"^line (\d+): ")


@dataclass(frozen=True)
class Problem:
    """Something wrong in one file of the KB: where and what."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"


@dataclass(frozen=True)
class BuildWarning(Problem):
    """A problem that does not keep the file out of the index, and whether this build parsed the file (fresh)
    or reused it as the live version held it."""

    fresh: bool = True

    @classmethod
    def parse(cls, path: str, text: str, fresh: bool = True) -> BuildWarning:
        """A warning from its text, a leading 'line N: ' taken as the line."""
        match = _LINE_PREFIX.match(text)
        if match:
            return cls(path, text[match.end():], int(match.group(1)), fresh)
        return cls(path, text, None, fresh)

    def stored(self) -> list:
        """The form kept in an index version, to be reported again while the article stays unchanged."""
        return [self.line, self.message]


def summarise(warnings: list[BuildWarning], verbose: bool = False) -> list[str]:
    """Lines to print: each warning in full when `verbose`; otherwise the fresh ones of a message in full
    when few, and one line per message for the rest, with how many articles and a few examples."""
    if verbose:
        return [str(warning) for warning in warnings]
    by_message: dict[str, list[BuildWarning]] = {}
    for warning in warnings:
        by_message.setdefault(warning.message, []).append(warning)
    lines = []
    for message, group in by_message.items():
        if len(group) <= SHOW_EACH and all(warning.fresh for warning in group):
            lines.extend(str(warning) for warning in group)
            continue
        fresh = [warning for warning in group if warning.fresh]
        shown = fresh if len(fresh) <= SHOW_EACH else []
        lines.extend(str(warning) for warning in shown)
        rest = [warning for warning in group if warning not in shown]
        paths = list(dict.fromkeys(warning.path for warning in rest))
        examples = ", ".join(paths[:EXAMPLES])
        more = "other " if shown else ""
        lines.append(f"{message}: {len(paths):,} {more}article{'s' if len(paths) != 1 else ''} (e.g. {examples}); "
                     "kb index --verbose lists each")
    return lines
