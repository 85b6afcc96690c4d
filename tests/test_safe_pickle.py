"""Pickles are loaded through an allow-list: FLAME's own content loads, anything else is refused
before it runs."""
from __future__ import annotations

import os
import pickle
import subprocess

import numpy as np
import pytest

from flame_assets import safe_pickle


class _Payload:
    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _hostile_payloads(marker):
    return {
        "os.system": _Payload(os.system, (f"touch {marker}",)),
        "subprocess": _Payload(subprocess.call, (["touch", str(marker)],)),
        "eval": _Payload(eval, (f"open({str(marker)!r}, 'w').close()",)),
        "exec in a dict": {"v_template": np.zeros((3, 3)), "evil": _Payload(exec, (f"open({str(marker)!r}, 'w')",))},
    }


@pytest.mark.parametrize("name", ["os.system", "subprocess", "eval", "exec in a dict"])
@pytest.mark.parametrize("protocol", [2, 4])
def test_hostile_pickle_is_refused_and_runs_nothing(tmp_path, name, protocol):
    marker = tmp_path / "pwned"
    path = tmp_path / "generic_model.pkl"
    path.write_bytes(pickle.dumps(_hostile_payloads(marker)[name], protocol=protocol))
    with pytest.raises(safe_pickle.UnsafePickleError, match="never contain"):
        safe_pickle.load_pickle(path)
    assert not marker.exists()


def test_numpy_sets_and_sparse_load(tmp_path):
    import scipy.sparse

    data = {"a": np.arange(6.0).reshape(2, 3), "s": {1, 2}, "m": scipy.sparse.csc_matrix(np.eye(3)),
            "scalar": np.float64(2.5), "text": "lbs"}
    for protocol in (2, 4, 5):
        out = safe_pickle.loads(pickle.dumps(data, protocol=protocol))
        np.testing.assert_array_equal(out["a"], data["a"])
        np.testing.assert_array_equal(out["m"], np.eye(3))
        assert out["s"] == {1, 2} and out["scalar"] == 2.5 and out["text"] == "lbs"


def test_truncated_pickle_is_a_clear_error(tmp_path):
    path = tmp_path / "x.pkl"
    path.write_bytes(pickle.dumps({"a": np.zeros(100)}, protocol=2)[:-40])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        safe_pickle.load_pickle(path)


def test_object_npy_goes_through_the_allow_list(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "flame_dynamic_embedding.npy"
    np.save(path, np.array(_Payload(os.system, (f"touch {marker}",)), dtype=object), allow_pickle=True)
    with pytest.raises(safe_pickle.UnsafePickleError):
        safe_pickle.load_npy(path)
    assert not marker.exists()
