"""The shape of the code as users install and import it: reading and training load no Blender,
Dask or factory code; the import contracts catch a forbidden import; an installed (non-editable)
meflow finds its recipes and cluster files; a command whose install group is missing says which
to install."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from cli_helpers import assert_one_line_error

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("facial", "flame_assets", "instruct", "pipeline", "render", "shards", "training")
READING_SIDE = ("shards", "facial", "training", "instruct")
NEVER_ON_THE_READING_SIDE = ("bpy", "mathutils", "dask", "distributed", "pipeline", "render", "flame_assets", "smplx")

IMPORT_EVERYTHING = """
import importlib, pkgutil, sys
for name in sys.argv[1:]:
    package = importlib.import_module(name)
    for info in pkgutil.walk_packages(package.__path__, name + "."):
        importlib.import_module(info.name)
print(" ".join(sorted({m.split(".")[0] for m in sys.modules})))
"""


def run_python(code: str, *args: str, cwd: Path | None = None, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def source_copy(dest: Path) -> Path:
    """What a source distribution holds: pyproject, README, recipes, cluster files, packages."""
    dest.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, dest / name)
    for name in ("datasets", "cluster", *PACKAGES):
        shutil.copytree(REPO / name, dest / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def test_reading_and_training_load_no_blender_dask_or_factory_code():
    result = run_python(IMPORT_EVERYTHING, *READING_SIDE, cwd=REPO)
    assert result.returncode == 0, result.stderr
    loaded = set(result.stdout.split())
    assert set(READING_SIDE) <= loaded and "torch" in loaded  # really imported, training included
    assert not loaded & set(NEVER_ON_THE_READING_SIDE), loaded & set(NEVER_ON_THE_READING_SIDE)


def test_the_import_contracts_catch_a_forbidden_import(tmp_path):
    lint = Path(sys.executable).parent / "lint-imports"
    copy = source_copy(tmp_path / "src")

    def lint_copy() -> subprocess.CompletedProcess:
        env = {**os.environ, "PYTHONPATH": str(copy)}
        return subprocess.run([str(lint), "--no-cache"], cwd=copy, env=env, capture_output=True, text=True, timeout=300)

    clean = lint_copy()
    assert clean.returncode == 0, clean.stdout[-2000:]
    victim = copy / "training" / "shard_dataset.py"
    victim.write_text(victim.read_text() + "\n\ndef _sneaky():\n    from pipeline.synthesis import seeds  # noqa: F401\n")
    broken = lint_copy()
    assert broken.returncode != 0
    assert "Reading and training need neither Blender, Dask, the factory nor the face model BROKEN" in " ".join(broken.stdout.split())


def test_an_installed_meflow_finds_its_recipes_and_cluster_files(tmp_path):
    copy = source_copy(tmp_path / "src")
    site = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                              "--target", str(site), str(copy)], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr
    shutil.rmtree(copy)  # nothing may still point into a source tree
    check = run_python("""
import pipeline
from pipeline.build.cluster import load_settings
from pipeline.synthesis.recipe import load_recipe
print(pipeline.__file__)
print(load_recipe("smoke").name, load_recipe("meflow-v1").render.width, load_settings("slurm")["kind"])
""", cwd=tmp_path, pythonpath=site)
    assert check.returncode == 0, check.stderr
    where, found = check.stdout.splitlines()
    assert where.startswith(str(site))
    assert found == "smoke 512 slurm"


def test_a_command_whose_install_group_is_missing_says_which_to_install(tmp_path):
    without = "import sys\nfor name in sys.argv[1].split(','):\n    sys.modules[name] = None  # not installed\n" \
              "from pipeline.cli import app\napp(sys.argv[2:])\n"
    build = run_python(without, "bpy,distributed", "dataset", "build", "--out", str(tmp_path / "ds"), cwd=REPO)
    assert_one_line_error(build, "`meflow dataset build` needs the render group", "bpy", 'pip install "meflow[render]"')
    assert not (tmp_path / "ds").exists()
    fit = run_python(without, "pyrender", "fit", str(tmp_path), "--out", str(tmp_path / "fits"), cwd=REPO)
    assert_one_line_error(fit, "`meflow fit` needs the fit group (pyrender not installed)")
    for command in (("assets", "check"), ("assets", "show"), ("assets", "standin"), ("assets", "convert", str(tmp_path), "--out", "x")):
        assert_one_line_error(run_python(without, "scipy", *command, cwd=REPO), f"`meflow {' '.join(command[:2])}` needs", "scipy")
    for command in (("--help",), ("dataset", "--help"), ("fit", "--help"), ("assets", "--help"), ("render", "--help")):
        helped = run_python(without, "bpy,distributed,dask,smplx,scipy,torch,pyrender,trimesh,yaml", *command, cwd=REPO)
        assert helped.returncode == 0 and "Usage" in helped.stdout, helped.stderr  # the command line needs none of them


def test_every_package_has_a_layer_and_the_architecture_picture_is_drawn(tmp_path):
    from pipeline.pictures.architecture import draw, read_contracts

    layers, forbidden = read_contracts(REPO / "pyproject.toml")
    assert sorted(p for layer in layers for p in layer) == sorted(PACKAGES)  # no package outside the contracts
    assert all(set(c["source_modules"]) for c in forbidden)
    picture = draw(REPO / "pyproject.toml", tmp_path / "architecture.png")
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and picture.stat().st_size > 50_000
