"""`meflow instruct`: motion prompts, instruction data, scoring and the pictures that check them."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from .common import fail, require_extra

app = typer.Typer(help="Motion prompts from facial flow, instruction data for micro-expression LLMs, scoring.",
                  no_args_is_help=True)
CLASSICAL = ("farneback", "dis", "tvl1")
DETECTORS = ("mediapipe", "dlib")
SCORE_FILE, CONFUSION_FILE = "score.json", "confusion.png"
AU_REPORT_FILE = "au_report.png"


def _thresholds(mellm_thresholds: bool):
    from instruct.motion import MELLM_THRESHOLDS, Thresholds

    return MELLM_THRESHOLDS if mellm_thresholds else Thresholds()


@app.command("prompt")
def prompt_command(
    flow: Path | None = typer.Option(None, "--flow", help="Flow onset -> apex: .flo (Middlebury) or .npy (H, W, 2), pixels."),
    landmarks: Path | None = typer.Option(None, "--landmarks", help="iBUG-68 landmarks of the onset: .npy (68, 2), pixels (x, y)."),
    data: Path | None = typer.Option(None, "--data", help="A MEFlow dataset: the prompt of a sample's ground-truth expression flow."),
    sample: str | None = typer.Option(None, "--sample", help="With --data: a sample id (meflow-emotions-0000003) or index k."),
    fmt: str = typer.Option("json", "--format", help="json (valid JSON, 29 objects) or mellm (MELLM's lines, byte for byte)."),
    mellm_thresholds: bool = typer.Option(False, "--mellm-thresholds",
                                          help="MELLM's absolute 1e-4 px motion threshold instead of the face-scaled one."),
) -> None:
    """Print the motion prompt of a flow: per region mean and max magnitude, direction and angle."""
    from instruct.motion import region_motion
    from instruct.prompt import PROMPT_FORMATS, format_prompt
    from instruct.sources import read_flow, read_landmarks, read_sample

    if fmt not in PROMPT_FORMATS:
        fail(f"unknown --format {fmt!r}: choose json or mellm")
    if data is not None:
        if flow is not None or landmarks is not None or sample is None:
            fail("give either --data DIR --sample ID, or --flow F --landmarks L")
        try:
            found = read_sample(data, sample)
        except ValueError as err:
            fail(str(err))
        flow_array, landmark_array, exact = found["flow_expression"], found["landmarks_onset"], True
    else:
        if flow is None or landmarks is None:
            fail("give --flow F.flo --landmarks L.npy (or --data DIR --sample ID)")
        try:
            flow_array, landmark_array, exact = read_flow(flow), read_landmarks(landmarks), False
        except ValueError as err:
            fail(str(err))
    try:
        motions = region_motion(flow_array, landmark_array, _thresholds(mellm_thresholds or fmt == "mellm"), head_removed=exact)
    except ValueError as err:
        fail(str(err))
    text = format_prompt(motions, fmt)
    typer.echo(text, nl=not text.endswith("\n"))


def _flow_method(flow_model: str, device: str):
    require_extra("instruct build --flow-model", "train")
    if flow_model in CLASSICAL:
        from training.evaluation.baselines import make_baselines

        return make_baselines([flow_model])[0]
    path = Path(flow_model)
    if not path.is_file():
        fail(f"--flow-model {flow_model} is neither {', '.join(CLASSICAL)} nor a checkpoint file written by `meflow train`")
    from training.inference import load_method

    return load_method(path, device=device)


def _detector(name: str):
    """A landmark function for rows without landmarks; the plug-in loads on its first use, so a
    CSV that names every landmark file never needs it."""
    if name not in DETECTORS:
        fail(f"unknown --landmarks {name!r}: choose {' or '.join(DETECTORS)}")
    loaded = []

    def detect(rgb):
        from pipeline.fitting.detectors import NoFaceError, PluginMissing, make_detector

        if not loaded:
            try:
                loaded.append(make_detector(name))
            except (PluginMissing, ImportError) as err:
                raise ValueError(f"the row names no landmarks and the {name} plug-in cannot load: {err}") from None
        try:
            return loaded[0].detect(rgb)
        except NoFaceError as err:
            raise ValueError(f"no landmarks: {err}") from None
    return detect


def _progress():
    """A running count on a terminal; nothing in a log file."""
    import sys

    if not sys.stderr.isatty():
        return None
    return lambda n: typer.echo(f"\r{n} items", nl=False, err=True)


@app.command("build")
def build_command(
    out: Path = typer.Option(..., "--out", help="Output folder: train.jsonl, test.jsonl, images/, card, dataset_info.json."),
    data: Path | None = typer.Option(None, "--data", help="A MEFlow dataset with emotion labels (recipe meflow-emotions)."),
    pairs: Path | None = typer.Option(None, "--pairs", help="CSV of real clips: onset, apex, subject, emotion[, aus, landmarks, flow, id]."),
    flow_model: str | None = typer.Option(None, "--flow-model", help="With --pairs: a MEFlowNet checkpoint, or farneback | dis | tvl1."),
    landmarks: str = typer.Option("mediapipe", "--landmarks", help="With --pairs, for rows without landmarks: mediapipe or dlib."),
    label_set: str = typer.Option("3", "--label-set", help="3 (Positive / Negative / Surprise) or 7 (basic emotions)."),
    fmt: str = typer.Option("json", "--format", help="Motion prompt inside the instruction: json or mellm."),
    teacher: str | None = typer.Option(None, "--teacher", help="OpenAI-compatible API base URL (http://host:port/v1) to write answers."),
    model: str | None = typer.Option(None, "--model", help="With --teacher: the model name."),
    key_env: str = typer.Option("OPENAI_API_KEY", "--key-env", help="With --teacher: environment variable holding the API key."),
    timeout: float = typer.Option(60.0, "--timeout", min=0.1, help="With --teacher: seconds per request."),
    attempts: int = typer.Option(3, "--attempts", min=1, help="With --teacher: tries per record before it is rejected."),
    test_fraction: float = typer.Option(0.2, "--test-fraction", min=0.0, max=1.0, help="With --pairs: share of subjects in test."),
    device: str = typer.Option("cpu", "--device", help="Torch device of a --flow-model checkpoint."),
) -> None:
    """Instruction data (chat-messages JSONL with images) from shards or real clips. Rerun to resume."""
    require_extra("instruct build", "instruct", ("PIL",))
    from instruct.builder import BuildRequest, build
    from instruct.sources import csv_items, dataset_items
    from instruct.teacher import Teacher
    from shards.layout import DatasetError
    from shards.splits import SplitRule

    if (data is None) == (pairs is None):
        fail("give one source: --data DIR (MEFlow shards) or --pairs CSV (real clips)")
    if (teacher is None) != (model is None):
        fail("--teacher URL and --model NAME go together")
    chosen_teacher = Teacher(teacher, model, key_env, timeout, attempts) if teacher else None
    try:
        if data is not None:
            if flow_model is not None:
                fail("--flow-model is for --pairs: a dataset's prompts come from its ground-truth flow")
            meta, items = dataset_items(data)
            source = {"kind": "meflow-dataset", "path": str(data), "recipe": meta["recipe"]["name"],
                      "recipe_hash": meta.get("recipe_hash", ""), "head_model": meta.get("head_model", "")}
        else:
            method = _flow_method(flow_model, device) if flow_model else None
            items = csv_items(pairs, method, _detector(landmarks), SplitRule(test_fraction=test_fraction))
            source = {"kind": "pairs-csv", "path": str(pairs), "flow": flow_model or "files named by the CSV",
                      "landmarks": f"files, else {landmarks}"}
        request = BuildRequest(out, label_set, fmt, chosen_teacher, _thresholds(fmt == "mellm"), source=source)
        summary = build(items, request, progress=_progress())
    except (ValueError, DatasetError) as err:
        fail(str(err))
    typer.echo(f"{out}: {summary.line()}")
    for problem in (summary.errors + summary.rejected)[:10]:
        typer.echo(f"  row {problem['row']} ({problem['id']}): {problem['reason']}")


@app.command("score")
def score_command(
    pred: Path = typer.Option(..., "--pred", help="Predictions JSONL (LLaMA-Factory's generated_predictions.jsonl, ms-swift's, ours)."),
    gold: Path | None = typer.Option(None, "--gold", help="Gold labels: the JSONL `instruct build` wrote, or a CSV (id, emotion)."),
    label_set: str = typer.Option("3", "--label-set", help="3 or 7."),
    out: Path | None = typer.Option(None, "--out", help=f"Folder for {SCORE_FILE} and {CONFUSION_FILE}."),
) -> None:
    """ACC, UF1 and UAR of answers whose summary names a category, per class and overall."""
    from instruct.scoring import score_files, score_table

    try:
        score, rows = score_files(pred, gold, label_set)
    except ValueError as err:
        fail(str(err))
    typer.echo(score_table(score))
    if out is not None:
        require_extra("instruct score --out", "instruct", ("matplotlib",))
        from instruct.pictures import confusion_png

        out.mkdir(parents=True, exist_ok=True)
        (out / SCORE_FILE).write_text(json.dumps({**score.to_json(), "rows": rows}, indent=1) + "\n")
        confusion_png(out / CONFUSION_FILE, score, f"{pred.name}: ")
        typer.echo(f"wrote {out / SCORE_FILE} and {out / CONFUSION_FILE}")


@app.command("report")
def report_command(
    data: Path = typer.Option(..., "--data", help="A MEFlow dataset whose samples carry action units."),
    out: Path = typer.Option(..., "--out", help=f"Folder for {AU_REPORT_FILE} and au_report.json."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="The first N samples only."),
) -> None:
    """Per action unit, the regions where the ground-truth motion prompt sees motion (PNG + JSON)."""
    require_extra("instruct report", "instruct", ("matplotlib",))
    from instruct.au_report import au_report
    from instruct.pictures import au_report_png
    from instruct.sources import au_samples

    try:
        samples = au_samples(data, limit)
        report = au_report(samples)
    except ValueError as err:
        fail(str(err))
    out.mkdir(parents=True, exist_ok=True)
    au_report_png(out / AU_REPORT_FILE, report, data.name)
    summary = {"samples": report.n_samples, "top_region_in_au_regions": report.top_in_expected,
               "action_units": {c: {"samples": n, "lift_inside": float(report.lift[k][report.expected[k]].mean()),
                                    "lift_outside": float(report.lift[k][~report.expected[k]].mean())}
                                for k, (c, n) in enumerate(zip(report.codes, report.counts))}}
    (out / "au_report.json").write_text(json.dumps(summary, indent=1) + "\n")
    typer.echo(f"{report.n_samples} samples: the most-moving region is one the sample's AUs act on in "
               f"{100 * report.top_in_expected:.1f}% of them; wrote {out / AU_REPORT_FILE}")


@app.command("regions")
def regions_command(
    out: Path = typer.Option(..., "--out", help="PNG to write."),
    image: list[Path] = typer.Option([], "--image", help="A face photo (its landmarks from --landmarks-file or the detector)."),
    landmarks_file: list[Path] = typer.Option([], "--landmarks-file", help="iBUG-68 .npy per --image, in order (else detected)."),
    data: Path | None = typer.Option(None, "--data", help="A MEFlow dataset: draw on its sample --sample."),
    sample: str = typer.Option("0", "--sample", help="With --data: sample id or index."),
    detector: str = typer.Option("mediapipe", "--landmarks", help="Detector for photos without a landmarks file."),
) -> None:
    """Draw MELLM's 29 regions, placed on the landmarks, on photos and / or a rendered sample."""
    require_extra("instruct regions", "instruct", ("matplotlib",))
    from instruct.pictures import regions_png
    from instruct.sources import read_landmarks, read_rgb, read_sample

    if landmarks_file and len(landmarks_file) != len(image):
        fail(f"give one --landmarks-file per --image ({len(image)} images, {len(landmarks_file)} files)")
    panels = []
    detect = _detector(detector) if image and not landmarks_file else None
    try:
        for n, path in enumerate(image):
            rgb = read_rgb(path)
            points = read_landmarks(landmarks_file[n]) if landmarks_file else detect(rgb)
            panels.append((path.name, rgb, points))
        if data is not None:
            found = read_sample(data, sample)
            panels.append((f"rendered: {found['id']}", found["onset"], found["landmarks_onset"]))
    except ValueError as err:
        fail(str(err))
    if not panels:
        fail("nothing to draw: give --image and / or --data")
    out.parent.mkdir(parents=True, exist_ok=True)
    regions_png(out, panels)
    typer.echo(f"wrote {out}")
