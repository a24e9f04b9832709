#!/usr/bin/env bash
# stop-cluster.sh DIR - cancel the cluster's jobs, stop the daemons that
# start-cluster.sh DIR started (by the pids in DIR/run, never by name) and
# kill any job process left behind (found by its environment).
# Does not remove DIR; safe to call when nothing is running.
set -uo pipefail

[ $# -eq 1 ] || {
	echo "usage: stop-cluster.sh DIR" >&2
	exit 2
}
DIR=$1
[ -d "$DIR/run" ] || exit 0

CONF=$(cd "$DIR" && pwd)/slurm.conf

# Cancel the jobs first so that slurmd ends their slurmstepd and processes.
if [ -f "$CONF" ] && command -v scancel >/dev/null; then
	jobs=$(SLURM_CONF=$CONF timeout 5 squeue -h -o %A 2>/dev/null | sort -u | tr '\n' ' ')
	if [ -n "${jobs// /}" ]; then
		# shellcheck disable=SC2086 # one argument per job id
		SLURM_CONF=$CONF timeout 5 scancel $jobs 2>/dev/null || true
		end=$((SECONDS + 10))
		while [ $SECONDS -lt $end ]; do
			[ -z "$(SLURM_CONF=$CONF timeout 3 squeue -h -t R,CG -o %A 2>/dev/null)" ] && break
			sleep 0.5
		done
	fi
fi

pids=()
for f in "$DIR"/run/slurmd-*.pid "$DIR/run/slurmctld.pid" "$DIR/run/munged.pid"; do
	[ -s "$f" ] || continue
	pid=$(cat "$f")
	case "$pid" in '' | *[!0-9]*) continue ;; esac
	kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
done
# Give them up to 10s to exit cleanly, then kill what is left.
for _ in $(seq 1 50); do
	alive=0
	for pid in "${pids[@]}"; do
		kill -0 "$pid" 2>/dev/null && alive=1
	done
	[ $alive -eq 0 ] && break
	sleep 0.2
done
for pid in "${pids[@]}"; do
	kill -KILL "$pid" 2>/dev/null || true
done
# Job steps that outlived their slurmd: slurmstepd keeps files under DIR open
# (its log, the spool), job processes carry SLURM_JOB_ID and this cluster's
# SLURM_CONF. Never this script or its callers.
ABS=$(cd "$DIR" && pwd)
skip=" $$ "
p=$$
while [ "$p" -gt 1 ] 2>/dev/null; do
	p=$(awk '/^PPid:/ {print $2}' "/proc/$p/status" 2>/dev/null) || break
	[ -n "$p" ] || break
	skip="$skip$p "
done
for d in /proc/[0-9]*; do
	pid=${d#/proc/}
	case "$skip" in *" $pid "*) continue ;; esac
	hit=0
	for fd in "$d"/fd/*; do
		case "$(readlink "$fd" 2>/dev/null)" in "$ABS"/*) hit=1 && break ;; esac
	done
	if [ $hit -eq 0 ]; then
		vars=$(tr '\0' '\n' 2>/dev/null <"$d/environ") || continue
		if grep -qxF "SLURM_CONF=$CONF" <<<"$vars" && grep -q '^SLURM_JOB_ID=' <<<"$vars"; then hit=1; fi
	fi
	if [ $hit -eq 1 ]; then kill -KILL "$pid" 2>/dev/null || true; fi
done
exit 0
