"""What the customer actually wrote: HTML, greetings, sign-offs, signatures and quoted mail set aside.

E-mail clients paste HTML and quote the whole thread; chat tools add nothing but the customer's lines. The
cleaner keeps the customer's own words, line by line, and says what it set aside, so the signature can
still give the customer's name and a quoted order confirmation its order number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

# Lines that start a quoted or forwarded message: everything from here on was written earlier.
_QUOTE_HEADER = re.compile(
    r"^\s*(on\b.{0,200}\bwrote:\s*$"
    r"|den\b.{0,200}\bskrev\b.{0,200}:\s*$"
    r"|.{0,120}\bskrev\s*(følgende)?:\s*$"
    r"|-{2,}\s*(original message|opprinnelig melding|forwarded message|videresendt melding|begin forwarded)"
    r"|begin forwarded message:|videresendt melding:"
    r"|_{5,}\s*$)",
    re.IGNORECASE,
)
# A header block of a quoted mail: "From:"/"Fra:" followed shortly by "Sent:"/"Sendt:"/"Subject:" ...
_HEADER_FIELD = re.compile(r"^\s*(from|fra|sent|sendt|date|dato|to|til|subject|emne|cc)\s*:", re.IGNORECASE)
_SIGNATURE_DELIMITER = re.compile(r"^\s*--\s*$")
_DEVICE_LINE = re.compile(
    r"^\s*(sent from my|sendt fra min|sendt fra|get outlook for|hent outlook for|hentet fra)\b", re.IGNORECASE)
# A sign-off on a line of its own, or followed by the name on the same line ("Mvh Kari").
SIGN_OFF = re.compile(
    r"^\s*(med vennlig hilsen|vennlig hilsen|vennlig hilsn|beste hilsen|mvh|hilsen|hilsner|hils(en)?"
    r"|kind regards|best regards|warm regards|regards|best wishes|best|cheers|yours sincerely|yours truly"
    r"|sincerely|thanks|thank you|many thanks|thanks in advance|takk|tusen takk|takk på forhånd"
    r"|takk for hjelpen)\b[ \t,.!]*(?P<name>[^\n]{0,60})$",
    re.IGNORECASE,
)
# Thanks that close a message without a sign-off ("Takk for hjelpen!", "Thanks in advance.").
_THANKS_ONLY = re.compile(
    r"^\s*((tusen )?takk( skal (du|dere) ha)?( på forhånd| for hjelpen| for svar)?|thanks( a lot)?( in advance)?"
    r"|thank you( in advance| for your help)?|many thanks)[ \t,.!:)]*$",
    re.IGNORECASE,
)
GREETING = re.compile(
    r"^\s*(hei hei|heisann|hei|hallo|halla|god dag|god morgen|god kveld|kjære|hi there|hi|hello|hey|dear"
    r"|good (morning|afternoon|evening)|greetings)\b(?P<rest>[^\n]*)$",
    re.IGNORECASE,
)
# A signature line is short: a name, a phone number, a company.
MAX_SIGNATURE_LINE_CHARS = 60
MAX_SIGNATURE_LINES = 6
# A greeting line names at most the company or a person: "Hei Fjordhjem kundeservice,".
MAX_GREETING_WORDS = 5


@dataclass
class CleanedMessage:
    """The customer's own lines, and what was set aside from around them."""

    lines: list[str]
    signature: list[str] = field(default_factory=list)
    sign_off_name: str = ""
    quoted: list[str] = field(default_factory=list)
    greeting: str = ""

    @property
    def text(self) -> str:
        """The customer's own words, one line per line."""
        return "\n".join(self.lines).strip()


class _TextOfHTML(HTMLParser):
    """The text of pasted HTML, block elements as line breaks, quoted blocks marked as `> ` lines."""

    BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol",
                        "section", "article", "header", "footer", "hr"})
    SKIPPED = frozenset({"script", "style", "head", "title", "template"})

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        # Open elements, each with whether it skips its text or quotes an earlier message.
        self._open: list[tuple[str, str]] = []

    def _inside(self, kind: str) -> bool:
        return any(role == kind for _, role in self._open)

    def handle_starttag(self, tag, attrs):
        classes = dict(attrs).get("class") or ""
        if tag in self.BLOCKS:
            self.parts.append("\n")
        if tag in ("br", "hr", "img", "meta", "link", "input"):
            return
        role = "skip" if tag in self.SKIPPED else \
            "quote" if tag == "blockquote" or "gmail_quote" in classes or "moz-cite-prefix" in classes else ""
        self._open.append((tag, role))

    def handle_endtag(self, tag):
        if tag in self.BLOCKS:
            self.parts.append("\n")
        for depth in range(len(self._open) - 1, -1, -1):
            if self._open[depth][0] == tag:
                del self._open[depth:]
                break

    def handle_data(self, data):
        if self._inside("skip"):
            return
        if self._inside("quote"):
            data = "\n".join("> " + line for line in data.split("\n") if line.strip())
        self.parts.append(data)


_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][a-zA-Z0-9]*(\s[^<>]*)?/?\s*>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\u2028\u2029]")


def looks_like_html(text: str) -> bool:
    """Whether pasted text is markup from an e-mail client rather than text with a stray `<`."""
    return len(_TAG.findall(text)) >= 2


def html_to_text(text: str) -> str:
    """Markup reduced to its text: tags removed, never rendered; entities decoded."""
    parser = _TextOfHTML()
    parser.feed(text)
    parser.close()
    return "".join(parser.parts)


def normalise(text: str) -> str:
    """Line breaks as `\\n`, control characters and non-breaking spaces as plain spaces."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    if looks_like_html(text):
        text = html_to_text(text)
    return _CONTROL.sub(" ", text)


def clean_message(text: str) -> CleanedMessage:
    """The customer's own lines of a pasted message, with greeting, sign-off, signature and quotes set aside."""
    lines = [line.rstrip() for line in normalise(text).split("\n")]
    own, quoted = _split_quoted(lines)
    own, signature = _split_signature(own)
    cleaned = CleanedMessage(lines=own, quoted=quoted)
    cleaned.signature, cleaned.sign_off_name = _split_sign_off(own, signature)
    _take_greeting(cleaned)
    cleaned.lines = [line for line in cleaned.lines if not _THANKS_ONLY.match(line)]
    while cleaned.lines and not cleaned.lines[-1].strip():
        cleaned.lines.pop()
    return cleaned


def _split_quoted(lines: list[str]) -> tuple[list[str], list[str]]:
    """Own lines and quoted ones: `>` lines, and everything after a quote header or a quoted mail's headers."""
    own, quoted = [], []
    for index, line in enumerate(lines):
        if _QUOTE_HEADER.match(line) or _starts_header_block(lines, index):
            quoted.extend(lines[index:])
            break
        if line.lstrip().startswith(">"):
            quoted.append(line.lstrip()[1:].strip())
            continue
        own.append(line)
    return own, quoted


def _starts_header_block(lines: list[str], index: int) -> bool:
    """A `From:`/`Fra:` line followed within three lines by another header field."""
    if not re.match(r"^\s*(from|fra)\s*:", lines[index], re.IGNORECASE):
        return False
    return any(_HEADER_FIELD.match(line) for line in lines[index + 1:index + 4])


def _split_signature(lines: list[str]) -> tuple[list[str], list[str]]:
    """Own lines and the signature below a `-- ` line or a "Sent from my phone" line."""
    for index, line in enumerate(lines):
        if _SIGNATURE_DELIMITER.match(line) or _DEVICE_LINE.match(line):
            return lines[:index], [rest for rest in lines[index + 1:] if rest.strip()]
    return lines, []


# A sign-off at the end of the last line of a chat message: "... i posten. Mvh Ola".
_TRAILING_SIGN_OFF = re.compile(
    r"(?<=[.!?])\s+(?:mvh|hilsen|med vennlig hilsen|vennlig hilsen|regards|best regards|kind regards|cheers"
    r"|thanks|thank you|takk|tusen takk)"
    r"[ ,.]*(?P<name>(?:[A-ZÆØÅ][\w'-]+ ?){0,3})\s*$",
    re.IGNORECASE,
)


def _split_sign_off(lines: list[str], signature: list[str]) -> tuple[list[str], str]:
    """Take the sign-off and the short lines under it off the end of `lines` (in place); the signature
    lines and a name written on the sign-off line itself."""
    last = next((index for index in range(len(lines) - 1, -1, -1) if lines[index].strip()), None)
    if last is not None and not signature:
        trailing = _TRAILING_SIGN_OFF.search(lines[last])
        if trailing:
            lines[last] = lines[last][:trailing.start()]
            return [], trailing.group("name").strip()
    for index in range(len(lines) - 1, -1, -1):
        match = SIGN_OFF.match(lines[index])
        if not match:
            continue
        below = [line.strip() for line in lines[index + 1:] if line.strip()]
        name = match.group("name").strip(" ,.!")
        if len(below) > MAX_SIGNATURE_LINES or any(len(line) > MAX_SIGNATURE_LINE_CHARS for line in below):
            continue
        if name and len(name.split()) > 4:
            continue  # "Takk for at dere svarer så raskt på ..." is a sentence, not a sign-off
        del lines[index:]
        return below + signature, name
    return signature, ""


def _take_greeting(cleaned: CleanedMessage) -> None:
    """Set the opening greeting aside: a line of its own ("Hei Fjordhjem,"), or the first words of the first
    line ("Hi, my parcel ..." keeps "my parcel ...")."""
    for index, line in enumerate(cleaned.lines):
        if not line.strip():
            continue
        match = GREETING.match(line)
        if not match:
            return
        rest = match.group("rest")
        separator = re.search(r"[,!.:]", rest)
        if separator is None:
            if len(line.split()) <= MAX_GREETING_WORDS:
                cleaned.greeting, cleaned.lines[index] = line.strip(), ""
            return
        if len(rest[:separator.start()].split()) < MAX_GREETING_WORDS:
            cut = match.start("rest") + separator.end()
            cleaned.greeting, cleaned.lines[index] = line[:cut].strip(), line[cut:].strip()
        return
