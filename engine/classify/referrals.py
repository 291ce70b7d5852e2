"""People a reply points us to: addresses and names, from the text and the To/Cc headers.

Never the replier, never the original sender (our side of the thread: the domain of the
Message-ID being answered and every address in the quoted original), never anything that only
appears in the quoted text. A colleague newly copied on the reply counts when the reply
introduces them (by name, or with "cc'ing"/"looping in"/a forward).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from engine.classify.lexicon import LEXICONS, combined, searcher
from engine.classify.parse import ADDRESS
from engine.classify.result import Referral

_OBFUSCATED = re.compile(
    r"\b([\w.+-]+)\s*[\[(]\s*at\s*[\])]\s*([\w-]+)\s*"
    r"(?:[\[(]\s*dot\s*[\])]|\.)\s*([\w.-]+)",
    re.IGNORECASE,
)
_NAME_WORD = r"[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ'’]+(?:-[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ]+)?"
_SURNAME_WORD = rf"(?:(?:O['’]|Ma?c)[A-Z][a-z]+|{_NAME_WORD})"
# Surname particles written in lower case: "Kim de Wit", "Pieter van Dijk", "Ana dos Santos".
_PARTICLES = r"(?:van|von|de|der|den|da|das|do|dos|di|del|della|ter|ten|le|la)"
_PERSON = rf"{_SURNAME_WORD}(?:\s+(?:{_PARTICLES}\s+){{0,2}}{_SURNAME_WORD}){{0,2}}"
_HAN_NAME = r"[\u4e00-\u9fff]{2,3}"
# Phrases that introduce the person we should talk to, and phrases where the person comes first.
_CUE_BEFORE = re.compile(
    rf"(?i:\b(?:{combined('person_before')}))"
    rf"\s+(?:(?:our|my) [A-Za-z ]{{1,30}}?,\s+)?"
    rf"(?:(?:my|our|mein\w*|unser\w*|notre|mon|ma|nuestr[oa]|mi|nosso|nossa|il nostro|"
    rf"la nostra|onze|mijn)?\s*(?:{combined('colleague')})\s*,?\s+)?(?:@)?({_PERSON})"
)
_CUE_AFTER = re.compile(
    rf"(?:@)?({_PERSON})\b(?:\s*\([^)]*\))?\s*(?:<[^>]*>)?\s*(?:,\s*(?:our|my) [\w ]+,\s*)?"
    rf"(?:{combined('person_after')})\b"
)
_CUE_HAN = re.compile(
    rf"(?:联系|聯繫|聯絡|找|问问|問問|转发给|轉發給|转给|轉給|抄送|对接人是|對接人是|负责人是|負責人是|"
    rf"同事|的)\s*({_HAN_NAME}?)(?=[（(，,。\s]|$|[\w.+-]+@|在|负责|負責|经理|經理|总|總|老师|老師|先生|女士|他|她)"
)
_HAN_BEFORE_CUE = re.compile(r"(?:的|长|長|人|是)([\u4e00-\u9fff]{2,3}?)(?=联系|聯繫|聯絡|吧)")
# Ideographs right before an address; Japanese may put a space between family and given name.
_HAN_BEFORE_ADDRESS = re.compile(
    r"([\u4e00-\u9fff]+(?:[ \u3000][\u4e00-\u9fff]{1,3})?)\s*[（(:：]?\s*$"
)
# Titles and honorifics written against a name, and a name right after a title ("总监周凯文").
_TITLES = combined("titles", spaced=False)
_HAN_AFTER_TITLE = re.compile(rf"(?:{_TITLES})([\u4e00-\u9fff]{{2,3}})$")
# A Korean name: a family-name syllable and one to three more, then a title, a particle or an
# address ("한지민 책임에게", "정다은님께", "김민수 (minsu.kim@...)").
_HANGUL_NAME = re.compile(
    rf"(?<![가-힣])([{''.join(LEXICONS['ko'].surnames)}][가-힣]{{1,3}}?)"
    rf"(?=\s?(?:{_TITLES})|\s?(?:에게|께|한테)|\s*[（(<]?\s*[\w.+-]+@)"
)
# Any capitalised name, for pairing a name with an address (not a referral on its own).
_PERSON_ANYWHERE = re.compile(rf"(?<![\w'’@.])({_PERSON})\b")
# Where a sentence ends; a name and an address are paired only inside one.
_SENTENCE_END = re.compile(
    r"(?<!\bMr)(?<!\bMs)(?<!\bDr)(?<!\bMrs)(?<!\bSr)(?<!\bSra)[.!?](?=\s)|[。！？；]|\n[ \t]*\n"
)
# A Chinese family name, then one or two given-name characters.
_HAN_SURNAMES = "".join(LEXICONS["zh"].surnames)
_HAN_SURNAME_NAME = re.compile(rf"([{_HAN_SURNAMES}][\u4e00-\u9fff]{{1,2}})")
_HAN_PREFIXES = (
    "的",
    "找",
    "联系",
    "聯繫",
    "聯絡",
    "同事",
    "是",
    "人",
    "给",
    "給",
    "问问",
    "請",
    "请",
)
_HAN_TRAILING = "在是的负負管来來说說和也吧呢吗嗎那这這经經总總老先女同就可"
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
        # job-title words that stand capitalised next to an address ("Director of Demand Gen")
        "Chief",
        "Officer",
        "Senior",
        "Vice",
        "President",
        "Demand",
        "Gen",
        "Growth",
        "Enablement",
        "Partnerships",
        "Business",
        "Development",
        "Product",
        "Engineering",
        "Analytics",
        "Solutions",
        "Global",
        "Regional",
        "Channel",
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
        # contact-card labels ("邮箱：xuxiao@...")
        "邮箱",
        "郵箱",
        "信箱",
        "电邮",
        "電郵",
        "邮件",
        "郵件",
        "地址",
        "电话",
        "電話",
        "手机",
        "手機",
        "微信",
        "連絡先",
        "宛先",
        "担当",
        "担当者",
        "窓口",
    }
)
_SCHEDULING_ONLY = searcher("scheduling_only")
_CC_CUE = re.compile(rf"{combined('copying')}|forward|转发|轉發", re.IGNORECASE)


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
    """Referred people in the replier's own words (signature included) and new To/Cc people.

    A name and an address that belong to the same person become one referral: the address's
    display name (To/Cc header or "Name <address>" in the text), a name standing next to the
    address in the same sentence, or a name the address's local part spells out.
    """
    text = normalise_addresses(text[:4000])
    found: list[Referral] = []
    positions: dict[str, int] = {}
    for match in ADDRESS.finditer(text):
        address = match.group(0).lower().strip(".")
        if _excluded(address, context) or any(r.email == address for r in found):
            continue
        if _is_own_signature_line(text, match.start(), match.group(0), context):
            continue
        positions[address] = match.start()
        found.append(Referral(email=address, name=_name_before(text, match.start(), context)))
    for display, address in context.header_people:
        if _excluded(address, context) or any(r.email == address for r in found):
            continue
        name = _display_name(display, context)
        mentioned = name is not None and _mentioned(name, text)
        if not (mentioned or context.is_forward or _CC_CUE.search(text)):
            continue
        if mentioned and name and _scheduling_only(name, text):
            continue
        found.append(Referral(email=address, name=name))
    names = _names_in_text(text, context)
    found = _pair_names(found, names, text, positions, context)
    people = _people_in_text(text, context)
    for name in names:
        if not any(r.name and _same_person(r.name, name) for r in found):
            found.append(Referral(email=None, name=_fuller(name, people)))
    return found


def _fuller(name: str, people: list[str]) -> str:
    """The full spelling of a first name the text also writes out ("Ana" -> "Ana Ferreira")."""
    if " " in name or re.search(r"[\u4e00-\u9fff]", name):
        return name
    full = {p for p in people if p.split()[0] == name and " " in p}
    return full.pop() if len(full) == 1 else name


def _display_name(display: str, context: ReferralContext) -> str | None:
    """A header display name that names a person (not an address, not a role mailbox)."""
    display = display.strip().strip("'\"").strip()
    if not display or "@" in display or _is_excluded_name(display, context):
        return None
    if re.search(r"[\u4e00-\u9fff]", display):
        return display
    cleaned = _clean_name(display)
    return cleaned if cleaned and cleaned == display else display if cleaned else None


def _pair_names(
    found: list[Referral],
    names: list[str],
    text: str,
    positions: dict[str, int],
    context: ReferralContext,
) -> list[Referral]:
    """Give every address without a name the name of its owner, when the text tells it."""
    display = {address: _display_name(name, context) for name, address in context.header_people}
    candidates = list(names)
    for name in [*_people_in_text(text, context), *(n for n in display.values() if n)]:
        if name not in candidates:
            candidates.append(name)
    taken = {r.name for r in found if r.name}
    # Pass 1: evidence tied to the address itself (display name, local part).
    named: dict[str, str] = {}
    for referral in found:
        address = referral.email
        if address is None:
            continue
        spelled = _name_from_local_part(address, candidates, found)
        if referral.name:
            # The words right before an address may be a job title; the local part knows better.
            others = taken - {referral.name}
            if (
                spelled
                and not _same_person(spelled, referral.name)
                and not any(_same_person(spelled, other) for other in others)
            ):
                taken.discard(referral.name)
                named[address] = spelled
                taken.add(spelled)
            continue
        choice = display.get(address) or spelled
        if choice and not any(_same_person(choice, other) for other in taken):
            named[address] = choice
            taken.add(choice)
    # Pass 2: a name standing next to the address in the same sentence or line.
    for referral in found:
        address = referral.email
        if address is None or referral.name or address in named or address not in positions:
            continue
        near = _name_near(text, positions[address], address, context, found)
        if near and not any(_same_person(near, other) for other in taken):
            named[address] = near
            taken.add(near)
    paired: list[Referral] = []
    for referral in found:
        final = (named.get(referral.email) if referral.email else None) or referral.name
        if final:
            # Prefer the fuller spelling the text gives for one person ("Chloe" -> "Chloe Chen").
            fuller = [n for n in names if _same_person(n, final) and len(n) > len(final)]
            if fuller and not re.search(r"[\u4e00-\u9fff]", final):
                final = fuller[0]
        paired.append(Referral(email=referral.email, name=final))
    return paired


def _people_in_text(text: str, context: ReferralContext) -> list[str]:
    """Every capitalised personal name (and Chinese name) in the reply, cue or not."""
    people: list[str] = []
    for match in _PERSON_ANYWHERE.finditer(text):
        name = _clean_name(match.group(1))
        if name and name not in people and not _is_excluded_name(name, context):
            people.append(name)
    for match in _HAN_SURNAME_NAME.finditer(text):
        name = _trim_han(match.group(1))
        if name and name not in people and not _is_excluded_name(name, context):
            people.append(name)
    return people


def _name_near(
    text: str, position: int, address: str, context: ReferralContext, found: list[Referral]
) -> str | None:
    """The closest name before the address in its sentence, or "address (Name)" right after."""
    after = text[position + len(address) : position + len(address) + 60]
    follow = re.match(rf"\s*[(（]\s*({_PERSON})\s*[)）]", after)
    if follow:
        name = _clean_name(follow.group(1))
        if name and not _is_excluded_name(name, context):
            return name
    start = max(0, position - 160)
    window = text[start:position]
    # Stay inside the sentence: cut at a sentence end, a blank line or another address.
    cuts = [m.end() for m in _SENTENCE_END.finditer(window)]
    cuts += [m.end() for m in ADDRESS.finditer(window)]
    window = window[max(cuts, default=0) :]
    best: tuple[int, str] | None = None
    for match in _PERSON_ANYWHERE.finditer(window):
        name = _clean_name(match.group(1))
        if not name or _is_excluded_name(name, context) or _former_owner(name, text):
            continue
        if _owned_elsewhere(name, address, found):
            continue
        best = (match.start(), name)
    for match in _HAN_SURNAME_NAME.finditer(window):
        name = _trim_han(match.group(1))
        if not name or _is_excluded_name(name, context) or (best and best[0] > match.start()):
            continue
        best = (match.start(), name)
    for match in _HANGUL_NAME.finditer(window):
        name = match.group(1)
        if _is_excluded_name(name, context) or (best and best[0] > match.start()):
            continue
        best = (match.start(), name)
    return best[1] if best else None


def _owned_elsewhere(name: str, address: str, found: list[Referral]) -> bool:
    """The name is spelled out by another referred address, so it is not this one's owner."""
    for referral in found:
        if referral.email and referral.email != address:
            if referral.name and _same_person(referral.name, name):
                return True
            if _local_part_score(referral.email.split("@")[0], name) >= 2:
                return True
    return False


def _name_from_local_part(address: str, candidates: list[str], found: list[Referral]) -> str | None:
    """The one candidate name the address's local part spells (chloe.chen, cchen, chloe ...)."""
    local = address.split("@")[0]
    scored = [(_local_part_score(local, name), name) for name in candidates]
    scored = [(score, name) for score, name in scored if score > 0]
    if not scored:
        return None
    top = max(score for score, _ in scored)
    best = [name for score, name in scored if score == top]
    distinct = [n for n in best if not any(_same_person(n, o) for o in best if o != n)]
    if len(best) > 1 and not distinct:
        best = [max(best, key=len)]  # "Chloe" and "Chloe Chen": one person
    return best[0] if len(best) == 1 else None


def _ascii_word(word: str) -> str:
    folded = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in folded if "a" <= ch <= "z")


def _local_part_score(local: str, name: str) -> int:
    """3: first and last name, 2: initial plus a name, 1: first or last name alone, 0: no."""
    words = [w for w in (_ascii_word(w) for w in re.split(r"[\s-]+", name)) if w]
    compact = re.sub(r"\d+$", "", "".join(ch for ch in local.lower() if ch.isalnum()))
    if not words or len(compact) < 3:
        return 0
    first, last = words[0], words[-1]
    if len(words) >= 2:
        if compact in (first + last, last + first, "".join(words)):
            return 3
        if compact in (first[0] + last, first + last[0], last + first[0], last[0] + first):
            return 2
        if compact in (first, last) and len(compact) >= 3:
            return 1
        return 0
    return 1 if compact == first else 0


def _trim_han(name: str) -> str | None:
    name = name.rstrip(_HAN_TRAILING)
    return name if 2 <= len(name) <= 3 and name not in _HAN_STOP else None


def _excluded(address: str, context: ReferralContext) -> bool:
    domain = address.rsplit("@", 1)[-1]
    return address in context.excluded_addresses or domain in context.excluded_domains


def _is_own_signature_line(
    text: str, position: int, address: str, context: ReferralContext
) -> bool:
    """An address on an "E:"/"Email:" line right under the replier's name is theirs.

    A contact card the replier pastes for someone else ("Marcus Feld / Director / E: ...")
    sits in a paragraph of its own, without the replier's name: that address is a referral.
    """
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
    if not context.replier_name:
        return True
    block_start = text.rfind("\n\n", 0, position)
    block_start = 0 if block_start < 0 else block_start
    block_end = text.find("\n\n", position)
    block = text[block_start : len(text) if block_end < 0 else block_end]
    words = [w for w in re.split(r"\s+", context.replier_name) if len(w) >= 2]
    if re.search(r"[\u4e00-\u9fff]", context.replier_name):
        words += [w[-2:] for w in words if len(w) >= 3]
    if any(w in block for w in words):
        return True
    local = address.split("@")[0]
    return any(_local_part_score(local, w) for w in [context.replier_name, *words])


def _name_before(text: str, position: int, context: ReferralContext) -> str | None:
    before = text[max(0, position - 60) : position]
    han = _HAN_BEFORE_ADDRESS.search(before)
    if han:
        name = han.group(1)
        family, _, given = name.rpartition(" ") if " " in name else name.rpartition("\u3000")
        if family and 1 <= len(given) <= 3 and 1 <= len(family.split()[-1]) <= 3:
            family = family.split()[-1]  # "山本 達也": the family and given name, as written
            return f"{family} {given}" if family not in _HAN_STOP else None
        titled = _HAN_AFTER_TITLE.search(name)  # "供应链总监周凯文": the name after the title
        if titled:
            return titled.group(1) if titled.group(1) not in _HAN_STOP else None
        for prefix in _HAN_PREFIXES:
            name = name.split(prefix)[-1]
        if len(name) > 3:
            return None
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
                and not _scheduling_only(name, text)
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
    """Same spelling, or a first name alone and the full name it starts ("Chloe", "Chloe Chen").

    "Chloe Chen" and "Chloe Park" are two people.
    """
    if a == b:
        return True
    wa, wb = a.split(), b.split()
    if not wa or not wb or wa[0] != wb[0]:
        return False
    return len(wa) == 1 or len(wb) == 1 or wa[-1] == wb[-1]
