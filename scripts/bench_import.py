"""Benchmark `spear import` on a generated 100,000-row CSV.

Prints rows/s and the process's peak resident memory for the real import, and, measured in the
same run as a baseline, a plain `csv.DictReader` pass with a bare SQLAlchemy Core bulk insert of the
same rows, with the ratio between the two. Memory is `getrusage` (tracemalloc would slow the import
several times over); the import runs first, so the peak printed is the import's.

    .venv/bin/python scripts/bench_import.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

from engine.clock import SystemClock
from engine.prospects.importer import import_prospects
from engine.store.db import make_engine, upgrade

HEADER = ["Email", "First Name", "Last Name", "Title", "Company", "Website", "Employees",
          "Country", "Industry", "Lead Source"]  # fmt: skip
TITLES = ["CEO", "VP Sales", "Director of Marketing", "Head of Ops", "Engineer", "CFO"]
COUNTRIES = ["US", "United Kingdom", "Germany", "France", "Canada", "Japan"]


def generate(path: Path, rows: int) -> None:
    rng = random.Random(42)
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(HEADER)
        for i in range(rows):
            company = f"company{i // 5}"
            writer.writerow([
                f"person{i}@{company}.com", f"First{i}", f"Last{i}", rng.choice(TITLES),
                company.title(), f"https://www.{company}.com", f"{rng.randint(5, 20000):,}",
                rng.choice(COUNTRIES), "Software", "conference",
            ])  # fmt: skip


def measure(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def spear_import(url: str, path: Path) -> None:
    engine = make_engine(url)
    with Session(engine) as session:
        report = import_prospects(session, path, now=SystemClock().now())
    print(f"  {report.summary()}")
    engine.dispose()


def baseline(url: str, path: Path) -> None:
    engine = make_engine(url)
    table = sa.Table(
        "plain", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
        *(sa.Column(h.lower().replace(" ", "_"), sa.String) for h in HEADER),
    )  # fmt: skip
    table.create(engine)
    with path.open(newline="", encoding="utf-8") as stream, engine.begin() as connection:
        batch: list[dict[str, str]] = []
        for row in csv.DictReader(stream):
            batch.append({k.lower().replace(" ", "_"): v for k, v in row.items()})
            if len(batch) == 1000:
                connection.execute(sa.insert(table), batch)
                batch = []
        if batch:
            connection.execute(sa.insert(table), batch)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    rows = parser.parse_args().rows
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "prospects.csv"
        generate(path, rows)
        print(f"{rows:,} rows, {path.stat().st_size / 1e6:.1f} MB CSV")
        spear_url = f"sqlite:///{Path(folder) / 'spear.db'}"
        upgrade(spear_url)
        before = peak_rss_mb()
        spear_time = measure(lambda: spear_import(spear_url, path))
        spear_peak = peak_rss_mb()
        base_time = measure(lambda: baseline(f"sqlite:///{Path(folder) / 'b.db'}", path))
    print(f"spear import: {rows / spear_time:,.0f} rows/s ({spear_time:.2f} s), "
          f"peak RSS {spear_peak:.0f} MB ({before:.0f} MB before the import)")  # fmt: skip
    print(f"baseline (DictReader + Core insert): {rows / base_time:,.0f} rows/s "
          f"({base_time:.2f} s)")  # fmt: skip
    print(f"ratio: spear takes {spear_time / base_time:.1f}x the baseline's time")


if __name__ == "__main__":
    main()
