"""`meflow dataset export --format mellm` read back the way MELLM's released loader reads it, and
`training.mellm_folder.MellmFolder` reading such a folder as shard samples."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from cli_helpers import meflow
from shard_fixtures import write_dataset

from facial.wflw98 import IBUG68_FROM_WFLW98
from pipeline.export.dataset_files import export
from shards.layout import DatasetDir
from shards.splits import SplitRule
from training.mellm_folder import MellmFolder, is_mellm_folder

SHARDS, PER_SHARD, PER_IDENTITY = 2, 4, 2
TEST_FRACTION = 0.5
TRAIN_KEYS = {"frame_1", "frame_2", "facial_flow", "head_flow", "landmarks_onset", "landmarks_apex"}
TEST_KEYS = {"frame_1", "frame_2", "facial_flow", "head_flow", "mask"}


def shard_samples(layout) -> dict[str, dict]:
    """{sample folder name: shard sample} of every sample in the dataset."""
    out = {}
    for reader in layout.readers().values():
        for i in range(len(reader)):
            sample = reader.read(i)
            out[f"synthetic-{int(sample['sample_index']):07d}"] = sample
    return out


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> tuple[Path, dict]:
    """A tiny dataset whose recorded identity split puts identities on both sides."""
    root = tmp_path_factory.mktemp("mellm") / "dataset"
    layout = write_dataset(root, SHARDS, PER_SHARD, PER_IDENTITY)
    samples = shard_samples(layout)
    identities = sorted({str(s["source_id"]) for s in samples.values()})
    for attempt in range(100):  # the first salt (deterministic) that splits these few identities both ways
        rule = SplitRule(salt=f"mellm-test-{attempt}", test_fraction=TEST_FRACTION)
        if len({rule.split_of(i) for i in identities}) == 2:
            break
    else:
        pytest.fail("no salt splits the test identities both ways")
    layout.write_metadata({**layout.metadata(), "split": rule.to_json()})
    return root, samples


@pytest.fixture(scope="module")
def exported(dataset) -> Path:
    root, _ = dataset
    out = root.parent / "export"
    result = meflow("dataset", "export", str(root), "--format", "mellm", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out


def mellm_loader_reads(list_file: Path) -> list[dict]:
    """What MELLM's loader does with a list: each stripped line + file name, by string concatenation,
    opened as written (it never joins a root), flows np.load(f)['optical_flow']."""
    out = []
    for line in list_file.read_text().splitlines():
        sample = line.strip()
        if not sample:
            continue
        out.append({
            "folder": sample,
            "onset": cv2.imread(f"{sample}render_output_exp_pose/frame_0001.png")[..., ::-1],
            "apex": cv2.imread(f"{sample}render_output_exp_pose/frame_0002.png")[..., ::-1],
            "facial": np.load(f"{sample}render_output_exp_pose/0001.npz")["optical_flow"],
            "head": np.load(f"{sample}render_output_pose/0001.npz")["optical_flow"],
            "lm0": np.load(f"{sample}render_output_exp_pose/lm0.npy"),
            "lm1": np.load(f"{sample}render_output_exp_pose/lm1.npy"),
        })
    return out


def test_mellms_loader_reads_the_shards_arrays(dataset, exported):
    root, samples = dataset
    rule = SplitRule.from_metadata(DatasetDir(root).metadata())
    seen: dict[str, set] = {}
    folders = []
    for split in ("train", "test"):
        read = mellm_loader_reads(exported / "labels" / f"{split}_data.txt")
        assert read, f"no {split} samples"
        for got in read:
            assert got["folder"].endswith("/") and Path(got["folder"]).is_absolute()
            folders.append(Path(got["folder"].rstrip("/")).name)
            sample = samples[folders[-1]]
            assert rule.split_of(str(sample["source_id"])) == split
            seen.setdefault(split, set()).add(str(sample["source_id"]))
            for key, name in (("facial", "flow_facial"), ("head", "flow_head")):
                assert got[key].dtype == np.float32 and got[key].shape == sample[name].shape
                np.testing.assert_array_equal(got[key], sample[name])  # channel 0 is x, as stored
            np.testing.assert_array_equal(got["onset"], sample["onset"])  # PNGs in BGR, as cv2 writes them
            np.testing.assert_array_equal(got["apex"], sample["apex"])
            for key, name in (("lm0", "landmarks_onset"), ("lm1", "landmarks_apex")):
                assert got[key].shape == (98, 2)
                np.testing.assert_array_equal(got[key][IBUG68_FROM_WFLW98], sample[name])
    assert not seen["train"] & seen["test"]  # no identity on both sides
    assert sorted(folders) == sorted(samples)  # every sample, once


def test_jsonl_lists_name_every_file(dataset, exported):
    _, samples = dataset
    folders = {}
    for split, name, keys in (("train", "meflow_files.jsonl", TRAIN_KEYS), ("test", "meflow_files_test.jsonl", TEST_KEYS)):
        entries = [json.loads(line) for line in (exported / "labels" / name).read_text().splitlines()]
        listed = (exported / "labels" / f"{split}_data.txt").read_text().splitlines()
        assert len(entries) == len(listed)
        for entry, line in zip(entries, listed):
            assert set(entry) == keys
            assert all(Path(p).is_absolute() and Path(p).is_file() for p in entry.values())
            assert entry["facial_flow"] == f"{line}render_output_exp_pose/0001.npz"
            folders[Path(line.rstrip("/")).name] = entry
    assert set(folders) == set(samples)
    for folder, entry in folders.items():
        if "mask" in entry:
            mask = np.load(entry["mask"])
            assert set(np.unique(mask)) <= {0, 1}
            np.testing.assert_array_equal(mask.astype(bool), samples[folder]["mask"])


def test_mellm_folder_reads_shard_samples(dataset, exported):
    _, samples = dataset
    assert is_mellm_folder(exported) and not is_mellm_folder(exported.parent / "dataset")
    parts = {split: MellmFolder(exported, split) for split in ("train", "test", "all")}
    assert len(parts["all"]) == len(samples) == len(parts["train"]) + len(parts["test"])
    for n in range(len(parts["all"])):
        got = parts["all"][n]
        want = samples[got["source_id"]]
        for name in ("onset", "apex", "flow_facial", "flow_head", "mask", "landmarks_onset", "landmarks_apex"):
            assert got[name].dtype == want[name].dtype and got[name].shape == want[name].shape, name
            np.testing.assert_array_equal(got[name], want[name], err_msg=name)
    with pytest.raises(ValueError, match="split must be one of"):
        MellmFolder(exported, "val")


def test_a_moved_export_still_reads(dataset, exported, tmp_path):
    export(dataset[0], tmp_path / "first", "mellm")
    moved = (tmp_path / "first").rename(tmp_path / "moved")
    data, original = MellmFolder(moved, "all"), MellmFolder(exported, "all")
    assert data.prefixes[0].startswith(str(moved))
    np.testing.assert_array_equal(data[0]["flow_facial"], original[0]["flow_facial"])


def test_the_test_jsonl_names_the_mask(dataset, tmp_path):
    out = tmp_path / "export"
    export(dataset[0], out, "mellm")
    jsonl = out / "labels" / "meflow_files_test.jsonl"
    entries = [json.loads(line) for line in jsonl.read_text().splitlines()]
    empty = tmp_path / "empty_mask.npy"
    np.save(empty, np.zeros((16, 16), np.uint8))
    entries[0]["mask"] = str(empty)
    jsonl.write_text("".join(json.dumps(e) + "\n" for e in entries))
    test = MellmFolder(out, "test")
    assert not test[0]["mask"].any() and test[0]["mask"].dtype == bool
    Path(f"{test.prefixes[0]}mask.npy").unlink()
    jsonl.unlink()
    assert MellmFolder(out, "test")[0]["mask"].all()  # no mask anywhere: every pixel counts


def one_line_error(folder: Path, split: str = "all", item: int | None = 0) -> str:
    with pytest.raises(ValueError) as caught:
        data = MellmFolder(folder, split)
        if item is not None:
            data[item]
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_bad_folders_say_which_file_and_what_to_do(dataset, tmp_path):
    bad = tmp_path / "bad"
    export(dataset[0], bad, "mellm")
    first = MellmFolder(bad, "all").prefixes[0]
    (bad / "labels" / "test_data.txt").unlink()
    message = one_line_error(bad, "test", None)
    assert "test_data.txt is missing" in message and "meflow dataset export" in message
    assert len(MellmFolder(bad, "train")) > 0  # the other split still reads
    (bad / "labels" / "test_data.txt").write_text("")

    facial = Path(f"{first}render_output_exp_pose/0001.npz")
    np.savez(facial, flow=np.zeros((16, 16, 2), np.float32))
    message = one_line_error(bad)
    assert str(facial) in message and "'optical_flow'" in message
    facial.unlink()
    message = one_line_error(bad)
    assert str(facial) in message and "meflow dataset export" in message

    np.savez(facial, optical_flow=np.zeros((16, 16, 2), np.float32))
    apex = Path(f"{first}render_output_exp_pose/frame_0002.png")
    cv2.imwrite(str(apex), np.zeros((8, 16, 3), np.uint8))
    message = one_line_error(bad)
    assert str(apex) in message and "same size" in message

    cv2.imwrite(str(apex), np.zeros((16, 16, 3), np.uint8))
    np.save(f"{first}render_output_exp_pose/lm0.npy", np.zeros((68, 2)))
    assert "lm0.npy" in one_line_error(bad) and "(98, 2)" in one_line_error(bad)

    (bad / "labels" / "train_data.txt").write_text("/nowhere/sample-1/\n")
    message = one_line_error(bad, "train", None)
    assert "train_data.txt" in message and "/nowhere/sample-1/" in message
