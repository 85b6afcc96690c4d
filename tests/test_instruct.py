"""MEU-Instruct: motion statistics and prompts, labels, the rule writer, the teacher over a real
HTTP server, the instruction-data builder (shards and a CSV of clips), and the scorer."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from conftest import FRONTAL_IMAGE

from facial.action_units import ActionUnit, au_regions, parse_au_list
from facial.ibug68 import NOSE_TIP
from facial.regions import ROI_NAMES, roi_masks
from instruct.answers import Labels, answer_problems, rule_answer
from instruct.builder import BuildRequest, build
from instruct.jsonl import JsonlAppender, read_jsonl
from instruct.labels import CLASSES_3, EMOTIONS_7, category_of, normalise_emotion, parse_category
from instruct.motion import MELLM_THRESHOLDS, NO_DIRECTION, NO_MOTION, RegionMotion, region_motion
from instruct.prompt import json_prompt, mellm_lines
from instruct.scoring import score_files, score_labels
from instruct.sources import csv_items, dataset_items
from instruct.teacher import Teacher
from shards.flo import write_flo
from shards.splits import SplitRule

CORNERS = ("Left Mouth Corner", "Right Mouth Corner")
BROWS = ("Left Outer Eyebrow", "Left Inner Eyebrow", "Right Outer Eyebrow", "Right Inner Eyebrow")


def _by_region(motions):
    return {m.region: m for m in motions}


def test_mouth_corners_up_on_a_head_shift(frontal_landmarks):
    """Both mouth corners move 0.6 px up on top of a (0.8, -0.4) px head shift: after the nose
    tip is subtracted the corners read "up" at 90 degrees and 0.6 px, the brows no motion."""
    size = FRONTAL_IMAGE
    flow = np.zeros((size, size, 2), np.float32)
    flow[...] = (0.8, -0.4)
    masks = roi_masks(frontal_landmarks, size, size)
    for name in CORNERS:
        flow[masks[ROI_NAMES.index(name)]] += (0.0, -0.6)
    motions = _by_region(region_motion(flow, frontal_landmarks))
    assert len(motions) == 29
    for name in CORNERS:
        assert motions[name].direction == "up"
        assert motions[name].angle_deg == pytest.approx(90.0)
        assert motions[name].mean_magnitude == pytest.approx(0.6, abs=1e-5)
        assert motions[name].concentration == pytest.approx(1.0)
    for name in BROWS:
        assert motions[name].direction == NO_MOTION
        assert motions[name].mean_magnitude < 1e-6
    prompt = json.loads(json_prompt(list(motions.values())))
    corner = next(o for o in prompt if o["region"] == "Left Mouth Corner")
    assert corner == {"region": "Left Mouth Corner", "mean_magnitude": 0.6, "max_magnitude": 0.6, "direction": "up", "angle_deg": 90}
    assert [o["region"] for o in prompt] == list(ROI_NAMES)


def test_the_two_fallbacks(frontal_landmarks):
    size = FRONTAL_IMAGE
    still = region_motion(np.zeros((size, size, 2), np.float32), frontal_landmarks)
    assert {m.direction for m in still} == {NO_MOTION}
    # Vectors pointing away from a region's centre: strong motion, no dominant direction.
    flow = np.zeros((size, size, 2), np.float32)
    mask = roi_masks(frontal_landmarks, size, size)[ROI_NAMES.index("Chin")]
    rows, cols = np.nonzero(mask)
    flow[rows, cols, 0], flow[rows, cols, 1] = cols - cols.mean(), rows - rows.mean()
    chin = _by_region(region_motion(flow, frontal_landmarks))["Chin"]
    assert chin.direction == NO_DIRECTION and chin.concentration < 0.15 and chin.mean_magnitude > 1.0


def test_thresholds_scale_with_the_face(frontal_landmarks):
    """The same motion relative to the face reads the same at two image scales; MELLM's absolute
    threshold does not scale."""
    size = FRONTAL_IMAGE
    for scale in (1.0, 0.25):
        landmarks = frontal_landmarks * scale
        flow = np.zeros((int(size * scale), int(size * scale), 2), np.float32)
        mask = roi_masks(landmarks, *flow.shape[:2])[ROI_NAMES.index("Chin")]
        flow[mask] = (0.0, -0.06 * scale)  # 0.06 px on the 512-px face: below 5e-4 x inter-ocular
        chin = _by_region(region_motion(flow, landmarks))["Chin"]
        assert chin.direction == NO_MOTION
        assert _by_region(region_motion(flow, landmarks, MELLM_THRESHOLDS))["Chin"].direction == "up"


def _motion(region, mean, peak, angle, concentration, label, direction):
    return RegionMotion(region, 9, mean, peak, angle, concentration, label, direction)


def test_mellm_lines_byte_for_byte():
    """The line of MELLM's released code (its malformed JSON included) and its two fallback
    sentences, as its logic prints them."""
    lines = mellm_lines([
        _motion("Left Lower Eyelid (Left Side)", 0.3, 0.3, 90.0, 1.0, "up", "up"),
        _motion("Chin", 1.23456, 2.0, 359.7, 0.9, "right", "right"),
        _motion("Left Cheek", 0.00004, 0.0001, 10.0, 0.9, "right", NO_MOTION),
        _motion("Right Cheek", 0.5, 1.5, 10.0, 0.1234, "right", NO_DIRECTION),
    ])
    assert lines.encode() == (
        '{"region":"Left Lower Eyelid (Left Side),"mean_magnitude":0.3,"max_magnitude":0.3,"direction":up(90°))}\n'
        '{"region":"Chin,"mean_magnitude":1.235,"max_magnitude":2.0,"direction":right(0°))}\n'
        '{"region":"Left Cheek,"mean_magnitude":0.0,"max_magnitude":0.0,"direction":No significant motion detected '
        '(mean magnitude ≈ 4e-05).}\n'
        '{"region":"Right Cheek,"mean_magnitude":0.5,"max_magnitude":1.5,"direction":No clear dominant direction '
        '(motion is more isotropic or noisy; mean magnitude ≈ 0.5, concentration ≈ 0.123).}\n').encode()


def test_emotion_vocabularies_and_category_parsing():
    assert normalise_emotion(" Happy ") == "happiness" and normalise_emotion("Others") == "others"
    with pytest.raises(ValueError, match="unknown emotion 'glee'"):
        normalise_emotion("glee")
    assert category_of("repression", "3") == "negative" and category_of("repression", "7") is None
    assert category_of("others", "3") is None
    text = "1. Regions: the corners go up, happy-looking.\n2. Category: not surprise.\n### 3. **Summary**: AU12. **NEGATIVE**."
    assert parse_category(text, "3") == "negative"
    assert parse_category("Step 3 - summary: it is Disgust!", "7") == "disgust"
    assert parse_category("I believe this shows sadness", "3") == "negative"  # no summary: the last class word
    assert parse_category("no idea", "3") is None
    assert parse_au_list("4+L10, AU12;R14A") == (ActionUnit(4), ActionUnit(10, "L"), ActionUnit(12), ActionUnit(14, "R"))


def test_au_regions_follow_the_subject_side():
    """L12 is the subject's left lip corner, which a frontal camera sees on the image's right."""
    assert au_regions(ActionUnit(12)) == ("Left Mouth Corner", "Right Mouth Corner", "Left Cheek", "Right Cheek")
    assert au_regions(ActionUnit(12, "L")) == ("Right Mouth Corner", "Right Cheek")
    assert set(au_regions(ActionUnit(4))) == set(BROWS)


def _random_labels(rng, n, label_set):
    names = EMOTIONS_7 if label_set == "7" else ("happiness", "surprise", "disgust", "fear", "sadness", "anger", "contempt")
    units = [(ActionUnit(6), ActionUnit(12)), (ActionUnit(1), ActionUnit(2), ActionUnit(26)), (ActionUnit(4), ActionUnit(15))]
    return [Labels(str(rng.choice(names)), units[int(rng.integers(len(units)))]) for _ in range(n)]


@pytest.mark.parametrize("label_set", ["3", "7"])
def test_rule_answers_score_perfectly_and_shuffled_labels_score_at_chance(label_set, frontal_landmarks):
    rng = np.random.default_rng(0)
    motions = region_motion(np.zeros((FRONTAL_IMAGE, FRONTAL_IMAGE, 2), np.float32), frontal_landmarks)
    labels = _random_labels(rng, 200, label_set)
    answers = [rule_answer(motions, lab, label_set) for lab in labels]
    assert all(answer_problems(a, lab, label_set) == [] for a, lab in zip(answers, labels))
    classes = CLASSES_3 if label_set == "3" else EMOTIONS_7
    gold = [category_of(lab.emotion, label_set) for lab in labels]
    parsed = [parse_category(a, label_set) for a in answers]
    perfect = score_labels(gold, parsed, classes)
    assert perfect.accuracy == perfect.uf1 == perfect.uar == 1.0
    shuffled = score_labels(list(rng.permutation(gold)), parsed, classes)
    chance = 1.0 / len(classes)
    assert abs(shuffled.uar - chance) < 0.12 and shuffled.uf1 < chance + 0.12


def test_metric_definitions_on_a_hand_count():
    """gold a a a b b c, predicted a a b b c (none): UAR = (2/3 + 1/2 + 0) / 3; UF1 from
    F1_a = 4/5, F1_b = 2/4, F1_c = 0."""
    score = score_labels(list("aaabbc"), ["a", "a", "b", "b", "c", None], ("a", "b", "c"))
    assert score.accuracy == pytest.approx(3 / 6)
    assert score.uar == pytest.approx((2 / 3 + 1 / 2 + 0) / 3)
    assert score.uf1 == pytest.approx((4 / 5 + 2 / 4 + 0) / 3)
    assert score.confusion[2].tolist() == [0, 0, 0, 1]  # the unparsed answer has its own column


def test_jsonl_appends_survive_a_torn_line(tmp_path):
    path = tmp_path / "train.jsonl"
    appender = JsonlAppender(path)
    appender.append({"id": "a", "x": 1})
    with path.open("ab") as handle:
        handle.write(b'{"id": "b", "x"')  # a run killed mid-line
    again = JsonlAppender(path)
    assert again.repaired > 0 and again.ids == {"a"}
    again.append({"id": "b", "x": 2})
    assert [r["id"] for r in read_jsonl(path)] == ["a", "b"]


# --- datasets with labels ------------------------------------------------------------------------------

def test_emotion_samples_carry_their_labels(emotions_dataset):
    from facial.action_units import sample_action_units
    from shards.layout import DatasetDir
    from shards.verify import verify_dataset

    layout = DatasetDir(emotions_dataset)
    assert verify_dataset(layout) == {}
    reader = layout.reader(0)
    for i in range(len(reader)):
        sample = reader.read(i, ("labels", "expression", "jaw", "eyelids"))
        labels = json.loads(sample["labels"])
        assert labels["emotion"] in (*EMOTIONS_7, "others")
        recomputed = [u.to_json() for u in sample_action_units(sample["expression"], sample["jaw"], sample["eyelids"])]
        assert labels["action_units"] == recomputed and recomputed
    emotions = {json.loads(reader.read(i, ("labels",))["labels"])["emotion"] for i in range(len(reader))}
    assert len(emotions) >= 3


def test_ground_truth_prompts_move_where_the_aus_act(emotions_dataset):
    """The quality bar on a small render: the region with the largest ground-truth motion is one
    the sample's AUs act on."""
    from instruct.au_report import au_report
    from instruct.sources import au_samples

    report = au_report(au_samples(emotions_dataset), min_samples=2)
    assert report.n_samples == 24
    assert report.top_in_expected >= 0.9
    inside = [report.lift[k][report.expected[k]].mean() for k in range(len(report.codes))]
    outside = [report.lift[k][~report.expected[k]].mean() for k in range(len(report.codes))]
    assert np.mean(np.array(inside) > np.array(outside)) >= 0.8


def test_build_from_shards_is_readable_resumable_and_split_by_subject(emotions_dataset, tmp_path):
    out = tmp_path / "instruct"
    meta, items = dataset_items(emotions_dataset)
    summary = build(items, BuildRequest(out, "7"))
    excluded = sum(summary.excluded.values())
    assert not summary.errors and sum(summary.written.values()) + excluded == 24
    records = {split: read_jsonl(out / f"{split}.jsonl") for split in ("train", "test")}
    everything = records["train"] + records["test"]
    assert len({r["id"] for r in everything}) == len(everything) == 24 - excluded
    assert not {r["meta"]["subject"] for r in records["train"]} & {r["meta"]["subject"] for r in records["test"]}
    for record in everything:
        user, assistant = record["messages"]
        assert (user["role"], assistant["role"]) == ("user", "assistant")
        assert user["content"].count("<image>") == len(record["images"]) == 2  # LLaMA-Factory's check
        assert all((out / image).is_file() for image in record["images"])
        assert parse_category(assistant["content"], "7") == record["meta"]["category"]
    card = json.loads((out / "card.json").read_text())
    assert sum(card["records"].values()) == len(everything) and card["source"] == {}
    # A rerun writes nothing new; a 3-class build of the same data excludes only "others".
    again = build(dataset_items(emotions_dataset)[1], BuildRequest(out, "7"))
    assert sum(again.written.values()) == 0 and again.already_done == len(everything)
    # The scorer reads the records back as gold and the answers as predictions: 1.0.
    score, _ = score_files(out / "train.jsonl", out / "train.jsonl", "7")
    assert score.accuracy == score.uf1 == score.uar == 1.0


def test_a_dataset_without_emotions_says_so(smoke_dataset, tmp_path):
    from shards.layout import DatasetError

    with pytest.raises(DatasetError, match="carries no emotion labels"):
        dataset_items(smoke_dataset)


# --- a CSV of real clips -------------------------------------------------------------------------------

def _write_clip(folder, name, onset, apex, landmarks):
    from PIL import Image

    Image.fromarray(onset).save(folder / f"{name}_onset.png")
    Image.fromarray(apex).save(folder / f"{name}_apex.png")
    np.save(folder / f"{name}_lm.npy", landmarks)


def _write_clips(dataset, shard: int, folder, count: int) -> None:
    """Frames and landmarks of rendered samples as clip files c0, c1, ... (c{i}_onset.png, ...)."""
    from shards.layout import DatasetDir

    reader = DatasetDir(dataset).reader(shard)
    for i in range(count):
        s = reader.read(i, ("onset", "apex", "landmarks_onset"))
        _write_clip(folder, f"c{i}", s["onset"], s["apex"], s["landmarks_onset"])


def test_build_from_real_clips_records_bad_rows_and_goes_on(emotions_dataset, tmp_path):
    """Frames and landmarks of rendered samples stand in for CASME II clips; bad rows are
    reported with their row numbers and the good ones still land."""
    from training.evaluation.baselines import make_baselines

    _write_clips(emotions_dataset, 0, tmp_path, 4)
    lines = ["Subject,OnsetFrame,ApexFrame,Estimated Emotion,Action Units,Landmarks"]
    for i in range(4):
        lines.append(f"sub{i % 2:02d},c{i}_onset.png,c{i}_apex.png,{['happiness', 'disgust', 'surprise', 'fear'][i]},4+L10,c{i}_lm.npy")
    np.save(tmp_path / "bad_lm.npy", np.zeros((67, 2)))
    lines += ["sub03,c0_onset.png,,happiness,12,c0_lm.npy",          # row 5: no apex
              "sub03,c0_onset.png,c0_apex.png,glee,12,c0_lm.npy",    # row 6: unknown emotion
              "sub03,c0_onset.png,gone.png,happiness,12,c0_lm.npy",  # row 7: missing file
              "sub03,c0_onset.png,c0_apex.png,happiness,12,bad_lm.npy"]  # row 8: wrong landmark shape
    csv = tmp_path / "clips.csv"
    csv.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    summary = build(csv_items(csv, make_baselines(["farneback"])[0], None, SplitRule(test_fraction=0.5)), BuildRequest(out, "3"))
    assert sum(summary.written.values()) == 4
    reasons = {e["row"]: e["reason"] for e in summary.errors}
    assert set(reasons) == {5, 6, 7, 8}
    assert "missing apex" in reasons[5] and "unknown emotion 'glee'" in reasons[6]
    assert "missing image" in reasons[7] and "(67, 2)" in reasons[8]
    errors = read_jsonl(out / "errors.jsonl")
    assert sorted(e["row"] for e in errors) == [5, 6, 7, 8]
    record = read_jsonl(out / "train.jsonl")[0] if (out / "train.jsonl").stat().st_size else read_jsonl(out / "test.jsonl")[0]
    assert all((out / image).resolve().is_file() for image in record["images"])  # relative to the output folder
    assert record["meta"]["action_units"] == ["4", "L10"]


def test_a_flow_of_another_size_is_a_row_error(emotions_dataset, tmp_path):
    from shards.layout import DatasetDir

    s = DatasetDir(emotions_dataset).reader(0).read(0, ("onset", "apex", "landmarks_onset"))
    _write_clip(tmp_path, "c", s["onset"], s["apex"], s["landmarks_onset"])
    write_flo(tmp_path / "small.flo", np.zeros((64, 64, 2), np.float32))
    nan = np.zeros((*s["onset"].shape[:2], 2), np.float32)
    nan[3, 3] = np.nan
    write_flo(tmp_path / "nan.flo", nan)
    (tmp_path / "clips.csv").write_text("subject,onset,apex,emotion,landmarks,flow\n"
                                        "s1,c_onset.png,c_apex.png,happy,c_lm.npy,small.flo\n"
                                        "s1,c_onset.png,c_apex.png,happy,c_lm.npy,nan.flo\n")
    summary = build(csv_items(tmp_path / "clips.csv", None, None, SplitRule()), BuildRequest(tmp_path / "out", "3"))
    reasons = [e["reason"] for e in summary.errors]
    assert "the flow is (64, 64)" in reasons[0] and "NaN" in reasons[1]


# --- the teacher, over a real HTTP server ------------------------------------------------------------------

class _ChatServer(BaseHTTPRequestHandler):
    """Speaks chat completions; what it answers is set per test through the class attribute."""

    script: list = []
    seen: list = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        kind, payload = type(self).script.pop(0)
        if kind == "sleep":
            import time

            time.sleep(payload)
            return
        data = (json.dumps({"choices": [{"message": {"role": "assistant", "content": payload}}]})
                if kind == "text" else payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def chat_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ChatServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _ChatServer.script, _ChatServer.seen = [], []
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", _ChatServer
    server.shutdown()


def test_teacher_answers_are_checked_retried_and_rejected(chat_server, monkeypatch, frontal_landmarks):
    url, handler = chat_server
    monkeypatch.setenv("MEFLOW_TEST_KEY", "sk-test")
    labels = Labels("happiness", (ActionUnit(6), ActionUnit(12)))
    good = "1. AU6 and AU12 lift the cheeks and corners.\n2. Category: a smile.\n3. Summary: AU6, AU12. Positive."
    teacher = Teacher(url, "tiny", key_env="MEFLOW_TEST_KEY", timeout_s=0.5, attempts=3)
    handler.script = [("text", "3. Summary: AU6, AU12. Negative."), ("raw", "not json at all"), ("text", good)]
    answer, reasons = teacher.answer("instruction", labels, "3")
    assert answer == good and reasons == []
    assert [s["path"] for s in handler.seen] == ["/v1/chat/completions"] * 3
    assert handler.seen[0]["auth"] == "Bearer sk-test" and handler.seen[0]["body"]["model"] == "tiny"
    assert "Positive" in handler.seen[0]["body"]["messages"][1]["content"]  # the ground truth goes to the teacher
    handler.script = [("text", "3. Summary: Positive."), ("sleep", 1.0), ("text", "3. Summary: AU6, AU12. Surprise.")]
    answer, reasons = teacher.answer("instruction", labels, "3")
    assert answer is None and len(reasons) == 3
    assert "does not name AU6, AU12" in reasons[0] and "did not answer within 0.5 s" in reasons[1]
    assert "states category 'surprise'" in reasons[2]


def test_build_with_a_teacher_rejects_with_reasons(emotions_dataset, chat_server, tmp_path):
    url, handler = chat_server
    meta, items = dataset_items(emotions_dataset)
    first = [next(i for i in items if not hasattr(i, "reason") and category_of(i.labels.emotion, "3"))]
    handler.script = [("text", "3. Summary: nothing.")] * 2
    summary = build(first, BuildRequest(tmp_path / "out", "3", teacher=Teacher(url, "tiny", attempts=2)))
    assert sum(summary.written.values()) == 0 and len(summary.rejected) == 1
    assert "try 2" in summary.rejected[0]["reason"]


# --- the command line -------------------------------------------------------------------------------------

def _meflow(*args):
    return subprocess.run([sys.executable, "-m", "pipeline.cli", "instruct", *map(str, args)], capture_output=True, text=True)


def test_cli_prompt_score_and_report(emotions_dataset, frontal_landmarks, tmp_path):
    flow = np.zeros((FRONTAL_IMAGE, FRONTAL_IMAGE, 2), np.float32)
    nose = np.round(frontal_landmarks[NOSE_TIP]).astype(int)
    flow[nose[1] + 40:, :] = (0.0, 0.5)  # everything well below the nose moves down
    write_flo(tmp_path / "f.flo", flow)
    np.save(tmp_path / "lm.npy", frontal_landmarks)
    result = _meflow("prompt", "--flow", tmp_path / "f.flo", "--landmarks", tmp_path / "lm.npy")
    assert result.returncode == 0, result.stderr
    chin = next(o for o in json.loads(result.stdout) if o["region"] == "Chin")
    assert chin["direction"] == "down" and chin["angle_deg"] == 270
    mellm = _meflow("prompt", "--flow", tmp_path / "f.flo", "--landmarks", tmp_path / "lm.npy", "--format", "mellm")
    assert mellm.stdout.count("\n") == 29 and '"region":"Chin,"mean_magnitude":0.5,' in mellm.stdout
    sample = _meflow("prompt", "--data", emotions_dataset, "--sample", "emotions-test-0000001")
    assert sample.returncode == 0 and len(json.loads(sample.stdout)) == 29
    bad = _meflow("prompt", "--flow", tmp_path / "f.flo", "--landmarks", tmp_path / "f.flo")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "error:" in bad.stderr
    # score: LLaMA-Factory's generated_predictions.jsonl, its "label" as gold.
    preds = tmp_path / "generated_predictions.jsonl"
    preds.write_text("".join(json.dumps({"prompt": "p", "predict": f"3. Summary: {p}.", "label": f"3. Summary: {g}."}) + "\n"
                             for p, g in [("Positive", "Positive"), ("Negative", "Positive"), ("Surprise", "Surprise")]))
    scored = _meflow("score", "--pred", preds, "--out", tmp_path / "score")
    assert scored.returncode == 0, scored.stderr
    assert json.loads((tmp_path / "score" / "score.json").read_text())["accuracy"] == pytest.approx(2 / 3)
    assert (tmp_path / "score" / "confusion.png").stat().st_size > 1000
    report = _meflow("report", "--data", emotions_dataset, "--out", tmp_path / "report")
    assert report.returncode == 0, report.stderr
    assert (tmp_path / "report" / "au_report.png").stat().st_size > 1000


# --- action units and the emotions recipe ---------------------------------------------------------------

def test_action_units_from_parameters():
    """Bilateral + one-sided directions add per side; one side alone gives an L / R AU; the jaw
    gives AU26, the lids AU43; relaxing actions and tiny ones are not listed."""
    from facial.action_units import JAW_RADIANS_PER_UNIT, sample_action_units, standin_direction_index

    expression, jaw, eyelids = np.zeros((3, 50)), np.zeros((3, 3)), np.zeros((3, 2))
    expression[2, standin_direction_index(12)] = 0.3            # both corners
    expression[2, standin_direction_index(12, "L")] = 0.1       # and the left one more
    expression[2, standin_direction_index(14, "R")] = 0.2       # right dimpler only
    expression[2, standin_direction_index(4)] = 0.01            # too small to list
    expression[0, standin_direction_index(1)] = 0.5            # relaxes from onset to apex
    jaw[2, 0] = 0.25 * JAW_RADIANS_PER_UNIT
    eyelids[2] = (0.1, 0.1)
    units = {u.code: u.intensity for u in sample_action_units(expression, jaw, eyelids)}
    assert set(units) == {"12", "R14", "26", "43"}
    assert units["12"] == pytest.approx(0.35) and units["R14"] == pytest.approx(0.2)
    assert units["26"] == pytest.approx(0.25) and units["43"] == pytest.approx(0.1)


def test_emotions_recipe_errors_name_the_key(tmp_path):
    from pipeline.resources import recipe_dir
    from pipeline.synthesis.distributions import RecipeError
    from pipeline.synthesis.recipe import parse_recipe

    text = (recipe_dir() / "meflow-emotions.toml").read_text()
    recipe = parse_recipe(text, "emotions.toml")
    assert [p.name for p in recipe.source.emotions.prototypes][:2] == ["happiness", "surprise"]
    cases = {
        'happiness = { action_units = ["6", "12"], weight = 1.0 }': ('happiness = { action_units = ["6", "23"] }',
                                                                   "AU23 is not one of the stand-in's actions"),
        'contempt = { action_units = ["R12", "R14"], weight = 1.0 }': ('contempt = { action_units = ["R12", "X"] }', "not an action unit code: 'X'"),
        'expression = "emotions"': ('expression = "actions"', "has an [emotions] table but [source] expression is not 'emotions'"),
        'others_pool = ["1", "2", "4", "9", "10", "14", "17", "18", "20", "24", "25"]': ("", "has 'others' but no others_pool"),
    }
    for old, (new, message) in cases.items():
        assert old in text
        with pytest.raises(RecipeError, match=message.replace("(", r"\(").replace("[", r"\[")):
            parse_recipe(text.replace(old, new), "emotions.toml")


def test_emotion_faces_need_the_standin_names():
    from facial.action_units import standin_direction_names
    from pipeline.resources import recipe_dir
    from pipeline.synthesis.face_params import emotion_face
    from pipeline.synthesis.recipe import load_recipe

    source = load_recipe(recipe_dir() / "meflow-emotions.toml").source
    rng = np.random.default_rng(3)
    seen = {emotion_face(source, 300, standin_direction_names(), rng)[1] for _ in range(60)}
    assert seen == {p.name for p in source.emotions.prototypes}
    with pytest.raises(ValueError, match="FLAME's PCA expressions carry no action units"):
        emotion_face(source, 300, None, rng)


def test_cli_build_from_clips_with_a_classical_flow(emotions_dataset, tmp_path):
    _write_clips(emotions_dataset, 1, tmp_path, 3)
    rows = ["subject,onset,apex,emotion,aus,landmarks"]
    for i in range(3):
        rows.append(f"s{i},c{i}_onset.png,c{i}_apex.png,sad,1+4+15,c{i}_lm.npy")
    (tmp_path / "clips.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "out"
    built = _meflow("build", "--pairs", tmp_path / "clips.csv", "--flow-model", "dis", "--out", out, "--label-set", "7")
    assert built.returncode == 0, built.stderr
    assert "3 records written" in built.stdout and "0 failed" in built.stdout
    records = read_jsonl(out / "train.jsonl") + read_jsonl(out / "test.jsonl")
    assert {r["meta"]["head_motion"] for r in records} == {"nose-tip compensation"}
    assert json.loads((out / "dataset_info.json").read_text())["meflow_instruct_train"]["formatting"] == "sharegpt"
    assert "| train |" in (out / "card.md").read_text()
    for args in (("--out", out), ("--data", emotions_dataset, "--pairs", tmp_path / "clips.csv", "--out", out),
                 ("--pairs", tmp_path / "clips.csv", "--flow-model", "nonsense", "--out", out)):
        failed = _meflow("build", *args)
        assert failed.returncode == 2 and failed.stderr.count("\n") == 1 and failed.stderr.startswith("error:"), failed.stderr


def test_flame_expressions_carry_no_action_units(flame_shaped_model):
    """FLAME's PCA directions name no actions: a sample's labels hold no AUs (and no emotion
    without an emotions recipe), so `instruct build` refuses the dataset with its reason."""
    from facial.action_units import has_standin_actions, standin_direction_names
    from pipeline.synthesis.face_params import FaceParams
    from pipeline.synthesis.labels import sample_labels

    assert not has_standin_actions(flame_shaped_model.assets.expression_names)
    assert has_standin_actions(standin_direction_names() + ("mixture_00",))
    face = FaceParams(np.zeros(300), np.ones(50), np.zeros(3), np.zeros(3), np.zeros(2))
    states = {"onset": face, "head": face, "apex": face}
    assert sample_labels(states, "", flame_shaped_model.assets.expression_names) == {}
    assert sample_labels(states, "", standin_direction_names()) == {"action_units": []}
