"""Typed errors of the core library; the CLI and the web app translate them at their edges."""

from __future__ import annotations


class KBError(Exception):
    """Base class for every error the library raises on purpose."""


class ArticleError(KBError):
    """An article that cannot be read or parsed; names the file and, where known, the line."""

    def __init__(self, path: str, message: str, line: int | None = None):
        self.path = path
        self.line = line
        self.message = message
        location = f"{path}:{line}" if line else path
        super().__init__(f"{location}: {message}")


class IndexNotFound(KBError):
    """No built index where one was expected."""


class IndexCorrupt(KBError):
    """A built version with a part missing or damaged (truncated vectors, metadata or keyword index)."""


class IndexMismatch(KBError):
    """The index on disk was built with another model, dimension or format than the one configured."""


class ModelFileError(KBError):
    """A model file that is missing, truncated or altered; says which file and what to do."""


class IndexLocked(KBError):
    """Another build holds the index lock."""


class QueryError(KBError):
    """A search request that is empty, too long or otherwise out of bounds."""


class BuildFailed(KBError):
    """A build that stopped before switching in a new index (strict mode, no articles, ...)."""


class NotFound(KBError):
    """Something a request names is not in the live index."""


class ReplyRefused(KBError):
    """A reply that must not go to a customer: the article is internal."""


class IncompleteReply(KBError):
    """A reply with placeholders that have neither a value nor a fallback."""

    def __init__(self, missing: list[str]):
        self.missing = missing
        names = ", ".join("{" + name + "}" for name in missing)
        super().__init__(f"fill in {names} before sending this reply")


class TooMany(KBError):
    """A client sending more than its share (of ratings, say) in a short time."""


class CommentTooLong(QueryError):
    """A comment over the length the log keeps."""


class FeedbackOff(KBError):
    """The query log is switched off, so ratings and events have nowhere to go."""


class MessageTooLong(QueryError):
    """A pasted message or conversation over the size the assistant reads."""


class NothingToAnswer(QueryError):
    """A message with no question or request left once greetings, signatures and quoted mail are set aside."""


class LogUnavailable(KBError):
    """The query log's database cannot be reached or written right now; searches go on, ratings wait."""
