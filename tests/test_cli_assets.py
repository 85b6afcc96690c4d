"""`meflow assets ...` as a user runs it: a subprocess, exit codes, one-line errors, real PNGs."""
from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
from cli_helpers import assert_one_line_error, meflow
from flame_fixture import write_companions, write_flame2020

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_check_defaults_to_the_standin(standin_dir, standin_assets):
    result = meflow("assets", "check")
    assert result.returncode == 0, result.stderr
    assert "release:     MEFlow stand-in" in result.stdout
    assert f"fingerprint: {standin_assets.fingerprint}" in result.stdout
    assert "evaluated:   ok" in result.stdout and "unavailable" not in result.stdout


def test_check_reports_what_is_missing(tmp_path, tiny_flame):
    write_flame2020(tiny_flame, tmp_path)
    result = meflow("assets", "check", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "release:     FLAME 2020 (generic_model.pkl)" in result.stdout
    assert "162 vertices, 320 faces, 5 joints" in result.stdout
    assert result.stdout.count("unavailable:") == 3
    write_companions(tiny_flame, tmp_path)
    env_result = meflow("assets", "check", "--json", env={"MEFLOW_FLAME_DIR": str(tmp_path)})
    assert '"landmarks": true' in env_result.stdout and '"unavailable": []' in env_result.stdout


def test_check_refuses_bad_folders_in_one_line(tmp_path, tiny_flame):
    assert_one_line_error(meflow("assets", "check", str(tmp_path / "nope")), "does not exist")
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "a.png").write_bytes(PNG_MAGIC)
    assert_one_line_error(meflow("assets", "check", str(tmp_path / "images")), "no FLAME model file")
    hostile = tmp_path / "hostile"
    hostile.mkdir()

    class Evil:
        def __reduce__(self):
            return os.system, (f"touch {tmp_path / 'pwned'}",)

    (hostile / "generic_model.pkl").write_bytes(pickle.dumps(Evil(), protocol=2))
    assert_one_line_error(meflow("assets", "check", str(hostile)), "refusing to load generic_model.pkl", "system")
    assert not (tmp_path / "pwned").exists()
    broken = tmp_path / "broken"
    write_flame2020(tiny_flame, broken)
    data = (broken / "generic_model.pkl").read_bytes()
    (broken / "generic_model.pkl").write_bytes(data[: len(data) // 3])
    assert_one_line_error(meflow("assets", "check", str(broken)), "cannot read generic_model.pkl")


def test_show_writes_pictures(tmp_path, standin_dir):
    result = meflow("assets", "show", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    import matplotlib.image

    for name in ("standin_overview.png", "standin_expression_directions.png"):
        path = tmp_path / name
        assert path.read_bytes()[:8] == PNG_MAGIC
        image = matplotlib.image.imread(path)
        assert (image[..., :3] < 0.9).mean() > 0.05  # a drawing, not a blank page


def test_convert_keeps_the_fingerprint(tmp_path, tiny_flame):
    write_flame2020(tiny_flame, tmp_path / "src")
    write_companions(tiny_flame, tmp_path / "src")
    result = meflow("assets", "convert", str(tmp_path / "src"), "--out", str(tmp_path / "npz"))
    assert result.returncode == 0, result.stderr
    fingerprint = result.stdout.split("fingerprint ")[1].strip(")\n")
    check = meflow("assets", "check", str(tmp_path / "npz"))
    assert f"fingerprint: {fingerprint}" in check.stdout and "converted npz" in check.stdout
    assert np.load(tmp_path / "npz" / "FLAME_NEUTRAL.npz", allow_pickle=False)["shapedirs"].shape == (162, 3, 400)


@pytest.mark.parametrize("args", [("--help",), ("assets", "--help")])
def test_help_works(args):
    assert meflow(*args).returncode == 0
