"""A list of fictional prospects across time zones, as a CSV a user would import.

Every company lives under the reserved `.example` top-level domain (RFC 2606), so nothing the
demo generates can ever name or reach a real person.
"""

from __future__ import annotations

import csv
import io
import random

FIRST_NAMES = [
    "Avery", "Blake", "Casey", "Dana", "Elliot", "Frankie", "Gray", "Harper", "Indra", "Jordan",
    "Kai", "Lee", "Morgan", "Noor", "Oakley", "Parker", "Quinn", "Riley", "Sasha", "Taylor",
    "Uma", "Val", "Wren", "Yuki", "Zhen", "Mei", "Lukas", "Camille", "Diego", "Priya",
]  # fmt: skip
LAST_NAMES = [
    "Abbott", "Brennan", "Castillo", "Dubois", "Eriksen", "Fischer", "Garcia", "Hayes", "Ito",
    "Jansen", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Patel", "Quist", "Rossi",
    "Schmidt", "Tanaka", "Underwood", "Vargas", "Wang", "Xu", "Young", "Zhang", "Li", "Chen",
]  # fmt: skip
TITLES = [
    ("CEO", "c-level"), ("COO", "c-level"), ("CFO", "c-level"), ("VP Sales", "vp"),
    ("VP Operations", "vp"), ("Head of Revenue", "vp"), ("Director of Sales", "director"),
    ("Director of Operations", "director"),
]  # fmt: skip
# (country, IANA zone): a spread across both hemispheres, DST rules and the date line.
PLACES = [
    ("US", "America/New_York"), ("US", "America/Chicago"), ("US", "America/Los_Angeles"),
    ("CA", "America/Toronto"), ("GB", "Europe/London"), ("DE", "Europe/Berlin"),
    ("FR", "Europe/Paris"), ("ES", "Europe/Madrid"), ("IN", "Asia/Kolkata"),
    ("SG", "Asia/Singapore"), ("CN", "Asia/Shanghai"), ("JP", "Asia/Tokyo"),
    ("AU", "Australia/Sydney"), ("NZ", "Pacific/Auckland"), ("BR", "America/Sao_Paulo"),
]  # fmt: skip
INDUSTRIES = ["software", "logistics", "manufacturing", "fintech", "healthcare", "retail"]
WORDS = [
    "acme", "birch", "cobalt", "delta", "ember", "fjord", "granite", "harbor", "iris", "juniper",
    "kestrel", "lumen", "meridian", "nimbus", "orbit", "pioneer", "quarry", "ridge", "summit",
    "tidal", "umber", "vertex", "willow", "zephyr",
]  # fmt: skip
SUFFIXES = ["labs", "systems", "works", "group", "logistics", "cloud", "analytics", "freight"]

FIELDS = [
    "email", "first_name", "last_name", "title", "seniority", "company", "domain", "industry",
    "employees", "revenue", "country", "timezone", "business_model",
]  # fmt: skip


def fictional_prospects(count: int, seed: int = 7) -> list[dict[str, str]]:
    """`count` executives at `count // 2` or so companies, one or two each."""
    rng = random.Random(seed)
    rows: list[dict[str, str]] = []
    used_domains: set[str] = set()
    used_addresses: set[str] = set()
    while len(rows) < count:
        if len(used_domains) < len(WORDS) * len(SUFFIXES):
            company = f"{rng.choice(WORDS).title()} {rng.choice(SUFFIXES).title()}"
        else:  # every two-word name is taken (a demo of several hundred): three words
            first_word, second_word = rng.sample(WORDS, 2)
            company = f"{first_word.title()} {second_word.title()} {rng.choice(SUFFIXES).title()}"
        domain = company.lower().replace(" ", "") + ".example"
        if domain in used_domains:
            continue
        used_domains.add(domain)
        country, zone = rng.choice(PLACES)
        employees = rng.choice([60, 120, 250, 400, 800, 1500, 3000])
        for _ in range(min(rng.choice([1, 1, 2]), count - len(rows))):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            email = f"{first}.{last}@{domain}".lower()
            if email in used_addresses:
                continue
            used_addresses.add(email)
            title, seniority = rng.choice(TITLES)
            rows.append(
                {
                    "email": email,
                    "first_name": first,
                    "last_name": last,
                    "title": title,
                    "seniority": seniority,
                    "company": company,
                    "domain": domain,
                    "industry": rng.choice(INDUSTRIES),
                    "employees": str(employees),
                    "revenue": str(employees * 150_000),
                    "country": country,
                    "timezone": zone,
                    "business_model": "b2b",
                }
            )
    return rows


def as_csv(rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
