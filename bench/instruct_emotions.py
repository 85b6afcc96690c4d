"""MEU-Instruct on a 200-sample `meflow-emotions` dataset: where the ground-truth motion prompt
puts the largest motion against the sample's action units, the rule writer's answers scored
against their own labels and against shuffled labels, how far classical flow (DIS, Farneback)
reproduces the ground-truth prompt, and the cost of prompts and records.

    .venv/bin/python bench/instruct_emotions.py [--data build/emotions] [--run build/bench-instruct] [--docs]
Without the dataset it first builds it (8 shards x 25 pairs, 2 workers, about 6 minutes).
Figures go to stdout and RUN/figures.json; with --docs the AU report, the regions picture and a
confusion matrix go to docs/.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
MEFLOW = [sys.executable, "-m", "pipeline.cli"]
CLASSICAL = ("dis", "farneback")
SHUFFLE_SEED = 0


def run(args: list[str]) -> tuple[str, float]:
    began = time.monotonic()
    result = subprocess.run([*MEFLOW, *args], cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"meflow {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    seconds = time.monotonic() - began
    print(f"  meflow {' '.join(args[:2])} ... {seconds:.1f} s", flush=True)
    return result.stdout, seconds


def shuffled_gold(records: Path, out: Path) -> Path:
    """The records with their categories permuted across samples (the same class counts)."""
    rows = [json.loads(line) for line in records.read_text().splitlines()]
    categories = np.random.default_rng(SHUFFLE_SEED).permutation([r["meta"]["category"] for r in rows])
    out.write_text("".join(json.dumps({"id": r["id"], "category": str(c)}) + "\n" for r, c in zip(rows, categories)))
    return out


def classical_agreement(data: Path) -> dict:
    """Per classical method: how often its prompt's most-moving region is one the AUs act on, and
    the share of regions the ground truth sees moving whose direction label it reproduces."""
    from instruct.au_report import top_region_in_au_regions
    from instruct.motion import region_magnitudes, region_motion
    from instruct.sources import units_from_labels
    from shards.layout import DatasetDir
    from training.evaluation.baselines import make_baselines

    layout = DatasetDir(data)
    methods = make_baselines(CLASSICAL)
    top = {m.name: [] for m in methods}
    same_direction = {m.name: [] for m in methods}
    prompt_ms = []
    for s in layout.complete_shards():
        reader = layout.reader(s)
        for i in range(len(reader)):
            sample = reader.read(i, ("onset", "apex", "flow_expression", "landmarks_onset", "labels"))
            units = units_from_labels(json.loads(sample["labels"]))
            began = time.perf_counter()
            truth = region_motion(sample["flow_expression"], sample["landmarks_onset"], head_removed=True)
            prompt_ms.append(1000 * (time.perf_counter() - began))
            moving = {m.region: m.direction for m in truth if m.moves}
            for method in methods:
                estimate = region_motion(method.predict(sample["onset"], sample["apex"]).facial, sample["landmarks_onset"])
                top[method.name].append(top_region_in_au_regions(units, region_magnitudes(estimate)))
                same_direction[method.name] += [moving[m.region] == m.direction for m in estimate if m.region in moving]
    return {"top_region_in_au_regions": {k: float(np.mean(v)) for k, v in top.items()},
            "direction_agreement": {k: float(np.mean(v)) for k, v in same_direction.items()},
            "prompt_ms": float(np.median(prompt_ms))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "build/emotions")
    parser.add_argument("--run", type=Path, default=ROOT / "build/bench-instruct")
    parser.add_argument("--docs", action="store_true", help="copy the pictures to docs/")
    args = parser.parse_args()
    if not (args.data / "dataset.json").is_file():
        run(["dataset", "build", "--recipe", "meflow-emotions", "--shards", "8", "--samples", "25", "--workers", "2",
             "--out", str(args.data)])
    shutil.rmtree(args.run, ignore_errors=True)
    args.run.mkdir(parents=True)
    report_text, _ = run(["instruct", "report", "--data", str(args.data), "--out", str(args.run / "report")])
    report = json.loads((args.run / "report" / "au_report.json").read_text())
    figures: dict = {"samples": report["samples"], "ground_truth_top_region_in_au_regions": report["top_region_in_au_regions"],
                     "au_lift": report["action_units"], "label_sets": {}}
    for label_set in ("3", "7"):
        out = args.run / f"instruct-{label_set}"
        summary, seconds = run(["instruct", "build", "--data", str(args.data), "--out", str(out), "--label-set", label_set])
        card = json.loads((out / "card.json").read_text())
        records = sum(card["records"].values())
        both = out / "all.jsonl"
        both.write_text((out / "train.jsonl").read_text() + (out / "test.jsonl").read_text())
        run(["instruct", "score", "--pred", str(both), "--gold", str(both), "--label-set", label_set,
             "--out", str(out / "score-own")])
        shuffled = shuffled_gold(both, out / "shuffled-gold.jsonl")
        run(["instruct", "score", "--pred", str(both), "--gold", str(shuffled), "--label-set", label_set,
             "--out", str(out / "score-shuffled")])
        scores = {name: json.loads((out / f"score-{name}" / "score.json").read_text()) for name in ("own", "shuffled")}
        figures["label_sets"][label_set] = {
            "records": card["records"], "subjects": card["subjects"], "per_class": card["per_class"],
            "records_per_s": records / seconds, "summary": summary.strip(), "chance": 1 / len(card["classes"]),
            **{f"{name}_labels": {k: scores[name][k] for k in ("accuracy", "uf1", "uar")} for name in scores}}
    figures.update(classical_agreement(args.data))
    regions_png = args.run / "regions.png"
    photos = args.run / "photos"
    subprocess.run([sys.executable, "-m", "pipeline.fitting.sample_photos", str(photos)], cwd=ROOT, check=True, capture_output=True)
    run(["instruct", "regions", "--out", str(regions_png), "--image", str(photos / "astronaut.png"),
         "--image", str(photos / "grace_hopper.jpg"), "--data", str(args.data), "--sample", "2"])
    (args.run / "figures.json").write_text(json.dumps(figures, indent=2))
    print(f"\n{report_text.strip()}")
    print(f"{figures['samples']} samples; ground-truth prompt's most-moving region is an AU region in "
          f"{100 * figures['ground_truth_top_region_in_au_regions']:.1f}%")
    for name in CLASSICAL:
        print(f"  {name}: most-moving region an AU region in {100 * figures['top_region_in_au_regions'][name]:.1f}%, "
              f"direction of GT-moving regions reproduced in {100 * figures['direction_agreement'][name]:.1f}%")
    print(f"prompt from a flow: {figures['prompt_ms']:.1f} ms (median)")
    for label_set, row in figures["label_sets"].items():
        print(f"{label_set}-class: {row['records']} records, {row['records_per_s']:.1f} records/s (incl. start-up); "
              f"own labels ACC/UF1/UAR {row['own_labels']['accuracy']:.3f}/{row['own_labels']['uf1']:.3f}/{row['own_labels']['uar']:.3f}; "
              f"shuffled {row['shuffled_labels']['accuracy']:.3f}/{row['shuffled_labels']['uf1']:.3f}/{row['shuffled_labels']['uar']:.3f} "
              f"(chance {row['chance']:.3f})")
    if args.docs:
        shutil.copy(args.run / "report" / "au_report.png", ROOT / "docs/instruct_au_report.png")
        shutil.copy(regions_png, ROOT / "docs/instruct_regions.png")
        shutil.copy(args.run / "instruct-3" / "score-shuffled" / "confusion.png", ROOT / "docs/instruct_confusion_shuffled.png")
        first = (args.run / "instruct-3" / "train.jsonl").read_text().splitlines()[0]
        (ROOT / "docs/instruct_sample_record.json").write_text(json.dumps(json.loads(first), indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
