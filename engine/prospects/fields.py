"""The fields an import understands, how headers map to them, and how one row's values parse.

Headers are matched blind to case, spaces, underscores, hyphens and dots, so `First Name`,
`first_name` and `FIRSTNAME` are one field. Known fields and their accepted headers:

    email             email, e-mail, email address, mail, work email, business email
    first_name        first name, firstname, first, given name, forename
    last_name         last name, lastname, last, surname, family name
    full_name         name, full name, contact name (split into first/last when those are empty)
    title             title, job title, position, role
    seniority         seniority, level, seniority level (inferred from the title when empty)
    phone             phone, phone number, telephone, tel, mobile, direct dial
    company           company, company name, account, account name, organization, employer
    domain            domain, company domain, website, company website, url, web, site
    industry          industry, sector, vertical
    employees         employees, employee count, number of employees, company size, headcount
    revenue           revenue, annual revenue, company revenue
    country           country, country code (names and ISO codes; stored as the ISO code)
    region            region, state, province, state/province
    timezone          time zone, timezone, tz (an IANA name such as Europe/Paris)
    business_model    business model, model (b2b, b2c or agency)
    last_interaction  last interaction, last interaction date, last contacted, last activity
    owner             owner, contact owner, account owner, sales rep, rep, assigned to

Every other column is kept, under its header as written, in the prospect's custom fields. When two
columns map to one field, the first wins and the other is kept as a custom field.

Values: empty cells are "no value" and never erase what is already held. Numbers may carry
thousands separators, a currency sign and a k/M/B suffix (`1,200`, `$5M`, `2.5k`); a range such
as `51-200` counts as its lower bound and `10,000+` as 10000. Dates are ISO (`2024-03-01`, a time
may follow). A value that does not parse rejects the row, naming the column: a wrong number is
worse than none, because segments select on it.

Text values reach email headers and templates, so they are decoded then validated: an RFC 2047
encoded word (`=?utf-8?q?...?=`, which some mail libraries turn back into line breaks) is decoded
to plain text with a warning for the row, line breaks become spaces, and a name, title or company
over `MAX_TEXT` characters rejects the row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any

from engine.basics.headers import has_encoded_word, plain_header_text
from engine.prospects.addresses import Address, AddressError, parse_address
from engine.prospects.timezones import is_valid_timezone, normalise_country

FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "email": ("email", "e-mail", "email address", "mail", "work email", "business email"),
    "first_name": ("first name", "firstname", "first", "given name", "forename"),
    "last_name": ("last name", "lastname", "last", "surname", "family name"),
    "full_name": ("name", "full name", "contact name"),
    "title": ("title", "job title", "position", "role"),
    "seniority": ("seniority", "level", "seniority level"),
    "phone": ("phone", "phone number", "telephone", "tel", "mobile", "direct dial"),
    "company": (
        "company", "company name", "account", "account name", "organization",
        "organisation", "employer",
    ),
    "domain": (
        "domain", "company domain", "website", "company website", "url", "web", "site",
    ),
    "industry": ("industry", "sector", "vertical"),
    "employees": (
        "employees", "employee count", "number of employees", "no of employees",
        "company size", "headcount", "size",
    ),
    "revenue": ("revenue", "annual revenue", "company revenue"),
    "country": ("country", "country code"),
    "region": ("region", "state", "province", "state/province", "state or province"),
    "timezone": ("time zone", "timezone", "tz"),
    "business_model": ("business model", "model"),
    "last_interaction": (
        "last interaction", "last interaction date", "last contacted", "last contact",
        "last contact date", "last activity", "last activity date",
    ),
    "owner": ("owner", "contact owner", "account owner", "sales rep", "rep", "assigned to"),
}  # fmt: skip

BUSINESS_MODELS = frozenset({"b2b", "b2c", "agency"})

# Seniority as written in CRMs -> the few levels segments select on.
_SENIORITY_ALIASES = {
    "c-level": "c-level", "c level": "c-level", "clevel": "c-level", "c-suite": "c-level",
    "cxo": "c-level", "executive": "c-level", "owner": "c-level", "founder": "c-level",
    "vp": "vp", "vice president": "vp", "svp": "vp", "evp": "vp",
    "director": "director", "head": "head", "manager": "manager",
}  # fmt: skip
# Checked in order: "Vice President" must be seen before "President".
_SENIORITY_FROM_TITLE = (
    ("vp", re.compile(r"\b(vp|svp|evp|avp|vice[- ]president)\b", re.I)),
    (
        "c-level",
        re.compile(
            r"\b(chief|ceo|cfo|cto|coo|cmo|cro|cio|ciso|founder|co-founder|owner|president)\b",
            re.I,
        ),
    ),
    ("head", re.compile(r"\bhead\b", re.I)),
    ("director", re.compile(r"\bdirector\b", re.I)),
    ("manager", re.compile(r"\bmanager\b", re.I)),
)  # fmt: skip

MAX_TEXT = 200  # characters of a name, title or company: longer is junk or an attack
_BOUNDED = ("first_name", "last_name", "full_name", "title", "company")

_DOMAIN = re.compile(r"^(?:[\w-]+\.)+[\w-]{2,}$")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")
_AMOUNT = re.compile(
    r"^(?P<number>\d+(?:\.\d+)?)\s*(?P<suffix>k|thousand|m|mm|mn|million|b|bn|billion)?$"
)
_MULTIPLIERS = {
    None: 1, "k": 1e3, "thousand": 1e3, "m": 1e6, "mm": 1e6, "mn": 1e6, "million": 1e6,
    "b": 1e9, "bn": 1e9, "billion": 1e9,
}  # fmt: skip


class RowProblem(ValueError):
    """One value of a row does not parse; `field` is the column's field name."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass
class RawRow:
    """A row as read: known fields by field name (text), the rest by header."""

    line: int
    known: dict[str, str]
    custom: dict[str, Any] = field(default_factory=dict)


@dataclass
class ParsedRow:
    """A valid row: only the values it gives (None is never stored over a held value)."""

    line: int
    address: Address
    domain: str | None  # the account's key; None for free-mail without a company domain
    prospect: dict[str, Any]
    account: dict[str, Any]
    custom: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def header_key(header: str) -> str:
    return re.sub(r"[\s_\-./]+", "", header.strip().lower())


@cache
def field_for_header(header: str) -> str | None:
    """The known field a header names, or None for a custom column."""
    return _HEADER_INDEX.get(header_key(header))


_HEADER_INDEX = {header_key(a): name for name, aliases in FIELD_ALIASES.items() for a in aliases}


def map_headers(headers: list[str]) -> list[tuple[str, bool]]:
    """For each column: (field name, True) for a known field, else (custom key, False)."""
    mapping: list[tuple[str, bool]] = []
    seen: set[str] = set()
    for index, header in enumerate(headers):
        name = field_for_header(header)
        if name is not None and name not in seen:
            seen.add(name)
            mapping.append((name, True))
        else:
            mapping.append((header.strip() or f"column {index + 1}", False))
    return mapping


def is_blank(raw: RawRow) -> bool:
    return not any(v.strip() for v in raw.known.values()) and not any(
        str(v).strip() for v in raw.custom.values() if v is not None
    )


def parse_row(raw: RawRow, *, check_dns: bool = False) -> ParsedRow:
    """Validate and normalise one row; the first bad value raises `RowProblem`."""
    values = {k: v.strip() for k, v in raw.known.items() if v and v.strip()}
    if "email" not in values:
        raise RowProblem("email", "missing")
    if has_encoded_word(values["email"]):
        raise RowProblem("email", "holds an RFC 2047 encoded word (=?...?=)")
    warnings = _decode_text_values(values)
    try:
        address = parse_address(values["email"], check_dns=check_dns)
    except AddressError as exc:
        raise RowProblem("email", f"{values['email']!r} is not valid: {exc}") from None

    domain = parse_domain(values["domain"]) if "domain" in values else None
    if domain is None and not (address.free_mail or address.disposable):
        domain = address.domain

    first, last = values.get("first_name"), values.get("last_name")
    if "full_name" in values and not first and not last:
        first, _, last = values["full_name"].partition(" ")
    prospect: dict[str, Any] = {
        "first_name": first,
        "last_name": last.strip() if last else None,
        "title": values.get("title"),
        "seniority": parse_seniority(values.get("seniority"), values.get("title")),
        "phone": values.get("phone"),
        "country": normalise_country(values.get("country")),
        "region": values.get("region"),
        "timezone": _parse_timezone(values.get("timezone")),
        "last_interaction": _parse_date("last_interaction", values.get("last_interaction")),
        "owner": values.get("owner"),
        "role_address": address.role,
        "disposable": address.disposable,
    }
    account: dict[str, Any] = {
        "name": values.get("company"),
        "industry": values.get("industry"),
        "employees": _parse_count("employees", values.get("employees")),
        "revenue": _parse_amount("revenue", values.get("revenue")),
        "country": prospect["country"],
        "region": prospect["region"],
        "business_model": _parse_business_model(values.get("business_model")),
    }
    custom = {k: v for k, v in raw.custom.items() if v is not None and str(v).strip()}
    return ParsedRow(
        line=raw.line,
        address=address,
        domain=domain,
        prospect={k: v for k, v in prospect.items() if v is not None},
        account={k: v for k, v in account.items() if v is not None},
        custom=custom,
        warnings=warnings,
    )


def _decode_text_values(values: dict[str, str]) -> list[str]:
    """Decode encoded words and blank out line breaks in place; one warning per decoded field."""
    warnings: list[str] = []
    for name, value in values.items():
        if name == "email":
            continue
        if has_encoded_word(value):
            warnings.append(f"{name}: RFC 2047 encoded word decoded to plain text")
        values[name] = plain_header_text(value)
        if name in _BOUNDED and len(values[name]) > MAX_TEXT:
            raise RowProblem(name, f"longer than {MAX_TEXT} characters")
    return warnings


def parse_domain(text: str) -> str:
    """`https://www.Acme.com/about` -> `acme.com`."""
    domain = _SCHEME.sub("", text.strip().lower())
    domain = re.split(r"[/?#:]", domain, maxsplit=1)[0].strip(".")
    domain = domain.removeprefix("www.")
    if not _DOMAIN.match(domain):
        raise RowProblem("domain", f"{text!r} is not a domain or website")
    return domain


def parse_amount(text: str) -> float:
    """`$5M` -> 5000000.0, `1,200` -> 1200.0, `51-200` -> 51.0, `10,000+` -> 10000.0."""
    cleaned = text.strip().lower().replace(",", "").replace("_", "")
    cleaned = re.sub(r"^[$€£¥]|^(usd|eur|gbp)\s*|\s*(usd|eur|gbp)$", "", cleaned).strip()
    cleaned = re.split(r"\s*(?:-|–|to)\s*", cleaned, maxsplit=1)[0].rstrip("+").strip()
    match = _AMOUNT.match(cleaned)
    if not match:
        raise ValueError(f"{text!r} is not a number")
    return float(match["number"]) * _MULTIPLIERS[match["suffix"]]


def parse_seniority(seniority: str | None, title: str | None) -> str | None:
    if seniority:
        key = seniority.strip().lower()
        return _SENIORITY_ALIASES.get(key, key)
    if title:
        for level, pattern in _SENIORITY_FROM_TITLE:
            if pattern.search(title):
                return level
    return None


def _parse_amount(name: str, text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return parse_amount(text)
    except ValueError as exc:
        raise RowProblem(name, str(exc)) from None


def _parse_count(name: str, text: str | None) -> int | None:
    amount = _parse_amount(name, text)
    return None if amount is None else round(amount)


def _parse_date(name: str, text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        raise RowProblem(name, f"{text!r} is not a date (use YYYY-MM-DD)") from None


def _parse_timezone(text: str | None) -> str | None:
    if text is None:
        return None
    if not is_valid_timezone(text):
        raise RowProblem("timezone", f"{text!r} is not an IANA time zone (e.g. Europe/Paris)")
    return text


def _parse_business_model(text: str | None) -> str | None:
    if text is None:
        return None
    model = text.strip().lower()
    if model not in BUSINESS_MODELS:
        raise RowProblem("business_model", f"{text!r} is not one of b2b, b2c, agency")
    return model
