"""Dask clusters for dataset builds: a LocalCluster by default, SLURM or Kubernetes from the
settings files in cluster/, or an existing scheduler (tcp://host:port)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..resources import cluster_dir

WORKER_DEATH_TIMEOUT_S = 60  # orphaned workers of a killed build exit on their own


class ClusterError(ValueError):
    """The cluster cannot be built or reached; the message says what to do."""


@dataclass
class ClusterHandle:
    client: object
    cluster: object | None
    render_device: str | None  # a farm's device override, or None to keep the recipe's
    threads_per_worker: int

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def load_settings(kind: str) -> dict:
    path = Path(kind) if kind.endswith((".yaml", ".yml")) else cluster_dir() / f"{kind}.yaml"
    if not path.exists():
        raise ClusterError(f"no cluster settings {path}: use local, slurm, kubernetes, a .yaml file or tcp://HOST:PORT")
    return yaml.safe_load(path.read_text())


def slurm_cluster(settings: dict):
    try:
        from dask_jobqueue import SLURMCluster
    except ImportError:
        raise ClusterError("SLURM needs dask-jobqueue: pip install 'meflow[cluster]'") from None
    return SLURMCluster(**settings["cluster"])


def kubernetes_spec(settings: dict) -> dict:
    try:
        from dask_kubernetes.operator import make_cluster_spec
    except ImportError:
        raise ClusterError("Kubernetes needs dask-kubernetes: pip install 'meflow[cluster]'") from None
    spec = make_cluster_spec(**settings["cluster"])
    worker = spec["spec"]["worker"]["spec"]["containers"][0]
    worker["args"] = list(worker.get("args", [])) + list(settings.get("worker_extra_args", []))
    return spec


def connect(kind: str, workers: int) -> ClusterHandle:
    """Start or reach the cluster. Local: `workers` processes, one thread each (Cycles gets the
    cores: each worker renders with cores // workers threads)."""
    from distributed import Client, LocalCluster

    if kind.startswith("tcp://"):
        try:
            return ClusterHandle(Client(kind, timeout="15s"), None, None, 0)
        except OSError as err:
            raise ClusterError(f"cannot reach the scheduler at {kind} ({err}): start it or fix the address") from None
    if kind == "local":
        cores = os.cpu_count() or 1
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                               death_timeout=WORKER_DEATH_TIMEOUT_S, silence_logs=40)
        return ClusterHandle(Client(cluster), cluster, None, max(1, cores // workers))
    settings = load_settings(kind)
    device = settings.get("render", {}).get("device")
    if settings.get("kind") == "slurm":
        cluster = slurm_cluster(settings)
        cluster.scale(jobs=settings.get("jobs", 1))
        return ClusterHandle(Client(cluster), cluster, device, 0)
    if settings.get("kind") == "kubernetes":
        from dask_kubernetes.operator import KubeCluster

        cluster = KubeCluster(custom_cluster_spec=kubernetes_spec(settings))
        return ClusterHandle(Client(cluster), cluster, device, 0)
    raise ClusterError(f"cluster settings of unknown kind {settings.get('kind')!r}")
