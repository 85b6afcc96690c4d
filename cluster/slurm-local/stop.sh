#!/usr/bin/env bash
# Stop the one-node SLURM of cluster/slurm-local/start.sh: cancel its jobs, stop slurmctld and
# slurmd, then munged. Only the daemons named in their pid files are stopped. Idempotent.
set -uo pipefail

STATE="${MEFLOW_SLURM_STATE:-/var/lib/meflow-slurm}"
say() { echo "slurm-local: $*"; }

grep -q meflow-slurm-local /etc/slurm/slurm.conf 2>/dev/null || { say "no slurm-local configuration: nothing to stop"; exit 0; }

STOPPED=0
stop_pidfile() {  # name, pid file
    local pid
    [ -s "$2" ] || return 0
    pid="$(cat "$2")"
    kill -0 "$pid" 2>/dev/null || return 0
    say "stopping $1 (pid $pid)"
    STOPPED=1
    kill -TERM "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
}

if scontrol ping 2>/dev/null | grep -q UP; then
    scancel --quiet --state=PENDING,RUNNING --user="$(id -un)" 2>/dev/null || true
fi
stop_pidfile slurmd "$STATE/slurmd.pid"
stop_pidfile slurmctld "$STATE/slurmctld.pid"
stop_pidfile munged /run/munge/munged.pid
if [ "$STOPPED" = 1 ]; then say "stopped"; else say "not running"; fi
