"""`make farm-check`: a dataset build through a real SLURM, one worker job scancelled mid-shard,
and the same bytes as a LocalCluster build.

1. cluster/slurm-local/start.sh starts a one-node SLURM here (stopped again at the end if this
   check started it).
2. `meflow dataset build --cluster cluster/slurm-local.yaml` submits its Dask workers as SLURM
   jobs. When a shard is in progress (with SAMPLES > 16: once it has checkpointed 16 samples), the
   job whose worker process writes it is found (the partial folder names the process, `scontrol
   pidinfo` names its job) and scancelled. The build must finish, report the restarted shard,
   and SLURM must show the cancelled job and its replacement.
3. The same dataset is built on a LocalCluster; every file of both datasets (shards and
   dataset.json; not the writer's lock file) must be byte-identical, and both must verify.

Run as root from the repository root: .venv/bin/python cluster/slurm-local/farm_check.py
"""
from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MEFLOW = REPO / ".venv" / "bin" / "meflow"
SETTINGS = "cluster/slurm-local.yaml"
JOB_NAME = "meflow-worker"
CHECKPOINT_EVERY = 16  # shards.schema.BLOCK: a shard in progress records a checkpoint every 16 samples
T0 = time.perf_counter()


def say(text: str) -> None:
    print(f"[{time.perf_counter() - T0:7.1f} s] {text}", flush=True)


def run(*cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(list(cmd), capture_output=True, text=True, cwd=REPO)
    if check and result.returncode != 0:
        raise Failure(f"{' '.join(cmd)} exited {result.returncode}: {(result.stderr or result.stdout).strip()}")
    return result


class Failure(Exception):
    pass


def slurm_running() -> bool:
    return shutil.which("scontrol") is not None and "UP" in run("scontrol", "ping", check=False).stdout


def job_ids() -> set[int]:
    """Every job SLURM still knows (running, pending and recently ended)."""
    out = run("squeue", "--noheader", "--states=all", "--format=%i").stdout
    return {int(line) for line in out.split()}


def job_table(ids) -> dict[int, dict]:
    """{job id: {state, name, submit, start, end, node}} from `scontrol show job`."""
    table = {}
    for job in sorted(ids):
        text = run("scontrol", "show", "job", str(job), check=False).stdout
        fields = dict(re.findall(r"(\w+)=(\S*)", text))
        if fields:
            table[job] = {"state": fields.get("JobState"), "name": fields.get("JobName"), "node": fields.get("NodeList"),
                          "submit": fields.get("SubmitTime"), "start": fields.get("StartTime"), "end": fields.get("EndTime"),
                          "workdir": fields.get("WorkDir")}
    return table


def job_of_pid(pid: int) -> int | None:
    match = re.search(r"JobId=(\d+)", run("scontrol", "pidinfo", str(pid), check=False).stdout)
    return int(match.group(1)) if match else None


def digest(root: Path) -> tuple[str, int]:
    """sha256 over (relative path, content) of every file of a dataset, except hidden files at its
    top (the writer's lock): the dataset's bytes, whatever wrote them."""
    total, count = hashlib.sha256(), 0
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file() or (len(rel.parts) == 1 and rel.name.startswith(".")):
            continue
        total.update(str(rel).encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
        count += 1
    return total.hexdigest(), count


def differing(a: Path, b: Path) -> list[str]:
    def files(root):
        return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in root.rglob("*") if p.is_file() and not (p.parent == root and p.name.startswith("."))}
    fa, fb = files(a), files(b)
    return sorted(k for k in set(fa) | set(fb) if fa.get(k) != fb.get(k))


def build_command(out: Path, shards: int, samples: int, *cluster: str) -> list[str]:
    return [str(MEFLOW), "dataset", "build", "--out", str(out), "--shards", str(shards), "--samples", str(samples), *cluster]


def catch_and_cancel(proc: subprocess.Popen, out: Path, log: Path, samples: int, deadline: float) -> dict:
    """Wait for a shard in progress on a SLURM worker (checkpointed, when shards are big enough to
    checkpoint), scancel that worker's job; return what was cancelled."""
    from shards.writer import partial_owner, read_checkpoint

    want_checkpoint = samples > CHECKPOINT_EVERY
    first_seen: dict[Path, float] = {}
    seen_jobs: set[int] = set()
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            said = [line for line in log.read_text().replace("\r", "\n").splitlines() if line.strip()]
            raise Failure(f"the SLURM build ended (exit {proc.returncode}: {said[-1] if said else 'no output'}) "
                          "before a shard was caught in progress")
        squeue = run("squeue", "--noheader", f"--name={JOB_NAME}", "--format=%i %T", check=False).stdout.split("\n")
        running = {int(line.split()[0]) for line in squeue if line.strip().endswith("RUNNING")}
        if running - seen_jobs:
            seen_jobs |= running
            say(f"worker jobs running in SLURM: {sorted(running)} "
                f"(squeue: {'; '.join(line.strip() for line in squeue if line.strip())})")
        for partial in sorted((out / "shards").glob("shard-*.zarr.partial-*")) if (out / "shards").exists() else []:
            first_seen.setdefault(partial, time.monotonic())
            checkpoint = read_checkpoint(partial)
            ready = (checkpoint is not None and checkpoint["count"] >= CHECKPOINT_EVERY) if want_checkpoint \
                else time.monotonic() - first_seen[partial] > 2.0
            owner = partial_owner(partial)
            if not ready or owner is None:
                continue
            pid = owner[1]
            job = job_of_pid(pid)
            if job is None or job not in running:
                continue
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue  # the shard finished and its process moved on
            python = argv[0].decode()
            if not partial.exists():
                continue
            run("scancel", str(job))
            cancelled_at = time.monotonic()
            done = checkpoint["count"] if checkpoint else 0
            say(f"scancel {job}: its worker (pid {pid}, {python}) was writing {partial.name} "
                f"({done} samples checkpointed)")
            while job_table([job]).get(job, {}).get("state") != "CANCELLED" or Path(f"/proc/{pid}").exists():
                if time.monotonic() - cancelled_at > 60:
                    raise Failure(f"job {job} is not CANCELLED, or its worker pid {pid} still runs, 60 s after scancel")
                time.sleep(0.2)
            if proc.poll() is not None:
                raise Failure("the build ended together with the cancelled job")
            say(f"SLURM: job {job} CANCELLED, worker pid {pid} gone after {time.monotonic() - cancelled_at:.1f} s; "
                "the build goes on")
            return {"job": job, "pid": pid, "python": python, "partial": partial.name, "checkpointed": done,
                    "wall": time.time()}
        time.sleep(0.1)
    raise Failure("no shard in progress on a SLURM worker within the time limit")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--samples", type=int, default=20, help="per shard; above 16 the killed shard has a checkpoint")
    parser.add_argument("--out", type=Path, default=Path("build/farm-check"))
    parser.add_argument("--keep-slurm", action="store_true", help="leave SLURM running even if this check started it")
    args = parser.parse_args()
    os.chdir(REPO)
    sys.path.insert(0, str(REPO))
    timings: dict[str, float] = {}
    started_slurm = False
    try:
        if not MEFLOW.exists():
            raise Failure(f"{MEFLOW} is missing: run make setup")
        t = time.perf_counter()
        started_slurm = not slurm_running()
        start = run("bash", str(REPO / "cluster/slurm-local/start.sh"), check=False)
        if start.returncode != 0:
            raise Failure(f"cannot start SLURM here: {(start.stderr or start.stdout).strip()}")
        timings["start SLURM"] = time.perf_counter() - t
        say((start.stdout.strip().splitlines() or ["SLURM is up"])[-1])

        slurm_out, local_out = args.out / "slurm", args.out / "local"
        for folder in (slurm_out, local_out):
            shutil.rmtree(folder, ignore_errors=True)
        args.out.mkdir(parents=True, exist_ok=True)
        before = job_ids()
        log = args.out / "slurm-build.log"
        say(f"SLURM build: {' '.join(build_command(slurm_out, args.shards, args.samples, '--cluster', SETTINGS)[1:])}")
        t = time.perf_counter()
        with log.open("w") as sink:
            proc = subprocess.Popen(build_command(slurm_out, args.shards, args.samples, "--cluster", SETTINGS),
                                    stdout=sink, stderr=subprocess.STDOUT, cwd=REPO)
            try:
                cancelled = catch_and_cancel(proc, slurm_out, log, args.samples, time.monotonic() + 900)
                rc = proc.wait(timeout=1200)
            finally:
                if proc.poll() is None:
                    proc.kill()
        timings["SLURM build (with the scancel)"] = time.perf_counter() - t
        text = log.read_text()
        last = [line for line in text.replace("\r", "\n").splitlines() if line.strip()]
        say(f"SLURM build exited {rc}: {last[-1] if last else ''}")
        if rc != 0:
            raise Failure(f"the SLURM build failed (exit {rc}); see {log}")
        if "restarted after an interrupted attempt" not in text:
            raise Failure(f"the build does not report the shard restarted after the scancel; see {log}")
        if args.samples > CHECKPOINT_EVERY and f"{cancelled['checkpointed']} resumed from checkpoints" not in text:
            raise Failure(f"the restarted shard did not resume its {cancelled['checkpointed']} checkpointed samples; see {log}")
        if ".venv/bin/python" not in cancelled["python"]:
            raise Failure(f"the SLURM worker ran {cancelled['python']}, not the repository's .venv python")

        jobs = job_table(job_ids() - before)
        ours = {j: info for j, info in jobs.items() if info["name"] == JOB_NAME}
        for job, info in ours.items():
            say(f"  SLURM job {job}: {info['state']:<10} node {info['node']}, submitted {info['submit']}, "
                f"ran {info['start']} .. {info['end']}, workdir {info['workdir']}")
        killed_at = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(cancelled["wall"] - 5))
        submitted_after = [j for j, info in ours.items() if (info["submit"] or "") >= killed_at and j > cancelled["job"]]
        started_after = [j for j, info in ours.items() if j != cancelled["job"] and (info["start"] or "") >= killed_at
                         and info["start"] != info["end"]]
        if not submitted_after:
            raise Failure("no worker job was submitted after the scancel (the lost job was not replaced)")
        logs = sorted(p.name for p in Path("build/slurm-local/logs").glob(f"{JOB_NAME}-*.err")
                      if int(p.stem.rsplit("-", 1)[1]) in ours)
        say(f"{len(ours)} worker jobs under SLURM: job {cancelled['job']} scancelled; started after it: {started_after}; "
            f"submitted after it to keep the count: {submitted_after} (the rest were cancelled by the build's end); "
            f"job logs: build/slurm-local/logs/{{{','.join(logs)}}}")

        say(f"LocalCluster build: {' '.join(build_command(local_out, args.shards, args.samples, '--workers', '2')[1:])}")
        t = time.perf_counter()
        local = run(*build_command(local_out, args.shards, args.samples, "--workers", "2"), check=False)
        timings["LocalCluster build (2 workers)"] = time.perf_counter() - t
        if local.returncode != 0:
            raise Failure(f"the LocalCluster build failed: {local.stderr.strip().splitlines()[-1:]}")
        say(f"LocalCluster build: {local.stdout.strip().splitlines()[-1]}")

        for folder in (slurm_out, local_out):
            verify = run(str(MEFLOW), "dataset", "verify", str(folder), check=False)
            if verify.returncode != 0:
                raise Failure(f"meflow dataset verify {folder}: {verify.stderr.strip()}")
        (a, n), (b, m) = digest(slurm_out), digest(local_out)
        say(f"verify: both datasets verified; sha256 over every file: SLURM {a[:16]}… ({n} files), "
            f"local {b[:16]}… ({m} files)")
        if (a, n) != (b, m):
            raise Failure(f"the datasets differ: {differing(slurm_out, local_out)[:5]}")
    except Failure as err:
        say(f"FAIL: {err}")
        return 1
    finally:
        if started_slurm and not args.keep_slurm:
            stop = run("bash", str(REPO / "cluster/slurm-local/stop.sh"), check=False)
            say(f"SLURM stopped again ({stop.stdout.strip().splitlines()[-1] if stop.stdout.strip() else stop.returncode})")
    print("timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    print(f"PASS: SLURM build with a worker job scancelled mid-shard == LocalCluster build, byte for byte "
          f"({args.shards} shards x {args.samples} samples)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
