"""The dlib landmark plug-in without dlib: a missing install names the command that installs it, a
broken one says what is broken, and the model file is found without importing
face_recognition_models (whose own lookup needs pkg_resources, gone from setuptools 81 on).

Fake `dlib` and `face_recognition_models` packages on sys.path stand in for the real ones;
`make dlib-check` runs the real detector on the package photo."""
from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from pipeline.fitting.detectors import DLIB_REINSTALL, DlibDetector, PluginBroken, PluginMissing, dlib_model_path, make_detector

MODEL = "shape_predictor_68_face_landmarks.dat"
INSTALL_COMMAND = 'pip install "meflow[dlib]"'
BROKEN = "the dlib landmark plug-in is installed but broken: "

# A dlib stand-in: one face box, and a "predictor" that reads the model file it is given and puts
# the 68 points on a grid inside the box.
FAKE_DLIB = '''
class _Box:
    def __init__(self, l, t, r, b):
        self.l, self.t, self.r, self.b = l, t, r, b
    def width(self):
        return self.r - self.l
    def height(self):
        return self.b - self.t

class _Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

class _Shape:
    def __init__(self, box):
        self.box = box
    def part(self, i):
        return _Point(self.box.l + 5 * (i % 10), self.box.t + 7 * (i // 10))

def get_frontal_face_detector():
    return lambda rgb, upsample: [_Box(10, 20, 60, 80), _Box(100, 100, 200, 220)]

class shape_predictor:
    def __init__(self, path):
        with open(path) as f:
            if f.read() != "fake model":
                raise RuntimeError("Unexpected version found while deserializing dlib::shape_predictor.")
    def __call__(self, rgb, box):
        return _Shape(box)
'''


def _package(root: Path, name: str, init: str, files: dict[str, str] | None = None) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text(textwrap.dedent(init))
    for rel, text in (files or {}).items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    return folder


@pytest.fixture
def plugin_root(tmp_path, monkeypatch) -> Path:
    """An empty folder first on sys.path, and no real dlib / face_recognition_models loaded."""
    root = tmp_path / "site"
    root.mkdir()
    for name in ("dlib", "_dlib_pybind11", "face_recognition_models"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.syspath_prepend(str(root))
    return root


def _hide(monkeypatch, *names: str) -> None:
    """Make modules unfindable even where the real ones are installed (None in sys.modules)."""
    for name in names:
        monkeypatch.setitem(sys.modules, name, None)


def _models_package(root: Path, with_model: bool = True) -> Path:
    # The real package's __init__ imports pkg_resources: this one fails outright, so the plug-in
    # passes only if it never imports the package.
    init = 'raise ModuleNotFoundError("No module named \'pkg_resources\'", name="pkg_resources")\n'
    files = {"models/shape_predictor_5_face_landmarks.dat": "other model"}
    if with_model:
        files[f"models/{MODEL}"] = "fake model"
    return _package(root, "face_recognition_models", init, files)


def _exact(error_type: type[Exception], excinfo: pytest.ExceptionInfo) -> str:
    assert type(excinfo.value) is error_type
    return str(excinfo.value)


def test_nothing_installed_names_the_install_command(plugin_root, monkeypatch):
    _hide(monkeypatch, "dlib", "face_recognition_models")
    with pytest.raises(PluginMissing) as excinfo:
        make_detector("dlib")
    message = _exact(PluginMissing, excinfo)
    assert message.startswith("the dlib landmark plug-in is not installed (dlib and face_recognition_models missing): ")
    assert INSTALL_COMMAND in message and "broken" not in message


def test_half_an_install_names_the_missing_part(plugin_root, monkeypatch):
    _models_package(plugin_root)
    _hide(monkeypatch, "dlib")
    with pytest.raises(PluginMissing) as excinfo:
        make_detector("dlib")
    assert "not installed (dlib missing)" in _exact(PluginMissing, excinfo) and INSTALL_COMMAND in str(excinfo.value)

    _package(plugin_root, "dlib", FAKE_DLIB)
    monkeypatch.delitem(sys.modules, "dlib")
    _hide(monkeypatch, "face_recognition_models")
    with pytest.raises(PluginMissing) as excinfo:
        make_detector("dlib")
    assert "not installed (face_recognition_models missing)" in _exact(PluginMissing, excinfo)


def test_model_is_found_without_importing_its_package(plugin_root):
    folder = _models_package(plugin_root)
    _package(plugin_root, "dlib", FAKE_DLIB)
    assert dlib_model_path() == folder / "models" / MODEL
    detector = make_detector("dlib")
    assert isinstance(detector, DlibDetector) and "face_recognition_models" not in sys.modules
    points = detector.detect(np.zeros((240, 240, 3), np.uint8))
    assert points.shape == (68, 2) and points.dtype == np.float64
    assert points[0].tolist() == [100, 100] and points[67].tolist() == [135, 142]  # the larger box


def test_model_file_missing_from_its_package_is_broken_not_missing(plugin_root):
    folder = _models_package(plugin_root, with_model=False)
    _package(plugin_root, "dlib", FAKE_DLIB)
    with pytest.raises(PluginBroken) as excinfo:
        make_detector("dlib")
    message = _exact(PluginBroken, excinfo)
    assert message.startswith(BROKEN + "the 68-point model file is not in face_recognition_models (looked for ")
    assert str(folder / "models" / MODEL) in message and message.endswith(f"reinstall it: {DLIB_REINSTALL}")
    assert "not installed" not in message


def test_a_module_named_like_the_package_is_broken(plugin_root):
    (plugin_root / "face_recognition_models.py").write_text("")
    _package(plugin_root, "dlib", FAKE_DLIB)
    with pytest.raises(PluginBroken, match=r"face_recognition_models at .*face_recognition_models\.py is a module, not the package"):
        make_detector("dlib")


@pytest.mark.parametrize(("init", "reason"), [
    # dlib-bin's package without its compiled part
    ('raise ModuleNotFoundError("No module named \'_dlib_pybind11\'", name="_dlib_pybind11")\n',
     "import dlib failed: ModuleNotFoundError: No module named '_dlib_pybind11'"),
    # the compiled part needs a library the system lacks
    ('raise ImportError("libcblas.so.3: cannot open shared object file: No such file or directory")\n',
     "import dlib failed: ImportError: libcblas.so.3: cannot open shared object file"),
    ('raise OSError("GLIBC_2.28 not found")\n', "import dlib failed: OSError: GLIBC_2.28 not found"),
])
def test_dlib_that_fails_to_import_is_broken(plugin_root, init, reason):
    _models_package(plugin_root)
    _package(plugin_root, "dlib", init)
    with pytest.raises(PluginBroken) as excinfo:
        make_detector("dlib")
    message = _exact(PluginBroken, excinfo)
    assert message.startswith(BROKEN + reason) and DLIB_REINSTALL in message


def test_a_damaged_model_file_is_broken(plugin_root):
    folder = _models_package(plugin_root)
    (folder / "models" / MODEL).write_text("version https://git-lfs.github.com/spec/v1")
    _package(plugin_root, "dlib", FAKE_DLIB)
    with pytest.raises(PluginBroken) as excinfo:
        make_detector("dlib")
    message = _exact(PluginBroken, excinfo)
    assert message.startswith(BROKEN + f"dlib cannot load {folder / 'models' / MODEL}: RuntimeError: Unexpected version found")


def test_broken_is_caught_where_missing_is():
    """The command lines catch PluginMissing and print its message: a broken plug-in reaches them too."""
    assert issubclass(PluginBroken, PluginMissing)
