"""The web inbox in a real browser (Debian's Chromium through Playwright), keyboard only.

The database after a walk through the queue in the browser is compared with the database after
the same walk through `spear review`'s loop (`ReviewSession`) on an identical world: the two
must record the same decisions, events and rows.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, col, select

from engine.review.session import ReviewSession, Terminal
from engine.store.models import Event, Prospect, ReviewDecision

from .conftest import Served, make_workspace, pending_replies

REFERRAL = "Jane Smith <jane@acme.example>"


def open_queue(browser: Browser, served: Served, **options: Any) -> Page:
    page = browser.new_context(**options).new_page()
    page.goto(served.url + "/queue")
    expect(page.locator("#queue")).to_be_visible()
    return page


def press(page: Page, key: str, then_url: str | None = None) -> None:
    page.keyboard.press(key)
    if then_url is not None:
        page.wait_for_url(re.compile(then_url))


def test_a_rep_clears_the_queue_by_keyboard_as_the_terminal_would(
    browser: Browser, inbox_server: Served, tmp_path: Path
) -> None:
    ids = pending_replies(inbox_server.workspace)
    page = open_queue(browser, inbox_server)
    expect(page.locator("#total")).to_have_text("4")
    press(page, "j")
    press(page, "j")
    expect(page.locator("tr.selected")).to_have_attribute("data-href", f"/reply/{ids[2]}?")
    press(page, "k")
    press(page, "k")
    expect(page.locator("tr.selected")).to_have_attribute("data-href", f"/reply/{ids[0]}?")

    press(page, "Enter", rf"/reply/{ids[0]}\b")
    expect(page.locator("#plan")).to_contain_text("nothing more until someone labels it")
    press(page, "r")
    expect(page.locator("#relabel")).to_be_visible()
    expect(page.locator("#relabel")).to_contain_text("hand Acme off to ae@example-sender.com")
    press(page, "x", rf"/reply/{ids[1]}\b")  # relabelled not-interested; on to the next
    expect(page.locator("#flash")).to_contain_text("unclear → not-interested (saved)")
    press(page, "a", rf"/reply/{ids[2]}\b")  # accepted its best guess
    expect(page.locator("#plan")).to_contain_text("press e to add one")
    press(page, "e")
    expect(page.locator("#edit-line")).to_be_focused()
    page.keyboard.type(REFERRAL)
    press(page, "Enter", rf"/reply/{ids[3]}\b")
    expect(page.locator("#extracted")).to_contain_text("bob.backup@acme.example")
    press(page, "s", r"/queue\?")  # skipped: nothing after it
    expect(page.locator("#flash")).to_contain_text("Nothing more after that one")
    expect(page.locator("#total")).to_have_text("1")
    press(page, "u", rf"/reply/{ids[2]}\b")  # undo the referral edit: back to that reply
    expect(page.locator("#flash")).to_contain_text(f"Undone: #{ids[2]}")
    press(page, "q", r"/queue")
    expect(page.locator("#total")).to_have_text("2")

    # The same keys in the terminal's loop, on a world built the same way.
    twin = make_workspace(tmp_path / "twin")
    assert pending_replies(twin) == ids
    lines = iter([REFERRAL])
    keys = iter(["r", "x", "a", "e", "s", "u", "q"])
    ReviewSession(
        twin.engine,
        twin.settings,
        Terminal(read_key=lambda: next(keys), read_line=lambda _: next(lines), write=print),
        reviewer="alex",
        now=twin.clock.now,
    ).run()

    assert recorded(inbox_server.workspace.engine) == recorded(twin.engine)
    assert inbox_server.workspace.snapshot() == twin.snapshot()
    with Session(twin.engine) as session:
        assert (
            session.exec(select(Prospect).where(Prospect.email == "jane@acme.example")).all() == []
        )


def test_two_reviewers_never_decide_the_same_reply(browser: Browser, inbox_server: Served) -> None:
    ids = pending_replies(inbox_server.workspace)
    alex = open_queue(browser, inbox_server)
    press(alex, "Enter", rf"/reply/{ids[0]}\b")

    kim = browser.new_context().new_page()
    kim.goto(inbox_server.url + "/signin")
    kim.locator("input[name=name]").fill("kim")
    press(kim, "Enter", r"/queue")
    expect(kim.locator("tr.busy")).to_contain_text("alex is looking at this")
    kim.goto(f"{inbox_server.url}/reply/{ids[0]}")
    expect(kim.locator("#holder")).to_contain_text("alex is looking at this")
    expect(kim.locator("#decide")).to_have_count(0)
    press(kim, "a")
    expect(kim.locator("#flash")).to_contain_text("alex is looking at this")

    # Kim's "next" passes over the reply Alex holds.
    kim.goto(f"{inbox_server.url}/queue/next")
    kim.wait_for_url(re.compile(rf"/reply/{ids[1]}\b"))
    press(alex, "a", rf"/reply/{ids[2]}\b")
    with Session(inbox_server.workspace.engine) as session:
        deciders = session.exec(select(ReviewDecision.inbound_id, ReviewDecision.reviewer)).all()
    assert list(deciders) == [(ids[0], "alex")]


def test_a_hostile_reply_is_shown_as_text_and_nothing_runs(
    browser: Browser, inbox_server: Served
) -> None:
    hostile = (
        "<script>window.__pwned = 'script'; alert(1)</script>\r\n"
        "<img src=x onerror=\"window.__pwned = 'img'\">\r\n"
        "<a href=\"javascript:window.__pwned = 'link'\">see our site</a>\r\n"
        "</pre><script>window.__pwned = 'escape'</script>\r\n"
        "{{ 7 * 7 }}\r\n" + "A long line of filler text. " * 40_000
    )
    item = inbox_server.workspace.receive(hostile, subject="<b>Re:</b> <script>x()</script>")
    dialogs: list[str] = []
    # bypass_csp: the policy would stop inline scripts anyway; escaping alone must hold.
    page = browser.new_context(bypass_csp=True).new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{inbox_server.url}/reply/{item}")

    expect(page.locator("#reply")).to_contain_text("<script>window.__pwned = 'script'")
    expect(page.locator("#reply")).to_contain_text("{{ 7 * 7 }}")
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("main script, main img, main a[href^='javascript']").count() == 0
    assert dialogs == []
    press(page, "v")  # the raw message, loaded as text
    expect(page.locator("#raw-text")).to_contain_text("onerror=", timeout=10_000)
    press(page, "?")  # still answering keys
    expect(page.locator("#help")).to_be_visible()
    assert page.evaluate("typeof window.__pwned") == "undefined" and dialogs == []


def test_screenshot_of_the_queue(browser: Browser, inbox_server: Served, tmp_path: Path) -> None:
    """Saves the queue to $SPEAR_SCREENSHOT (the README's picture), else to a temporary file."""
    pending_replies(inbox_server.workspace)
    page = open_queue(browser, inbox_server, viewport={"width": 1280, "height": 560})
    target = Path(os.environ.get("SPEAR_SCREENSHOT") or tmp_path / "queue.png")
    page.screenshot(path=str(target))
    assert target.read_bytes().startswith(b"\x89PNG")


# --- what a walk leaves in the database --------------------------------------------------------


def recorded(engine: Any) -> dict[str, list[dict[str, Any]]]:
    with Session(engine) as session:
        decisions = session.exec(select(ReviewDecision).order_by(col(ReviewDecision.id))).all()
        events = session.exec(select(Event).order_by(col(Event.id))).all()
        return {
            "decisions": [d.model_dump() for d in decisions],
            "events": [e.model_dump() for e in events],
        }
