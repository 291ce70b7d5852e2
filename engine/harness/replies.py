"""Pure builders for the simulated prospects' answers: replies, auto-replies and bounces.

Each builder takes the outreach being answered, a seeded `random.Random` (wording, names and
dates vary, reproducibly) and the instant to date the answer, and returns the raw message bytes.
No I/O here; `responder.py` decides who answers what and when, and delivers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, getaddresses, parseaddr

from engine.harness.scenario import Outcome

REPORTING_MTA = "harness.localhost"


@dataclass(frozen=True)
class Outreach:
    """What an answer needs to know about the email it answers, for one recipient."""

    sender: str  # the address replies go to (Reply-To, else From)
    sender_name: str
    recipient: str
    recipient_name: str
    subject: str
    message_id: str
    references: tuple[str, ...]
    date: str
    body: str
    headers_block: str  # the original's header section, for the bounce report

    @property
    def thread_root(self) -> str:
        """The first Message-ID of the thread: follow-ups share it with the first email."""
        return self.references[0] if self.references else self.message_id

    @property
    def recipient_domain(self) -> str:
        return self.recipient.rsplit("@", 1)[-1]

    @property
    def recipient_first_name(self) -> str:
        name = self.recipient_name or self.recipient.split("@", 1)[0].split(".")[0]
        return name.split()[0].capitalize()

    @property
    def sender_first_name(self) -> str:
        name = self.sender_name or self.sender.split("@", 1)[0]
        return name.split()[0].capitalize()


def outreach_from(raw: bytes, recipient: str) -> Outreach:
    """Read the fields an answer needs from a captured outreach message."""
    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    sender_name, sender = parseaddr(str(parsed.get("Reply-To") or parsed.get("From", "")))
    if not sender_name:
        sender_name = parseaddr(str(parsed.get("From", "")))[0]
    recipient_name = ""
    for name, address in getaddresses([str(v) for v in parsed.get_all("To", [])]):
        if address.lower() == recipient.lower():
            recipient_name = name
    body_part = parsed.get_body(("plain",))
    body = body_part.get_content() if isinstance(body_part, EmailMessage) else ""
    header_end = raw.find(b"\r\n\r\n")
    if header_end < 0:
        header_end = raw.find(b"\n\n")
    return Outreach(
        sender=sender,
        sender_name=sender_name,
        recipient=recipient.lower(),
        recipient_name=recipient_name,
        subject=str(parsed.get("Subject", "")),
        message_id=str(parsed.get("Message-ID", "")).strip(),
        references=tuple(str(parsed.get("References", "")).split()),
        date=str(parsed.get("Date", "")),
        body=body,
        headers_block=raw[: max(header_end, 0)].decode("utf-8", "replace"),
    )


# -- replies written by a person --------------------------------------------------------------

FIRST_NAMES = [
    "Jane",
    "Priya",
    "Marcus",
    "Elena",
    "Tomás",
    "Aiko",
    "Noah",
    "Fatima",
    "Lena",
    "Omar",
    "Grace",
    "Wei",
    "Sofia",
    "Daniel",
    "Ingrid",
    "Kwame",
    "Chloe",
    "Ravi",
]
LAST_NAMES = [
    "Park",
    "Sharma",
    "Bennett",
    "Rossi",
    "García",
    "Tanaka",
    "Okafor",
    "Lindqvist",
    "Haddad",
    "Nguyen",
    "Fischer",
    "Moreau",
    "Chen",
    "Kowalski",
    "Silva",
    "Brooks",
]
ROLES = [
    "VP of Sales",
    "Head of Operations",
    "Director of Procurement",
    "our COO",
    "Head of Revenue Operations",
    "VP Marketing",
    "Director of IT",
]

REFERRAL = [
    "Hi {sender},\n\nI'm not the right person for this. {name} ({email}) is {role} and looks "
    "after this area; I've copied {first} here.\n\nBest,\n{me}",
    "{sender}, thanks for reaching out. You'll want to talk to {name}, {role}: {email}\n\n{me}",
    "Hi {sender},\n\nThat would be {name} - {first} is {role}. Reach {first} at {email} and "
    "mention I sent you.\n\nCheers,\n{me}",
]
INTEREST = [
    "Hi {sender},\n\nGood timing, this is on our list. Can you do a call Thursday or Friday "
    "afternoon?\n\n{me}",
    "Thanks {sender}, that's me. Interested in learning more - send over a few times that work "
    "next week.\n\n{me}",
    "Hi {sender},\n\nSure, happy to talk. What does your calendar look like this week?\n\n"
    "Regards,\n{me}",
]
NOT_NOW = [
    "Hi {sender},\n\nNot a priority right now. Try me again {when}.\n\n{me}",
    "{sender}, we're in the middle of a reorg. Can you follow up {when}?\n\nThanks,\n{me}",
    "Hi {sender},\n\nBudget is locked for now - please reach out {when}.\n\nBest,\n{me}",
]
NOT_INTERESTED = [
    "Hi {sender},\n\nThanks, but we're not interested.\n\n{me}",
    "No thanks, we already have a solution we're happy with.\n\n{me}",
    "{sender}, this isn't a fit for us. Please don't follow up.\n\n{me}",
]
UNSUBSCRIBE = [
    "Please remove me from your mailing list.\n\n{me}",
    "Unsubscribe.",
    "Take me off your list, thanks.\n\n{me}",
]
# Answers no rule can settle: a person decides them in the review queue.
UNCLEAR = [
    "Hi {sender},\n\nHmm, maybe. What would it cost us?\n\n{me}",
    "Not sure yet. Send me something I can forward around?\n\n{me}",
    "Hi {sender},\n\nWhat does this replace, exactly? We built most of this in house.\n\n"
    "Best,\n{me}",
    "Possibly. What are other companies like ours seeing with it?\n\n{me}",
]
NOT_NOW_WHEN = ["next quarter", "in 3 months", "in six weeks", "early next year", "in {month}"]

HUMAN_TEMPLATES = {
    Outcome.REFERRAL: REFERRAL,
    Outcome.INTEREST: INTEREST,
    Outcome.NOT_NOW: NOT_NOW,
    Outcome.NOT_INTERESTED: NOT_INTERESTED,
    Outcome.UNSUBSCRIBE: UNSUBSCRIBE,
    Outcome.UNCLEAR: UNCLEAR,
}


@dataclass(frozen=True)
class Person:
    name: str
    email: str

    def __str__(self) -> str:
        return str(Address(self.name, addr_spec=self.email))


def referred_person(outreach: Outreach, rng: random.Random) -> Person:
    """A new fictional colleague at the recipient's company, never the recipient."""
    while True:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        local = rng.choice(["{f}.{l}", "{f}{l}", "{i}{l}", "{f}"]).format(
            f=_ascii(first), l=_ascii(last), i=_ascii(first)[0]
        )
        email = f"{local}@{outreach.recipient_domain}"
        if email != outreach.recipient:
            return Person(f"{first} {last}", email)


def build_reply(outcome: Outcome, outreach: Outreach, rng: random.Random, when: datetime) -> bytes:
    """A person's reply: `Re:` subject, threading headers, the original quoted below."""
    me = outreach.recipient_first_name
    fields = {"sender": outreach.sender_first_name, "me": me}
    message = _reply_headers(outreach, rng, when, "Re: " + _strip_re(outreach.subject))
    if outcome is Outcome.REFERRAL:
        person = referred_person(outreach, rng)
        fields |= {"name": person.name, "first": person.name.split()[0], "email": person.email}
        fields["role"] = rng.choice(ROLES)
        message["Cc"] = str(person)
    if outcome is Outcome.NOT_NOW:
        month = (when + timedelta(days=rng.randint(60, 150))).strftime("%B")
        fields["when"] = rng.choice(NOT_NOW_WHEN).format(month=month)
    text = rng.choice(HUMAN_TEMPLATES[outcome]).format(**fields)
    message.set_content(text + "\n\n" + _quote(outreach, rng) + "\n")
    return message.as_bytes(policy=policy.SMTP)


# -- automatic answers -----------------------------------------------------------------------

AUTO_SUBJECTS = ["Automatic reply: {s}", "Out of Office: {s}", "Auto: {s}"]
AUTO_BODIES = [
    "Thank you for your email. I am out of the office until {back} with limited access to "
    "email. For urgent matters please contact {desk}.",
    "I'm currently on leave and will return on {back}. I will respond to your message when I "
    "am back.",
    "Hello, I am travelling until {back}. Your message will not be forwarded.",
]


def build_auto_reply(outreach: Outreach, rng: random.Random, when: datetime) -> bytes:
    """An out-of-office note with RFC 3834 headers and a return date."""
    back = (when + timedelta(days=rng.randint(3, 16))).strftime("%A, %d %B %Y")
    subject = rng.choice(AUTO_SUBJECTS).format(s=outreach.subject)
    message = _reply_headers(outreach, rng, when, subject)
    message["Auto-Submitted"] = "auto-replied"
    message["X-Auto-Response-Suppress"] = "All"
    message["Precedence"] = "auto_reply"
    desk = f"office@{outreach.recipient_domain}"
    message.set_content(rng.choice(AUTO_BODIES).format(back=back, desk=desk) + "\n")
    return message.as_bytes(policy=policy.SMTP)


def build_bounce(outreach: Outreach, rng: random.Random, when: datetime) -> bytes:
    """An RFC 3464 delivery-status report: the recipient's address does not exist (5.1.1)."""
    remote = f"mx{rng.randint(1, 3)}.{outreach.recipient_domain}"
    diagnostic = (
        f"smtp; 550 5.1.1 <{outreach.recipient}>: Recipient address rejected: "
        "User unknown in virtual mailbox table"
    )
    sender_domain = outreach.sender.rsplit("@", 1)[-1]
    report = MIMEMultipart("report", report_type="delivery-status")
    report["From"] = f"Mail Delivery System <MAILER-DAEMON@{sender_domain}>"
    report["To"] = outreach.sender
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report["Date"] = format_datetime(when)
    report["Message-ID"] = f"<{rng.getrandbits(64):016x}.bounce@{REPORTING_MTA}>"
    report["Auto-Submitted"] = "auto-replied"
    report.attach(
        MIMEText(
            "This is the mail system at host harness.localhost.\n\n"
            "I'm sorry to have to inform you that your message could not\n"
            "be delivered to one or more recipients.\n\n"
            f"<{outreach.recipient}>: host {remote} said: 550 5.1.1\n"
            "    Recipient address rejected: User unknown (in reply to RCPT TO command)\n"
        )
    )
    per_message = Message()
    per_message["Reporting-MTA"] = f"dns; {REPORTING_MTA}"
    per_message["Arrival-Date"] = outreach.date or format_datetime(when)
    per_recipient = Message()
    per_recipient["Final-Recipient"] = f"rfc822; {outreach.recipient}"
    per_recipient["Original-Recipient"] = f"rfc822; {outreach.recipient}"
    per_recipient["Action"] = "failed"
    per_recipient["Status"] = "5.1.1"
    per_recipient["Remote-MTA"] = f"dns; {remote}"
    per_recipient["Diagnostic-Code"] = diagnostic
    status = MIMEBase("message", "delivery-status")
    status.set_payload([per_message, per_recipient])
    report.attach(status)
    headers = MIMEText(outreach.headers_block + "\n", "rfc822-headers")
    report.attach(headers)
    return report.as_bytes(policy=policy.compat32.clone(linesep="\r\n"))


def build_answer(outcome: Outcome, outreach: Outreach, rng: random.Random, when: datetime) -> bytes:
    if outcome is Outcome.BOUNCE:
        return build_bounce(outreach, rng, when)
    if outcome is Outcome.AUTO_REPLY:
        return build_auto_reply(outreach, rng, when)
    return build_reply(outcome, outreach, rng, when)


# -- helpers ---------------------------------------------------------------------------------


def _reply_headers(
    outreach: Outreach, rng: random.Random, when: datetime, subject: str
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = str(Person(outreach.recipient_name, outreach.recipient))
    message["To"] = str(Person(outreach.sender_name, outreach.sender))
    message["Subject"] = subject
    message["Date"] = format_datetime(when)
    message["Message-ID"] = f"<{rng.getrandbits(64):016x}@{outreach.recipient_domain}>"
    if outreach.message_id:
        message["In-Reply-To"] = outreach.message_id
        message["References"] = " ".join([*outreach.references, outreach.message_id])
    return message


def _strip_re(subject: str) -> str:
    while subject[:3].lower() == "re:":
        subject = subject[3:].lstrip()
    return subject


def _quote(outreach: Outreach, rng: random.Random) -> str:
    """The original below the answer, as Gmail or Outlook would quote it."""
    if rng.random() < 0.5:
        quoted = "\n".join("> " + line if line else ">" for line in outreach.body.splitlines())
        who = f"{outreach.sender_name} <{outreach.sender}>".strip()
        return f"On {outreach.date}, {who} wrote:\n{quoted}"
    return (
        "-----Original Message-----\n"
        f"From: {outreach.sender_name} <{outreach.sender}>\n"
        f"Sent: {outreach.date}\n"
        f"To: {outreach.recipient}\n"
        f"Subject: {outreach.subject}\n\n"
        f"{outreach.body.rstrip()}"
    )


def _ascii(name: str) -> str:
    return name.lower().replace("á", "a").replace("í", "i").replace("é", "e")
