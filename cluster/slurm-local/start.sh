#!/usr/bin/env bash
# Start a one-node SLURM on this machine (munged, slurmctld, slurmd from the distribution's
# packages) for `make farm-check`: one partition (`debug`, the default) holding this host with its
# real CPU count and memory. Idempotent: what already runs is kept; rerun at will.
# Needs root (apt-get, /etc/slurm, the daemons). Stop it with cluster/slurm-local/stop.sh.
#   MEFLOW_SLURM_STATE      state, spool and logs (default /var/lib/meflow-slurm)
#   MEFLOW_SLURM_PARTITION  partition name (default debug; cluster/slurm-local.yaml asks for it)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE="${MEFLOW_SLURM_STATE:-/var/lib/meflow-slurm}"
PARTITION="${MEFLOW_SLURM_PARTITION:-debug}"
CONF=/etc/slurm/slurm.conf
MARKER=meflow-slurm-local

say() { echo "slurm-local: $*"; }
die() { echo "slurm-local: error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (apt-get, /etc/slurm, the daemons): run it as root or with sudo"

# 1. Packages (Debian / Ubuntu): slurm-wlm (slurmctld, slurmd, client commands) and munge.
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null \
   || ! command -v sbatch >/dev/null; then
    command -v apt-get >/dev/null || die "slurm-wlm and munge are missing and there is no apt-get: install them"
    say "installing slurm-wlm and munge (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    # policy-rc.d keeps the packages' services from starting: this script starts them itself.
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi

# 2. munge: a key, then munged (as the munge user, as its service would).
if [ ! -s /etc/munge/munge.key ]; then
    say "creating /etc/munge/munge.key"
    if command -v mungekey >/dev/null; then mungekey --create --force >/dev/null; else
        dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none; fi
    chown munge:munge /etc/munge/munge.key
    chmod 400 /etc/munge/munge.key
fi
install -d -o munge -g munge -m 0755 /run/munge
install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    say "starting munged"
    runuser -u munge -- /usr/sbin/munged
    for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
    munge -n | unmunge >/dev/null || die "munged does not answer (see /var/log/munge/munged.log)"
fi

# 3. slurm.conf for this host, from the template (never over a slurm.conf this script did not write).
HOST="$(hostname -s)"
HW="$(slurmd -C | head -1)"
CPUS="$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$HW")"
MEMORY="$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$HW")"
[ -n "$CPUS" ] && [ -n "$MEMORY" ] || die "cannot read CPUs / RealMemory from 'slurmd -C': $HW"
if [ -e "$CONF" ] && ! grep -q "$MARKER" "$CONF"; then
    die "$CONF exists and was not written by this script: this machine already has a SLURM; use it (cluster/slurm.yaml) or move the file away"
fi
mkdir -p /etc/slurm "$STATE"/slurmctld "$STATE"/slurmd "$STATE"/log
NEW="$(sed -e "s|@HOST@|$HOST|g" -e "s|@STATE@|$STATE|g" -e "s|@CPUS@|$CPUS|g" -e "s|@MEMORY@|$MEMORY|g" \
           -e "s|@PARTITION@|$PARTITION|g" "$HERE/slurm.conf.in")"
CHANGED=0
if [ ! -e "$CONF" ] || [ "$NEW" != "$(cat "$CONF")" ]; then
    printf '%s\n' "$NEW" >"$CONF"
    CHANGED=1
    say "wrote $CONF ($HOST: $CPUS CPUs, $MEMORY MB, partition $PARTITION)"
fi

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# 4. The daemons. A changed configuration on a running SLURM is applied with `scontrol reconfigure`.
if alive "$STATE/slurmctld.pid"; then
    if [ "$CHANGED" = 1 ]; then say "reconfiguring the running slurmctld"; scontrol reconfigure; fi
else
    say "starting slurmctld"
    slurmctld
fi
for _ in $(seq 100); do scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.2; done
scontrol ping | grep -q UP || die "slurmctld does not answer (see $STATE/log/slurmctld.log)"
if ! alive "$STATE/slurmd.pid"; then
    say "starting slurmd"
    slurmd
fi

# 5. Wait for the node to be idle (or already busy with jobs); resume it when an earlier run left
#    it down or drained.
state=""
for i in $(seq 150); do
    state="$(sinfo -h -n "$HOST" -o %T 2>/dev/null | head -1)"
    case "$state" in
        idle|mixed|allocated|completing) break ;;
        down*|drain*|fail*) [ $((i % 10)) = 1 ] && scontrol update NodeName="$HOST" State=RESUME 2>/dev/null || true ;;
    esac
    sleep 0.2
done
case "$state" in
    idle|mixed|allocated|completing) ;;
    *) die "node $HOST is '$state' after 30 s (see $STATE/log/slurmd.log and 'scontrol show node $HOST')" ;;
esac
say "up: $(sinfo -h -o '%P %a %D node(s) %T %c CPUs %m MB')  (logs: $STATE/log)"
