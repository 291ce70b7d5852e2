"""One message in, one decision out: bounce, complaint, auto-reply or a human reply's intent.

The order matters. Delivery reports come first (some bounces carry auto-reply headers), then
auto-replies (headers, else wording), then the human reply's own words, stripped of quotes,
signature and disclaimers, are scored per label. Below the threshold the label is `unclear`
and the message goes to a person.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from email.message import Message
from email.utils import parsedate_to_datetime

from engine.classify import autoreplies, intent, unsubscribe
from engine.classify.bounces import read_delivery_report
from engine.classify.dates import resume_date
from engine.classify.language import identify, supported
from engine.classify.lexicon import combined
from engine.classify.parse import (
    ADDRESS,
    body_text,
    header_addresses,
    header_text,
    parse_message,
    referenced_message_ids,
    sender_address,
)
from engine.classify.quotes import ReplyParts, split_reply
from engine.classify.referrals import ReferralContext, extract_referrals
from engine.classify.result import DEFAULT_THRESHOLD, Classification, Referral, ReplyLabel

_FORWARD_SUBJECT = re.compile(rf"^\s*(?:{combined('forward_subject')})\s*[:：]", re.IGNORECASE)
# A reply in a language Spear has no lexicon for never acts on its own.
UNREAD_LANGUAGE_CONFIDENCE = 0.4
# Readings to doubt (see `_doubt`): a runner-up label with this share of the evidence, one phrase
# in more words than this, or this much text with no quote found, have their confidence
# multiplied by the factor (a reading on one phrase then goes to review).
CONFLICT_RATIO = 0.8
LONG_REPLY_WORDS = 60
UNRECOGNISED_QUOTE_CHARS = 1500
THIN_EVIDENCE_FACTOR = 0.68
# Words, for counting: runs of letters, and CJK characters two to a word (no spaces there).
_LATIN_WORD = re.compile(r"[^\W\d_\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]+")
_CJK_CHARACTER = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
# When two labels score the same, the one with the stronger consequence for the cadence wins.
_TIE_ORDER = [
    ReplyLabel.UNSUBSCRIBE,
    ReplyLabel.REFERRAL,
    ReplyLabel.WRONG_PERSON,
    ReplyLabel.NOT_NOW,
    ReplyLabel.NOT_INTERESTED,
    ReplyLabel.INTEREST,
]


def classify_message(raw: bytes, *, threshold: float = DEFAULT_THRESHOLD) -> Classification:
    """Classify one raw message. Never raises: a failure is an `unclear` result with an error."""
    try:
        result = _classify(raw)
    except Exception as error:  # nothing inbound may be lost: park it for a person instead
        return Classification(
            label=ReplyLabel.UNCLEAR, confidence=0.0, error=f"{type(error).__name__}: {error}"
        )
    if result.label not in (ReplyLabel.BOUNCE, ReplyLabel.UNCLEAR) and (
        result.confidence < threshold
    ):
        # Everything found stays for the reviewer; only the label waits for a person.
        return replace(result, label=ReplyLabel.UNCLEAR, best_guess=result.label)
    return result


def _classify(raw: bytes) -> Classification:
    if not raw.strip():
        return Classification(label=ReplyLabel.UNCLEAR, confidence=0.0, error="empty message")
    msg = parse_message(raw)
    body = body_text(msg)
    report = read_delivery_report(msg, body)
    if report is not None:
        if report.complaint:
            return Classification(label=ReplyLabel.UNSUBSCRIBE, confidence=1.0, complaint=True)
        if report.delivered:
            return Classification(label=ReplyLabel.AUTO_REPLY, confidence=0.9)
        if report.bounce is not None:
            return Classification(label=ReplyLabel.BOUNCE, confidence=1.0, bounce=report.bounce)
    subject = header_text(msg, "Subject")
    if unsubscribe.provider_request(subject, body):
        # Whatever the body or the auto-reply headers say: the law binds us to this one.
        return Classification(label=ReplyLabel.UNSUBSCRIBE, confidence=0.99)
    parts = split_reply(body)
    if unsubscribe.short_request(body) or unsubscribe.short_request(parts.reply):
        return Classification(label=ReplyLabel.UNSUBSCRIBE, confidence=0.95, reply_text=parts.reply)
    sent = _sent_date(msg)
    context = _referral_context(msg, body, parts)
    auto = _auto_reply(msg, parts, sent, context)
    if auto is not None:
        return auto
    result = _human_reply(msg, parts, sent, context)
    if result.confidence >= UNREAD_LANGUAGE_CONFIDENCE and not supported(
        identify(parts.reply or parts.unquoted)
    ):
        # Spear has no lexicon for this language: whatever matched is no reading of it.
        return replace(result, confidence=min(result.confidence, UNREAD_LANGUAGE_CONFIDENCE))
    return result


def _auto_reply(
    msg: Message, parts: ReplyParts, sent: date | None, context: ReferralContext
) -> Classification | None:
    text_score = autoreplies.text_evidence(parts.unquoted)
    by_headers = autoreplies.header_evidence(msg)
    if not by_headers:
        if text_score < 0.55:
            return None
        # Pointing to someone else ("please contact ...") is what automatic notes do too.
        scores = intent.score_intents(parts.reply).scores
        human = max(score for label, score in scores.items() if label != ReplyLabel.REFERRAL)
        if human >= 2.5 * text_score + 0.5:
            return None
    confidence = 0.95 if by_headers else round(0.5 + 0.45 * text_score, 3)
    exclude = set(context.excluded_addresses)
    alternates = [
        a
        for a in autoreplies.alternate_emails(parts.unquoted, exclude)
        if a.rsplit("@", 1)[-1] not in context.excluded_domains
    ]
    return Classification(
        label=ReplyLabel.AUTO_REPLY,
        confidence=confidence,
        return_date=autoreplies.return_date(parts.unquoted, sent) if sent else None,
        alternate_emails=tuple(alternates),
        reply_text=parts.reply,
    )


def _human_reply(
    msg: Message, parts: ReplyParts, sent: date | None, context: ReferralContext
) -> Classification:
    # Intent is read without the signature (a job title is no intent); names and addresses of
    # the people referred to may stand in it, so referrals are read with it.
    text = parts.reply or parts.unquoted
    if not text.strip():
        text = header_text(msg, "Subject")
    scores = intent.score_intents(text).scores
    referrals = (
        tuple(extract_referrals(parts.unquoted or text, context)) if _may_refer(scores) else ()
    )
    if referrals and _joins_the_conversation(text, scores):
        referrals = ()
    if not scores[ReplyLabel.REFERRAL] and not context.is_forward:
        # A name alone, with no word pointing to it, is no referral: it is usually a place, a
        # product or the replier's own signature. An address or a copied colleague still is.
        referrals = tuple(r for r in referrals if r.email)
    timing_text = text
    if referrals:
        scores[ReplyLabel.REFERRAL] += 2.5 + scores[ReplyLabel.WRONG_PERSON]
        # "Kim is away until May, so talk to Ravi instead": the time is about the person we are
        # pointed away from, not about when to write again. Unless the absent person is the only
        # one named ("Kim is away until May, check back then").
        present = intent.without_someone_elses_absence(text)
        if any(not _only_mentioned_as_absent(r, text, present) for r in referrals):
            timing_text = present
            scores[ReplyLabel.NOT_NOW] = intent.score_label(ReplyLabel.NOT_NOW, timing_text)
    else:
        scores[ReplyLabel.REFERRAL] = 0.0
    if sent is not None:  # after the referral's re-scoring, which replaces the not-now score
        scores[ReplyLabel.NOT_NOW] += intent.contact_again_evidence(timing_text, sent)
    if scores[ReplyLabel.UNSUBSCRIBE] > 0:
        scores[ReplyLabel.UNSUBSCRIBE] += scores[ReplyLabel.NOT_INTERESTED]
    resume = resume_date(timing_text, sent) if sent else None
    if resume is not None and scores[ReplyLabel.NOT_NOW] > 0:
        scores[ReplyLabel.NOT_NOW] += 1.0
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], _TIE_ORDER.index(kv[0])))
    (label, best), (_, runner_up) = ranked[0], ranked[1]
    if best <= 0:
        return Classification(
            label=ReplyLabel.UNCLEAR, confidence=0.0, reply_text=parts.reply, referrals=referrals
        )
    return Classification(
        label=label,
        confidence=round(
            intent.confidence(best, runner_up) * _doubt(parts, text, label, best, runner_up), 3
        ),
        referrals=referrals if label == ReplyLabel.REFERRAL else (),
        resume_after=resume if label == ReplyLabel.NOT_NOW else None,
        reply_text=parts.reply,
    )


def _doubt(parts: ReplyParts, text: str, label: ReplyLabel, best: float, runner_up: float) -> float:
    """How far to trust a reading beyond its own evidence (1.0: fully).

    Two labels with nearly as much evidence each are a conflict for a person to settle. One
    phrase in a long reply explains little of it: the rest may say something the lexicons do
    not know. And a long reply with no quote found may still hold an unrecognised quoted
    original, whose words ("interested?", "who owns") would then be read as the replier's.
    """
    factor = 1.0
    if runner_up >= CONFLICT_RATIO * best:
        factor *= THIN_EVIDENCE_FACTOR
    one_phrase = best <= intent.WEIGHTS[label] if label in intent.WEIGHTS else False
    words = len(_LATIN_WORD.findall(text)) + len(_CJK_CHARACTER.findall(text)) / 2
    if one_phrase and words > LONG_REPLY_WORDS:
        factor *= THIN_EVIDENCE_FACTOR
    if not parts.quote_found and len(parts.unquoted) > UNRECOGNISED_QUOTE_CHARS:
        factor *= THIN_EVIDENCE_FACTOR
    return factor


def _only_mentioned_as_absent(referral: Referral, text: str, present: str) -> bool:
    """Whether the reply names this person only in clauses about someone being away."""
    mentions = [m.lower() for m in (referral.email, referral.name) if m]
    in_text = [m for m in mentions if m in text.lower()]
    return bool(in_text) and not any(m in present.lower() for m in in_text)


def _joins_the_conversation(text: str, scores: dict[ReplyLabel, float]) -> bool:
    """A colleague copied in to a meeting the replier wants is interest, not a referral."""
    return (
        intent.copies_someone_in(text)
        and scores[ReplyLabel.INTEREST] > 0
        and scores[ReplyLabel.INTEREST] >= scores[ReplyLabel.REFERRAL]
        and scores[ReplyLabel.WRONG_PERSON] == 0
    )


def _may_refer(scores: dict[ReplyLabel, float]) -> bool:
    return scores[ReplyLabel.UNSUBSCRIBE] == 0


def _sent_date(msg: Message) -> date | None:
    try:
        return parsedate_to_datetime(header_text(msg, "Date")).date()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _referral_context(msg: Message, body: str, parts: ReplyParts) -> ReferralContext:
    replier = sender_address(msg)
    from_pairs = header_addresses(msg, "From")
    replier_name = from_pairs[0][0] if from_pairs else ""
    is_forward = bool(_FORWARD_SUBJECT.search(header_text(msg, "Subject")))
    our_domains = {
        mid.strip("<>").rsplit("@", 1)[-1].lower() for mid in referenced_message_ids(msg)
    }
    if parts.unquoted in body:
        quoted = body.replace(parts.unquoted, "") if parts.unquoted else body
    else:  # an inline answer: the replier's lines stand between quoted ones
        own = set(parts.unquoted.split("\n"))
        quoted = "\n".join(line for line in body.split("\n") if line not in own)
    excluded = {a.lower() for a in ADDRESS.findall(quoted[:200_000])}
    excluded |= {a for _, a in from_pairs} | {
        a for _, a in header_addresses(msg, "Sender", "Reply-To")
    }
    excluded_names = {replier_name} if replier_name else set()
    people: list[tuple[str, str]] = []
    for header in ("To", "Cc"):
        for name, address in header_addresses(msg, header):
            if header == "To" and not is_forward:
                excluded.add(address)
                if name:
                    excluded_names.add(name)
                continue
            people.append((name, address))
    for name, address in people:
        ours = address in excluded or address.rsplit("@", 1)[-1] in our_domains
        if ours and name:
            excluded_names.add(name)
    excluded_names.discard("")
    return ReferralContext(
        replier=replier,
        replier_name=replier_name,
        excluded_addresses=excluded,
        excluded_domains={d for d in our_domains if d},
        excluded_names=excluded_names,
        header_people=people,
        is_forward=is_forward,
    )


__all__ = ["DEFAULT_THRESHOLD", "Referral", "classify_message"]
