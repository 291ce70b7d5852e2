"""Email addresses: validation, the one normal form, and what kind of mailbox an address is.

The normal form is email-validator's normalisation (Unicode NFC, domain lower-cased and
IDNA-checked) with the local part lower-cased too. Local parts are case-sensitive in theory and
never in practice, and a CRM that holds `Jane@acme.com` and `jane@acme.com` holds one person twice.

Role addresses (`info@`, `sales@`...) reach a team, not a senior person, and disposable domains
reach nobody: both are imported but flagged. The disposable list is the `disposable-email-domains`
package (the community-kept blocklist); a short built-in list stands in if it is not installed.
Free-mail domains (gmail.com...) say nothing about a person's company, so they never make an
account.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import idna
from email_validator import EmailNotValidError, validate_email

try:
    from disposable_email_domains import blocklist as _DISPOSABLE_DOMAINS
except (
    ImportError
):  # pragma: no cover - the package is a dependency; this keeps a bare clone usable
    _DISPOSABLE_DOMAINS = {
        "mailinator.com", "guerrillamail.com", "10minutemail.com", "tempmail.com",
        "temp-mail.org", "yopmail.com", "trashmail.com", "sharklasers.com", "getnada.com",
        "dispostable.com", "maildrop.cc", "throwawaymail.com", "fakeinbox.com",
    }  # fmt: skip


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


ROLE_LOCAL_PARTS = _word_set(
    """
    abuse accounting accounts admin administrator all billing bookings careers contact
    contactus customercare customerservice enquiries enquiry everyone feedback finance hello
    help helpdesk hi hostmaster hr info inquiries inquiry invoices jobs legal mail marketing
    media news newsletter noreply no-reply office orders postmaster press privacy recruiting
    recruitment reservations sales security service support team webmaster
    """
)

FREE_MAIL_DOMAINS = _word_set(
    """
    gmail.com googlemail.com yahoo.com yahoo.co.uk yahoo.fr yahoo.de yahoo.co.jp ymail.com
    hotmail.com hotmail.co.uk hotmail.fr outlook.com live.com msn.com aol.com icloud.com me.com
    mac.com proton.me protonmail.com pm.me gmx.com gmx.de gmx.net web.de mail.com mail.ru
    yandex.ru yandex.com qq.com 163.com 126.com sina.com naver.com hanmail.net zoho.com
    fastmail.com tutanota.com hey.com comcast.net verizon.net att.net orange.fr free.fr
    laposte.net libero.it t-online.de seznam.cz rediffmail.com
    """
)


class AddressError(ValueError):
    """The text is not a usable email address; the message says why."""


@dataclass(frozen=True)
class Address:
    email: str  # the normal form, as stored
    local_part: str
    domain: str
    role: bool
    disposable: bool
    free_mail: bool


def parse_address(text: str, *, check_dns: bool = False) -> Address:
    """Validate and normalise; with `check_dns` the domain must also accept mail (network)."""
    try:
        checked = validate_email(text.strip(), check_deliverability=check_dns)
    except EmailNotValidError as exc:
        raise AddressError(str(exc)) from None
    local_part = checked.local_part.lower()
    domain = checked.domain.lower()
    return Address(
        email=f"{local_part}@{domain}",
        local_part=local_part,
        domain=domain,
        role=is_role_address(local_part),
        disposable=is_disposable_domain(domain),
        free_mail=domain in FREE_MAIL_DOMAINS,
    )


def normalise_email(text: str) -> str:
    """The normal form of a valid address, else the text trimmed and lower-cased.

    Lenient on purpose: suppression checks must never fail on a malformed address.
    """
    try:
        return parse_address(text).email
    except AddressError:
        return text.strip().lower()


def email_hash(text: str) -> str:
    """sha256 hex of the normal form: what is kept of a forgotten person."""
    return hashlib.sha256(normalise_email(text).encode("utf-8")).hexdigest()


def is_role_address(local_part: str) -> bool:
    base = local_part.lower().split("+", 1)[0]
    return base in ROLE_LOCAL_PARTS


def is_disposable_domain(domain: str) -> bool:
    return domain.lower() in _DISPOSABLE_DOMAINS


@dataclass(frozen=True)
class WireAddress:
    """An address as it goes over SMTP: the domain as IDNA A-labels (punycode), the local part as
    given. `utf8` says the local part is not ASCII, so the server must offer SMTPUTF8."""

    address: str
    utf8: bool


def wire_address(address: str) -> WireAddress:
    """`jörg@müller.de` -> (`jörg@xn--mller-kva.de`, utf8); raises AddressError when the domain
    has no IDNA form."""
    local_part, at, domain = address.strip().rpartition("@")
    if not at or not local_part or not domain:
        raise AddressError(f"not an address: {address!r}")
    return WireAddress(f"{local_part}@{ascii_domain(domain)}", not local_part.isascii())


def ascii_domain(domain: str) -> str:
    """The domain in ASCII: IDNA 2008 A-labels with UTS #46 mapping, as email-validator checks."""
    if domain.isascii():
        return domain
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise AddressError(f"the domain {domain!r} has no IDNA (punycode) form: {exc}") from None
