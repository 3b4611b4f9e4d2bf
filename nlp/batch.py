"""Streaming CSV scoring and evaluation (the logic behind ``tingfeng nlp score|eval``).

Rows are read one at a time and scored in batches, so a file of a million rows runs in
bounded memory. A bad row (missing id or text, a label that is not 0/1, text that is
not valid UTF-8) is reported with its line number and skipped, never fatal.
"""

from __future__ import annotations

import csv
import re
import sys
from dataclasses import dataclass
from itertools import islice
from typing import IO, Callable, Iterable, Iterator, Sequence

from nlp import metrics
from nlp import text as textmod
from nlp.errors import MissingColumns
from nlp.models import SentimentModel
from nlp.scoring import score_texts

OUTPUT_COLUMNS = ("score", "label", "touchpoints", "urgent")
_SURROGATE = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8 (surrogateescape)
BATCH = 1000

csv.field_size_limit(sys.maxsize)


@dataclass(frozen=True)
class BadRow:
    """A skipped input row: its line number in the file and why."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}; skipped"


@dataclass(frozen=True)
class Row:
    """A usable input row: its line number and fields."""

    line: int
    fields: dict[str, str]


def read_rows(fh: IO[str], required: Sequence[str] = ("id", "text")) -> tuple[list[str], Iterator[Row | BadRow]]:
    """(header, rows) of a CSV stream; raise :class:`MissingColumns` when the header lacks one.

    Open the file with ``errors="surrogateescape"`` so broken bytes show up per row.
    """
    reader = csv.DictReader(fh)
    header = list(reader.fieldnames or [])
    missing = [c for c in required if c not in header]
    if missing:
        raise MissingColumns(f"the CSV header lacks {', '.join(missing)} (has: {', '.join(header) or 'nothing'})")

    def rows() -> Iterator[Row | BadRow]:
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield BadRow(reader.line_num, f"unreadable CSV ({exc})")
                continue
            yield _check(reader.line_num, fields, required)

    return header, rows()


def _check(line: int, fields: dict, required: Sequence[str]) -> Row | BadRow:
    if None in fields:
        return BadRow(line, "more fields than the header")
    values = {k: (v if v is not None else "") for k, v in fields.items()}
    for col in required:
        if not values.get(col, "").strip():
            return BadRow(line, f"missing {col}")
    if any(_broken(v) for v in values.values()):
        return BadRow(line, "broken encoding (not UTF-8)")
    if "label" in required and values["label"].strip() not in ("0", "1"):
        return BadRow(line, f"label {values['label']!r} is not 0 or 1")
    return Row(line, values)


def _broken(value: str) -> bool:
    return _SURROGATE.search(value) is not None


def _batches(items: Iterable, size: int) -> Iterator[list]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def _split(chunk: list[Row | BadRow], on_bad: Callable[[BadRow], None]) -> list[Row]:
    good = []
    for r in chunk:
        if isinstance(r, BadRow):
            on_bad(r)
        else:
            good.append(r)
    return good


def format_touchpoints(hits: Iterable) -> str:
    """``product:positive;service:negative`` — the CSV form of touchpoint hits."""
    return ";".join(f"{h.touchpoint}:{h.polarity}" for h in hits)


def score_csv(src: IO[str], dst: IO[str], model: SentimentModel, *, batch_size: int = BATCH,
              on_bad: Callable[[BadRow], None] = lambda _: None) -> int:
    """Copy ``src`` to ``dst`` adding score, label, touchpoints, urgent; the number of rows written.

    An input column already named like an output column is kept with an ``_in`` suffix.
    """
    header, rows = read_rows(src)
    renamed = {c: f"{c}_in" if c in OUTPUT_COLUMNS else c for c in header}  # keep an input label as label_in
    writer = csv.DictWriter(dst, fieldnames=[renamed[c] for c in header] + list(OUTPUT_COLUMNS), extrasaction="ignore")
    writer.writeheader()
    written = 0
    for chunk in _batches(rows, batch_size):
        good = _split(chunk, on_bad)
        results = score_texts([textmod.clean(r.fields["text"]) for r in good], model)
        for r, s in zip(good, results):
            writer.writerow({
                **{renamed.get(k, k): v for k, v in r.fields.items()},
                "score": f"{s.score:.4f}",
                "label": s.label,
                "touchpoints": format_touchpoints(s.touchpoints),
                "urgent": ";".join(s.urgent_terms),
            })
        written += len(good)
    return written


def score_labelled(src: IO[str], model: SentimentModel, *, batch_size: int = BATCH,
                   on_bad: Callable[[BadRow], None] = lambda _: None,
                   prepare: Callable[[str], str] = textmod.clean) -> tuple[list[int], list[float]]:
    """(labels, probabilities of positive) for an ``id,text,label`` CSV stream."""
    _, rows = read_rows(src, ("id", "text", "label"))
    labels: list[int] = []
    probs: list[float] = []
    for chunk in _batches(rows, batch_size):
        good = _split(chunk, on_bad)
        probs.extend(model.score([prepare(r.fields["text"]) for r in good]))
        labels.extend(int(r.fields["label"].strip()) for r in good)
    return labels, probs


def evaluate_csv(src: IO[str], model: SentimentModel, *, on_bad: Callable[[BadRow], None] = lambda _: None,
                 prepare: Callable[[str], str] = textmod.clean) -> dict[str, float]:
    """accuracy, macro-F1 (positive when p >= 0.5) and ROC-AUC of ``model`` on a labelled CSV."""
    labels, probs = score_labelled(src, model, on_bad=on_bad, prepare=prepare)
    return metrics.report(labels, probs)
