"""Tolerant reading of raw messages: headers, addresses and body text in any charset.

Real mail is often broken: undeclared or wrong charsets, gb2312 that is really gb18030, HTML-only
bodies, malformed headers. Every helper here returns something usable instead of raising, and
bounds the text it hands on so that a 10 MB message costs no more than a small one.
"""

from __future__ import annotations

import email
import email.header
import email.policy
import re
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

MAX_TEXT_BYTES = 64 * 1024  # a reply's meaning is in its first pages; never scan megabytes

# Declared charsets that are narrower than what senders really use under that name.
_CHARSET_WIDENING = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "ascii": "windows-1252",
    "us-ascii": "windows-1252",
    "iso-8859-1": "windows-1252",
    "latin1": "windows-1252",
    "latin-1": "windows-1252",
    "ks_c_5601-1987": "cp949",
}
# Tried in order when the declared charset fails; windows-1252 is the last resort that
# (with errors="replace") always yields text.
_FALLBACK_CHARSETS = ("utf-8", "gb18030", "big5hkscs", "shift_jis", "windows-1252")


class _PlainHeaders(email.policy.EmailPolicy):
    """`email.policy.default`, except that a header is fetched as its plain text.

    The default policy parses a header into a structured object on every access, and the
    classifier reads Content-Type and a dozen others many times a message: that parsing cost
    more than the whole classification. `header_text` decodes encoded words itself.
    """

    def header_fetch_parse(self, name: str, value: str) -> str:
        if hasattr(value, "name"):  # already a header object (set by code, not parsed)
            return str(value)
        text = "".join(value.splitlines())
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # raw 8-bit header bytes, kept as surrogate escapes
            text = decode_bytes(text.encode("ascii", "surrogateescape"), None)
        return text


_POLICY = _PlainHeaders()


def parse_message(raw: bytes) -> EmailMessage:
    """Parse bytes into a message without ever raising on malformed input."""
    message = email.message_from_bytes(raw, policy=_POLICY)
    assert isinstance(message, EmailMessage)  # guaranteed by an EmailPolicy
    return message


def header_text(msg: Message, name: str) -> str:
    """A header as decoded text ("" when absent or undecodable)."""
    try:
        value = msg.get(name)
    except Exception:  # a malformed header the policy cannot parse: decode it by hand
        value = None
        for key, raw in msg.raw_items():
            if key.lower() == name.lower():
                value = _decode_raw_header(str(raw))
                break
    if value is None:
        return ""
    text = str(value)
    if "=?" in text:  # an encoded-word the policy left alone
        text = _decode_raw_header(text)
    return " ".join(text.split())


def _decode_raw_header(value: str) -> str:
    parts = []
    try:
        for chunk, charset in email.header.decode_header(value):
            if isinstance(chunk, bytes):
                parts.append(decode_bytes(chunk, charset))
            else:
                parts.append(chunk)
    except Exception:
        return value
    return "".join(parts)


def header_addresses(msg: Message, *names: str) -> list[tuple[str, str]]:
    """(display name, lower-case address) pairs from address headers, skipping junk."""
    pairs: list[tuple[str, str]] = []
    for name in names:
        text = header_text(msg, name)
        if not text:
            continue
        for display, address in getaddresses([text]):
            if "@" in address:
                pairs.append((display.strip(), address.strip().lower()))
    return pairs


def sender_address(msg: Message) -> str | None:
    """The lower-case bare address of From, or None."""
    address = parseaddr(header_text(msg, "From"))[1].strip().lower()
    return address if "@" in address else None


_MESSAGE_ID = re.compile(r"<[^<>\s]+@[^<>\s]+>")
# An email address as people write one in a reply's text; shared by the extractors.
ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.ASCII)


def referenced_message_ids(msg: Message) -> list[str]:
    """Message-IDs this message answers: In-Reply-To first, then References, as "<id@host>"."""
    found: list[str] = []
    for name in ("In-Reply-To", "References"):
        text = header_text(msg, name)
        candidates = _MESSAGE_ID.findall(text)
        if not candidates and "@" in text and " " not in text.strip():
            candidates = [f"<{text.strip().strip('<>')}>"]
        for message_id in candidates:
            if message_id not in found:
                found.append(message_id)
    return found


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode text whose declared charset may be missing, narrow or simply wrong."""
    declared = (charset or "").strip().strip('"').lower()
    if data.isascii():
        if declared.startswith(("iso-2022", "utf-7")):  # 7-bit encodings of other scripts
            try:
                return data.decode(declared)
            except (LookupError, UnicodeDecodeError):
                pass
        return data.decode("ascii")
    tried: list[str] = []
    # Valid UTF-8 that is not ASCII is almost never an accident, whatever was declared.
    for name in ("utf-8", _CHARSET_WIDENING.get(declared, declared), *_FALLBACK_CHARSETS):
        if not name or name in tried:
            continue
        tried.append(name)
        try:
            return data.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("windows-1252", errors="replace")


def part_text(part: Message) -> str:
    """The decoded text of one leaf part, bounded to MAX_TEXT_BYTES."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        if not isinstance(raw, str):
            return ""
        payload = raw.encode("utf-8", errors="replace")
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    return decode_bytes(payload[:MAX_TEXT_BYTES], charset)


def body_text(msg: Message) -> str:
    """The message's readable text: the first text/plain part, else HTML converted to text."""
    plain: str | None = None
    html: str | None = None
    for part in _walk_leaves(msg):
        content_type = _content_type(part)
        if _is_attachment(part):
            continue
        if content_type == "text/plain" and plain is None:
            plain = part_text(part)
        elif content_type == "text/html" and html is None:
            html = part_text(part)
    if plain is not None and plain.strip():
        return normalise_text(plain)
    if html is not None:
        return normalise_text(html_to_text(html))
    return normalise_text(plain or "")


def _walk_leaves(msg: Message) -> list[Message]:
    """Leaf parts of the top-level message, not descending into attached messages."""
    leaves: list[Message] = []
    stack: list[Message] = [msg]
    while stack and len(leaves) < 200:  # a bomb of thousands of parts is not a reply
        part = stack.pop(0)
        if part.is_multipart():
            payload = part.get_payload()
            if isinstance(payload, list):
                stack.extend(
                    p
                    for p in payload
                    if isinstance(p, Message) and _content_type(p) != "message/rfc822"
                )
        else:
            leaves.append(part)
    return leaves


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:
        return "text/plain"


def _is_attachment(part: Message) -> bool:
    try:
        return (part.get_content_disposition() or "") == "attachment"
    except Exception:
        return False


def normalise_text(text: str) -> str:
    """Unix line ends, no NULs or non-breaking spaces, bounded length."""
    text = text[:MAX_TEXT_BYTES].replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\x00", "").replace("\u00a0", " ").replace("\u3000", " ")


class _TextExtractor(HTMLParser):
    """Collects visible text, turning block elements into line breaks."""

    _BLOCKS = frozenset({"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "blockquote", "hr"})
    _HIDDEN = frozenset({"style", "script", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._hidden_depth = 0
        self._quote_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden_depth += 1
        if tag == "blockquote":
            self._quote_depth += 1
        if tag in self._BLOCKS:
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN and self._hidden_depth:
            self._hidden_depth -= 1
        if tag == "blockquote" and self._quote_depth:
            self._quote_depth -= 1
        if tag in self._BLOCKS:
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if self._hidden_depth:
            return
        if self._quote_depth:  # quoted original: keep it marked so quote stripping removes it
            data = "\n".join("> " + line for line in data.split("\n"))
        self.chunks.append(data)


def html_to_text(html: str) -> str:
    """Visible text of an HTML body (stdlib parser; tolerant of broken markup)."""
    extractor = _TextExtractor()
    try:
        extractor.feed(html)
        extractor.close()
    except Exception:
        return re.sub(r"<[^>]{0,500}>", " ", html)
    text = "".join(extractor.chunks)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
