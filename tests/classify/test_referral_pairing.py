"""A referred person's name and address end up in one referral, and two people stay two."""

from __future__ import annotations

import pytest

from engine.classify import ReplyLabel, classify_message
from engine.classify.result import Referral


def reply(
    body: str,
    *,
    sender: str = "Dana Ortiz <dana.ortiz@lumen.example>",
    to: str = "Sam Rep <sam@outreach.example>",
    cc: str | None = None,
) -> bytes:
    head = (
        f"From: {sender}\r\nTo: {to}\r\nSubject: Re: Pipeline reviews\r\n"
        "Date: Tue, 04 Mar 2025 09:30:00 +0000\r\n"
        "Message-ID: <p1@lumen.example>\r\nIn-Reply-To: <o1@outreach.example>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
    )
    if cc:
        head += f"Cc: {cc}\r\n"
    quoted = (
        "\r\n\r\nOn Mon, Mar 3, 2025 at 8:00 AM Sam Rep <sam@outreach.example> wrote:\r\n"
        "> Hi Dana, who looks after pipeline reviews at Lumen?\r\n"
    )
    return (head + "\r\n" + body.replace("\n", "\r\n") + quoted).encode("utf-8")


def referrals(message: bytes) -> list[Referral]:
    result = classify_message(message)
    assert result.label == ReplyLabel.REFERRAL, (result.label, result.referrals)
    return list(result.referrals)


def test_cc_display_name_and_name_in_body_are_one_person() -> None:
    message = reply(
        "Sam, appreciate the note. The person you need is Priyanka Rao, VP of Sales "
        "Operations: prao@lumen.example\n\nDana",
        cc="Priyanka Rao <prao@lumen.example>",
    )
    assert referrals(message) == [Referral(email="prao@lumen.example", name="Priyanka Rao")]


def test_cc_only_colleague_named_in_body_gets_the_header_name() -> None:
    message = reply(
        "Looping in Priyanka Rao, who owns pipeline reviews here.\n\nDana",
        cc="Priyanka Rao <prao@lumen.example>",
    )
    assert referrals(message) == [Referral(email="prao@lumen.example", name="Priyanka Rao")]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "Not my call. You should speak with Marta Silva, Director of Demand Gen - "
            "msilva@lumen.example - she decides on tooling.",
            Referral(email="msilva@lumen.example", name="Marta Silva"),
        ),
        (
            "Please get in touch with Omar Haddad (oh-sales@lumen.example) instead.",
            Referral(email="oh-sales@lumen.example", name="Omar Haddad"),
        ),
        (
            "Wrong desk, sorry. You can reach Bettina at team-b@lumen.example.",
            Referral(email="team-b@lumen.example", name="Bettina"),
        ),
        (
            "Write to revenue-desk@lumen.example (Kofi Mensah) and he will help.",
            Referral(email="revenue-desk@lumen.example", name="Kofi Mensah"),
        ),
    ],
)
def test_name_next_to_the_address_in_the_same_sentence(body: str, expected: Referral) -> None:
    assert referrals(reply(body + "\n\nDana")) == [expected]


@pytest.mark.parametrize(
    "local", ["cchen", "chloe.chen", "chloe", "c.chen", "chen.chloe", "chloechen", "chloe_chen2"]
)
def test_local_part_spells_the_name(local: str) -> None:
    body = (
        f"Please talk to Chloe Chen about this, not me. "
        f"Her address is {local}@lumen.example if you need it.\n\nDana"
    )
    assert referrals(reply(body)) == [Referral(email=f"{local}@lumen.example", name="Chloe Chen")]


def test_contact_card_for_someone_else_is_a_referral() -> None:
    body = (
        "Ask Gregor instead, details below.\n\n"
        "Gregor Lindqvist\nHead of Sales Enablement\nE: gregor.lindqvist@lumen.example\n\n"
        "Dana\n\nDana Ortiz\nCOO, Lumen\nE: dana@lumen-alias.example"
    )
    assert referrals(reply(body)) == [
        Referral(email="gregor.lindqvist@lumen.example", name="Gregor Lindqvist")
    ]


def test_two_people_with_two_addresses_stay_two() -> None:
    body = (
        "Depends on the topic. For budget it's Victor Lang (vlang@lumen.example); for "
        "the day-to-day, talk to Nadia Petrova at np@lumen.example.\n\nDana"
    )
    assert referrals(reply(body)) == [
        Referral(email="vlang@lumen.example", name="Victor Lang"),
        Referral(email="np@lumen.example", name="Nadia Petrova"),
    ]


def test_two_names_before_two_addresses_pair_by_local_part() -> None:
    body = (
        "Talk to Nadia Petrova or Victor Lang: victor.lang@lumen.example, "
        "nadia.petrova@lumen.example\n\nDana"
    )
    assert sorted(referrals(reply(body)), key=lambda r: r.email or "") == [
        Referral(email="nadia.petrova@lumen.example", name="Nadia Petrova"),
        Referral(email="victor.lang@lumen.example", name="Victor Lang"),
    ]


def test_name_only_referral_stays_name_only() -> None:
    body = "Not my area - talk to Rosa Delgado in procurement, she owns vendor reviews.\n\nDana"
    assert referrals(reply(body)) == [Referral(email=None, name="Rosa Delgado")]


def test_name_without_address_is_not_given_someone_elses_address() -> None:
    body = (
        "Talk to Rosa Delgado about contracts. For a demo, email ivan.kuznetsov@lumen.example."
        "\n\nDana"
    )
    found = referrals(reply(body))
    assert Referral(email=None, name="Rosa Delgado") in found
    assert all(r.name != "Rosa Delgado" for r in found if r.email)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "这个不归我管，请联系王芳 wangfang@lumen.example，她负责销售运营。",
            Referral(email="wangfang@lumen.example", name="王芳"),
        ),
        (
            "這部分是陳怡君在負責，她的信箱是 yijun.chen@lumen.example，你直接寫信給她。",
            Referral(email="yijun.chen@lumen.example", name="陳怡君"),
        ),
        (
            "你好，请联系：\n\n孙磊\n销售总监\n邮箱：sunlei@lumen.example\n\n谢谢",
            Referral(email="sunlei@lumen.example", name="孙磊"),
        ),
        (
            "Dafür bin ich nicht zuständig, bitte wenden Sie sich an Frau Anna Weber "
            "(a.weber@lumen.example).",
            Referral(email="a.weber@lumen.example", name="Anna Weber"),
        ),
        (
            "Je ne suis pas la bonne personne, contactez Hélène Martin : hmartin@lumen.example.",
            Referral(email="hmartin@lumen.example", name="Hélène Martin"),
        ),
    ],
)
def test_other_languages(body: str, expected: Referral) -> None:
    assert referrals(reply(body + "\n\nDana")) == [expected]


def test_two_people_sharing_a_first_name_are_not_merged() -> None:
    body = (
        "Two options: Chloe Park runs inbound (cpark@lumen.example), and Chloe Chen "
        "runs outbound (chloe.chen@lumen.example).\n\nDana"
    )
    assert referrals(reply(body)) == [
        Referral(email="cpark@lumen.example", name="Chloe Park"),
        Referral(email="chloe.chen@lumen.example", name="Chloe Chen"),
    ]


def test_replier_own_signature_address_is_not_a_referral() -> None:
    body = (
        "Talk to Rosa Delgado, rdelgado@lumen.example.\n\n"
        "Dana Ortiz\nCOO, Lumen\nE: d.ortiz@lumen-mail.example"
    )
    assert referrals(reply(body)) == [Referral(email="rdelgado@lumen.example", name="Rosa Delgado")]
