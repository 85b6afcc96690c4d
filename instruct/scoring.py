"""Scoring an LLM's answers: the category parsed from each answer's summary against the gold label,
as ACC, UF1 and UAR (MELLM eq. 10-11, the MEGC metrics), per class and overall.

    UF1 = mean over classes c of 2 TP_c / (2 TP_c + FP_c + FN_c)
    UAR = mean over classes c of TP_c / N_c   (N_c: gold samples of c)
Both average over the classes that occur in the gold labels. An answer that names no category
counts as wrong (its own column in the confusion matrix).

Predictions: JSONL, one answer per line under "predict" (LLaMA-Factory's generated_predictions),
"response" (ms-swift), "answer", "output", "prediction" or "text", or the last assistant turn of
"messages". Gold: the records `meflow instruct build` wrote (JSONL), or a CSV with a category or
emotion column. Lines pair up by "id" when both files have ids, else in order. Without a gold
file, each prediction's own "label" text (LLaMA-Factory writes the reference answer there) is
parsed as its gold.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .jsonl import read_jsonl
from .labels import DISPLAY, category_of, check_label_set, normalise_emotion, parse_category

PREDICTION_KEYS = ("predict", "response", "answer", "output", "prediction", "text")
UNPARSED = "(none)"


@dataclass(frozen=True)
class Score:
    classes: tuple[str, ...]
    confusion: np.ndarray  # (C, C + 1) gold rows x predicted columns, the last column UNPARSED
    accuracy: float
    uf1: float
    uar: float
    per_class: dict  # class -> {"f1", "recall", "precision", "support"}

    def to_json(self) -> dict:
        return {"n": int(self.confusion.sum()), "accuracy": self.accuracy, "uf1": self.uf1, "uar": self.uar,
                "per_class": self.per_class, "classes": list(self.classes),
                "confusion": self.confusion.tolist(), "confusion_columns": [*self.classes, UNPARSED]}


def score_labels(gold: list[str], predicted: list[str | None], classes: tuple[str, ...]) -> Score:
    """gold (N,) class names, predicted (N,) class names or None -> Score."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    if not gold:
        raise ValueError("nothing to score: no gold labels")
    index = {c: i for i, c in enumerate(classes)}
    confusion = np.zeros((len(classes), len(classes) + 1), np.int64)
    for g, p in zip(gold, predicted):
        if g not in index:
            raise ValueError(f"gold label {g!r} is not one of {list(classes)}")
        confusion[index[g], index.get(p, len(classes))] += 1
    tp = np.diag(confusion[:, :len(classes)]).astype(np.float64)
    support = confusion.sum(1).astype(np.float64)
    predicted_count = confusion[:, :len(classes)].sum(0).astype(np.float64)
    fp, fn = predicted_count - tp, support - tp
    present = support > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
        recall = np.where(present, tp / support, 0.0)
        precision = np.where(predicted_count > 0, tp / predicted_count, 0.0)
    per_class = {c: {"f1": float(f1[i]), "recall": float(recall[i]), "precision": float(precision[i]),
                     "support": int(support[i])} for i, c in enumerate(classes)}
    return Score(classes, confusion, float(tp.sum() / support.sum()), float(f1[present].mean()),
                 float(recall[present].mean()), per_class)


def prediction_text(record: dict, line: int) -> str:
    for key in PREDICTION_KEYS:
        if isinstance(record.get(key), str):
            return record[key]
    turns = [m for m in record.get("messages") or () if isinstance(m, dict) and m.get("role") == "assistant"]
    if turns:
        return str(turns[-1].get("content", ""))
    raise ValueError(f"prediction line {line} has no answer text (keys {sorted(record)}; expected one of "
                     f"{list(PREDICTION_KEYS)} or messages)")


def gold_category(record: dict, label_set: str, where: str) -> str:
    """A gold record or CSV row -> its class in the label set."""
    meta = record.get("meta") if isinstance(record.get("meta"), dict) else record
    for key in ("category", "emotion", "label", "Estimated Emotion"):
        value = meta.get(key)
        if isinstance(value, str) and value.strip():
            try:
                category = category_of(normalise_emotion(value), label_set)
            except ValueError as err:
                raise ValueError(f"{where}: {err}") from None
            if category is None:
                raise ValueError(f"{where}: {value!r} is not in the {label_set}-class set")
            return category
    raise ValueError(f"{where}: no category or emotion")


def read_gold(path: Path, label_set: str) -> list[tuple[str | None, str]]:
    """(id or None, category) per gold record of a JSONL or CSV file."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"no gold file {path}")
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    else:
        rows = read_jsonl(path)
    return [(str(r["id"]) if r.get("id") not in (None, "") else None, gold_category(r, label_set, f"{path.name} record {n}"))
            for n, r in enumerate(rows, start=1)]


def score_files(pred: Path, gold: Path | None, label_set: str) -> tuple[Score, list[dict]]:
    """-> (Score, one row per scored answer: id, gold, predicted)."""
    classes = check_label_set(label_set)
    predictions = read_jsonl(Path(pred))
    if not predictions:
        raise ValueError(f"{pred} holds no predictions")
    texts = [prediction_text(r, n) for n, r in enumerate(predictions, start=1)]
    if gold is None:
        golds = [(None, _label_category(r, n, label_set)) for n, r in enumerate(predictions, start=1)]
    else:
        golds = read_gold(gold, label_set)
    pred_ids = [str(r["id"]) if r.get("id") not in (None, "") else None for r in predictions]
    if gold is not None and all(pred_ids) and all(i for i, _ in golds):
        by_id = dict(golds)
        missing = [i for i in pred_ids if i not in by_id]
        if missing:
            raise ValueError(f"{len(missing)} predictions have ids the gold file lacks, e.g. {missing[0]!r}")
        pairs = [(i, by_id[i], t) for i, t in zip(pred_ids, texts)]
    else:
        if len(golds) != len(texts):
            raise ValueError(f"{len(texts)} predictions but {len(golds)} gold records, and no ids to pair them by")
        pairs = [(pred_ids[n] or golds[n][0] or str(n + 1), golds[n][1], texts[n]) for n in range(len(texts))]
    rows = [{"id": i, "gold": g, "predicted": parse_category(t, label_set)} for i, g, t in pairs]
    return score_labels([r["gold"] for r in rows], [r["predicted"] for r in rows], classes), rows


def _label_category(record: dict, line: int, label_set: str) -> str:
    text = record.get("label")
    category = parse_category(text, label_set) if isinstance(text, str) else None
    if category is None:
        raise ValueError(f"prediction line {line}: no gold file given and its 'label' names no category")
    return category


def score_table(score: Score) -> str:
    lines = [f"{'class':<12} {'F1':>6} {'recall':>7} {'support':>8}"]
    for c in score.classes:
        k = score.per_class[c]
        lines.append(f"{DISPLAY[c]:<12} {k['f1']:6.3f} {k['recall']:7.3f} {k['support']:8d}")
    lines.append(f"ACC {score.accuracy:.4f}  UF1 {score.uf1:.4f}  UAR {score.uar:.4f}  (n = {int(score.confusion.sum())})")
    return "\n".join(lines)
