"""Score the reply classifier on a labelled corpus.

Usage: python scripts/evaluate.py [CORPUS] [--check] [--verbose]

CORPUS (default: ../shared/corpus relative to the repository root) may hold `replies/` with a
`manifest.jsonl` and `bounces/` with a `labels.jsonl`, in the formats their READMEs describe.
Prints per-label precision/recall and macro-F1 for replies, referral extraction precision/recall,
date accuracy (within 7 days), and for bounces the detection rate, hard/soft agreement and
Final-Recipient coverage. With --check, exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from datetime import date
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from engine.classify import classify_message  # noqa: E402
from engine.classify.result import Classification, ReplyLabel  # noqa: E402

TARGET_MACRO_F1 = 0.90
TARGET_DETECTION = 0.99
TARGET_AGREEMENT = 0.95
TARGET_FINAL_RECIPIENTS = 1.0
DATE_TOLERANCE_DAYS = 7
REPLY_LABELS = [
    "referral",
    "interest",
    "not-now",
    "not-interested",
    "unsubscribe",
    "wrong-person",
    "auto-reply",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", nargs="?", default=str(REPO_ROOT.parent / "shared" / "corpus"))
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    parser.add_argument("--verbose", action="store_true", help="list every mistake")
    args = parser.parse_args()
    corpus = Path(args.corpus)
    if not corpus.is_dir():
        print(f"error: corpus folder not found: {corpus}", file=sys.stderr)
        return 2
    replies, bounces = corpus / "replies", corpus / "bounces"
    missed: list[str] = []
    evaluated = False
    if (replies / "manifest.jsonl").is_file():
        missed += evaluate_replies(replies, args.verbose)
        evaluated = True
    if (bounces / "labels.jsonl").is_file():
        missed += evaluate_bounces(bounces, args.verbose)
        evaluated = True
    if not evaluated:
        print(
            f"error: no replies/manifest.jsonl or bounces/labels.jsonl in {corpus}", file=sys.stderr
        )
        return 2
    if missed:
        print("\nmissed targets: " + "; ".join(missed))
    else:
        print("\nall targets met")
    return 1 if (args.check and missed) else 0


def read_jsonl(path: Path) -> list[dict[str, object]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def classify_file(path: Path) -> Classification:
    return classify_message(path.read_bytes())


# -- replies -----------------------------------------------------------------------------------


def evaluate_replies(folder: Path, verbose: bool) -> list[str]:
    rows = read_jsonl(folder / "manifest.jsonl")
    pairs: list[tuple[str, str]] = []
    referral_true = referral_found = referral_hits = 0
    dates_total = dates_right = 0
    mistakes: list[str] = []
    for row in rows:
        name = str(row["file"])
        result = classify_file(folder / name)
        expected, predicted = str(row["label"]), str(result.label)
        pairs.append((expected, predicted))
        if expected != predicted:
            mistakes.append(
                f"{name}: expected {expected}, got {predicted} "
                f"({result.best_guess} {result.confidence:.2f})"
            )
        wanted = _wanted_referrals(row)
        got = _found_referrals(result)
        referral_true += len(wanted)
        referral_found += len(got)
        referral_hits += len(wanted & got)
        if verbose and wanted != got and (wanted or got):
            mistakes.append(f"{name}: referrals expected {sorted(wanted)}, got {sorted(got)}")
        for field in ("resume_after", "return_date"):
            expected_day = row.get(field)
            got_day = getattr(result, field)
            if expected_day is None and got_day is None:
                continue
            if expected_day is None and str(row["label"]) not in (
                "not-now" if field == "resume_after" else "auto-reply",
            ):
                continue
            dates_total += 1
            if expected_day is not None and got_day is not None:
                gap = abs((date.fromisoformat(str(expected_day)) - got_day).days)
                if gap <= DATE_TOLERANCE_DAYS:
                    dates_right += 1
                    continue
            if verbose:
                mistakes.append(f"{name}: {field} expected {expected_day}, got {got_day}")
    print(f"replies: {len(rows)} messages")
    print(f"{'label':16} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>8}")
    f1s = []
    for label in REPLY_LABELS:
        tp = sum(1 for e, p in pairs if e == label and p == label)
        fp = sum(1 for e, p in pairs if e != label and p == label)
        fn = sum(1 for e, p in pairs if e == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        f1s.append(f1)
        print(f"{label:16} {precision:9.3f} {recall:7.3f} {f1:6.3f} {tp + fn:8d}")
    unclear = sum(1 for _, p in pairs if p == ReplyLabel.UNCLEAR)
    macro_f1 = sum(f1s) / len(f1s)
    accuracy = sum(1 for e, p in pairs if e == p) / len(pairs) if pairs else 0.0
    print(f"macro-F1 {macro_f1:.3f}  accuracy {accuracy:.3f}  unclear {unclear}")
    ref_p = referral_hits / referral_found if referral_found else 1.0
    ref_r = referral_hits / referral_true if referral_true else 1.0
    print(
        f"referral extraction: precision {ref_p:.3f} recall {ref_r:.3f} "
        f"({referral_hits}/{referral_true} expected, {referral_found} found)"
    )
    date_accuracy = dates_right / dates_total if dates_total else 1.0
    print(
        f"date accuracy (within {DATE_TOLERANCE_DAYS} days): {date_accuracy:.3f} "
        f"({dates_right}/{dates_total})"
    )
    if verbose:
        print("\n".join(mistakes))
    return (
        [f"replies macro-F1 {macro_f1:.3f} < {TARGET_MACRO_F1}"]
        if macro_f1 < TARGET_MACRO_F1
        else []
    )


def _wanted_referrals(row: dict[str, object]) -> set[str]:
    emails = [str(e).lower() for e in _as_list(row.get("referral_emails"))]
    names = [_name_key(str(n)) for n in _as_list(row.get("referral_names"))]
    return {f"email:{e}" for e in emails} | {f"name:{n}" for n in names}


def _found_referrals(result: Classification) -> set[str]:
    found = set()
    for referral in result.referrals:
        if referral.email:
            found.add(f"email:{referral.email.lower()}")
        if referral.name:
            found.add(f"name:{_name_key(referral.name)}")
    return found


def _name_key(name: str) -> str:
    return re.sub(r"\s+", " ", name).strip().casefold()


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


# -- bounces -----------------------------------------------------------------------------------

_FINAL_RECIPIENT = re.compile(
    r"^Final-Recipient\s*:\s*(?:[\w-]+\s*;)?\s*<?([^\s<>;]+@[^\s<>;]+?)>?\s*$",
    re.IGNORECASE | re.MULTILINE,
)
EXPECTED_LABEL = {
    "hard": "bounce",
    "soft": "bounce",
    "complaint": "unsubscribe",
    "delivered": "auto-reply",
}


def evaluate_bounces(folder: Path, verbose: bool) -> list[str]:
    rows = read_jsonl(folder / "labels.jsonl")
    detected = agreed = hard_soft = 0
    final_total = final_found = 0
    reasons: Counter[str] = Counter()
    mistakes: list[str] = []
    for row in rows:
        name, kind = str(row["file"]), str(row["kind"])
        raw = (folder / name).read_bytes()
        result = classify_message(raw)
        if str(result.label) == EXPECTED_LABEL.get(kind):
            detected += 1
        else:
            mistakes.append(f"{name}: {kind} not detected (got {result.label})")
        if kind in ("hard", "soft"):
            hard_soft += 1
            got_kind = str(result.bounce.kind) if result.bounce else None
            if got_kind == kind:
                agreed += 1
            else:
                first = _as_list(row.get("recipients"))[:1]
                mistakes.append(
                    f"{name}: kind {kind}, got {got_kind} "
                    f"({result.bounce.reason if result.bounce else '-'}; "
                    f"expected {first})"
                )
            if result.bounce:
                reasons[result.bounce.reason] += 1
        text = raw.decode("latin-1")
        expected_addresses = {a.lower() for a in _FINAL_RECIPIENT.findall(text)}
        got_addresses = (
            {r.address.lower() for r in result.bounce.recipients} if result.bounce else set()
        )
        if kind in ("hard", "soft"):
            final_total += len(expected_addresses)
            final_found += len(expected_addresses & got_addresses)
            if expected_addresses - got_addresses:
                mistakes.append(
                    f"{name}: Final-Recipient missing {sorted(expected_addresses - got_addresses)}"
                )
    detection = detected / len(rows) if rows else 1.0
    agreement = agreed / hard_soft if hard_soft else 1.0
    coverage = final_found / final_total if final_total else 1.0
    print(f"\nbounces: {len(rows)} messages")
    print(f"detected {detection:.3f} ({detected}/{len(rows)})")
    print(f"hard/soft agreement {agreement:.3f} ({agreed}/{hard_soft})")
    print(f"Final-Recipient found {coverage:.3f} ({final_found}/{final_total})")
    print("reasons: " + ", ".join(f"{r} {n}" for r, n in reasons.most_common()))
    if verbose:
        print("\n".join(mistakes))
    missed = []
    if detection < TARGET_DETECTION:
        missed.append(f"bounce detection {detection:.3f} < {TARGET_DETECTION}")
    if agreement < TARGET_AGREEMENT:
        missed.append(f"hard/soft agreement {agreement:.3f} < {TARGET_AGREEMENT}")
    if coverage < TARGET_FINAL_RECIPIENTS:
        missed.append(f"Final-Recipient coverage {coverage:.3f} < 1.0")
    return missed


if __name__ == "__main__":
    sys.exit(main())
