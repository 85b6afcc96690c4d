"""SLURM through dask-jobqueue: checks before any job is submitted (the commands, the controller,
the partition, `sbatch --test-only` on the worker job), the jobs' states from squeue, and a keeper
that resubmits worker jobs that end while a build runs (dask-jobqueue never does)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from .cluster_settings import ClusterError, shown_path

KEEP_JOBS_EVERY_S = 5.0  # how often a SLURM build resubmits the worker jobs that ended
SLURM_QUERY_TIMEOUT_S = 30
ENDED_JOB_STATES = ("BOOT_FAIL", "CANCELLED", "COMPLETED", "DEADLINE", "FAILED", "NODE_FAIL", "OUT_OF_MEMORY",
                    "PREEMPTED", "TIMEOUT")


def slurm_cluster(settings: dict):
    try:
        from dask_jobqueue import SLURMCluster
    except ImportError:
        raise ClusterError("SLURM needs dask-jobqueue: pip install 'meflow[cluster]'") from None
    return SLURMCluster(**settings["cluster"])


def _slurm(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=SLURM_QUERY_TIMEOUT_S)


def first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else "no output"


def check_slurm_reachable(settings: dict, where: str) -> None:
    """Before any job is submitted: the SLURM commands exist, the controller answers, and the
    partitions of `queue` exist. One-line ClusterError otherwise."""
    if shutil.which("sbatch") is None or shutil.which("sinfo") is None:
        raise ClusterError(f"{where} needs SLURM, but this machine has no SLURM commands (sbatch, sinfo not found): "
                           "run the build on a SLURM login node (or start one here: cluster/slurm-local/start.sh)")
    try:
        result = _slurm("sinfo", "--noheader", "--format=%P")
    except subprocess.TimeoutExpired:
        result = None
    if result is None or result.returncode != 0:
        why = "no answer in 30 s" if result is None else first_line(result.stderr + result.stdout)
        raise ClusterError(f"cannot reach the SLURM controller (sinfo: {why}): start slurmctld or fix slurm.conf "
                           "(here: cluster/slurm-local/start.sh)")
    partitions = [p.strip().rstrip("*") for p in result.stdout.split()]
    queue = settings.get("cluster", {}).get("queue")
    for wanted in str(queue).split(",") if queue else []:
        if wanted.strip() not in partitions:
            raise ClusterError(f"SLURM partition {wanted.strip()!r} does not exist (partitions here: "
                               f"{', '.join(partitions) or 'none'}): set queue: under cluster: in {where}")


def check_slurm_job(cluster, where: str) -> None:
    """Let the scheduler judge the worker job script without running it (`sbatch --test-only`):
    memory, cores, walltime, account, gres that no node can satisfy are refused here."""
    with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as script:
        script.write(cluster.job_script())
    try:
        result = _slurm("sbatch", "--test-only", script.name)
    except subprocess.TimeoutExpired:
        raise ClusterError("cannot reach the SLURM controller (sbatch --test-only: no answer in 30 s): "
                           "check slurmctld") from None
    finally:
        os.unlink(script.name)
    if result.returncode != 0:
        lines = [line for line in (result.stderr + result.stdout).splitlines() if line.strip()]
        why = lines[-1].strip() if lines else f"exit {result.returncode}"
        raise ClusterError(f"SLURM refuses the worker job of {where} ({why}): fix cluster: "
                           "(queue, cores, memory, walltime, job_extra_directives)")


def slurm_jobs(cluster) -> dict[str, str]:
    """{worker-spec name: SLURM job id} of the jobs the cluster has submitted."""
    return {name: str(job.job_id) for name, job in list(cluster.workers.items()) if getattr(job, "job_id", None)}


def slurm_job_states(cluster) -> dict[str, str] | None:
    """{job id: 'STATE (reason)'} of the cluster's worker jobs as squeue reports them (a job that
    squeue no longer lists is missing), or None when squeue does not answer."""
    ids = sorted(set(slurm_jobs(cluster).values()))
    if not ids:
        return {}
    try:
        result = _slurm("squeue", "--noheader", "--states=all", f"--jobs={','.join(ids)}", "--format=%i %T %r")
    except subprocess.TimeoutExpired:
        return None
    if result.returncode != 0 and "Invalid job id" not in result.stderr:
        return None
    states = {}
    for line in result.stdout.splitlines():
        job, state, *reason = line.split()
        states[job] = f"{state} ({' '.join(reason)})" if reason and reason != ["None"] else state
    return states


def slurm_job_log(cluster, job_id: str) -> str:
    """'; LOG: its last line' for a worker job's error log, or ''."""
    folder = getattr(getattr(cluster, "_dummy_job", None), "log_directory", None)
    if not folder:
        return ""
    for log in Path(folder).glob(f"*-{job_id}.err"):
        lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
        if lines:
            return f"; {shown_path(log)}: {lines[-1]}"
    return ""


def submit_error(err: BaseException) -> str:
    """The telling line of a failed submission (dask-jobqueue puts sbatch's stderr in its message)."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    told = [line for line in lines if "error" in line.lower() and not line.startswith("Command exited")]
    return (told or lines or [type(err).__name__])[-1]


class JobKeeper(threading.Thread):
    """Keeps `jobs` SLURM worker jobs submitted while a build runs. A job that ends (scancel, a
    node failure, its walltime, its workers' --lifetime) is forgotten and a new one submitted under
    a new name; the scheduler meanwhile re-runs the lost worker's shard on the others. SLURM's view
    (squeue) decides, so jobs of several worker processes are replaced too."""

    def __init__(self, cluster, jobs: int) -> None:
        super().__init__(name="meflow-slurm-jobs", daemon=True)
        self.cluster, self.jobs = cluster, jobs
        self.halt = threading.Event()
        self.warned: set[str] = set()
        self.replaced: list[str] = []  # job ids that ended and were replaced

    def ended(self) -> dict[str, str]:
        states = slurm_job_states(self.cluster)
        if states is None:  # squeue did not answer: keep what runs
            return {}
        return {name: job for name, job in slurm_jobs(self.cluster).items()
                if job not in states or states[job].split()[0] in ENDED_JOB_STATES}

    async def _replace(self, ended: dict[str, str]) -> None:
        for name in ended:
            self.cluster.workers.pop(name, None)
            self.cluster.worker_spec.pop(name, None)
        self.cluster.scale(jobs=self.jobs)  # new names for the missing jobs
        await self.cluster._correct_state()  # submits them

    def run(self) -> None:
        while not self.halt.wait(KEEP_JOBS_EVERY_S):
            try:
                ended = self.ended()
                if self.halt.is_set():
                    return
                self.cluster.sync(self._replace, ended)
                self.replaced += list(ended.values())
            except Exception as err:  # noqa: BLE001 - the build goes on with the workers it has
                text = submit_error(err)
                if text not in self.warned and not self.halt.is_set():
                    self.warned.add(text)
                    sys.stderr.write(f"\nwarning: could not resubmit a SLURM worker job ({text}); "
                                     "the build goes on with the workers it has\n")

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=2 * SLURM_QUERY_TIMEOUT_S)
