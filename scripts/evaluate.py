"""Score the reply classifier on labelled replies: a corpus folder or a `spear queue export` file.

Usage: python scripts/evaluate.py [SOURCE ...] [--check] [--verbose]

SOURCE (default: ../shared/corpus relative to the repository root) is any of:
- a folder of replies with a `manifest.jsonl` (`file`, `label`, optional `language` and the
  extraction fields), or of bounces with a `labels.jsonl`, in the formats their READMEs describe;
- a folder holding such folders (e.g. `replies/`, `replies-2/`, `bounces/`): each is scored;
- a `.jsonl` file written by `spear queue export`: the team's own decisions, scored the same way.

For replies it prints per-label precision/recall and macro-F1, accuracy per language, the
confusion matrix, calibration (how often the label given with confidence in each bin is right),
the share of replies acted on with a wrong label and the share sent to review, referral
extraction and date accuracy (within 7 days). For bounces: detection, hard/soft agreement and
Final-Recipient coverage. With --check, exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from engine.classify import classify_message  # noqa: E402
from engine.classify.result import Classification, ReplyLabel  # noqa: E402

TARGET_MACRO_F1 = 0.95
TARGET_ACTED_WRONGLY = 0.02
TARGET_DETECTION = 0.99
TARGET_AGREEMENT = 0.95
TARGET_FINAL_RECIPIENTS = 1.0
DATE_TOLERANCE_DAYS = 7
CALIBRATION_BINS = (0.0, 0.4, 0.6, 0.7, 0.8, 0.9, 1.01)
REPLY_LABELS = [
    "referral",
    "interest",
    "not-now",
    "not-interested",
    "unsubscribe",
    "wrong-person",
    "auto-reply",
]


@dataclass(frozen=True)
class Example:
    """One labelled message: its name, raw bytes and the manifest row (label and extras)."""

    name: str
    raw: bytes
    row: dict[str, object]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sources", nargs="*", default=[str(REPO_ROOT.parent / "shared" / "corpus")])
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    parser.add_argument("--verbose", action="store_true", help="list every mistake")
    args = parser.parse_args()
    missed: list[str] = []
    evaluated = 0
    for source in map(Path, args.sources):
        if not source.exists():
            print(f"error: {source}: no such file or folder", file=sys.stderr)
            return 2
        for kind, path in _sources(source):
            evaluated += 1
            if kind == "replies":
                examples = list(_corpus_examples(path))
                missed += evaluate_replies(str(path), examples, args.verbose)
            elif kind == "export":
                try:
                    examples = list(_export_examples(path))
                except (ValueError, KeyError) as error:
                    print(f"error: {path}: not a queue export ({error})", file=sys.stderr)
                    return 2
                missed += evaluate_replies(str(path), examples, args.verbose)
            else:
                missed += evaluate_bounces(path, args.verbose)
    if not evaluated:
        print(
            "error: no manifest.jsonl, labels.jsonl or queue export in " + " ".join(args.sources),
            file=sys.stderr,
        )
        return 2
    if missed:
        print("\nmissed targets: " + "; ".join(missed))
    else:
        print("\nall targets met")
    return 1 if (args.check and missed) else 0


def _sources(path: Path) -> Iterator[tuple[str, Path]]:
    """What to score under a path: ("replies" | "bounces" | "export", path) pairs."""
    if path.is_file():
        yield "export", path
        return
    if (path / "manifest.jsonl").is_file():
        yield "replies", path
    elif (path / "labels.jsonl").is_file():
        yield "bounces", path
    else:
        for child in sorted(p for p in path.iterdir() if p.is_dir()):
            if (child / "manifest.jsonl").is_file():
                yield "replies", child
            elif (child / "labels.jsonl").is_file():
                yield "bounces", child


def read_jsonl(path: Path) -> list[dict[str, object]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _corpus_examples(folder: Path) -> Iterator[Example]:
    for row in read_jsonl(folder / "manifest.jsonl"):
        name = str(row["file"])
        yield Example(name, (folder / name).read_bytes(), row)


def _export_examples(path: Path) -> Iterator[Example]:
    from engine.review.decisions import decode_example_raw

    for number, row in enumerate(read_jsonl(path), 1):
        if not row.get("label"):
            raise ValueError(f"line {number} has no label")
        name = f"inbound {row.get('inbound_id', number)}"
        yield Example(name, decode_example_raw(row), row)


# -- replies -----------------------------------------------------------------------------------


def evaluate_replies(title: str, examples: list[Example], verbose: bool) -> list[str]:
    pairs: list[tuple[str, str]] = []
    by_language: dict[str, list[bool]] = defaultdict(list)
    calibration: dict[int, list[bool]] = defaultdict(list)
    acted_wrongly = to_review = 0
    referral_true = referral_found = referral_hits = 0
    dates_total = dates_right = 0
    mistakes: list[str] = []
    for example in examples:
        name, row = example.name, example.row
        result = classify_message(example.raw)
        expected, predicted = str(row["label"]), str(result.label)
        pairs.append((expected, predicted))
        by_language[str(row.get("language") or "?")].append(expected == predicted)
        reading = result.best_guess or result.label  # what the classifier thought, acted on or not
        calibration[_bin(result.confidence)].append(str(reading) == expected)
        if result.label == ReplyLabel.UNCLEAR:
            to_review += 1
        elif expected != predicted:
            acted_wrongly += 1
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
            if field not in row and expected not in ("not-now", "auto-reply"):
                continue
            expected_day = row.get(field)
            got_day = getattr(result, field)
            if expected_day is None and got_day is None:
                continue
            if expected_day is None and expected != (
                "not-now" if field == "resume_after" else "auto-reply"
            ):
                continue
            if field not in row:  # an export carries no dates to compare with
                continue
            dates_total += 1
            if expected_day is not None and got_day is not None:
                gap = abs((date.fromisoformat(str(expected_day)) - got_day).days)
                if gap <= DATE_TOLERANCE_DAYS:
                    dates_right += 1
                    continue
            if verbose:
                mistakes.append(f"{name}: {field} expected {expected_day}, got {got_day}")
    total = len(pairs)
    print(f"\nreplies: {title}: {total} messages")
    labels = REPLY_LABELS + sorted({e for e, _ in pairs} - set(REPLY_LABELS))
    print(f"{'label':16} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>8}")
    f1s = []
    for label in labels:
        tp = sum(1 for e, p in pairs if e == label and p == label)
        fp = sum(1 for e, p in pairs if e != label and p == label)
        fn = sum(1 for e, p in pairs if e == label and p != label)
        if tp + fp + fn == 0:
            continue
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        f1s.append(f1)
        print(f"{label:16} {precision:9.3f} {recall:7.3f} {f1:6.3f} {tp + fn:8d}")
    macro_f1 = sum(f1s) / len(f1s) if f1s else 0.0
    accuracy = sum(1 for e, p in pairs if e == p) / total if total else 0.0
    print(f"macro-F1 {macro_f1:.3f}  accuracy {accuracy:.3f}")
    wrong_share = acted_wrongly / total if total else 0.0
    review_share = to_review / total if total else 0.0
    print(
        f"acted on wrongly {wrong_share:.3f} ({acted_wrongly}/{total})  "
        f"sent to review {review_share:.3f} ({to_review}/{total})"
    )
    print(
        "accuracy by language: "
        + ", ".join(
            f"{language} {sum(hits) / len(hits):.2f} ({len(hits)})"
            for language, hits in sorted(by_language.items())
        )
    )
    _print_confusion(pairs, labels)
    print("calibration (reading right, by confidence):")
    for index, hits in sorted(calibration.items()):
        low, high = CALIBRATION_BINS[index], min(CALIBRATION_BINS[index + 1], 1.0)
        print(f"  {low:.1f}-{high:.1f}: {sum(hits) / len(hits):.2f} right ({len(hits)})")
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
    missed = []
    if macro_f1 < TARGET_MACRO_F1:
        missed.append(f"{title}: macro-F1 {macro_f1:.3f} < {TARGET_MACRO_F1}")
    if wrong_share > TARGET_ACTED_WRONGLY:
        missed.append(f"{title}: acted on wrongly {wrong_share:.3f} > {TARGET_ACTED_WRONGLY}")
    return missed


def _bin(confidence: float) -> int:
    for index, upper in enumerate(CALIBRATION_BINS[1:]):
        if confidence < upper:
            return index
    return len(CALIBRATION_BINS) - 2


def _print_confusion(pairs: list[tuple[str, str]], labels: list[str]) -> None:
    """Rows: the expected label; columns: the label given (unclear = sent to review)."""
    columns = [*labels, "unclear", *sorted({p for _, p in pairs} - set(labels) - {"unclear"})]
    counts = Counter(pairs)
    short = [c[:6] for c in columns]
    print("confusion (rows expected, columns given):")
    print(f"  {'':14} " + " ".join(f"{c:>6}" for c in short))
    for label in labels:
        cells = " ".join(f"{counts[(label, c)] or '.':>6}" for c in columns)
        print(f"  {label:14} {cells}")


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
    print(f"\nbounces: {folder}: {len(rows)} messages")
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
