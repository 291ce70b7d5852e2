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
        "suspended",
        # The mailbox exists but is switched off for now (Sisimai's "suspend"): not hard.
        r"suspended|temporar(il)?y locked|"
        r"(account|mailbox|user)(\(s\))?( account)? (is |has been )?"
        r"(disabled|deactivated|inactive|frozen|locked)|inactive (account|user|mailbox)|"
        r"(account|mailbox) disabled|deactivated mailbox|archived recipient",
    ),
    (
        "mailer error",
        # The local delivery program (procmail, a pipe) failed, not the address.
        r"command output:|procmail:|command (died|failed)|mail(er|drop)? program failed|"
        r"exit(ed)? (with )?(status|code) \d",
    ),
    (
        "dns failure",
        # A DNS answer that failed for now (SERVFAIL, "try again") is not a missing domain.
        r"host not found, try again|name server reply|servfail|temporary (dns|name ?server|"
        r"lookup) (failure|error)|dns (timeout|temporary)",
    ),
    (
        "host unknown",
        r"host (or domain name )?not found|host ?unknown|unknown host|"
        r"domain (name )?not found|no such domain|domain (does not|doesn't) exist|"
        r"unrouteable (mail )?domain|unrouteable address|nxdomain|"
        r"\b[45]\d\d\s+[a-z0-9-]+(\.[a-z0-9-]+)+\.? does not exist|domain (is )?not reachable|"
        r"no mx|mx (record )?not found|"
        r"dns (error|lookup failed)|unknown domain|invalid domain|domain is not (valid|"
        r"configured)|unresolvable|bad destination (mailbox|host|system)|"
        r"unable to resolve|unknown mail domain|domain .{0,40}not (exist|found)",
    ),
    (
        "not accepting mail",
        # RFC 7505 null MX, and Exim's wording for a domain whose MX says "no SMTP here".
        r"does not accept (e-?)?mail|null mx|not accepting (e-?)?mail|"
        r"(mx|srv) record indicated no smtp service",
    ),
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
        r"removed|deleted)|(user|mailbox|account) (is )?unavailable|"
        r"user (is )?(not )?(here|found)|undeliverable address|"
        r"addressee unknown|mailbox unknown|bad recipient|invalid address|"
        r"unknown or illegal alias|no such local user|is not a valid mailbox|"
        r"not found in (the )?directory|couldn't be found|could not be found|"
        r"the email account that you tried to reach does not exist|"
        r"user doesn't have|recipient unknown|rejected: user|not recognized|not recognised|"
        r"invalid (final )?(delivery )?userid|invalid user|no valid recipients?|"
        # Lotus Notes / Domino: the directory has no such person.
        r"not listed in (the )?(domino directory|(public )?name (&|and) address book)",
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

# Failure codes only (a 2.x.x is a success); not a version number such as "v4.6.1".
_STATUS_CODE = re.compile(r"(?<![\w.])([45])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
# Where a plain-text report starts quoting the returned message: its words are not the error.
_RETURNED_MESSAGE = re.compile(
    r"^[ \t]*-{2,}[ \t]*(this is a copy of the message|returned message|below this line is a "
    r"copy|original message (follows|is following|headers)|the header of the original|"
    r"original message)|^[ \t]*original message:\s*$",
    re.IGNORECASE | re.MULTILINE,
)
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
_REPORT_TYPES = ("multipart/report", "message/delivery-status")
_SES_TYPE = re.compile(r'"(?:notificationType|eventType)"\s*:\s*"(\w+)"')
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
    for nested in _returned_reports(msg):  # a bounce of a bounce: both failed
        nested_fields = _dsn_recipients(_report_text(nested))
        fields += [f for f in nested_fields if all(f.address != g.address for g in fields)]
    actions = {field.action for field in fields if field.action}
    if fields and actions and actions <= {"delivered", "relayed", "expanded"}:
        return DeliveryReport(delivered=True)
    if _looks_like_success(msg) and not fields:
        return DeliveryReport(delivered=True)
    ses = _amazon_ses_notification(body)
    if ses is not None:
        return ses
    # flufl.bounce's heuristic detectors match loose patterns (LLNL takes any address between
    # commas), so on a person's reply they would turn a referred colleague into a failed address.
    failures = _flufl_failures(msg) if _written_by_a_mailer(msg, body) else []
    if not (fields or failures or _looks_like_bounce(msg, body)):
        return None
    recipients = _recipients(msg, fields, failures, report_text)
    error_text = " ".join(f.diagnostic for f in fields) + "\n" + report_text
    statuses = [r.status for r in recipients]
    command = failed_command(report_text)
    gateway = is_filtering_gateway(msg)
    alone = len(recipients) <= 1
    reasons = [
        _reason(
            f.diagnostic or (report_text if alone else _lines_about(f.address, report_text)),
            f.status,
            command,
            gateway,
        )
        for f in fields
        if f.diagnostic or f.status
    ]
    if not reasons and not alone:  # a free-text report: each address's own lines
        for r in recipients:
            lines = _lines_about(r.address, report_text)
            if lines:
                reasons.append(_reason(lines, r.status, command, gateway))
    if not reasons:
        first_status = next((s for s in statuses if s), None)
        reasons = [_reason(error_text, first_status, command, gateway)]
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


def _written_by_a_mailer(msg: Message, body: str) -> bool:
    """Any one sign that a mail system, not a person, wrote this message.

    Weaker than `_looks_like_bounce` (which wants two signs): it only decides whether
    flufl.bounce's findings may be believed. Its structural detectors (RFC 3464 parts, Exim's
    X-Failed-Recipients, Sina's MAILER-DAEMON sender) need one of these signs to fire at all; its
    heuristic detectors fire on any text and must not be believed on a person's reply.
    """
    if header_text(msg, "X-Failed-Recipients"):
        return True
    if any(part.get_content_type() in _REPORT_TYPES for part in msg.walk()):
        return True
    auto_submitted = header_text(msg, "Auto-Submitted").lower()
    # "auto-replied" is also what an out-of-office responder sends (RFC 3834), and an
    # out-of-office names colleagues' addresses. MTAs that mark their bounces "auto-replied"
    # (Exim, Postfix) still show by their MAILER-DAEMON sender or their subject.
    if auto_submitted and not auto_submitted.startswith(("no", "auto-replied")):
        return True
    sender = header_text(msg, "From")
    return (
        not sender
        or bool(_BOUNCE_SENDER.search(sender))
        or bool(_BOUNCE_SUBJECT.search(header_text(msg, "Subject")))
        or bool(_BOUNCE_BODY.search(body[:8000]))
    )


def _amazon_ses_notification(body: str) -> DeliveryReport | None:
    """Amazon SES bounce or complaint notifications sent as JSON."""
    if '"notificationType"' not in body and '"eventType"' not in body:
        return None
    start = body.find("{")
    try:
        data = json.loads(body[start : body.rfind("}") + 1])
    except ValueError:  # truncated or re-wrapped JSON: the notification type still tells
        seen = _SES_TYPE.search(body)
        if seen and seen.group(1) == "Complaint":
            return DeliveryReport(complaint=True)
        if seen and seen.group(1) == "Delivery":
            return DeliveryReport(delivered=True)
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
        cut = _RETURNED_MESSAGE.search(text)
        if cut and cut.start() > 0:
            text = text[: cut.start()]
        chunks.append(text)
        size += len(text)
        if size > MAX_TEXT_BYTES * 2:
            break
    return "\n".join(chunks)


def _returned_reports(msg: Message) -> list[Message]:
    """Returned messages that are themselves delivery reports (a forwarded or double bounce)."""
    found: list[Message] = []
    for part in msg.walk():
        if part.get_content_type() != "message/rfc822" or len(found) >= 2:
            continue
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if isinstance(inner, Message) and any(
            p.get_content_type() == "message/delivery-status" for p in inner.walk()
        ):
            found.append(inner)
    return found


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
    # flufl.bounce answers with sets: sort them, or the order (and so the result) would change
    # with Python's hash seed from one run to the next.
    for raw in [*sorted(permanent), *sorted(temporary)]:
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


def _lines_about(address: str, text: str) -> str:
    """The free-text error lines naming an address, for a status block with no diagnostic."""
    lines = text.splitlines()
    found = []
    for index, line in enumerate(lines):
        if address in line.lower() and not _DSN_FIELD.match(line):
            found.append(line)
            # the error often follows on the next lines: indented, or not naming an address
            for follow in lines[index + 1 : index + 3]:
                if not follow.strip() or _ADDRESS.search(follow):
                    break
                found.append(follow)
    return "\n".join(found)


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


def _reason(
    text: str, status: str | None, command: str = "", filtering_gateway: bool = False
) -> str:
    """A reason from the error's words, enhanced status code and the SMTP command it answered.

    This follows Sisimai's reasoning. Words that say the mailbox exists but cannot take mail
    (full, too big, suspended, a failing delivery program) come first, whatever the code says.
    "User unknown" words are hard when the code names a bad mailbox (x.1.1, x.1.3-5), when the
    refusal answered RCPT TO, or when nothing says otherwise. They are a filter turning the
    message away ("content filter", soft) when given after DATA (the recipient was accepted),
    when the server's own code names something else (mailbox status x.2.x, system x.3.x,
    network x.4.x, content x.6.x, security x.7.x), or when the report comes from a filtering
    gateway, which answers "user unknown" to content it does not want.
    """
    text = text[:20000]
    status = _specific_status(text, status)
    for name, pattern in _COMPILED_REASONS:
        if name in _BEFORE_USER_UNKNOWN and pattern.search(text):
            return name
    if status in _SENDER_STATUSES or command == "MAIL":
        return "rejected"  # our own (envelope sender) address was refused, not theirs
    if _NOT_ACCEPTING.search(text):
        return "not accepting mail"
    if _DIRECTORY_EDGE_BLOCK.search(text) and not (status or "").startswith("4"):
        return "user unknown"
    if _USER_UNKNOWN.search(text):
        if status and status.startswith("4") and _status_tail(status) not in _MAILBOX_STATUSES:
            return "temporary failure"
        by_status = _reason_from_status(status)
        if by_status in HARD_REASONS and by_status != "user unknown":
            return by_status  # x.1.6 moved, x.1.2 host unknown: the code is more precise
        if _status_tail(status) in _MAILBOX_STATUSES or command == "RCPT":
            return "user unknown"
        if command in ("DATA", "MAIL") or filtering_gateway or _contradicts(status):
            return "content filter"
        return "user unknown"
    if status and status.split(".")[1] == "7":
        return _soft_reason(text) or "policy"
    if _STATUS_7_IN_TEXT.search(text):
        return _soft_reason(text) or "policy"
    from_status = _reason_from_status(status)
    reason = from_status if from_status and status and not status.endswith(".0.0") else None
    if reason is None or reason == "system error":
        reason = next((r for r, pattern in _COMPILED_REASONS if pattern.search(text)), None)
        reason = reason or from_status
    if reason in HARD_REASONS and status and status.startswith("4"):
        return "temporary failure"  # a 4.x.x answer is by definition not permanent
    if reason:
        return reason
    if status and status.startswith("4"):
        return "temporary failure"
    return "undetermined"


def _status_tail(status: str | None) -> str:
    return status.split(".", 1)[1] if status else ""


def _contradicts(status: str | None) -> bool:
    """A specific code whose subject is not the address (RFC 3463 X.2-X.4, X.6, X.7)."""
    if not status or status.endswith(".0.0"):
        return False
    return status.split(".")[1] in ("2", "3", "4", "6", "7")


def is_filtering_gateway(msg: Message) -> bool:
    """The report was written by an anti-spam / content-filtering gateway, not a mail store."""
    for name, value in msg.items()[:60]:  # the report's own headers, not the returned original
        # Received lines and spam/virus verdicts come from the hops that carried the report
        # to us (often our own gateway), not from its author.
        if name.lower() == "received" or re.search(r"spam|virus", name, re.IGNORECASE):
            continue
        if _FILTERING_GATEWAY.search(f"{name}: {value}"):
            return True
    return False


def _specific_status(text: str, status: str | None) -> str | None:
    """The status to trust: a generic one (x.0.0, 5.1.0) gives way to the last code in the text.

    Relays wrap the remote answer in their own code ("5.1.0 - Unknown address error
    550-'5.2.2 ... Mailbox Full'"); the innermost, last code is the remote server's own.
    """
    if status and not status.endswith(".0.0") and status != "5.1.0":
        return status
    codes = [".".join(m.groups()) for m in _STATUS_CODE.finditer(text[:2000])]
    specific = [c for c in codes if not c.endswith(".0.0")]
    return specific[-1] if specific else status


def failed_command(text: str) -> str:
    """The SMTP command the error was given to: RCPT, DATA, MAIL or "".

    Measured from the "user unknown" words when there are some, else from the error replies.
    """
    anchors = [m.start() for m in _USER_UNKNOWN.finditer(text[:40000])]
    anchors = anchors or [m.start() for m in _ERROR_REPLY.finditer(text[:40000])]
    if not anchors:
        return ""
    best, distance = "", 600
    for match in _COMMAND.finditer(text[:40000]):
        gap = min(abs(match.start() - a) for a in anchors)
        if gap < distance:
            word = next(g for g in match.groups() if g).lower()
            best, distance = (
                ("RCPT" if "rcpt" in word else "MAIL" if "mail" in word else "DATA"),
                gap,
            )
    return best


def _soft_reason(text: str) -> str | None:
    for reason, pattern in _COMPILED_REASONS:
        if reason not in HARD_REASONS and pattern.search(text):
            return reason
    return None


_USER_UNKNOWN = re.compile(dict(REASON_PATTERNS)["user unknown"], re.IGNORECASE)
_NOT_ACCEPTING = re.compile(r"does not accept (e-?)?mail|null mx|\b5\.7\.27\b", re.IGNORECASE)
_STATUS_7_IN_TEXT = re.compile(r"(?<![\d.])5\.7\.\d{1,3}(?![\d.])")
# Reasons that win over "user unknown" words (Sisimai checks them first).
_BEFORE_USER_UNKNOWN = frozenset(
    {"mailbox full", "message too big", "suspended", "mailer error", "dns failure"}
)
# Codes that name the recipient's mailbox as bad (RFC 3463 X.1.1, X.1.3-5).
_MAILBOX_STATUSES = frozenset({"1.1", "1.3", "1.4", "1.5"})
# X.1.7 / X.1.8: the *sender's* address was refused.
_SENDER_STATUSES = frozenset({"5.1.7", "5.1.8", "4.1.7", "4.1.8"})
# Exchange Online's directory-based edge blocking refuses unknown recipients this way.
_DIRECTORY_EDGE_BLOCK = re.compile(r"recipient address rejected:\s*access denied", re.IGNORECASE)
# Anti-spam and content-filtering gateways (by product name, as they sign their reports).
_FILTERING_GATEWAY = re.compile(
    r"mcafee|mxlogic|surfcontrol|mailfoundry|activehunter|barracuda|proofpoint|ironport|"
    r"messagelabs|mimecast|sophos|interscan|fortimail|spamtitan|mailmarshal",
    re.IGNORECASE,
)
_ERROR_REPLY = re.compile(r"(?<![\w.])[45]\d\d(?=[ -])")
# Where a session transcript says which command an answer was given to.
_COMMAND = re.compile(
    r"in reply to (?:end of )?(data|rcpt to|mail from)|after (?:end of )?(data|rcpt to|mail from)|"
    r">>>\s*(data|rcpt to|mail from)|\[(rcpt_to|data|mail_from)\]|"
    r"smtp command\s*:?\s*(data|rcpt to|mail from)|\bin:\s+(data|rcpt to|mail from)|"
    r"smtp:(rcpt|data|mail)\b|most progress was (rcpt) to|said \d{3} for (rcpt) to",
    re.IGNORECASE,
)


def _reason_from_status(status: str | None) -> str | None:
    if not status:
        return None
    _, subject, detail = status.split(".")
    return STATUS_REASONS.get(f"{subject}.{detail}")
