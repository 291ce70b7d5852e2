"""Countries, regions and the IANA time zone a prospect is reached in.

A prospect's zone comes from its own `timezone` field, else from where it is (its own country and
region, then its account's), else from the config's default zone. Sends are timed in that zone.

The source for countries is the tz database itself, as shipped by the `tzdata` package Spear
already depends on: `iso3166.tab` (codes and names) and `zone.tab` (the zones of each country).
A country with one zone gets that zone. For countries spanning several zones, `zone.tab` lists
them in no useful order (Australia starts with Lord Howe Island), so the few that matter get their
main business zone below, and the US, Canadian and Australian states get their own zones.
"""

from __future__ import annotations

import importlib.resources
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# The business centre of countries whose first zone in zone.tab is a poor default.
_MAIN_ZONE = {
    "AU": "Australia/Sydney",
    "BR": "America/Sao_Paulo",
    "CA": "America/Toronto",
    "RU": "Europe/Moscow",
    "UA": "Europe/Kyiv",
    "UZ": "Asia/Tashkent",
}

# Common ways of writing a country that iso3166.tab does not use.
_COUNTRY_ALIASES = {
    "usa": "US",
    "u.s.": "US",
    "u.s.a.": "US",
    "america": "US",
    "united states of america": "US",
    "uk": "GB",
    "u.k.": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "south korea": "KR",
    "korea": "KR",
    "north korea": "KP",
    "russia": "RU",
    "vietnam": "VN",
    "czech republic": "CZ",
    "holland": "NL",
    "the netherlands": "NL",
    "uae": "AE",
    "hong kong": "HK",
    "taiwan": "TW",
    "iran": "IR",
    "syria": "SY",
    "laos": "LA",
    "bolivia": "BO",
    "venezuela": "VE",
    "tanzania": "TZ",
    "moldova": "MD",
    "turkey": "TR",
    "türkiye": "TR",
    "ivory coast": "CI",
    "deutschland": "DE",
    "españa": "ES",
    "schweiz": "CH",
    "suisse": "CH",
    "österreich": "AT",
    "brasil": "BR",
    "méxico": "MX",
    "中国": "CN",
    "中國": "CN",
    "日本": "JP",
    "台灣": "TW",
    "香港": "HK",
}

_US_STATES = {
    "America/New_York": "CT DE DC FL GA ME MD MA MI NH NJ NY NC OH PA RI SC VT VA WV IN KY",
    "America/Chicago": "AL AR IL IA KS LA MN MS MO NE ND OK SD TN TX WI",
    "America/Denver": "CO MT NM UT WY ID",
    "America/Phoenix": "AZ",
    "America/Los_Angeles": "CA NV OR WA",
    "America/Anchorage": "AK",
    "Pacific/Honolulu": "HI",
    "America/Puerto_Rico": "PR",
}
_US_STATE_NAMES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA",
    "colorado": "CO", "connecticut": "CT", "delaware": "DE", "district of columbia": "DC",
    "washington dc": "DC", "washington d.c.": "DC", "florida": "FL", "georgia": "GA",
    "hawaii": "HI", "idaho": "ID", "illinois": "IL", "indiana": "IN", "iowa": "IA",
    "kansas": "KS", "kentucky": "KY", "louisiana": "LA", "maine": "ME", "maryland": "MD",
    "massachusetts": "MA", "michigan": "MI", "minnesota": "MN", "mississippi": "MS",
    "missouri": "MO", "montana": "MT", "nebraska": "NE", "nevada": "NV",
    "new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM", "new york": "NY",
    "north carolina": "NC", "north dakota": "ND", "ohio": "OH", "oklahoma": "OK",
    "oregon": "OR", "pennsylvania": "PA", "rhode island": "RI", "south carolina": "SC",
    "south dakota": "SD", "tennessee": "TN", "texas": "TX", "utah": "UT", "vermont": "VT",
    "virginia": "VA", "washington": "WA", "west virginia": "WV", "wisconsin": "WI",
    "wyoming": "WY", "puerto rico": "PR",
}  # fmt: skip
_CA_PROVINCES = {
    "America/St_Johns": "NL newfoundland newfoundland and labrador",
    "America/Halifax": "NS PE nova scotia prince edward island",
    "America/Moncton": "NB new brunswick",
    "America/Toronto": "ON QC ontario quebec québec",
    "America/Winnipeg": "MB manitoba",
    "America/Regina": "SK saskatchewan",
    "America/Edmonton": "AB NT alberta northwest territories",
    "America/Vancouver": "BC british columbia",
    "America/Whitehorse": "YT yukon",
    "America/Iqaluit": "NU nunavut",
}
_AU_STATES = {
    "Australia/Sydney": "NSW ACT new south wales australian capital territory",
    "Australia/Melbourne": "VIC victoria",
    "Australia/Brisbane": "QLD queensland",
    "Australia/Adelaide": "SA south australia",
    "Australia/Perth": "WA western australia",
    "Australia/Darwin": "NT northern territory",
    "Australia/Hobart": "TAS tasmania",
}
# Multi-word names in the tables above are matched whole; these are the names with spaces.
_MULTIWORD = (
    "newfoundland and labrador", "nova scotia", "prince edward island", "new brunswick",
    "northwest territories", "british columbia", "new south wales",
    "australian capital territory", "south australia", "western australia",
    "northern territory",
)  # fmt: skip


def is_valid_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def country_code(value: str | None) -> str | None:
    """ISO 3166 alpha-2 code for a country written as a code or a name; None if unknown."""
    if not value:
        return None
    text = value.strip()
    if len(text) == 2 and text.upper() in _countries():
        return text.upper()
    key = text.lower()
    return _COUNTRY_ALIASES.get(key) or _country_names().get(key)


def normalise_country(value: str | None) -> str | None:
    """The ISO code when the country is recognised, else the text as written (never lost)."""
    if value is None or not value.strip():
        return None
    return country_code(value) or value.strip()


def zone_for_place(country: str | None, region: str | None = None) -> str | None:
    """The IANA zone for a country (and, for US/CA/AU, a state or province), or None."""
    code = country_code(country)
    if code is None:
        return None
    if region:
        zone = _region_zones().get((code, region.strip().lower()))
        if zone:
            return zone
    zones = _countries().get(code, [])
    if code in _MAIN_ZONE:
        return _MAIN_ZONE[code]
    return zones[0] if zones else None


def prospect_timezone(
    own: str | None,
    places: list[tuple[str | None, str | None]],
    default: str,
) -> str:
    """The zone to send in: the prospect's own, else the first place that has one, else default.

    `places` are (country, region) pairs in order of preference: the prospect's, then its
    account's.
    """
    if own and is_valid_timezone(own):
        return own
    for country, region in places:
        zone = zone_for_place(country, region)
        if zone:
            return zone
    return default


@cache
def _countries() -> dict[str, list[str]]:
    zones: dict[str, list[str]] = {code: [] for code in _country_table()}
    for line in _tz_table("zone.tab"):
        code, _coordinates, zone = line.split("\t")[:3]
        zones.setdefault(code, []).append(zone)
    return zones


@cache
def _country_names() -> dict[str, str]:
    return {name.lower(): code for code, name in _country_table().items()}


@cache
def _country_table() -> dict[str, str]:
    table = {}
    for line in _tz_table("iso3166.tab"):
        code, name = line.split("\t")[:2]
        table[code] = name
    return table


def _tz_table(name: str) -> list[str]:
    text = importlib.resources.files("tzdata.zoneinfo").joinpath(name).read_text("utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


@cache
def _region_zones() -> dict[tuple[str, str], str]:
    regions: dict[tuple[str, str], str] = {}
    for zone, codes in _US_STATES.items():
        for state in codes.split():
            regions["US", state.lower()] = zone
    for name, state in _US_STATE_NAMES.items():
        regions["US", name] = regions["US", state.lower()]
    for country, table in (("CA", _CA_PROVINCES), ("AU", _AU_STATES)):
        for zone, words in table.items():
            for name in _split_names(words):
                regions[country, name.lower()] = zone
    return regions


def _split_names(words: str) -> list[str]:
    """'NSW ACT new south wales' -> ['NSW', 'ACT', 'new south wales'] using the known names."""
    names = []
    rest = words
    for multi in _MULTIWORD:
        if multi in rest:
            names.append(multi)
            rest = rest.replace(multi, " ")
    return names + rest.split()
