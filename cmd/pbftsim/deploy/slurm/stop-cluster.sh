#!/usr/bin/env bash
# stop-cluster.sh DIR - stop the daemons that start-cluster.sh DIR started
# (by the pids in DIR/run, never by name) and wait until they are gone.
# Does not remove DIR; safe to call when nothing is running.
set -uo pipefail

[ $# -eq 1 ] || {
	echo "usage: stop-cluster.sh DIR" >&2
	exit 2
}
DIR=$1
[ -d "$DIR/run" ] || exit 0

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
exit 0
