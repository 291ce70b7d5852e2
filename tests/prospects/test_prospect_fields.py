"""Pure parsing: headers, numbers, domains, seniority, time zones."""

from __future__ import annotations

import pytest

from engine.prospects.addresses import email_hash, parse_address
from engine.prospects.fields import field_for_header, parse_amount, parse_domain, parse_seniority
from engine.prospects.timezones import country_code, prospect_timezone, zone_for_place


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("E-mail", "email"),
        ("Email Address", "email"),
        ("first_name", "first_name"),
        ("FIRSTNAME", "first_name"),
        ("Company Name", "company"),
        ("Website", "domain"),
        ("Company Size", "employees"),
        ("TZ", "timezone"),
        ("Time Zone", "timezone"),
        ("State/Province", "region"),
        ("Favourite colour", None),
    ],
)
def test_headers(header: str, field: str | None) -> None:
    assert field_for_header(header) == field


@pytest.mark.parametrize(
    ("text", "value"),
    [("1,200", 1200), ("$5M", 5e6), ("2.5k", 2500), ("51-200", 51), ("10,000+", 10000),
     ("€1.2 billion", 1.2e9), ("USD 300", 300)],
)  # fmt: skip
def test_amounts(text: str, value: float) -> None:
    assert parse_amount(text) == value


@pytest.mark.parametrize("text", ["lots", "-5", "5 apples", ""])
def test_bad_amounts(text: str) -> None:
    with pytest.raises(ValueError, match="is not a number"):
        parse_amount(text)


def test_domains() -> None:
    assert parse_domain("https://www.Acme.com/about?x=1") == "acme.com"
    assert parse_domain("acme.co.uk:443") == "acme.co.uk"


def test_seniority() -> None:
    assert parse_seniority(None, "Vice President, Sales") == "vp"
    assert parse_seniority(None, "President") == "c-level"
    assert parse_seniority(None, "Head of Growth") == "head"
    assert parse_seniority("C-Suite", "whatever") == "c-level"
    assert parse_seniority(None, "Engineer") is None


def test_addresses() -> None:
    address = parse_address(" Sales+EU@Acme.COM ")
    assert (address.email, address.role, address.free_mail) == ("sales+eu@acme.com", True, False)
    assert parse_address("a@mailinator.com").disposable
    assert email_hash("A@acme.com") == email_hash("a@ACME.com")


def test_time_zones() -> None:
    assert country_code("United States") == country_code("usa") == "US"
    assert zone_for_place("US", "Texas") == "America/Chicago"
    assert zone_for_place("Australia", "WA") == "Australia/Perth"
    assert zone_for_place("Canada") == "America/Toronto"
    assert zone_for_place("Japan") == "Asia/Tokyo"
    assert zone_for_place("Atlantis") is None
    assert prospect_timezone(None, [(None, None), ("FR", None)], "UTC") == "Europe/Paris"
    assert prospect_timezone("Asia/Kolkata", [("FR", None)], "UTC") == "Asia/Kolkata"
    assert prospect_timezone(None, [], "America/New_York") == "America/New_York"
