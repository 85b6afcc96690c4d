"""Dask clusters for dataset builds and fits: a LocalCluster by default, SLURM or Kubernetes from
the settings files in cluster/ (checked when read: cluster_settings), or an existing scheduler
(tcp://host:port). A farm whose workers never arrive ends after `start_timeout` with one line
instead of waiting forever; a SLURM job that ends is resubmitted while the build runs (slurm)."""
from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from . import slurm
from .cluster_settings import ClusterError, load_settings, parse_timeout, settings_path, shown_path
from .slurm import JobKeeper, check_slurm_job, check_slurm_reachable, first_line, slurm_cluster, submit_error

__all__ = ["ClusterError", "ClusterHandle", "connect", "kubernetes_spec", "load_settings", "slurm_cluster"]

WORKER_DEATH_TIMEOUT_S = 60  # orphaned workers of a killed build exit on their own
# Local workers log only what is fatal: a task's error reaches the driver, which says it in one line
# (its "Compute Failed" tracebacks, one per retry, buried that line: six for a full disk).
WORKER_LOG_LEVEL = logging.CRITICAL
START_TIMEOUT = "10m"  # default wait for the first worker of a farm (settings: start_timeout)
PROBE_TIMEOUT_S = 5.0


@dataclass
class ClusterHandle:
    client: object
    cluster: object | None
    render_device: str | None  # a farm's device override, or None to keep the recipe's
    threads_per_worker: int
    keeper: JobKeeper | None = field(default=None)

    def close(self) -> None:
        if self.keeper is not None:
            self.keeper.stop()
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


# --- Kubernetes -----------------------------------------------------------------------------------

def kubernetes_spec(settings: dict) -> dict:
    try:
        from dask_kubernetes.operator import make_cluster_spec
    except ImportError:
        raise ClusterError("Kubernetes needs dask-kubernetes: pip install 'meflow[cluster]'") from None
    spec = make_cluster_spec(**settings["cluster"])
    worker = spec["spec"]["worker"]["spec"]["containers"][0]
    worker["args"] = list(worker.get("args", [])) + list(settings.get("worker_extra_args", []))
    return spec


# --- connecting -----------------------------------------------------------------------------------

def probe_scheduler(address: str) -> None:
    """Fail fast (one line) when nothing listens at a tcp:// address."""
    try:
        parts = urlsplit(address)
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
    if not host or not port:
        raise ClusterError(f"{address} is not a scheduler address: use tcp://HOST:PORT")
    try:
        socket.create_connection((host, port), timeout=PROBE_TIMEOUT_S).close()
    except socket.gaierror:
        raise ClusterError(f"cannot reach the scheduler at {address} (unknown host {host}): fix the address") from None
    except OSError as err:
        why = err.strerror or type(err).__name__
        raise ClusterError(f"cannot reach the scheduler at {address} ({why}): start it or fix the address") from None


def wait_for_first_worker(client, timeout_s: float, where: str, cluster=None) -> None:
    """Return when a worker has joined; ClusterError after `timeout_s`, or as soon as every SLURM
    worker job has ended without one joining."""
    deadline = time.monotonic() + timeout_s
    next_look = time.monotonic() + slurm.KEEP_JOBS_EVERY_S
    while not client.scheduler_info()["workers"]:
        now = time.monotonic()
        if cluster is not None and now >= next_look:
            next_look = now + slurm.KEEP_JOBS_EVERY_S
            states = slurm.slurm_job_states(cluster)
            everything_ended = bool(states) and len(states) == len(set(slurm.slurm_jobs(cluster).values())) and all(
                s.split()[0] in slurm.ENDED_JOB_STATES for s in states.values())
            if everything_ended:
                job, state = next(iter(states.items()))
                raise ClusterError(f"the SLURM worker jobs of {where} ended before a worker joined (job {job}: "
                                   f"{state}{slurm.slurm_job_log(cluster, job)}): check the job logs")
        if now >= deadline:
            states = (slurm.slurm_job_states(cluster) or {}) if cluster is not None else {}
            jobs = f" (SLURM jobs: {', '.join(f'{j} {s}' for j, s in states.items())})" if states else ""
            raise ClusterError(f"no worker of {where} arrived within {timeout_s:.0f} s{jobs}: check the queue and "
                               "the job logs, or raise start_timeout in the settings")
        time.sleep(0.5)


def connect(kind: str, workers: int) -> ClusterHandle:
    """Start or reach the cluster. Local: `workers` processes, one thread each (Cycles gets the
    cores: each worker renders with cores // workers threads). A farm returns once its first
    worker has joined."""
    from distributed import Client, LocalCluster

    if kind.startswith("tcp://"):
        probe_scheduler(kind)
        try:
            client = Client(kind, timeout="15s")
        except OSError as err:
            raise ClusterError(f"cannot reach the scheduler at {kind} ({err}): start it or fix the address") from None
        except Exception as err:  # noqa: BLE001 - something answers there, but not a Dask scheduler
            raise ClusterError(f"{kind} answers but is not a Dask scheduler ({type(err).__name__}): "
                               "fix the address or the port") from None
        try:
            wait_for_first_worker(client, parse_timeout(START_TIMEOUT, kind), f"the scheduler at {kind}")
        except ClusterError:
            client.close()
            raise
        return ClusterHandle(client, None, None, 0)
    if kind == "local":
        cores = os.cpu_count() or 1
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                               death_timeout=WORKER_DEATH_TIMEOUT_S, silence_logs=WORKER_LOG_LEVEL)
        return ClusterHandle(Client(cluster), cluster, None, max(1, cores // workers))
    settings = load_settings(kind)
    where = shown_path(settings_path(kind))
    device = settings.get("render", {}).get("device")
    timeout_s = parse_timeout(settings.get("start_timeout", START_TIMEOUT), where)
    if settings["kind"] == "slurm":
        check_slurm_reachable(settings, where)
        try:
            cluster = slurm_cluster(settings)
        except (TypeError, ValueError) as err:
            raise ClusterError(f"{where}: cannot build the SLURM cluster ({' '.join(str(err).split())}): "
                               "fix cluster:") from None
        handle = ClusterHandle(None, cluster, device, 0)
        try:
            check_slurm_job(cluster, where)
            jobs = settings.get("jobs", 1)
            cluster.scale(jobs=jobs)
            try:
                cluster.sync(cluster._correct_state)  # submit now: an sbatch error surfaces here
            except RuntimeError as err:  # dask-jobqueue's failed submission
                raise ClusterError(f"SLURM refuses the worker job of {where} ({submit_error(err)})") from None
            handle.client = Client(cluster)
            wait_for_first_worker(handle.client, timeout_s, where, cluster)
            handle.keeper = JobKeeper(cluster, jobs)  # from now on, a job that ends is replaced
            handle.keeper.start()
        except BaseException:
            _close_quietly(handle)
            raise
        return handle
    try:
        from dask_kubernetes.operator import KubeCluster
    except ImportError:
        raise ClusterError("Kubernetes needs dask-kubernetes: pip install 'meflow[cluster]'") from None
    try:
        cluster = KubeCluster(custom_cluster_spec=kubernetes_spec(settings))
    except ClusterError:
        raise
    except Exception as err:  # noqa: BLE001 - no cluster access, no operator, refused spec
        from distributed.core import Status

        instances = getattr(KubeCluster, "_instances", set())  # dask-kubernetes would close it again at exit
        for failed in [c for c in list(instances) if getattr(c, "status", None) != Status.running]:
            instances.discard(failed)
        raise ClusterError(f"cannot start the Kubernetes cluster of {where} ({type(err).__name__}: "
                           f"{first_line(str(err))}): check kubectl access and the dask operator") from None
    handle = ClusterHandle(None, cluster, device, 0)
    try:
        handle.client = Client(cluster)
        wait_for_first_worker(handle.client, timeout_s, where)
    except BaseException:
        _close_quietly(handle)
        raise
    return handle


def _close_quietly(handle: ClusterHandle) -> None:
    if handle.keeper is not None:
        handle.keeper.stop()
    for thing in (handle.client, handle.cluster):
        if thing is not None:
            with contextlib.suppress(Exception):  # already failing: the first error is the one to tell
                thing.close()
