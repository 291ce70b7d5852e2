"""Hostile inbound messages, generated (never stored): each one once crashed or stalled intake.

Each builder returns the raw bytes of one message addressed to the rep mailbox of the tests.
"""

from __future__ import annotations

from collections.abc import Callable

HEAD = (
    b"From: Stranger <stranger@hostile.example>\r\n"
    b"To: rep@spear.example\r\n"
    b"Date: Tue, 03 Jun 2025 12:00:00 +0000\r\n"
)


def nested_multipart(depth: int = 1000) -> bytes:
    """`depth` multiparts each inside the last (about 70 KB): once a RecursionError."""
    lines = [HEAD + b"Message-ID: <nested@hostile.example>\r\nSubject: nested\r\nMIME-Version: 1.0"]
    lines.append(b'Content-Type: multipart/mixed; boundary="b0"\r\n')
    for level in range(1, depth):
        lines.append(b"--b%d" % (level - 1))
        lines.append(b'Content-Type: multipart/mixed; boundary="b%d"\r\n' % level)
    lines.append(b"--b%d\r\nContent-Type: text/plain\r\n\r\nhello" % (depth - 1))
    lines.extend(b"--b%d--" % level for level in reversed(range(depth)))
    return b"\r\n".join(lines) + b"\r\n"


def encoded_word_subject(count: int) -> bytes:
    """A Subject of `count` encoded words (20,000 is 280 KB): once 2.7 GB and 5 s, or OOM."""
    words = b" ".join(b"=?utf-8?q?w=C3=A9rd%d?=" % n for n in range(count))
    return (
        HEAD
        + b"Message-ID: <words-%d@hostile.example>\r\nSubject: " % count
        + words
        + (b"\r\n\r\nhello\r\n")
    )


def many_parts(count: int = 50_000) -> bytes:
    """One multipart with `count` small parts: once 15 s."""
    part = b"--p\r\nContent-Type: text/plain\r\n\r\nx\r\n"
    return (
        HEAD
        + b"Message-ID: <parts@hostile.example>\r\nSubject: parts\r\nMIME-Version: 1.0\r\n"
        + b'Content-Type: multipart/mixed; boundary="p"\r\n\r\n'
        + part * count
        + b"--p--\r\n"
    )


def long_header_line(size: int = 6 * 1024 * 1024) -> bytes:
    """A header line of `size` bytes: once 10 s."""
    return (
        HEAD
        + b"Message-ID: <long@hostile.example>\r\nSubject: long\r\nX-Junk: "
        + b"a" * size
        + b"\r\n\r\nhello\r\n"
    )


def many_addresses(count: int = 5_000) -> bytes:
    """`count` named addresses in Cc and in the body: once 46 s, 900 MB and 215 "referrals"."""
    named = [b"Person %d <person%d@victims.example>" % (n, n) for n in range(count)]
    body = b"Please talk to " + b", ".join(named) + b".\r\n"
    return (
        HEAD
        + b"Message-ID: <addresses@hostile.example>\r\nSubject: Re: who?\r\n"
        + b"Cc: "
        + b",\r\n ".join(named)
        + b"\r\n\r\n"
        + body
    )


def many_addresses_in_body(count: int = 5_000) -> bytes:
    """`count` named addresses in the body alone: the reply that names hundreds of people."""
    named = [b"Person %d <person%d@victims.example>" % (n, n) for n in range(count)]
    return (
        HEAD
        + b"Message-ID: <body-addresses@hostile.example>\r\nSubject: Re: who?\r\n\r\n"
        + b"Please talk to "
        + b", ".join(named)
        + b".\r\n"
    )


HOSTILE: dict[str, Callable[[], bytes]] = {
    "nested-multipart": nested_multipart,
    "encoded-words-20000": lambda: encoded_word_subject(20_000),
    "encoded-words-100000": lambda: encoded_word_subject(100_000),
    "many-parts": many_parts,
    "long-header-line": long_header_line,
    "many-addresses": many_addresses,
    "many-addresses-in-body": many_addresses_in_body,
}
