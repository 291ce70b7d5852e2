"""Which language the replier wrote in: a script check for Chinese, Japanese and Korean, and
py3langid (an offline character n-gram model) for the rest.

Short replies ("Pass.", "remove") are too short for any model to tell; they get `None` (cannot
tell) rather than a guess, and the lexicons of every language read them. Only a text long enough
to be sure of, in a language with no lexicon, is reported as unsupported.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from engine.classify.lexicon import LANGUAGES

# Below this many letters a guess is noise; above it, this probability makes it a finding.
MIN_LETTERS = 20
MIN_PROBABILITY = 0.9

_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_LETTER = re.compile(r"[^\W\d_]")
# Characters written one way in simplified and another in traditional Chinese (common ones).
_SIMPLIFIED = frozenset("们这个来说对时发经过还没问么为会们谢联系负责请让给开关门长东车见话语读书")
_TRADITIONAL = frozenset("們這個來說對時發經過還沒問麼為會們謝聯繫負責請讓給開關門長東車見話語讀書")


def identify(text: str) -> str | None:
    """The ISO 639-1 code of the text's language, or None when it is too short to tell."""
    sample = text[:1000]
    if _KANA.search(sample):
        return "ja"
    if _HANGUL.search(sample):
        return "ko"
    if len(_HAN.findall(sample)) >= 2:
        return "zh"
    if len(_LETTER.findall(sample)) < MIN_LETTERS:
        return None
    code, probability = _identifier().classify(sample)
    if code in LANGUAGES or probability >= MIN_PROBABILITY:
        return str(code)
    return None


def supported(code: str | None) -> bool:
    """Whether Spear has a lexicon for this language (None, cannot tell, counts as read)."""
    return code is None or code in LANGUAGES


def chinese_script(text: str) -> str:
    """ "zh-Hant" when traditional characters outnumber simplified ones, else "zh-Hans"."""
    simplified = sum(1 for char in text if char in _SIMPLIFIED)
    traditional = sum(1 for char in text if char in _TRADITIONAL)
    return "zh-Hant" if traditional > simplified else "zh-Hans"


@cache
def _identifier() -> Any:
    # Loaded on first use (about a second): commands that never classify do not pay for it.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
