"""Cluster settings files and farm preflight checks fail in one line naming the problem and what
to do: a typo in a key (with the allowed keys), a bad value, broken YAML, no SLURM commands, an
unreachable controller, a partition that does not exist, a job the scheduler refuses, workers that
never arrive or whose jobs died, a scheduler address where nothing listens. No SLURM needed: the
SLURM commands are stood in for. `make farm-check` runs the real thing."""
from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest
from cli_helpers import assert_one_line_error, meflow

from pipeline.build import cluster as cl
from pipeline.build import slurm as sl
from pipeline.build.cluster_settings import ClusterError, check_settings, load_settings, parse_timeout

SLURM = {"kind": "slurm", "jobs": 2, "cluster": {"queue": "debug", "cores": 1, "memory": "1GB"}}


def one_line_error(call, *fragments: str) -> str:
    with pytest.raises(ClusterError) as caught:
        call()
    text = str(caught.value)
    assert "\n" not in text, text
    for fragment in fragments:
        assert fragment in text, (fragment, text)
    return text


def write(tmp_path: Path, text: str, name: str = "farm.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", ["slurm", "slurm-local", "kubernetes"])
def test_shipped_settings_are_valid(name):
    settings = load_settings(name)
    assert settings["kind"] in ("slurm", "kubernetes")


def test_slurm_local_runs_workers_as_small_jobs_of_the_debug_partition():
    settings = load_settings("slurm-local")
    assert settings["cluster"]["queue"] == "debug" and settings["jobs"] >= 2
    assert "python" not in settings["cluster"]  # dask-jobqueue's default: the Python running meflow
    assert settings["cluster"]["log_directory"].startswith("build/")


def test_slurm_local_builds_a_job_script_for_the_debug_partition_with_this_python():
    import sys

    farm = sl.slurm_cluster(load_settings("slurm-local"))
    try:
        script = farm.job_script()
    finally:
        farm.close()
    assert "#SBATCH -p debug" in script and "#SBATCH -J meflow-worker" in script and "build/slurm-local/logs" in script
    assert f"{sys.executable} -m distributed.cli.dask_worker" in script


def test_a_typo_in_a_top_level_key_names_it_and_the_allowed_ones(tmp_path):
    path = write(tmp_path, "kind: slurm\njbos: 4\ncluster: {cores: 1, memory: 1GB}\n")
    one_line_error(lambda: load_settings(str(path)), str(path.name), "unknown key 'jbos'", "did you mean 'jobs'?",
                   "allowed: cluster, jobs, kind, render, start_timeout")


def test_a_typo_in_a_slurm_cluster_argument_names_it_and_the_allowed_ones():
    settings = {**SLURM, "cluster": {"quue": "debug", "cores": 1, "memory": "1GB"}}
    text = one_line_error(lambda: check_settings(settings, "farm.yaml"), "farm.yaml: unknown key 'quue' under cluster:",
                          "dask_jobqueue.SLURMCluster", "did you mean 'queue'?")
    allowed = text.split("allowed: ", 1)[1].split(", ")
    assert {"queue", "cores", "memory", "walltime", "python", "job_extra_directives", "log_directory"} <= set(allowed)


def test_a_typo_in_a_kubernetes_argument_or_a_render_key_names_it():
    pytest.importorskip("dask_kubernetes")
    settings = {"kind": "kubernetes", "cluster": {"name": "x", "image": "y", "n_worker": 2}}
    one_line_error(lambda: check_settings(settings, "k.yaml"), "unknown key 'n_worker' under cluster:", "did you mean 'n_workers'?")
    settings = {**SLURM, "render": {"devise": "CUDA"}}
    one_line_error(lambda: check_settings(settings, "s.yaml"), "unknown key 'devise' under render:", "allowed: device")


@pytest.mark.parametrize("settings, fragments", [
    ({**SLURM, "kind": "slrum"}, ("kind must be one of slurm, kubernetes", "'slrum'")),
    ({"cluster": {}}, ("kind must be one of",)),
    ({**SLURM, "jobs": 0}, ("jobs must be a whole number", "0")),
    ({**SLURM, "jobs": "four"}, ("jobs must be a whole number", "'four'")),
    ({**SLURM, "jobs": True}, ("jobs must be a whole number",)),
    ({**SLURM, "cluster": ["cores", 1]}, ("cluster: must be a mapping",)),
    ({**SLURM, "start_timeout": "soon"}, ("start_timeout must be a duration", "'soon'")),
    ({**SLURM, "start_timeout": -5}, ("start_timeout must be a duration",)),
    ({"kind": "kubernetes", "cluster": {}, "worker_extra_args": "--lifetime 5m"}, ("worker_extra_args must be a list",)),
    (["kind", "slurm"], ("expected a mapping of settings", "list")),
])
def test_bad_values_are_one_line(settings, fragments):
    one_line_error(lambda: check_settings(settings, "farm.yaml"), "farm.yaml: ", *fragments)


def test_durations_are_read_as_dask_reads_them():
    assert check_settings({**SLURM, "start_timeout": "90s"}, "x")["start_timeout"] == "90s"
    assert parse_timeout("2m", "x") == 120 and parse_timeout(30, "x") == 30


def test_broken_yaml_names_the_line(tmp_path):
    path = write(tmp_path, "kind: slurm\ncluster:\n  cores: [1\n")
    one_line_error(lambda: load_settings(str(path)), "not valid YAML at line", "fix the file")


def test_an_empty_file_is_one_line(tmp_path):
    path = write(tmp_path, "")
    one_line_error(lambda: load_settings(str(path)), "expected a mapping of settings", "NoneType")


def fake_slurm(monkeypatch, answers: dict):
    """Stand in for the SLURM commands: answers[command] = (returncode, stdout, stderr)."""
    calls = []

    def run(*args):
        calls.append(args)
        code, out, err = answers[args[0]]
        return subprocess.CompletedProcess(list(args), code, out, err)

    monkeypatch.setattr(sl, "_slurm", run)
    monkeypatch.setattr(sl.shutil, "which", lambda name: f"/usr/bin/{name}")
    return calls


def test_no_slurm_commands_say_where_to_run(monkeypatch):
    monkeypatch.setattr(sl.shutil, "which", lambda name: None)
    one_line_error(lambda: sl.check_slurm_reachable(SLURM, "farm.yaml"), "farm.yaml needs SLURM",
                   "sbatch, sinfo not found", "run the build on a SLURM login node")


def test_an_unreachable_controller_is_one_line(monkeypatch):
    fake_slurm(monkeypatch, {"sinfo": (1, "", "slurm_load_partitions: Unable to contact slurm controller (connect failure)\n")})
    one_line_error(lambda: sl.check_slurm_reachable(SLURM, "farm.yaml"), "cannot reach the SLURM controller",
                   "Unable to contact slurm controller", "start slurmctld")


def test_a_partition_that_does_not_exist_is_named_with_those_that_do(monkeypatch):
    fake_slurm(monkeypatch, {"sinfo": (0, "debug*\nlong\n", "")})
    sl.check_slurm_reachable(SLURM, "farm.yaml")  # debug exists
    sl.check_slurm_reachable({**SLURM, "cluster": {"queue": "long,debug"}}, "farm.yaml")
    sl.check_slurm_reachable({**SLURM, "cluster": {}}, "farm.yaml")  # the default partition
    one_line_error(lambda: sl.check_slurm_reachable({**SLURM, "cluster": {"queue": "gpu"}}, "farm.yaml"),
                   "SLURM partition 'gpu' does not exist (partitions here: debug, long)", "set queue: under cluster: in farm.yaml")


class FakeJob:
    def __init__(self, job_id):
        self.job_id = job_id


class FakeCluster:
    def __init__(self, *job_ids):
        self.workers = {f"w{i}": FakeJob(j) for i, j in enumerate(job_ids)}

    def job_script(self):
        return "#!/bin/bash\n#SBATCH -p debug\necho worker\n"


def test_a_job_the_scheduler_refuses_is_one_line(monkeypatch):
    calls = fake_slurm(monkeypatch, {"sbatch": (1, "", "sbatch: error: Memory specification can not be satisfied\n"
                                                      "sbatch: error: Batch job submission failed: Requested node "
                                                      "configuration is not available\n")})
    one_line_error(lambda: sl.check_slurm_job(FakeCluster(), "farm.yaml"), "SLURM refuses the worker job of farm.yaml",
                   "Requested node configuration is not available", "fix cluster:")
    assert calls[0][:2] == ("sbatch", "--test-only")
    assert not Path(calls[0][2]).exists()  # the job script was a temporary file
    fake_slurm(monkeypatch, {"sbatch": (0, "", "sbatch: Job 3 to start at 2026-01-01T00:00:00\n")})
    sl.check_slurm_job(FakeCluster(), "farm.yaml")


def test_a_failed_submission_names_sbatchs_error():
    err = RuntimeError("Command exited with non-zero exit code.\nExit code: 1\nCommand:\nsbatch /tmp/x.sh\nstdout:\n\n"
                       "stderr:\nsbatch: error: invalid partition specified: gpu\n\n")
    assert sl.submit_error(err) == "sbatch: error: invalid partition specified: gpu"


class NoWorkers:
    def scheduler_info(self):
        return {"workers": {}}


def test_workers_that_never_arrive_end_in_one_line(monkeypatch):
    fake_slurm(monkeypatch, {"squeue": (0, "12 PENDING Resources\n13 PENDING Priority\n", "")})
    monkeypatch.setattr(sl, "KEEP_JOBS_EVERY_S", 0.1)
    t = time.monotonic()
    one_line_error(lambda: cl.wait_for_first_worker(NoWorkers(), 0.6, "farm.yaml", FakeCluster("12", "13")),
                   "no worker of farm.yaml arrived within 1 s", "12 PENDING (Resources)", "13 PENDING (Priority)",
                   "raise start_timeout")
    assert time.monotonic() - t < 5
    one_line_error(lambda: cl.wait_for_first_worker(NoWorkers(), 0.3, "the scheduler at tcp://h:1"),
                   "no worker of the scheduler at tcp://h:1 arrived")


def test_worker_jobs_that_all_died_end_the_wait_at_once_with_their_log(monkeypatch, tmp_path):
    fake_slurm(monkeypatch, {"squeue": (0, "12 FAILED NonZeroExitCode\n13 FAILED NonZeroExitCode\n", "")})
    monkeypatch.setattr(sl, "KEEP_JOBS_EVERY_S", 0.1)
    (tmp_path / "meflow-worker-12.err").write_text("line 11: /nonexistent/python: No such file or directory\n")
    farm = FakeCluster("12", "13")
    farm._dummy_job = type("Job", (), {"log_directory": str(tmp_path)})()
    t = time.monotonic()
    one_line_error(lambda: cl.wait_for_first_worker(NoWorkers(), 60, "farm.yaml", farm),
                   "the SLURM worker jobs of farm.yaml ended before a worker joined", "job 12: FAILED (NonZeroExitCode)",
                   "/nonexistent/python: No such file or directory", "check the job logs")
    assert time.monotonic() - t < 5


def test_the_keeper_replaces_jobs_that_ended_and_keeps_the_others(monkeypatch):
    fake_slurm(monkeypatch, {"squeue": (0, "12 RUNNING None\n13 CANCELLED None\n14 PENDING Resources\n", "")})
    keeper = sl.JobKeeper(FakeCluster("12", "13", "14", "15"), jobs=4)  # 15: no longer listed by squeue
    assert keeper.ended() == {"w1": "13", "w3": "15"}
    fake_slurm(monkeypatch, {"squeue": (1, "", "slurm_load_jobs error: Unable to contact slurm controller\n")})
    assert keeper.ended() == {}  # no answer: nothing is replaced


def test_a_scheduler_address_where_nothing_listens_fails_fast():
    with socket.socket() as s:  # a port that was free a moment ago
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t = time.monotonic()
    one_line_error(lambda: cl.probe_scheduler(f"tcp://127.0.0.1:{port}"), f"cannot reach the scheduler at tcp://127.0.0.1:{port}",
                   "start it or fix the address")
    assert time.monotonic() - t < 3
    one_line_error(lambda: cl.probe_scheduler("tcp://127.0.0.1"), "is not a scheduler address", "tcp://HOST:PORT")
    one_line_error(lambda: cl.probe_scheduler("tcp://no-such-host.invalid:8786"), "unknown host no-such-host.invalid")


def test_the_command_line_says_it_in_one_line(tmp_path):
    path = write(tmp_path, "kind: slurm\ncluster:\n  queue: debug\n  corse: 1\n")
    assert_one_line_error(meflow("dataset", "build", "--out", str(tmp_path / "out"), "--cluster", str(path)),
                          "unknown key 'corse' under cluster:", "did you mean 'cores'?")
    assert not any((tmp_path / "out").rglob("*.zarr"))
