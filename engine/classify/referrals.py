"""People a reply points us to: addresses and names, from the text and the To/Cc headers.

Never the replier, never the original sender (our side of the thread: the domain of the
Message-ID being answered and every address in the quoted original), never anything that only
appears in the quoted text. A colleague newly copied on the reply counts when the reply
introduces them (by name, or with "cc'ing"/"looping in"/a forward).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from engine.classify.result import Referral

_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.ASCII)
_OBFUSCATED = re.compile(
    r"\b([\w.+-]+)\s*[\[(]\s*at\s*[\])]\s*([\w-]+)\s*"
    r"(?:[\[(]\s*dot\s*[\])]|\.)\s*([\w.-]+)",
    re.IGNORECASE,
)
_NAME_WORD = r"[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ'’]+(?:-[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ]+)?"
_PERSON = rf"(?:{_NAME_WORD}|O'[A-Z][a-z]+)(?:\s+(?:{_NAME_WORD}|O'[A-Z][a-z]+)){{0,2}}"
_HAN_NAME = r"[\u4e00-\u9fff]{2,3}"
# Phrases that introduce the person we should talk to, and phrases where the person comes first.
_CUE_BEFORE = re.compile(
    rf"(?:talk to|speak (?:to|with)|reach out to|get in touch with|contact|connect with|"
    rf"ask|try|email|e-mail|ping|looping in|loop in|cc'?ing|copying|adding|introduce you to|"
    rf"forwarding (?:this|it|your note) to|forwarded (?:this|it|your note) to|over to|"
    rf"wenden sie sich an|kontaktieren sie|contactez|hable con|contacte a|escríbale a)"
    rf"\s+(?:(?:our|my) [A-Za-z ]{{1,30}}?,\s+)?"
    rf"(?:(?:my|our) (?:colleague|coworker|head of [\w ]+?|vp[\w ]*?|cfo|cto|coo|ceo|"
    rf"kollegen?|kollegin|collègue|colega)\s*,?\s+)?(?:@)?({_PERSON})"
)
_CUE_AFTER = re.compile(
    rf"(?:@)?({_PERSON})\b(?:\s*\([^)]*\))?\s*(?:<[^>]*>)?\s*(?:,\s*(?:our|my) [\w ]+,\s*)?"
    rf"(?:is|would be|'s|handles|owns|runs|leads|manages|heads|is responsible|is in charge|"
    rf"ist zuständig|ist der|ist die|s'occupe|se encarga|is the)\b"
)
_CUE_HAN = re.compile(
    rf"(?:联系|聯繫|聯絡|找|问问|問問|转发给|轉發給|转给|轉給|抄送|对接人是|對接人是|负责人是|負責人是|"
    rf"同事|的)\s*({_HAN_NAME}?)(?=[（(，,。\s]|$|[\w.+-]+@|负责|負責|经理|經理|总|總|老师|老師|先生|女士|他|她)"
)
_HAN_BEFORE_CUE = re.compile(r"(?:的|长|長|人|是)([\u4e00-\u9fff]{2,3}?)(?=联系|聯繫|聯絡|吧)")
_HAN_BEFORE_ADDRESS = re.compile(rf"({_HAN_NAME})\s*[（(:：]?\s*$")
_PERSON_BEFORE_ADDRESS = re.compile(
    rf"(?:@)?({_PERSON})\s*(?:[(<\[:\-–—]|at|at:|,)?\s*"
    r"(?:<?mailto:)?$"
)
_NOT_NAMES = frozenset(
    [
        "Hi",
        "Hello",
        "Dear",
        "Thanks",
        "Thank",
        "Best",
        "Regards",
        "Cheers",
        "Sales",
        "Marketing",
        "Operations",
        "Ops",
        "Team",
        "The",
        "This",
        "That",
        "Our",
        "We",
        "You",
        "He",
        "She",
        "They",
        "It",
        "Please",
        "Sorry",
        "Not",
        "Sure",
        "Happy",
        "Yes",
        "No",
        "Head",
        "Director",
        "Manager",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
        "Email",
        "Mail",
        "Phone",
        "Mobile",
        "Tel",
        "Sent",
        "From",
        "Kind",
        "Good",
        "Also",
        "And",
        "But",
        "Or",
        "If",
        "So",
        "Just",
        "Let",
        "Re",
        "Fwd",
        "Fw",
        "Hallo",
        "Bonjour",
        "Hola",
        "Gracias",
        "Danke",
        "Merci",
        "Vielen",
        "Herr",
        "Frau",
        "Madame",
        "Monsieur",
        "Sr",
        "Sra",
        "Mr",
        "Mrs",
        "Ms",
        "Dr",
        "IT",
        "HR",
        "VP",
        "CEO",
        "CFO",
        "CTO",
        "COO",
        "RevOps",
        "Finance",
        "Procurement",
        "Legal",
        "Support",
        "Customer",
        "Customers",
        "Account",
        "Accounts",
        "Regards",
        "Unfortunately",
        "Him",
        "Her",
        "Ich",
        "Wir",
        "Je",
        "Nous",
        "Yo",
        "Nosotros",
        "Sie",
        "Vous",
        "Usted",
        "Gerne",
        "Bitte",
        # cue verbs and words that stand capitalised before a name ("Try Anna Berg")
        "Try",
        "Ask",
        "Talk",
        "Contact",
        "Ping",
        "Reach",
        "Loop",
        "Looping",
        "Adding",
        "Copying",
        "Herrn",
        "Revenue",
        "Easiest",
        "Simplest",
        "Quickest",
        "Then",
        "Mid",
    ]
)
_HAN_STOP = frozenset(
    {
        "我们",
        "我們",
        "您",
        "你们",
        "你們",
        "一下",
        "他们",
        "他們",
        "我",
        "时间",
        "時間",
        "销售",
        "銷售",
        "市场",
        "市場",
        "负责",
        "負責",
        "同事",
        "部门",
        "部門",
        "这个",
        "這個",
        "这边",
        "這邊",
        "合适",
        "合適",
        "谁",
        "誰",
        "的人",
        "其他",
        "人",
    }
)
_SCHEDULING_ONLY = re.compile(
    r"assistant|\bEA\b|schedul|calendar|diary|助理|秘书|秘書", re.IGNORECASE
)
_CC_CUE = re.compile(
    r"cc|copied|copying|looping|loop in|adding|added|forward|抄送|转发|轉發|"
    r"in kopie|en copie|en copia",
    re.IGNORECASE,
)


@dataclass
class ReferralContext:
    """What we know about the thread, to tell referred people from everyone else."""

    replier: str | None
    replier_name: str = ""
    excluded_addresses: set[str] = field(default_factory=set)
    excluded_domains: set[str] = field(default_factory=set)
    excluded_names: set[str] = field(default_factory=set)
    header_people: list[tuple[str, str]] = field(default_factory=list)  # To/Cc (name, address)
    is_forward: bool = False


def normalise_addresses(text: str) -> str:
    """Undo "name [at] domain [dot] com" obfuscation and Outlook's <mailto:...> artefacts."""
    text = _OBFUSCATED.sub(lambda m: f"{m.group(1)}@{m.group(2)}.{m.group(3)}", text)
    return re.sub(r"<mailto:[^>]*>", "", text)


def extract_referrals(text: str, context: ReferralContext) -> list[Referral]:
    """Referred people in the replier's own words (signature included) and new To/Cc people."""
    text = normalise_addresses(text[:4000])
    found: list[Referral] = []
    for match in _ADDRESS.finditer(text):
        address = match.group(0).lower().strip(".")
        if _excluded(address, context) or any(r.email == address for r in found):
            continue
        if _is_own_signature_line(text, match.start(), context):
            continue
        found.append(Referral(email=address, name=_name_before(text, match.start(), context)))
    for display, address in context.header_people:
        if _excluded(address, context) or any(r.email == address for r in found):
            continue
        name = display or None
        mentioned = name is not None and _mentioned(name, text)
        if not (mentioned or context.is_forward or _CC_CUE.search(text)):
            continue
        if mentioned and name and _scheduling_only(name, text):
            continue
        found.append(Referral(email=address, name=name))
    for name in _names_in_text(text, context):
        if not any(r.name and _same_person(r.name, name) for r in found):
            found.append(Referral(email=None, name=name))
    return found


def _excluded(address: str, context: ReferralContext) -> bool:
    domain = address.rsplit("@", 1)[-1]
    return address in context.excluded_addresses or domain in context.excluded_domains


def _is_own_signature_line(text: str, position: int, context: ReferralContext) -> bool:
    """An address on an "E:"/"Email:" line right under the replier's name is theirs."""
    line_start = text.rfind("\n", 0, position) + 1
    prefix = text[line_start:position].strip().lower()
    if prefix.rstrip(":： ") not in (
        "e",
        "email",
        "e-mail",
        "mail",
        "邮箱",
        "郵箱",
        "电邮",
        "電郵",
        "courriel",
        "correo",
        "m",
        "",
    ):
        return False
    if prefix == "":
        before = text[max(0, line_start - 200) : line_start]
        return bool(context.replier_name) and context.replier_name.split()[0] in before
    return True


def _name_before(text: str, position: int, context: ReferralContext) -> str | None:
    before = text[max(0, position - 60) : position]
    han = _HAN_BEFORE_ADDRESS.search(before)
    if han:
        name = han.group(1)
        for prefix in ("的", "找", "联系", "聯繫", "同事", "是", "人"):
            name = name.split(prefix)[-1]
        if any(ch in name for ch in "我您你他她们們给給信"):  # "写信给她", not a name
            return None
        return name if len(name) >= 2 and name not in _HAN_STOP else None
    person = _PERSON_BEFORE_ADDRESS.search(before)
    if person:
        name = _clean_name(person.group(1))
        if name and not _is_excluded_name(name, context):
            return name
    return None


def _names_in_text(text: str, context: ReferralContext) -> list[str]:
    names: list[str] = []
    for pattern in (_CUE_BEFORE, _CUE_AFTER):
        for match in pattern.finditer(text):
            name = _clean_name(match.group(1))
            if (
                name
                and name not in names
                and not _is_excluded_name(name, context)
                and not _former_owner(name, text)
            ):
                names.append(name)
    han_matches = [*_CUE_HAN.finditer(text), *_HAN_BEFORE_CUE.finditer(text)]
    for match in han_matches:
        name = match.group(1)
        if (
            len(name) >= 2
            and name not in _HAN_STOP
            and name not in names
            and not any(ch in name for ch in "我您你他她们們的是人")
            and not _is_excluded_name(name, context)
        ):
            names.append(name)
    return names


# Contractions ("We're", "I'm") and "Cc'ing" are never name words; O'Connor is.
_CONTRACTION = re.compile(r"['’](re|m|ve|ll|d|s|t|ing)$", re.IGNORECASE)


def _not_name(word: str) -> bool:
    parts = word.split("-")
    return (
        word in _NOT_NAMES or any(p in _NOT_NAMES for p in parts) or bool(_CONTRACTION.search(word))
    )


def _clean_name(name: str) -> str | None:
    words = [w for w in name.split() if not _not_name(w)]
    # Keep the leading run of real name words only.
    kept: list[str] = []
    for word in name.split():
        if _not_name(word):
            if kept:
                break
            continue
        kept.append(word)
    if not words or not kept:
        return None
    return " ".join(kept)


def _is_excluded_name(name: str, context: ReferralContext) -> bool:
    lowered = name.lower()
    for excluded in context.excluded_names:
        parts = excluded.lower().split()
        if lowered == excluded.lower() or lowered in parts or (parts and parts[0] == lowered):
            return True
    return False


def _mentioned(name: str, text: str) -> bool:
    first = name.split()[0] if " " in name else name
    if re.search(r"[\u4e00-\u9fff]", name):
        return name in text or (len(name) >= 2 and name[-2:] in text)
    return bool(re.search(rf"\b{re.escape(first)}\b", text))


def _scheduling_only(name: str, text: str) -> bool:
    first = name.split()[0]
    for match in re.finditer(rf"\b{re.escape(first)}\b", text):
        if _SCHEDULING_ONLY.search(text[max(0, match.start() - 80) : match.end() + 80]):
            return True
    return False


def _former_owner(name: str, text: str) -> bool:
    """A person mentioned as having left or moved on is history, not a referral."""
    first = name.split()[0]
    for match in re.finditer(rf"\b{re.escape(first)}\b", text):
        window = text[match.start() : match.end() + 60]
        if re.search(r"used to|left|no longer|retired|moved on|is gone|was (the|our)", window):
            return True
    return False


def _same_person(a: str, b: str) -> bool:
    return a == b or a.split()[0] == b.split()[0]
