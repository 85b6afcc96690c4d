"""Shards round-trip exactly, read one sample without reading the shard, and feed torch with
identity-disjoint splits and shard-aware, seeded per-epoch orders."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
import zarr
from shard_fixtures import SIZE, synthetic_sample, write_dataset
from torch.utils.data import DataLoader, get_worker_info

from shards.layout import DatasetDir, DatasetError, check_compatible
from shards.lock import FolderBusy, FolderLock
from shards.reader import ShardReader
from shards.schema import BLOCK, FIELDS, sample_checksum
from shards.splits import SplitRule
from shards.verify import verify_dataset
from shards.writer import ShardWriter, TornShardError
from training.shard_dataset import ShardDataset, ShardEpochSampler, ShardStream, epoch_assignment


def test_round_trip_is_exact_and_checksummed(tmp_path):
    layout = write_dataset(tmp_path, shards=1, per_shard=BLOCK + 3)  # a full block and a partial one
    reader = ShardReader(layout.shard_path(0))
    assert len(reader) == BLOCK + 3
    for i in (0, BLOCK - 1, BLOCK + 2):
        got, want = reader.read(i), synthetic_sample(i, i // 3)
        for f in FIELDS:
            if f.name != "sha256":
                np.testing.assert_array_equal(np.asarray(got[f.name]), np.asarray(want[f.name]), err_msg=f.name)
    assert verify_dataset(layout) == {}


def test_one_sample_reads_only_its_chunks(tmp_path):
    """Bytes fetched for one sample are about one sample, not the shard."""
    layout = write_dataset(tmp_path, shards=1, per_shard=2 * BLOCK)
    fetched = []

    class CountingStore(zarr.storage.LocalStore):
        async def get(self, key, prototype, byte_range=None):
            buf = await super().get(key, prototype, byte_range)
            fetched.append(0 if buf is None else len(buf))
            return buf

    group = zarr.open_group(CountingStore(str(layout.shard_path(0)), read_only=True), mode="r")
    sample_bytes = SIZE * SIZE * 2 * 4
    fetched.clear()
    np.asarray(group["flow_facial"][BLOCK + 1])
    whole = 2 * BLOCK * sample_bytes
    assert sum(fetched) < 1.5 * sample_bytes + 2048 and sum(fetched) < whole / 10, fetched


def test_writer_refuses_wrong_shapes_and_leaves_nothing_when_aborted(tmp_path):
    writer = ShardWriter(tmp_path / "shard-00000.zarr", 4, SIZE, SIZE, {})
    bad = synthetic_sample(0, 0)
    bad["flow_facial"] = bad["flow_facial"][:8]
    with pytest.raises(ValueError, match=r"flow_facial has shape \(8, 16, 2\), expected \(16, 16, 2\)"):
        writer.append(bad)
    writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_verify_names_a_corrupt_shard(tmp_path):
    layout = write_dataset(tmp_path, shards=3, per_shard=4)
    victim = next((layout.shard_path(1) / "flow_facial" / "c").rglob("*"))
    while victim.is_dir():
        victim = next(victim.iterdir())
    data = bytearray(victim.read_bytes())
    data[100] ^= 0xFF
    victim.write_bytes(bytes(data))
    bad = verify_dataset(layout)
    assert list(bad) == [1] and "checksum" in bad[1][0]


def test_splits_never_share_an_identity(tmp_path):
    write_dataset(tmp_path, shards=6, per_shard=10, samples_per_identity=4)
    train = ShardDataset(tmp_path, "train", test_fraction=0.3)
    test = ShardDataset(tmp_path, "test", test_fraction=0.3)
    ids = {name: {ds.layout.reader(s).read(i, ("source_id",))["source_id"] for s, i in ds.entries}
           for name, ds in (("train", train), ("test", test))}
    assert ids["train"] and ids["test"] and not ids["train"] & ids["test"]
    assert len(train) + len(test) == 60
    subset = ShardDataset(tmp_path, "all", shards=[1, 4])
    assert {s for s, _ in subset.entries} == {1, 4} and len(subset) == 20
    with pytest.raises(ValueError, match=r"shards \[9\] are not complete"):
        ShardDataset(tmp_path, "all", shards=[9])


def test_item_tensors(tmp_path):
    write_dataset(tmp_path, shards=1, per_shard=3)
    item = ShardDataset(tmp_path, "all")[2]
    assert item["onset"].shape == (3, SIZE, SIZE) and item["onset"].dtype == torch.uint8
    assert item["flow_facial"].shape == (2, SIZE, SIZE) and item["flow_facial"].dtype == torch.float32
    np.testing.assert_array_equal(item["flow_facial"].permute(1, 2, 0).numpy(), synthetic_sample(2, 0)["flow_facial"])


def test_epoch_orders_are_seeded_shard_aware_and_rank_disjoint(tmp_path):
    write_dataset(tmp_path, shards=7, per_shard=5)
    ds = ShardDataset(tmp_path, "all")
    groups = ds.shard_groups()
    shard_of = {n: s for s, members in groups.items() for n in members}
    ranks = [epoch_assignment(groups, r, 3, seed=1, epoch=0) for r in range(3)]
    assert len({len(r) for r in ranks}) == 1  # equal steps for DDP
    assert not set(ranks[0]) & set(ranks[1]) and not set(ranks[1]) & set(ranks[2])
    assert not {shard_of[n] for n in ranks[0]} & {shard_of[n] for n in ranks[1]}  # whole shards per rank
    assert epoch_assignment(groups, 0, 3, 1, 0) == ranks[0]  # seeded
    assert epoch_assignment(groups, 0, 3, 1, 1) != ranks[0]  # reshuffled per epoch
    sampler = ShardEpochSampler(ds, rank=0, world_size=1, seed=5)
    sampler.set_epoch(2)
    assert sorted(sampler) == list(range(len(ds))) and len(sampler) == len(ds)


class WorkerTaggedDataset(ShardDataset):
    """Items say which DataLoader worker read them and from which shard."""

    def __getitem__(self, n: int) -> dict:
        return {**super().__getitem__(n), "worker": get_worker_info().id, "shard": self.entries[n][0]}


def test_stream_deals_whole_shards_to_dataloader_workers(tmp_path):
    write_dataset(tmp_path, shards=5, per_shard=4)
    stream = ShardStream(WorkerTaggedDataset(tmp_path, "all", fields=("sample_index",)), seed=3)
    stream.set_epoch(1)
    seen = list(DataLoader(stream, batch_size=None, num_workers=2))
    assert sorted(int(x["sample_index"]) for x in seen) == list(range(20))  # every sample once
    readers = {}
    for item in seen:
        readers.setdefault(int(item["shard"]), set()).add(int(item["worker"]))
    assert sorted(readers) == list(range(5)) and all(len(w) == 1 for w in readers.values()), readers  # one reader per shard
    assert {w for ws in readers.values() for w in ws} == {0, 1}  # and both workers read


def test_fast_reader_equals_zarr_for_every_field(tmp_path):
    layout = write_dataset(tmp_path, shards=1, per_shard=BLOCK + 5)
    reader = ShardReader(layout.shard_path(0))
    numeric = [f.name for f in FIELDS if f.dtype != "str"]
    assert sorted(reader.fast) == sorted(numeric)  # our own layout is always on the fast path
    for i in range(len(reader)):
        fast, reference = reader.read(i), reader.read(i, use_zarr=True)
        for name in fast:
            np.testing.assert_array_equal(np.asarray(fast[name]), np.asarray(reference[name]), err_msg=name)
            assert np.asarray(fast[name]).dtype == np.asarray(reference[name]).dtype


def test_a_crashed_writer_is_resumed_from_its_checkpoint(tmp_path):
    straight = write_dataset(tmp_path / "straight", shards=1, per_shard=BLOCK + 3)
    layout = DatasetDir(tmp_path / "resumed")
    layout.shard_dir.mkdir(parents=True)
    crashed = ShardWriter(layout.shard_path(0), BLOCK + 3, SIZE, SIZE, {"shard": 0})
    for k in range(BLOCK + 2):  # one block checkpointed, two samples only in memory: lost
        crashed.append(synthetic_sample(k, k // 3), k)
    abandoned = ShardWriter(layout.shard_path(0), BLOCK + 3, SIZE, SIZE, {"shard": 0})  # no checkpoint
    abandoned.append(synthetic_sample(0, 0), 0)
    best = layout.best_checkpoint(0)
    assert best == crashed.partial and layout.partials(0) == [best]  # the useless partial is gone
    writer = ShardWriter(layout.shard_path(0), BLOCK + 3, SIZE, SIZE, {}, resume_from=best)
    assert (writer.count, writer.next_index, writer.resumed) == (BLOCK, BLOCK, BLOCK)
    for k in range(writer.next_index, BLOCK + 3):
        writer.append(synthetic_sample(k, k // 3), k)
    writer.finish()
    a, b = ShardReader(straight.shard_path(0)), ShardReader(layout.shard_path(0))
    for f in FIELDS:
        np.testing.assert_array_equal(a.column(f.name), b.column(f.name), err_msg=f.name)


def test_a_shard_torn_while_written_is_never_published_and_a_complete_one_never_replaced(tmp_path):
    layout = write_dataset(tmp_path / "d", shards=1, per_shard=3)
    complete = sorted(p.name for p in layout.shard_path(0).rglob("*"))
    second = ShardWriter(layout.shard_path(0), 3, SIZE, SIZE, {"shard": 0})  # a second attempt of a finished shard
    for k in range(3):
        second.append(synthetic_sample(k, k), k)
    second.finish()
    assert sorted(p.name for p in layout.shard_path(0).rglob("*")) == complete and not layout.partials()
    assert layout.torn_shards() == {}

    torn = ShardWriter(tmp_path / "t" / "shard-00000.zarr", 3, SIZE, SIZE, {"shard": 0})
    for k in range(3):
        torn.append(synthetic_sample(k, k), k)
    shutil.rmtree(torn.partial / "scene")  # what a second build's clean-up did to a live writer
    with pytest.raises(TornShardError, match="missing arrays \\['scene'\\]"):
        torn.finish()
    assert not (tmp_path / "t" / "shard-00000.zarr").exists()

    (layout.shard_path(0) / "apex" / "zarr.json").unlink()
    assert layout.torn_shards() == {0: "missing arrays ['apex']"}


def test_one_writer_per_folder_and_the_lock_dies_with_its_holder(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from shards.lock import FolderLock; "
                               "lock = FolderLock(sys.argv[1], what='test build'); lock.acquire(); print('held', flush=True); time.sleep(60)",
                               str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(FolderBusy, match=f"another test build is writing {tmp_path} \\(process {holder.pid} on .*--wait"):
        FolderLock(tmp_path).acquire()
    holder.kill()  # SIGKILL: no clean-up runs, the kernel drops the lock
    holder.wait()
    with FolderLock(tmp_path, what="next build") as lock:
        assert lock.holder()["pid"] == os.getpid()


def legacy_is_test(source_id: str) -> bool:
    """The split of datasets written before the rule was recorded, written out independently."""
    digest = hashlib.sha256(f"meflow-split-v1:{source_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < 0.1


def test_a_schema_1_dataset_reads_with_its_old_split_and_is_never_added_to(tmp_path):
    layout = write_dataset(tmp_path, shards=6, per_shard=10, samples_per_identity=1)
    meta = {**layout.metadata(), "schema_version": 1}
    layout.write_metadata(meta)
    for s in range(6):  # as schema 1 wrote them: no `labels` array, checksums without it
        group = zarr.open_group(str(layout.shard_path(s)), mode="r+")
        group.attrs["schema_version"] = 1
        del group["labels"]
        reader = ShardReader(layout.shard_path(s))
        group["sha256"][:] = np.array([sample_checksum(reader.read(i), 1) for i in range(len(reader))], dtype=object)
    assert verify_dataset(layout) == {}
    assert ShardReader(layout.shard_path(0)).read(0, ("labels",))["labels"] == "{}"  # what a field added later reads
    test = ShardDataset(tmp_path, "test")
    ids = {test.layout.reader(s).read(i, ("source_id",))["source_id"] for s, i in test.entries}
    assert ids == {f"photo-{k:04d}" for k in range(60) if legacy_is_test(f"photo-{k:04d}")} and ids
    with pytest.raises(DatasetError, match="never adds to it; build into a new --out"):
        check_compatible(meta, {**meta, "schema_version": 2})
    layout.write_metadata({**meta, "schema_version": 4})
    with pytest.raises(DatasetError, match="shard schema 4; this meflow reads 1, 2, 3"):
        ShardDataset(tmp_path, "all")


def test_the_split_rule_recorded_in_the_dataset_decides(tmp_path):
    layout = write_dataset(tmp_path, shards=6, per_shard=10, samples_per_identity=1)
    layout.write_metadata({**layout.metadata(), "split": {"salt": "other-salt", "test_fraction": 0.5}})
    recorded = ShardDataset(tmp_path, "test")
    ids = {recorded.layout.reader(s).read(i, ("source_id",))["source_id"] for s, i in recorded.entries}
    expected = {f"photo-{k:04d}" for k in range(60) if SplitRule("other-salt", 0.5).is_test(f"photo-{k:04d}")}
    assert ids == expected and 15 < len(expected) < 45
    assert len(ShardDataset(tmp_path, "train")) + len(recorded) == 60


def test_expression_flow_is_derived_on_read(tmp_path):
    write_dataset(tmp_path, shards=1, per_shard=3)
    reader = ShardReader(DatasetDir(tmp_path).shard_path(0))
    sample = reader.read(1, ("flow_expression", "mask"))
    assert sorted(sample) == ["flow_expression", "mask"]
    want = synthetic_sample(1, 0)
    np.testing.assert_array_equal(sample["flow_expression"], want["flow_facial"] - want["flow_head"])
    item = ShardDataset(tmp_path, "all", fields=("flow_expression",))[1]
    assert item["flow_expression"].shape == (2, SIZE, SIZE)
    with pytest.raises(KeyError, match="no field"):
        reader.read(0, ("flow_sideways",))


def test_flow_colours_follow_the_middlebury_wheel():
    from shards.flow_pictures import flow_to_rgb

    colours = {name: flow_to_rgb(np.array([[flow]], float), 1.0)[0, 0].tolist()
               for name, flow in {"right": (1, 0), "down": (0, 1), "left": (-1, 0), "up": (0, -1), "still": (0, 0)}.items()}
    assert colours["right"] == [255, 0, 0] and colours["still"] == [255, 255, 255]
    assert colours["down"][:2] == [255, 230] and colours["left"][0] == 0 and colours["up"][2] == 255
