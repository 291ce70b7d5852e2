"""A reply as a mail client writes it, for the classifier tests."""

from __future__ import annotations


def reply(
    body: str,
    *,
    subject: str = "Re: Who runs sales operations?",
    sender: str = "Ann Lee <ann.lee@prospect.example>",
    to: str = "Sam Rep <sam@outreach.example>",
    cc: str | None = None,
    date_header: str = "Mon, 03 Mar 2025 10:00:00 +0000",
    headers: str = "",
    charset: str = "utf-8",
) -> bytes:
    head = (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {date_header}\r\n"
        f"Message-ID: <r1@prospect.example>\r\nIn-Reply-To: <s1@outreach.example>\r\n"
        f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset={charset}\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
    )
    if cc:
        head += f"Cc: {cc}\r\n"
    head += headers
    quoted = (
        "\r\n\r\nOn Fri, Feb 28, 2025 at 9:00 AM Sam Rep <sam@outreach.example> wrote:\r\n"
        "> Hi Ann, who is the right person for lead routing?\r\n"
        "> Our customer Zed (zed@customer.example) loves it.\r\n"
    )
    return (head + "\r\n" + body.replace("\n", "\r\n") + quoted).encode(charset)
