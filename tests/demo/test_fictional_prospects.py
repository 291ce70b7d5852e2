"""The demo's generated prospects: as many as asked for, each with its own address."""

from __future__ import annotations

from engine.demo.prospects import fictional_prospects


def test_more_prospects_than_two_word_company_names_still_come_out_unique() -> None:
    rows = fictional_prospects(5000)  # the most `spear demo --prospects` accepts
    assert len(rows) == 5000
    assert len({row["email"] for row in rows}) == 5000
    assert all(row["domain"].endswith(".example") for row in rows)
    # Small demos keep their two-word companies: three words only once those run out.
    assert all(len(row["company"].split()) == 2 for row in fictional_prospects(200))
