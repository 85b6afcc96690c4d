"""Cluster settings files (cluster/*.yaml): found by name or path, read, and checked when read:
top-level keys, the keyword arguments of the cluster class, jobs, start_timeout. A typo is one line
naming the key, the nearest allowed one and the allowed ones."""
from __future__ import annotations

import difflib
import inspect
from pathlib import Path

import yaml

from ..resources import cluster_dir

SETTINGS_KEYS = {
    "slurm": ("kind", "jobs", "cluster", "render", "start_timeout"),
    "kubernetes": ("kind", "cluster", "worker_extra_args", "render", "start_timeout"),
}
RENDER_KEYS = ("device",)


class ClusterError(ValueError):
    """The cluster cannot be built or reached; the message says what to do."""


def shown_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _unknown(key: str, allowed, where: str, what: str) -> ClusterError:
    """'FILE: unknown key 'jbos' WHAT (did you mean 'jobs'?); allowed: ...'."""
    near = difflib.get_close_matches(key, list(allowed), n=1)
    hint = f" (did you mean {near[0]!r}?)" if near else ""
    return ClusterError(f"{where}: unknown key {key!r} {what}{hint}; allowed: {', '.join(sorted(allowed))}")


def slurm_keywords() -> set[str] | None:
    """The keyword arguments dask_jobqueue.SLURMCluster accepts (the cluster's and its job's), or
    None when dask-jobqueue is not installed."""
    try:
        from dask_jobqueue import SLURMCluster
        from dask_jobqueue.core import Job
        from dask_jobqueue.slurm import SLURMJob
    except ImportError:
        return None
    names = set()
    for function in (SLURMCluster.__init__, SLURMJob.__init__, Job.__init__):
        names |= {p.name for p in inspect.signature(function).parameters.values() if p.kind != p.VAR_KEYWORD}
    return names - {"self", "scheduler", "loop", "job_cls", "asynchronous"}


def kubernetes_keywords() -> set[str] | None:
    """The keyword arguments of dask_kubernetes.operator.make_cluster_spec, or None when
    dask-kubernetes is not installed."""
    try:
        from dask_kubernetes.operator import make_cluster_spec
    except ImportError:
        return None
    return {p.name for p in inspect.signature(make_cluster_spec).parameters.values() if p.kind != p.VAR_KEYWORD}


def parse_timeout(value, where: str) -> float:
    from dask.utils import parse_timedelta

    try:
        seconds = parse_timedelta(value, default="seconds")
    except (TypeError, ValueError, KeyError):
        seconds = None
    if seconds is None or seconds <= 0:
        raise ClusterError(f"{where}: start_timeout must be a duration such as 600, '10m' or '2h', got {value!r}")
    return float(seconds)


def check_settings(settings, where: str) -> dict:
    """Raise ClusterError (one line naming `where` and the key) unless `settings` is a valid
    SLURM or Kubernetes settings mapping; return it."""
    if not isinstance(settings, dict):
        raise ClusterError(f"{where}: expected a mapping of settings (kind: slurm or kubernetes, cluster: ...), "
                           f"got {type(settings).__name__}")
    kind = settings.get("kind")
    if kind not in SETTINGS_KEYS:
        raise ClusterError(f"{where}: kind must be one of {', '.join(SETTINGS_KEYS)}, got {kind!r}")
    for key in settings:
        if key not in SETTINGS_KEYS[kind]:
            raise _unknown(str(key), SETTINGS_KEYS[kind], where, f"for kind {kind}")
    options = settings.get("cluster", {})
    if not isinstance(options, dict):
        raise ClusterError(f"{where}: cluster: must be a mapping of keyword arguments, got {type(options).__name__}")
    allowed, owner = ((slurm_keywords(), "dask_jobqueue.SLURMCluster") if kind == "slurm"
                      else (kubernetes_keywords(), "dask_kubernetes make_cluster_spec"))
    if allowed is not None:  # without the library, building the cluster says what to install
        for key in options:
            if key not in allowed:
                raise _unknown(str(key), allowed, where, f"under cluster: (keyword arguments of {owner})")
    jobs = settings.get("jobs", 1)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ClusterError(f"{where}: jobs must be a whole number of SLURM jobs, 1 or more, got {jobs!r}")
    render = settings.get("render", {})
    if not isinstance(render, dict):
        raise ClusterError(f"{where}: render: must be a mapping (device: ...), got {type(render).__name__}")
    for key in render:
        if key not in RENDER_KEYS:
            raise _unknown(str(key), RENDER_KEYS, where, "under render:")
    extra = settings.get("worker_extra_args", [])
    if not isinstance(extra, list) or not all(isinstance(a, str) for a in extra):
        raise ClusterError(f"{where}: worker_extra_args must be a list of strings, got {extra!r}")
    if "start_timeout" in settings:
        parse_timeout(settings["start_timeout"], where)
    return settings


def settings_path(kind: str) -> Path:
    return Path(kind) if kind.endswith((".yaml", ".yml")) else cluster_dir() / f"{kind}.yaml"


def load_settings(kind: str) -> dict:
    """Read and check the settings of `kind` (a name in cluster/ or a .yaml file)."""
    path = settings_path(kind)
    if not path.exists():
        raise ClusterError(f"no cluster settings {path}: use local, slurm, kubernetes, a .yaml file or tcp://HOST:PORT")
    where = shown_path(path)
    try:
        settings = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ClusterError(f"{where}: not valid YAML{at} ({problem}): fix the file") from None
    except OSError as err:
        raise ClusterError(f"cannot read {where} ({err.strerror})") from None
    return check_settings(settings, where)
