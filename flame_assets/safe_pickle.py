"""Load FLAME's pickles without letting them run code.

FLAME files are pickles written by Python 2 with chumpy and scipy installed. A pickle names the
callables that rebuild it; `find_class` below is the only door through which a name can enter, so
anything not on the allow-list is refused before a single byte of the payload executes. Chumpy and
scipy sparse matrices are never imported: their recorded state is captured in plain stand-ins and
converted to numpy arrays.
"""
from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse


class UnsafePickleError(ValueError):
    """The pickle references something a FLAME file never needs."""


class _RecordedState:
    """Captures the attribute state of a class we refuse to import (chumpy, scipy sparse)."""

    kind = "object"

    def __init__(self, *args: Any) -> None:
        self.args = args
        self.state: dict = {}

    def __setstate__(self, state: Any) -> None:
        self.state = state if isinstance(state, dict) else {"state": state}


class _ChumpyArray(_RecordedState):
    kind = "chumpy"


class _SparseMatrix(_RecordedState):
    kind = "sparse"


def _new_object(cls: type, *args: Any) -> Any:
    if not (isinstance(cls, type) and issubclass(cls, _RecordedState)):
        raise UnsafePickleError(f"refusing to construct {cls!r}")
    return cls(*args)


def _reconstructor(cls: type, base: type, state: Any) -> Any:
    """Safe replacement for copyreg._reconstructor (protocol 0/1 objects)."""
    if base is not object:
        raise UnsafePickleError(f"refusing to reconstruct {cls!r} on base {base!r}")
    return _new_object(cls)


def _frombuffer(buf: Any, dtype: Any, shape: Any, order: str) -> np.ndarray:
    return np.frombuffer(bytes(buf), dtype=dtype).reshape(shape, order=order).copy()


def _numpy_reconstruct() -> Any:
    from numpy.core import multiarray

    return multiarray._reconstruct


def _numpy_scalar() -> Any:
    from numpy.core import multiarray

    return multiarray.scalar


def _codecs_encode(text: str, encoding: str = "utf-8") -> bytes:
    if encoding not in ("latin1", "latin-1", "utf-8", "utf8"):
        raise UnsafePickleError(f"refusing codec {encoding!r}")
    return text.encode(encoding)


# (module, name) -> factory of the object handed to the unpickler. Modules appear under their
# Python 2 and 3, numpy 1 and 2, and old and new scipy names.
_ALLOWED: dict[tuple[str, str], Any] = {}
for _module in ("numpy.core.multiarray", "numpy._core.multiarray"):
    _ALLOWED[(_module, "_reconstruct")] = _numpy_reconstruct
    _ALLOWED[(_module, "scalar")] = _numpy_scalar
for _module in ("numpy.core.numeric", "numpy._core.numeric"):
    _ALLOWED[(_module, "_frombuffer")] = lambda: _frombuffer
_ALLOWED[("numpy", "ndarray")] = lambda: np.ndarray
_ALLOWED[("numpy", "dtype")] = lambda: np.dtype
_ALLOWED[("_codecs", "encode")] = lambda: _codecs_encode
_ALLOWED[("copyreg", "_reconstructor")] = lambda: _reconstructor
_ALLOWED[("copy_reg", "_reconstructor")] = lambda: _reconstructor
_ALLOWED[("copyreg", "__newobj__")] = lambda: _new_object
_ALLOWED[("builtins", "object")] = lambda: object
_ALLOWED[("__builtin__", "object")] = lambda: object
for _builtins in ("builtins", "__builtin__"):
    _ALLOWED[(_builtins, "set")] = lambda: set
    _ALLOWED[(_builtins, "frozenset")] = lambda: frozenset
for _name in ("Ch", "Select", "Concatenate", "Reshape", "MatVecMult"):
    _ALLOWED[("chumpy.ch", _name)] = lambda: _ChumpyArray
    _ALLOWED[("chumpy.reordering", _name)] = lambda: _ChumpyArray
for _module in ("scipy.sparse.csc", "scipy.sparse._csc", "scipy.sparse.csr", "scipy.sparse._csr"):
    for _name in ("csc_matrix", "csr_matrix", "csc_array", "csr_array"):
        _ALLOWED[(_module, _name)] = lambda: _SparseMatrix


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the handful of names FLAME files use."""

    def find_class(self, module: str, name: str) -> Any:
        factory = _ALLOWED.get((module, name))
        if factory is None:
            raise UnsafePickleError(
                f"it references {module}.{name}, which FLAME files never contain "
                "(the file may be malicious or not a FLAME file); nothing from it was run"
            )
        return factory()


def to_numpy(value: Any) -> Any:
    """Turn recorded chumpy / sparse stand-ins (also inside dicts and lists) into numpy arrays."""
    if isinstance(value, _ChumpyArray):
        if "x" not in value.state:
            raise UnsafePickleError("a chumpy object without an 'x' array: not a plain FLAME array")
        return np.asarray(to_numpy(value.state["x"]))
    if isinstance(value, _SparseMatrix):
        s = value.state
        shape = tuple(s.get("_shape") or s.get("shape"))
        fmt = s.get("format", "csc")
        cls = scipy.sparse.csr_matrix if fmt == "csr" else scipy.sparse.csc_matrix
        return np.asarray(cls((s["data"], s["indices"], s["indptr"]), shape=shape).toarray())
    if isinstance(value, _RecordedState):
        raise UnsafePickleError(f"unexpected object of kind {value.kind}")
    if isinstance(value, dict):
        return {k: to_numpy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_numpy(v) for v in value)
    return value


def loads(data: bytes) -> Any:
    """Unpickle bytes with the allow-list, then convert chumpy / sparse state to numpy."""
    return to_numpy(RestrictedUnpickler(io.BytesIO(data), encoding="latin1").load())


def load_pickle(path: Path) -> Any:
    """Safely load a FLAME pickle. Raises UnsafePickleError or ValueError with a one-line reason."""
    data = Path(path).read_bytes()
    try:
        return loads(data)
    except UnsafePickleError:
        raise
    except (pickle.UnpicklingError, EOFError, TypeError, AttributeError, IndexError, KeyError) as err:
        raise ValueError(f"not a readable pickle (truncated or corrupt?): {err}") from None


def load_npy(path: Path) -> Any:
    """Load an .npy file; object arrays (dicts saved with np.save) go through the safe unpickler."""
    with open(path, "rb") as fh:
        try:
            version = np.lib.format.read_magic(fh)
            shape, fortran, dtype = np.lib.format._read_array_header(fh, version)
        except ValueError as err:
            raise ValueError(f"not a .npy file: {err}") from None
        if dtype.hasobject:
            obj = loads(fh.read())
            return obj[()] if isinstance(obj, np.ndarray) and obj.shape == () else obj
    return np.load(path, allow_pickle=False)
