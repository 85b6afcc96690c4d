"""Instruction data: items -> chat-messages JSONL (one file per split), images, a dataset card.

Layout of the output folder (LLaMA-Factory, ms-swift and TRL read the JSONL as it is):
    train.jsonl, test.jsonl   {"id", "messages": [user, assistant], "images": [onset, apex], "meta"}
    images/<id>_onset.png ...  the frames of shard samples (a CSV's frames are pointed at instead)
    dataset_info.json          LLaMA-Factory's entries for both files (sharegpt formatting)
    card.json, card.md         counts per class and split, sources, recipe hash, settings
    errors.jsonl               rows that failed, with row number and reason (rewritten each run)

The user turn holds one "<image>" per image, then the three-step instruction around the motion
prompt; `images` paths are relative to the output folder (LLaMA-Factory's dataset_dir). Splits
come from the source (by subject). A rerun skips the ids already written and retries the rest.
"""
from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .answers import rule_answer
from .jsonl import JsonlAppender, read_jsonl, write_text_atomic
from .labels import DISPLAY, category_of, check_label_set
from .motion import Thresholds, region_motion
from .prompt import PROMPT_FORMATS, format_prompt, instruction
from .sources import Item, RowError
from .teacher import Teacher

SPLIT_FILES = {"train": "train.jsonl", "test": "test.jsonl"}
IMAGES = "images"
ERRORS = "errors.jsonl"
CARD_JSON, CARD_MD, DATASET_INFO = "card.json", "card.md", "dataset_info.json"
DATASET_INFO_PREFIX = "meflow_instruct"


@dataclass(frozen=True)
class BuildRequest:
    out: Path
    label_set: str = "3"
    prompt_format: str = "json"
    teacher: Teacher | None = None
    thresholds: Thresholds = Thresholds()
    source: dict = field(default_factory=dict)  # what the card says of the source (kind, path, recipe hash)

    def __post_init__(self) -> None:
        check_label_set(self.label_set)
        if self.prompt_format not in PROMPT_FORMATS:
            raise ValueError(f"unknown prompt format {self.prompt_format!r}: choose one of {list(PROMPT_FORMATS)}")


@dataclass
class BuildSummary:
    written: Counter = field(default_factory=Counter)  # split -> records written this run
    already_done: int = 0
    excluded: Counter = field(default_factory=Counter)  # reason -> count (not in the label set)
    errors: list[dict] = field(default_factory=list)  # {row, id, reason}
    rejected: list[dict] = field(default_factory=list)  # teacher answers that never agreed

    def line(self) -> str:
        written = sum(self.written.values())
        parts = [f"{written} records written ({', '.join(f'{k} {v}' for k, v in sorted(self.written.items())) or 'none'})",
                 f"{self.already_done} already done", f"{len(self.errors)} failed", f"{len(self.rejected)} rejected"]
        parts += [f"{n} excluded: {reason}" for reason, n in sorted(self.excluded.items())]
        return ", ".join(parts)


def _save_png(path: Path, rgb: np.ndarray) -> None:
    from PIL import Image

    if path.exists():
        return
    tmp = path.with_name(f".{path.name}.tmp")
    Image.fromarray(np.ascontiguousarray(rgb)).save(tmp, format="PNG")
    tmp.replace(path)


def _images(item: Item, data, out: Path) -> list[str]:
    if item.image_paths is not None:
        return [os.path.relpath(p.resolve(), out.resolve()) for p in item.image_paths]
    (out / IMAGES).mkdir(parents=True, exist_ok=True)
    names = [f"{IMAGES}/{item.id}_onset.png", f"{IMAGES}/{item.id}_apex.png"]
    _save_png(out / names[0], data.onset)
    _save_png(out / names[1], data.apex)
    return names


def make_record(item: Item, request: BuildRequest, summary: BuildSummary) -> dict | None:
    """The record of one item, or None (the reason lands in `summary`)."""
    categories = tuple(DISPLAY[c] for c in check_label_set(request.label_set))
    try:
        data = item.load()
        motions = region_motion(data.flow, data.landmarks, request.thresholds, head_removed=data.head_removed)
    except ValueError as err:
        summary.errors.append({"row": item.row, "id": item.id, "reason": str(err)})
        return None
    motion_prompt = format_prompt(motions, request.prompt_format)
    if request.teacher is None:
        answer, writer = rule_answer(motions, item.labels, request.label_set), "rules"
    else:
        answer, reasons = request.teacher.answer(instruction(motion_prompt, categories, n_images=0), item.labels, request.label_set)
        if answer is None:
            summary.rejected.append({"row": item.row, "id": item.id, "reason": " | ".join(reasons)})
            return None
        writer = f"teacher:{request.teacher.model}"
    units = item.labels.action_units
    return {
        "id": item.id,
        "messages": [{"role": "user", "content": instruction(motion_prompt, categories)},
                     {"role": "assistant", "content": answer}],
        "images": _images(item, data, request.out),
        "meta": {"subject": item.subject, "split": item.split, "emotion": item.labels.emotion,
                 "category": category_of(item.labels.emotion, request.label_set), "label_set": request.label_set,
                 "action_units": None if units is None else [u.code for u in units],
                 "writer": writer, "origin": item.origin,
                 "head_motion": "exact (ground truth)" if data.head_removed else "nose-tip compensation"},
    }


def build(items: Iterable[Item | RowError], request: BuildRequest,
          progress: Callable[[int], None] | None = None) -> BuildSummary:
    """Write the records of `items` into request.out (see the module docstring)."""
    out = Path(request.out)
    out.mkdir(parents=True, exist_ok=True)
    files = {split: JsonlAppender(out / name) for split, name in SPLIT_FILES.items()}
    summary = BuildSummary()
    for n, item in enumerate(items, start=1):
        if progress is not None:
            progress(n)
        if isinstance(item, RowError):
            summary.errors.append({"row": item.row, "id": item.id, "reason": item.reason})
            continue
        if category_of(item.labels.emotion, request.label_set) is None:
            summary.excluded[f"{item.labels.emotion} is not in the {request.label_set}-class set"] += 1
            continue
        if item.id in files[item.split].ids:
            summary.already_done += 1
            continue
        record = make_record(item, request, summary)
        if record is not None:
            files[item.split].append(record)
            summary.written[item.split] += 1
    write_text_atomic(out / ERRORS, "".join(json.dumps(e) + "\n" for e in summary.errors + summary.rejected))
    write_card(out, request, summary)
    write_dataset_info(out)
    return summary


def write_dataset_info(out: Path) -> None:
    """LLaMA-Factory's dataset_info.json: one sharegpt entry per split file."""
    tags = {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant",
            "system_tag": "system"}
    info = {f"{DATASET_INFO_PREFIX}_{split}": {"file_name": name, "formatting": "sharegpt",
                                                "columns": {"messages": "messages", "images": "images"}, "tags": tags}
            for split, name in SPLIT_FILES.items()}
    write_text_atomic(out / DATASET_INFO, json.dumps(info, indent=1) + "\n")


def card_data(out: Path, request: BuildRequest, summary: BuildSummary) -> dict:
    """What card.json holds: counts over every record in the folder (this run and earlier ones)."""
    splits = {split: read_jsonl(out / name) for split, name in SPLIT_FILES.items()}
    per_class = {split: dict(sorted(Counter(r["meta"]["category"] for r in records).items())) for split, records in splits.items()}
    subjects = {split: len({r["meta"]["subject"] for r in records}) for split, records in splits.items()}
    units = Counter(code for records in splits.values() for r in records for code in (r["meta"]["action_units"] or ()))
    return {
        "records": {split: len(records) for split, records in splits.items()},
        "subjects": subjects, "per_class": per_class,
        "emotions": dict(sorted(Counter(r["meta"]["emotion"] for rs in splits.values() for r in rs).items())),
        "action_units": dict(sorted(units.items(), key=lambda kv: -kv[1])),
        "label_set": request.label_set, "classes": [DISPLAY[c] for c in check_label_set(request.label_set)],
        "prompt_format": request.prompt_format,
        "writer": "rules" if request.teacher is None else f"teacher:{request.teacher.model} at {request.teacher.url}",
        "thresholds": {"min_mean_magnitude_px": request.thresholds.min_mean_magnitude_px,
                       "min_mean_per_inter_ocular": request.thresholds.min_mean_per_inter_ocular,
                       "min_concentration": request.thresholds.min_concentration},
        "source": request.source,
        "last_run": {"written": dict(summary.written), "already_done": summary.already_done,
                     "failed": len(summary.errors), "rejected": len(summary.rejected), "excluded": dict(summary.excluded)},
    }


def write_card(out: Path, request: BuildRequest, summary: BuildSummary) -> None:
    data = card_data(out, request, summary)
    write_text_atomic(out / CARD_JSON, json.dumps(data, indent=1) + "\n")
    classes = data["classes"]
    rows = "\n".join(f"| {split} | {data['records'][split]} | {data['subjects'][split]} | "
                     + " | ".join(str(data["per_class"][split].get(c.lower(), 0)) for c in classes) + " |"
                     for split in SPLIT_FILES)
    source = ", ".join(f"{k}: {v}" for k, v in request.source.items())
    text = f"""# MEFlow instruction data

Chat-messages JSONL for multimodal fine-tuning (LLaMA-Factory: `dataset_info.json` here; ms-swift and TRL
read the files as they are). Each record: the onset and apex frames, the motion of 29 facial regions as a
{data['prompt_format']} prompt inside a three-step instruction, and an answer written by {data['writer']}.

- Source: {source}
- Label set: {request.label_set}-class ({' / '.join(classes)}); splits by subject, none on both sides.
- Action units named most: {', '.join(f'{k} ({v})' for k, v in list(data['action_units'].items())[:10]) or 'none annotated'}

| split | records | subjects | {' | '.join(classes)} |
|---|---|---|{'---|' * len(classes)}
{rows}
"""
    write_text_atomic(out / CARD_MD, text)
