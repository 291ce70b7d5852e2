"""Separating what the replier wrote from the quoted original, signature and disclaimer.

mail-parser-reply handles Gmail/Outlook-style quotes in several languages; Chinese clients
(QQ/Foxmail "原始邮件" blocks, "发件人：/发送时间：" headers), forwarded-message banners and inline
answers need patterns of our own on top, and are applied first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailparser_reply import EmailReplyParser

_REPLY_LANGUAGES = ["en", "de", "fr", "es", "zh"]

# A line that starts the quoted original.
QUOTE_HEADER = re.compile(
    r"^\s*("
    # Gmail wraps long attributions: "On <date> <name> <address>" / "wrote:" on the next line.
    r"on .{0,200}(\n\s*)?(wrote|writes|a écrit|schrieb)\s*:?|"
    r"am .{0,200}schrieb.{0,80}:?|le .{0,200}a écrit\s*:?|el .{0,200}escribió\s*:?|"
    # Chinese clients put the name first: "张三 <a@b> 于 2025年7月1日 写道："
    r".{0,120}(在|于|於)\s?.{0,200}(写道|寫道)\s*[:：]?|"
    r"-{2,}\s*(original message|forwarded message|ursprüngliche nachricht|"
    r"weitergeleitete nachricht|"
    r"message d'origine|message transféré|mensaje original|mensaje reenviado|"
    r"原始邮件|原始郵件|转发邮件|轉寄郵件)\s*-*|"
    r"begin forwarded message\s*:|_{8,}"
    r")\s*$",
    re.IGNORECASE | re.MULTILINE,
)
# Outlook-style header blocks: a From line followed closely by a Sent/Date line.
_HEADER_FROM = re.compile(
    r"^\s*\*?(from|von|de|发件人|發件人|寄件者|寄件人)\s*\*?\s*[:：]", re.IGNORECASE | re.MULTILINE
)
_HEADER_SENT = re.compile(
    r"^\s*\*?(sent|date|gesendet|datum|envoyé|enviado|fecha|发送时间|"
    r"發送時間|寄件日期|日期|时间|時間|to|an|à|para|收件人)\s*\*?\s*[:：]",
    re.IGNORECASE | re.MULTILINE,
)
_SIGNATURE_START = re.compile(
    r"^(--\s*|__+|sent from my .*|get outlook for .*|von meinem .* gesendet|envoyé de mon .*|"
    r"enviado desde mi .*|发自我的.*|發自我的.*|来自.*的邮件|sent from mobile.*)$",
    re.IGNORECASE | re.MULTILINE,
)
_DISCLAIMER = re.compile(
    r"confidential|intended (only )?(for the )?(use of the )?(named )?(recipient|addressee)|"
    r"vertraulich|bestimmt für den adressaten|destinataire|destinatario|机密|機密|保密|"
    r"指定收件人|sitz der gesellschaft|registergericht|handelsregister",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ReplyParts:
    """The replier's own words: with signature (for referrals) and without (for intent)."""

    unquoted: str  # everything before the quoted original, disclaimers removed
    reply: str  # the same without signature


def split_reply(text: str) -> ReplyParts:
    unquoted = _drop_disclaimers(_strip_quoted(text)).strip()
    return ReplyParts(unquoted=unquoted, reply=_strip_signature(unquoted))


def _strip_quoted(text: str) -> str:
    cut = len(text)
    header = QUOTE_HEADER.search(text)
    if header:
        cut = header.start()
    for match in _HEADER_FROM.finditer(text, 0, cut):
        following = text[match.end() : match.end() + 400]
        if _HEADER_SENT.search(following):
            cut = min(cut, match.start())
            break
    before = text[:cut]
    own_lines = [line for line in before.split("\n") if not line.lstrip().startswith(">")]
    if any(line.strip() for line in own_lines):
        # Interleaved replies answer between quoted lines: keep every unquoted line.
        return "\n".join(own_lines)
    # Nothing before the quote: an inline answer below a quote header, or a bare forward.
    after = text[cut:]
    lines = after.split("\n")[1:]
    return "\n".join(
        line
        for line in lines
        if not line.lstrip().startswith(">")
        and not _HEADER_SENT.match(line)
        and not _HEADER_FROM.match(line)
    )


def _drop_disclaimers(text: str) -> str:
    paragraphs = re.split(r"\n\s*\n", text)
    kept = [p for p in paragraphs if not (len(p) > 80 and _DISCLAIMER.search(p))]
    return "\n\n".join(kept)


def _strip_signature(text: str) -> str:
    marker = _SIGNATURE_START.search(text)
    if marker and marker.start() > 0:
        text = text[: marker.start()]
    try:
        parsed = EmailReplyParser(languages=_REPLY_LANGUAGES).parse_reply(text=text)
    except Exception:  # the library's regexes are not ours to trust on hostile input
        return text.strip()
    return parsed.strip() if parsed and parsed.strip() else text.strip()
