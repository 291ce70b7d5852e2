"""Delivery reports: bounces (RFC 3464 and the many non-standard formats), complaints, successes.

flufl.bounce finds failed addresses in dozens of vendor formats but says nothing about why they
failed. This module adds the enhanced status code per recipient, a reason, and the one decision
that matters for a prospect list: *hard* (the address is gone, prune it) or *soft* (temporary or
policy failure, keep it). Only reasons that mean the address or its domain no longer exists are
hard; a spam block or a full mailbox says nothing about the address.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from email.message import Message

from flufl.bounce import all_failures

from engine.classify.parse import (
    MAX_TEXT_BYTES,
    header_text,
    part_text,
    sender_address,
)
from engine.classify.result import Bounce, BounceKind, BounceRecipient

# Reasons, checked in this order against the error text; the first match wins. Specific
# wording comes before generic wording ("mailbox full" before "rejected").
REASON_PATTERNS: tuple[tuple[str, str], ...] = (
    (
        "mailbox full",
        r"mailbox (is )?full|over ?quota|quota exceeded|exceeded (the )?(storage|"
        r"mailbox|disk)|insufficient (system )?storage|mailbox size limit|user is over|"
        r"full mailbox|too many messages|out of storage|mail ?box (has )?exceeded|"
        r"account is full|disk quota",
    ),
    (
        "message too big",
        r"message (size )?(is )?(too (big|large)|exceeds)|size limit|"
        r"exceeds (the )?(maximum|size)|message length exceeds|mail size|too large",
    ),
    (
        "host unknown",
        r"host (or domain name )?not found|host ?unknown|unknown host|"
        r"domain (name )?not found|no such domain|domain (does not|doesn't) exist|"
        r"unrouteable (mail )?domain|name service error|nxdomain|no mx|mx (record )?not found|"
        r"dns (error|lookup failed)|unknown domain|invalid domain|domain is not (valid|"
        r"configured)|unresolvable|bad destination (mailbox|host|system)|"
        r"unable to resolve|unknown mail domain|domain .{0,40}not (exist|found)",
    ),
    ("not accepting mail", r"does not accept (e-?)?mail|null mx|not accepting (e-?)?mail"),
    (
        "moved",
        r"user has moved|address (has )?changed|moved to|no longer (at|available at) "
        r"this (address|domain)",
    ),
    (
        "user unknown",
        r"user ?unknown|unknown (user|recipient|address|local.?part|mailbox)|"
        r"no such (user|recipient|mailbox|address|person|account)|"
        r"(user|mailbox|recipient|address|account|e-?mail)( address)? (does not|doesn't|did not) "
        r"exist|not (a )?(valid|known) (user|recipient|mailbox|"
        r"address)|invalid (recipient|mailbox|user|address)|"
        r"mailbox (is )?(not found|not available)|user not found|"
        r"recipient not found|no mailbox|unknown account|address (is )?(unknown|invalid)|"
        r"not our customer|no longer (valid|active|exists)|account (has been )?(closed|"
        r"removed|deleted)|(user|mailbox|account) (is )?(disabled|deactivated|inactive|"
        r"unavailable)|user (is )?(not )?(here|found)|undeliverable address|"
        r"addressee unknown|mailbox unknown|bad recipient|invalid address|"
        r"unknown or illegal alias|no such local user|is not a valid mailbox|"
        r"not found in (the )?directory|couldn't be found|could not be found|"
        r"the email account that you tried to reach does not exist|"
        r"user doesn't have|recipient unknown|rejected: user|not recognized|not recognised|"
        r"invalid (final )?(delivery )?userid|invalid user",
    ),
    (
        "expired",
        r"retry time(out)? exceeded|delivery time ?expired|message expired|"
        r"could not be delivered for \d+|has been delayed.*(giving up|final)|"
        r"unable to deliver.*(within|for) \d+ (hours|days)|too long in (the )?queue|"
        r"(message|mail) (was )?(not delivered|undeliverable) (after|within)|queue ?time|"
        r"retry timeout|delivery (attempts|period) (will stop|has expired)|"
        r"been unable to deliver.*(days|hours)|delivery expired|envelope expired",
    ),
    (
        "spam block",
        r"spam|blacklist|blocklist|block ?list|black ?list|dnsbl|rbl|"
        r"reputation|junk|bulk mail|virus|malware|content (rejected|filter)|"
        r"blocked|listed (in|at|on)|poor reputation|suspicious",
    ),
    (
        "policy",
        r"policy|not (authorized|permitted|allowed)|access denied|relay(ing)? "
        r"(denied|not permitted|access)|authenti|spf|dkim|dmarc|ptr|reverse dns|"
        r"rejected|refused|denied|prohibited|tls|starttls|rate limit|too many|"
        r"try again later|greylist|temporar(il)?y (rejected|deferred)",
    ),
    (
        "network",
        r"connection (timed out|refused|reset|lost|closed)|network|timed out|"
        r"no route to host|could not connect|unable to connect|lost connection|"
        r"host unreachable|connect to .* failed|conversation with .* timed out",
    ),
    (
        "system error",
        r"system error|internal error|local error|mail system|"
        r"loop(s)? (back|detected)|too many hops|mailer error|configuration error|"
        r"server error|i/o error|temporary failure|resources",
    ),
)
HARD_REASONS = frozenset({"user unknown", "host unknown", "not accepting mail", "moved"})

# Enhanced status codes (RFC 3463) for when the words say nothing useful.
STATUS_REASONS: dict[str, str] = {
    "1.1": "user unknown",
    "1.0": "user unknown",
    "1.2": "host unknown",
    "1.3": "user unknown",
    "1.6": "moved",
    "1.10": "not accepting mail",
    "2.2": "mailbox full",
    "2.3": "message too big",
    "3.4": "message too big",
    "3.1": "system error",
    "4.1": "network",
    "4.2": "network",
    "4.4": "host unknown",
    "4.6": "system error",
    "4.7": "expired",
    "5.0": "system error",
    "7.0": "policy",
    "7.1": "policy",
    "7.26": "policy",
    "7.27": "not accepting mail",
}

_STATUS_CODE = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+", re.ASCII)
_DSN_FIELD = re.compile(
    r"^(Final-Recipient|Original-Recipient|Action|Status|Diagnostic-Code|X-Actual-Recipient)"
    r"\s*:\s*(.*(?:\n[ \t].*)*)",
    re.IGNORECASE | re.MULTILINE,
)
_BOUNCE_SENDER = re.compile(
    r"mailer[- ]?daemon|post_?master|mail delivery|no-?reply|^\s*<>\s*$|"
    r"mail ?administrator|mailadmin|"
    r"delivery (subsystem|system|status)|bounce|nobody@|mail system|mail-?router|"
    r"abuse@|notifications?@|devnull",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery (status notification|failure|has failed|problem|failed|"
    r"report|notification)|returned mail|failure notice|mail delivery fail|"
    r"could not (be delivered|send)|non.?deliver|nondeliverable|delivery incomplete|"
    r"mail system error|returned to sender|unable to deliver|not delivered|"
    r"warning: (message|could not)|delayed mail|delivery delayed|rejected|"
    r"mail failure|message you sent (bounced|blocked)|bounce|error sending|"
    r"permanent (error|failure)|temporary failure|delivery notification|"
    r"unzustellbar|non remis|no se puede entregar|未送达|退信|系统退信|エラー|error|"
    r"not (a )?member",
    re.IGNORECASE,
)
_BOUNCE_BODY = re.compile(
    r"(could not|couldn't|was not|wasn't|cannot|can't|unable to) (be )?deliver|"
    r"delivery (to the following|has failed|failed)|permanent(ly)? (error|fatal|failure)|"
    r"undeliverable|returned to (the )?sender|following (address|recipient)s? failed|"
    r"message (was|has been) (rejected|blocked|bounced)|delivery status notification|"
    r"mail delivery (failed|subsystem)|this is the mail system at|"
    r"the following addresses had permanent|i'm sorry to have to inform you|"
    r"not be delivered|failed recipient|remote host said|smtp error|"
    r"was undeliverable|delivery report|message could not be sent|"
    r"address(es)? (failed|rejected)|i'm afraid i wasn't able|"
    r"your message (to|was|did not|couldn't|cannot)|delivery to .{1,80} failed|"
    r"transcript of session|error (has )?occurred while attempting to deliver|"
    r"not a member of|invalid user address|no such user",
    re.IGNORECASE,
)
_IGNORED_LOCALPARTS = re.compile(
    r"^(mailer-daemon|postmaster|root|nobody|noreply|no-reply|bounces?|abuse|"
    r"double-bounce|mail-daemon|daemon)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DeliveryReport:
    """What a delivery report says: a bounce, a complaint, or a success notice."""

    bounce: Bounce | None = None
    complaint: bool = False
    delivered: bool = False


def read_delivery_report(msg: Message, body: str) -> DeliveryReport | None:
    """The delivery report this message is, or None for an ordinary message."""
    if _is_complaint(msg):
        return DeliveryReport(complaint=True)
    report_text = _report_text(msg)
    fields = _dsn_recipients(report_text)
    actions = {field.action for field in fields if field.action}
    if fields and actions and actions <= {"delivered", "relayed", "expanded"}:
        return DeliveryReport(delivered=True)
    if _looks_like_success(msg) and not fields:
        return DeliveryReport(delivered=True)
    ses = _amazon_ses_notification(body)
    if ses is not None:
        return ses
    failures = _flufl_failures(msg)
    if not (fields or failures or _looks_like_bounce(msg, body)):
        return None
    recipients = _recipients(msg, fields, failures, report_text)
    error_text = " ".join(f.diagnostic for f in fields) + "\n" + report_text
    statuses = [r.status for r in recipients]
    reasons = [_reason(f.diagnostic, f.status) for f in fields if f.diagnostic or f.status]
    if not reasons:
        reasons = [_reason(error_text, next((s for s in statuses if s), None))]
    kind = BounceKind.HARD if any(r in HARD_REASONS for r in reasons) else BounceKind.SOFT
    reason = next((r for r in reasons if r in HARD_REASONS), reasons[0])
    return DeliveryReport(bounce=Bounce(kind=kind, reason=reason, recipients=tuple(recipients)))


# -- what kind of report --------------------------------------------------------------------


def _is_complaint(msg: Message) -> bool:
    """An ARF (RFC 5965) feedback report: someone marked our mail as spam."""
    for part in msg.walk():
        content_type = part.get_content_type()
        if content_type == "message/feedback-report":
            return True
        if content_type == "multipart/report":
            report_type = str(part.get_param("report-type", "") or "").lower()
            if report_type == "feedback-report":
                return True
    return header_text(msg, "Feedback-Type") != ""


def _looks_like_success(msg: Message) -> bool:
    subject = header_text(msg, "Subject").lower()
    return bool(
        re.search(
            r"\b(delivered|delivery status notification \(success\)|"
            r"successful mail delivery)",
            subject,
        )
    )


def _looks_like_bounce(msg: Message, body: str) -> bool:
    if header_text(msg, "X-Failed-Recipients"):
        return True
    for part in msg.walk():
        if part.get_content_type() == "message/delivery-status":
            return True
    sender = header_text(msg, "From")
    subject = header_text(msg, "Subject")
    head = body[:8000]
    sender_hit = bool(_BOUNCE_SENDER.search(sender)) or not sender
    subject_hit = bool(_BOUNCE_SUBJECT.search(subject))
    body_hit = bool(_BOUNCE_BODY.search(head))
    return (sender_hit and (subject_hit or body_hit)) or (subject_hit and body_hit)


def _amazon_ses_notification(body: str) -> DeliveryReport | None:
    """Amazon SES bounce or complaint notifications sent as JSON."""
    if '"notificationType"' not in body and '"eventType"' not in body:
        return None
    start = body.find("{")
    try:
        data = json.loads(body[start : body.rfind("}") + 1])
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("Message"), str):  # wrapped in an SNS envelope
        try:
            data = json.loads(data["Message"])
        except ValueError:
            return None
    kind = str(data.get("notificationType") or data.get("eventType") or "")
    if kind == "Complaint":
        return DeliveryReport(complaint=True)
    if kind == "Delivery":
        return DeliveryReport(delivered=True)
    bounce = data.get("bounce")
    if kind != "Bounce" or not isinstance(bounce, dict):
        return None
    recipients: list[BounceRecipient] = []
    reasons: list[str] = []
    for row in bounce.get("bouncedRecipients", []):
        if not isinstance(row, dict) or "@" not in str(row.get("emailAddress", "")):
            continue
        address = _bare_address(str(row["emailAddress"]))
        diagnostic = str(row.get("diagnosticCode", ""))
        status = _status_from(str(row.get("status", ""))) or _status_from(diagnostic)
        recipients.append(BounceRecipient(address, status))
        reasons.append(_reason(diagnostic, status))
    if not reasons:
        reasons = ["system error"]
    hard = any(r in HARD_REASONS for r in reasons)
    reason = next((r for r in reasons if r in HARD_REASONS), reasons[0])
    kind_ = BounceKind.HARD if hard else BounceKind.SOFT
    return DeliveryReport(bounce=Bounce(kind=kind_, reason=reason, recipients=tuple(recipients)))


# -- recipients and their status -------------------------------------------------------------


@dataclass
class _DsnRecipient:
    address: str
    status: str | None = None
    action: str = ""
    diagnostic: str = ""


def _report_text(msg: Message) -> str:
    """Text of the report's own parts (not the returned original), bounded."""
    chunks: list[str] = []
    size = 0
    for part in _report_parts(msg):
        text = _part_as_text(part)
        chunks.append(text)
        size += len(text)
        if size > MAX_TEXT_BYTES * 2:
            break
    return "\n".join(chunks)


def _report_parts(msg: Message) -> list[Message]:
    parts: list[Message] = []
    stack = [msg]
    while stack and len(parts) < 50:
        part = stack.pop(0)
        content_type = part.get_content_type()
        if content_type in ("message/rfc822", "text/rfc822-headers"):
            continue  # the returned original: its addresses are ours, not the failures
        if content_type == "message/delivery-status" or not part.is_multipart():
            parts.append(part)
            continue
        payload = part.get_payload()
        if isinstance(payload, list):
            stack.extend(p for p in payload if isinstance(p, Message))
    return parts


def _part_as_text(part: Message) -> str:
    if part.get_content_type() == "message/delivery-status":
        payload = part.get_payload()
        if isinstance(payload, list):  # parsed into header blocks by the email package
            return "\n\n".join(_header_block(b) for b in payload if isinstance(b, Message))
    return part_text(part)


def _header_block(block: Message) -> str:
    lines = []
    for key, value in block.raw_items():
        text = value if isinstance(value, str) else str(value)
        lines.append(f"{key}: {text}")
    return "\n".join(lines)


def _dsn_recipients(text: str) -> list[_DsnRecipient]:
    """Per-recipient fields of every delivery-status block in the text."""
    recipients: list[_DsnRecipient] = []
    current: _DsnRecipient | None = None
    for match in _DSN_FIELD.finditer(text):
        name = match.group(1).lower()
        value = " ".join(match.group(2).split())
        if name in ("final-recipient", "x-actual-recipient"):
            if name == "x-actual-recipient" and current is not None:
                continue
            address = _bare_address(value.split(";", 1)[-1])
            if "@" not in address:
                continue
            current = _DsnRecipient(address)
            recipients.append(current)
        elif name == "original-recipient":
            if current is None or current.status or current.action:
                address = _bare_address(value.split(";", 1)[-1])
                if "@" in address and not any(r.address == address for r in recipients):
                    current = _DsnRecipient(address)
                    recipients.append(current)
        elif current is None:
            continue
        elif name == "action":
            current.action = value.lower().split()[0] if value else ""
        elif name == "status":
            current.status = _status_from(value)
        elif name == "diagnostic-code":
            current.diagnostic = value.split(";", 1)[-1]
    for recipient in recipients:  # a generic status hides the specific one in the diagnostic
        specific = _status_from(recipient.diagnostic)
        if specific and (recipient.status is None or recipient.status.endswith(".0.0")):
            recipient.status = specific
    return recipients


def _flufl_failures(msg: Message) -> list[str]:
    try:
        temporary, permanent = all_failures(msg)
    except Exception:  # flufl.bounce has heuristics that trip on odd input
        return []
    addresses = []
    for raw in [*permanent, *temporary]:
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        address = _bare_address(text)
        if "@" in address and address not in addresses:
            addresses.append(address)
    return addresses


def _recipients(
    msg: Message, fields: list[_DsnRecipient], failures: list[str], report_text: str
) -> list[BounceRecipient]:
    own = sender_address(msg)
    found: dict[str, str | None] = {}
    for field in fields:
        found.setdefault(field.address, field.status)
    if not found:
        for address in _ADDRESS.findall(header_text(msg, "X-Failed-Recipients")):
            found.setdefault(address.lower(), None)
    if not found:
        for address in failures:
            found.setdefault(address, None)
    if not found:
        for address in _addresses_in_error_lines(report_text):
            if address != own:
                found.setdefault(address, None)
    if found:
        status_in_text = _status_from(report_text)
        for address, status in found.items():
            if status is None:
                found[address] = _status_near(address, report_text) or status_in_text
    return [BounceRecipient(address, status) for address, status in found.items()]


def _addresses_in_error_lines(text: str) -> list[str]:
    """Addresses a free-text bounce names, minus the daemons that sent it."""
    addresses = []
    for address in _ADDRESS.findall(text[:20000]):
        address = address.lower().strip(".")
        if _IGNORED_LOCALPARTS.match(address) or address in addresses:
            continue
        addresses.append(address)
    return addresses[:5]


def _status_near(address: str, text: str) -> str | None:
    index = text.lower().find(address)
    if index < 0:
        return None
    return _status_from(text[index : index + 600])


def _status_from(text: str) -> str | None:
    match = _STATUS_CODE.search(text)
    return ".".join(match.groups()) if match else None


def _bare_address(text: str) -> str:
    match = _ADDRESS.search(text)
    return match.group(0).lower().strip(".") if match else text.strip().strip("<>").lower()


# -- why it failed ----------------------------------------------------------------------------

_COMPILED_REASONS = tuple(
    (reason, re.compile(pattern, re.IGNORECASE)) for reason, pattern in REASON_PATTERNS
)


def _reason(text: str, status: str | None) -> str:
    """A reason from the error's words and enhanced status code.

    A specific status code is trusted first; a generic one (x.0.0, or none) leaves the words to
    decide. An unknown-user answer to the message *content* (after DATA) is a content filter
    rejecting us, not a missing mailbox, so it is not hard.
    """
    text = text[:20000]
    if _USER_UNKNOWN.search(text) and not _AFTER_DATA.search(text):
        return "user unknown"
    if status and status.split(".")[1] == "7" and not _NOT_ACCEPTING.search(text):
        return _soft_reason(text) or "policy"
    if _STATUS_7_IN_TEXT.search(text) and not _NOT_ACCEPTING.search(text):
        return _soft_reason(text) or "policy"
    from_status = _reason_from_status(status)
    reason = from_status if from_status and status and not status.endswith(".0.0") else None
    if reason is None or reason == "system error":
        reason = next((r for r, pattern in _COMPILED_REASONS if pattern.search(text)), None)
        reason = reason or from_status
    if reason in HARD_REASONS and _AFTER_DATA.search(text):
        return "content filter"
    if reason:
        return reason
    if status and status.startswith("4"):
        return "temporary failure"
    return "undetermined"


def _soft_reason(text: str) -> str | None:
    for reason, pattern in _COMPILED_REASONS:
        if reason not in HARD_REASONS and pattern.search(text):
            return reason
    return None


_USER_UNKNOWN = re.compile(dict(REASON_PATTERNS)["user unknown"], re.IGNORECASE)
_NOT_ACCEPTING = re.compile(r"does not accept (e-?)?mail|null mx|\b5\.7\.27\b", re.IGNORECASE)
_STATUS_7_IN_TEXT = re.compile(r"(?<![\d.])5\.7\.\d{1,3}(?![\d.])")
_AFTER_DATA = re.compile(
    r"end of data|after data|in reply to data|data command|"
    r"smtp command\s*:?\s*\n?\s*data\b|>>> data",
    re.IGNORECASE,
)


def _reason_from_status(status: str | None) -> str | None:
    if not status:
        return None
    _, subject, detail = status.split(".")
    return STATUS_REASONS.get(f"{subject}.{detail}")
