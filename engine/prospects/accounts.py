"""Account rules from the play: which accounts the config's red flags rule out.

Red flags apply to accounts still in `prospecting`: once the play has touched an account (engaged,
handed off) or a person has set its status, an import does not overrule them. Existing customers
become `customer` (more telling than `not-fit`; both are never enrolled), competitors and excluded
countries become `not-fit`. A listed domain covers its subdomains (`acme.com` covers `eu.acme.com`).
"""

from __future__ import annotations

from engine.config import RedFlags
from engine.prospects.timezones import country_code
from engine.store.models import AccountStatus


def red_flag(
    domain: str, country: str | None, red_flags: RedFlags
) -> tuple[AccountStatus, str] | None:
    """The status and reason the red flags give an account, or None when none applies."""
    if _listed(domain, red_flags.customer_domains):
        return AccountStatus.CUSTOMER, "existing customer (red_flags.customer_domains)"
    if _listed(domain, red_flags.competitor_domains):
        return AccountStatus.NOT_FIT, "competitor (red_flags.competitor_domains)"
    if country and _same_country(country, red_flags.excluded_countries):
        return (
            AccountStatus.NOT_FIT,
            f"country {country} is excluded (red_flags.excluded_countries)",
        )
    return None


def _listed(domain: str, listed: list[str]) -> bool:
    domain = domain.lower()
    for entry in listed:
        entry = entry.strip().lower().lstrip("@")
        if domain == entry or domain.endswith("." + entry):
            return True
    return False


def _same_country(country: str, excluded: list[str]) -> bool:
    code = country_code(country) or country.strip().lower()
    return any((country_code(e) or e.strip().lower()) == code for e in excluded)
