"""What a human reply means: weighted phrase rules from every language's lexicon.

Each label has one weight and, per language, phrases (`engine.classify.lexicon`). A reply's
score for a label is the sum of the weights of the phrases found in its own words (quotes,
signature and disclaimers already removed). Positive phrases ("interested") are ignored when a
negation stands right before them ("not interested", "不感兴趣"). The confidence says how
decisive the evidence is: a strong winner far ahead of the runner-up is near 1, a weak or
contested one falls under the review threshold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from engine.classify.dates import contact_again_date, mask_past_times
from engine.classify.lexicon import combined, searcher
from engine.classify.result import ReplyLabel

# How much one phrase of each label weighs: asking to stop outweighs everything else.
WEIGHTS: dict[ReplyLabel, float] = {
    ReplyLabel.UNSUBSCRIBE: 3.0,
    ReplyLabel.NOT_INTERESTED: 2.0,
    ReplyLabel.NOT_NOW: 2.0,
    ReplyLabel.INTEREST: 2.0,
    ReplyLabel.WRONG_PERSON: 2.5,
    ReplyLabel.REFERRAL: 2.0,
}
_LEXICON_FIELD = {
    ReplyLabel.UNSUBSCRIBE: "unsubscribe",
    ReplyLabel.NOT_INTERESTED: "not_interested",
    ReplyLabel.NOT_NOW: "not_now",
    ReplyLabel.INTEREST: "interest",
    ReplyLabel.WRONG_PERSON: "wrong_person",
    ReplyLabel.REFERRAL: "referral",
}
# Every language's phrases at once: a reply mixing languages, or one whose language is
# misidentified (short replies often are), is still read. Phrases of languages written without
# spaces (Chinese, Japanese, Korean) are only looked for in text holding their scripts.
_COMPILED = {label: searcher(attribute) for label, attribute in _LEXICON_FIELD.items()}
_COPYING = searcher("copying")
# A negation right before a positive phrase, in the same sentence, turns it around ("not
# interested", "不感兴趣").
_NEGATION = re.compile(
    rf"(?:{combined('negation')})[^\w.!?。！？]{{0,3}}(\w+[^\w.!?。！？]{{1,3}}){{0,1}}$",
    re.IGNORECASE,
)
# A request to be written to again at a stated future time weighs as much as one timing phrase.
CONTACT_AGAIN_WEIGHT = 2.0
_NEGATABLE = frozenset({ReplyLabel.INTEREST, ReplyLabel.REFERRAL})
# Someone else being away ("Kim is travelling until May", "Er ist bis März in Elternzeit",
# "她在休产假"), up to the end of its clause. When the reply names who to talk to
# instead, these times describe the absent person, not when to write again.
_SOMEONE_ELSES_ABSENCE = re.compile(combined("someone_away"), re.IGNORECASE)


@dataclass(frozen=True)
class IntentScores:
    scores: dict[ReplyLabel, float]

    def ranked(self) -> list[tuple[ReplyLabel, float]]:
        return sorted(self.scores.items(), key=lambda item: item[1], reverse=True)


def score_intents(text: str) -> IntentScores:
    """The evidence for each human-reply label in the replier's own words."""
    head = text[:4000]
    return IntentScores({label: score_label(label, head) for label in _COMPILED})


def score_label(label: ReplyLabel, text: str) -> float:
    """The evidence for one label. Past times ("I left in March") are no timing evidence."""
    head = mask_past_times(text[:4000]) if label == ReplyLabel.NOT_NOW else text[:4000]
    hits = sum(1 for m in _COMPILED[label].finditer(head) if not _negated(label, head, m.start()))
    return WEIGHTS[label] * min(hits, 2) * (1.0 if hits <= 1 else 0.75)


def copies_someone_in(text: str) -> bool:
    """Whether the replier brings a colleague in alongside ("I'm copying Kim", "抄送")."""
    return bool(_COPYING.search(text[:4000]))


def contact_again_evidence(text: str, sent: date) -> float:
    """Evidence for "not now" from a request to be written to again at a later time.

    "Email me in the fall" or "get in touch again in 2026" hold no phrase of the NOT_NOW table,
    yet say when to come back. Only a time that resolves to a day after the reply's date counts,
    so the date is needed and this sits apart from the date-free tables.
    """
    return CONTACT_AGAIN_WEIGHT if contact_again_date(text, sent) is not None else 0.0


def without_someone_elses_absence(text: str) -> str:
    """The text without clauses about another person being away, for timing evidence."""
    return _SOMEONE_ELSES_ABSENCE.sub(" ", text)


def _negated(label: ReplyLabel, text: str, start: int) -> bool:
    if label not in _NEGATABLE:
        return False
    return bool(_NEGATION.search(text[max(0, start - 14) : start]))


def confidence(best: float, runner_up: float) -> float:
    """How decisive: strong evidence well ahead of the next label is near 1."""
    if best <= 0:
        return 0.0
    strength = min(best / 3.0, 1.0)
    margin = (best - runner_up) / best
    return round(0.35 + 0.4 * strength + 0.25 * margin, 3) if margin > 0 else 0.45 * strength
