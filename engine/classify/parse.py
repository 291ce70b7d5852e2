"""Tolerant reading of raw messages: headers, addresses and body text in any charset.

Real mail is often broken: undeclared or wrong charsets, gb2312 that is really gb18030, HTML-only
bodies, malformed headers. Every helper here returns something usable instead of raising, and
bounds the text it hands on so that a 10 MB message costs no more than a small one.

Hostile mail is another matter: a thousand nested multiparts overflow the `email` parser's
recursion, and a hundred thousand encoded words or a six-megabyte header line cost gigabytes and
minutes to decode. So `parse_message` first scans the bytes once, in linear time, against limits
far above what real mail uses (`check_limits`), and refuses a message over one with an
`UnreadableMessage` that says which (an `Unreadable` code); the raw bytes stay for a person.
"""

from __future__ import annotations

import email
import email.header
import email.policy
import re
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr
from enum import StrEnum
from html.parser import HTMLParser

from engine.errors import SpearError

MAX_TEXT_BYTES = 64 * 1024  # a reply's meaning is in its first pages; never scan megabytes

# What a message may hold before it is refused unread. Real replies and bounces stay far inside:
# a forwarded thread with attachments nests four or five levels and has tens of parts.
MAX_MESSAGE_BYTES = 32 * 1024 * 1024
MAX_MIME_DEPTH = 20  # nested multiparts and attached messages
MAX_MIME_PARTS = 500
MAX_FIELD_BYTES = 64 * 1024  # one header field, folded lines joined
MAX_HEADER_BYTES = 512 * 1024  # every header block of the message together
MAX_ENCODED_WORDS = 500  # RFC 2047 `=?charset?q?...?=` words in all headers
MAX_ADDRESSES = 300  # addresses in the top-level address headers
_ADDRESS_FIELDS = frozenset(
    {b"from", b"to", b"cc", b"bcc", b"reply-to", b"sender", b"resent-to", b"resent-cc"}
)
_FIELD = re.compile(rb"[!-9;-~]+[ \t]*:")
_BOUNDARY = re.compile(rb"""boundary\s*=\s*(?:"([^"]{1,200})"|([^\s;"]{1,200}))""", re.IGNORECASE)


class Unreadable(StrEnum):
    """Why a message was stored but not read."""

    TOO_LARGE = "too-large"
    MIME_TOO_DEEP = "mime-too-deep"
    TOO_MANY_PARTS = "too-many-parts"
    HEADER_TOO_LARGE = "header-too-large"
    TOO_MANY_ENCODED_WORDS = "too-many-encoded-words"
    TOO_MANY_ADDRESSES = "too-many-addresses"
    PARSE_FAILED = "parse-failed"  # the parser raised all the same
    CLASSIFY_TIMEOUT = "classify-timeout"  # classification ran over its time budget
    CLASSIFY_FAILED = "classify-failed"  # classification could not run (its worker died)
    PROCESSING_FAILED = "processing-failed"  # matching or acting on it raised


class UnreadableMessage(SpearError):
    """A message over a parsing limit, or one the parser fails on: kept raw, never read."""

    def __init__(self, reason: Unreadable, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"unreadable ({reason}): {detail}")


def check_limits(raw: bytes) -> None:
    """Raise `UnreadableMessage` when `raw` is over a limit; one linear pass, no parsing.

    The scan follows the MIME structure as the parser would: header blocks (the message's, each
    part's, each attached message's), multipart boundaries and the parts they open and close.
    """
    if len(raw) > MAX_MESSAGE_BYTES:
        raise UnreadableMessage(Unreadable.TOO_LARGE, f"{len(raw)} bytes")
    scan = _LimitScan()
    lines = raw.splitlines()
    start = 1 if lines and lines[0].startswith(b"From ") else 0  # an mbox "From " line
    for index in range(start, len(lines)):
        scan.line(lines[index])
    scan.end_of_headers()


class _LimitScan:
    def __init__(self) -> None:
        self.open: list[bytes] = []  # boundaries of the multiparts we are inside, innermost last
        self.attached = 0  # message/rfc822 parts entered (each nests a whole message)
        self.in_headers = True
        self.top_level = True
        self.fields: list[bytearray] = []
        self.header_bytes = 0
        self.encoded_words = 0
        self.addresses = 0  # in the top-level address headers
        self.counting_addresses = False  # the field being read is one of those
        self.parts = 0

    def line(self, line: bytes) -> None:
        if self.in_headers:
            if line[:1] in (b" ", b"\t") and self.fields and line.strip():
                self._grow(self.fields[-1], line)
                return
            if _FIELD.match(line):
                name = line.split(b":", 1)[0].strip().lower()
                self.counting_addresses = self.top_level and name in _ADDRESS_FIELDS
                self.fields.append(bytearray())
                self._grow(self.fields[-1], line)
                return
            # A blank line ends the headers; so does any other line, as for the parser.
            self.end_of_headers()
            if not line.strip():
                return
        if not self.open or not line.startswith(b"--"):
            return
        token = line[2:].rstrip()
        closing = token.endswith(b"--") and token[:-2] in self.open
        name = token[:-2] if closing else token
        if name not in self.open:
            return
        del self.open[len(self.open) - self.open[::-1].index(name) :]  # inner ones end with it
        if closing:
            self.open.pop()
            return
        self.parts += 1
        if self.parts > MAX_MIME_PARTS:
            raise UnreadableMessage(Unreadable.TOO_MANY_PARTS, f"over {MAX_MIME_PARTS} parts")
        self.in_headers = True

    def _grow(self, field: bytearray, line: bytes) -> None:
        """Add a header line to its field, counting as it goes (the first limit hit is named)."""
        self.encoded_words += line.count(b"=?")
        if self.encoded_words > MAX_ENCODED_WORDS:
            raise UnreadableMessage(
                Unreadable.TOO_MANY_ENCODED_WORDS, f"over {MAX_ENCODED_WORDS} encoded words"
            )
        if self.counting_addresses:
            self.addresses += line.count(b"@")
            if self.addresses > MAX_ADDRESSES:
                raise UnreadableMessage(
                    Unreadable.TOO_MANY_ADDRESSES, f"over {MAX_ADDRESSES} addresses"
                )
        field += line
        self.header_bytes += len(line)
        if len(field) > MAX_FIELD_BYTES:
            raise UnreadableMessage(
                Unreadable.HEADER_TOO_LARGE, f"a header field over {MAX_FIELD_BYTES} bytes"
            )
        if self.header_bytes > MAX_HEADER_BYTES:
            raise UnreadableMessage(
                Unreadable.HEADER_TOO_LARGE, f"headers over {MAX_HEADER_BYTES} bytes"
            )

    def end_of_headers(self) -> None:
        """A header block is complete: count what it holds, follow what its part contains."""
        if not self.in_headers:
            return
        fields, self.fields = self.fields, []
        self.in_headers = False
        content_type = b""
        for field in fields:
            name, _, value = bytes(field).partition(b":")
            if name.strip().lower() == b"content-type":
                content_type = value
        self.top_level = False
        self.counting_addresses = False
        kind = content_type.strip().lower()
        boundary = _BOUNDARY.search(content_type)
        if kind.startswith(b"multipart/") and boundary is not None:
            self.open.append((boundary.group(1) or boundary.group(2)).rstrip())
        elif kind.startswith(b"message/rfc822"):
            self.attached += 1
            self.in_headers = True  # the part's body is a message: headers come first
        if len(self.open) + self.attached > MAX_MIME_DEPTH:
            raise UnreadableMessage(
                Unreadable.MIME_TOO_DEEP, f"nested over {MAX_MIME_DEPTH} levels"
            )


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
    """Parse bytes into a message: tolerant of malformed input, but `UnreadableMessage` when
    the message is over a limit (`check_limits`) or the parser fails on it all the same."""
    check_limits(raw)
    try:
        message = email.message_from_bytes(raw, policy=_POLICY)
    except Exception as error:  # RecursionError, MemoryError's smaller cousins: not ours to fix
        raise UnreadableMessage(Unreadable.PARSE_FAILED, type(error).__name__) from None
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
