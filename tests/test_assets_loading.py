"""Every FLAME flavour loads to the same arrays; bad folders and files fail with one clear line."""
from __future__ import annotations

import importlib.util
import pickle
import sys

import numpy as np
import pytest
from flame_fixture import write_companions, write_flame2020, write_flame2023

from flame_assets.assets import load_assets, save_npz
from flame_assets.errors import AssetError


def test_flame2020_chumpy_pickle_loads_without_chumpy(tmp_path, tiny_flame):
    write_flame2020(tiny_flame, tmp_path)
    assert b"chumpy.ch" in (tmp_path / "generic_model.pkl").read_bytes()
    assert importlib.util.find_spec("chumpy") is None
    assets = load_assets(tmp_path)
    assert "chumpy" not in sys.modules
    assert assets.release == "FLAME 2020"
    np.testing.assert_array_equal(assets.shapedirs, tiny_flame["shapedirs"])
    np.testing.assert_allclose(assets.j_regressor, tiny_flame["J_regressor"])
    assert assets.parents.tolist() == [-1, 0, 1, 1, 1]
    assert (assets.n_shape, assets.n_expression) == (300, 100)


@pytest.mark.parametrize("name,release", [("flame2023.pkl", "FLAME 2023"), ("flame2023_Open.pkl", "FLAME 2023 Open"),
                                          ("flame2023_no_jaw.pkl", "FLAME 2023 (no jaw)")])
def test_flame2023_releases_load_to_the_same_model(tmp_path, tiny_flame, name, release):
    write_flame2020(tiny_flame, tmp_path / "a")
    write_flame2023(tiny_flame, tmp_path / "b", name)
    a, b = load_assets(tmp_path / "a"), load_assets(tmp_path / "b")
    assert b.release == release
    assert a.fingerprint == b.fingerprint


def test_companions_flame_and_deca_flavours_agree(tmp_path, tiny_flame):
    for flavour, deca in (("flame", False), ("deca", True)):
        write_flame2020(tiny_flame, tmp_path / flavour)
        write_companions(tiny_flame, tmp_path / flavour, deca=deca)
    a, b = load_assets(tmp_path / "flame"), load_assets(tmp_path / "deca")
    assert a.has_landmarks and b.has_landmarks and a.eyelids is not None
    np.testing.assert_array_equal(a.dynamic_lmk_faces, tiny_flame["dynamic_faces"])
    assert a.fingerprint == b.fingerprint


def test_files_are_found_one_folder_down_as_unzipped(tmp_path, tiny_flame):
    write_flame2020(tiny_flame, tmp_path / "FLAME2020")
    assert load_assets(tmp_path).release == "FLAME 2020"


def test_converted_npz_round_trips(tmp_path, tiny_flame):
    write_flame2020(tiny_flame, tmp_path / "src")
    original = load_assets(tmp_path / "src")
    save_npz(original, tmp_path / "npz" / "FLAME_NEUTRAL.npz")
    converted = load_assets(tmp_path / "npz")
    assert converted.release == "converted npz"
    assert converted.fingerprint == original.fingerprint


def test_user_files_are_never_modified(tmp_path, tiny_flame, meflow_cache):
    from flame_assets.model import FaceModel

    write_flame2020(tiny_flame, tmp_path)
    write_companions(tiny_flame, tmp_path)
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in tmp_path.iterdir()}
    FaceModel(load_assets(tmp_path), cache_dir=meflow_cache)()
    after = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in tmp_path.iterdir()}
    assert before == after


def _corrupt(tiny_flame, tmp_path, key, value):
    data = {k: tiny_flame[k] for k in ("v_template", "f", "posedirs", "weights", "kintree_table", "shapedirs", "J_regressor")}
    if value is None:
        del data[key]
    else:
        data[key] = value
    (tmp_path / "generic_model.pkl").write_bytes(pickle.dumps(data, protocol=2))


@pytest.mark.parametrize("key,value,message", [
    ("shapedirs", np.zeros((5, 3, 10)), r"'shapedirs' has shape \(5, 3, 10\), expected \(162, 3, K\)"),
    ("posedirs", np.zeros((162, 3, 9)), r"'posedirs' has shape"),
    ("weights", None, r"has no 'weights' array"),
    ("f", np.full((4, 3), 999), r"face indices outside"),
    ("v_template", np.full((162, 3), np.nan), r"NaN"),
])
def test_malformed_model_is_refused_with_the_key(tmp_path, tiny_flame, key, value, message):
    _corrupt(tiny_flame, tmp_path, key, value)
    with pytest.raises(AssetError, match=message):
        load_assets(tmp_path)


def test_bad_folders_and_files(tmp_path, tiny_flame):
    with pytest.raises(AssetError, match="does not exist"):
        load_assets(tmp_path / "missing")
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "face.jpg").write_bytes(b"\xff\xd8\xff")
    with pytest.raises(AssetError, match="no FLAME model file .*flame.is.tue.mpg.de"):
        load_assets(tmp_path / "photos")
    path = write_flame2020(tiny_flame, tmp_path / "trunc")
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(AssetError, match="cannot read generic_model.pkl.*download it again"):
        load_assets(tmp_path / "trunc")
    (tmp_path / "list").mkdir()
    (tmp_path / "list" / "generic_model.pkl").write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(AssetError, match="holds a list"):
        load_assets(tmp_path / "list")


def test_mismatched_companions_are_refused(tmp_path, tiny_flame):
    write_flame2020(tiny_flame, tmp_path)
    np.save(tmp_path / "l_eyelid.npy", np.zeros((5023, 3)))
    np.save(tmp_path / "r_eyelid.npy", np.zeros((5023, 3)))
    with pytest.raises(AssetError, match=r"'l_eyelid' has shape \(5023, 3\), expected \(162, 3\)"):
        load_assets(tmp_path)
    (tmp_path / "r_eyelid.npy").unlink()
    with pytest.raises(AssetError, match="found l_eyelid.npy but not r_eyelid.npy"):
        load_assets(tmp_path)
    (tmp_path / "l_eyelid.npy").unlink()
    static = {"lmk_face_idx": np.full(51, 10_000), "lmk_b_coords": np.ones((51, 3)) / 3}
    (tmp_path / "flame_static_embedding.pkl").write_bytes(pickle.dumps(static, protocol=2))
    with pytest.raises(AssetError, match="another mesh topology"):
        load_assets(tmp_path)


def test_hostile_companion_is_refused(tmp_path, tiny_flame):
    import os

    class Evil:
        def __reduce__(self):
            return os.system, (f"touch {tmp_path / 'pwned'}",)

    write_flame2020(tiny_flame, tmp_path)
    (tmp_path / "flame_static_embedding.pkl").write_bytes(pickle.dumps(Evil(), protocol=2))
    with pytest.raises(AssetError, match="refusing to load flame_static_embedding.pkl"):
        load_assets(tmp_path)
    assert not (tmp_path / "pwned").exists()
