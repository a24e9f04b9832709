#!/usr/bin/env bash
# start-cluster.sh DIR - start a private one-node Slurm cluster (munged,
# slurmctld, slurmd on localhost) whose config, state, sockets and logs all
# live under DIR. Prints the SLURM_CONF line to export for sbatch/squeue.
# Stop it with stop-cluster.sh DIR. Needs root and Debian's slurmctld, slurmd,
# slurm-client and munge packages (test.sh installs them when missing).
#
# Env: SLURM_TEST_CTLD_PORT / SLURM_TEST_SLURMD_PORT (default 16817/16818),
#      SLURM_TEST_START_TIMEOUT seconds to wait for the node to be idle (60),
#      SLURM_TEST_CRED_EXPIRE credential lifetime = requeue delay in seconds (5).
set -euo pipefail

die() {
	echo "start-cluster: $*" >&2
	# Stop whatever this script already started (logs stay in DIR/log).
	if [ -n "${DIR:-}" ] && [ -d "$DIR/run" ]; then "$HERE/stop-cluster.sh" "$DIR" || true; fi
	exit 1
}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -eq 1 ] || die "usage: start-cluster.sh DIR"
DIR=$(mkdir -p "$1" && cd "$1" && pwd)
CTLD_PORT=${SLURM_TEST_CTLD_PORT:-16817}
SLURMD_PORT=${SLURM_TEST_SLURMD_PORT:-16818}
TIMEOUT=${SLURM_TEST_START_TIMEOUT:-60}
CRED_EXPIRE=${SLURM_TEST_CRED_EXPIRE:-5}

[ "$(id -u)" -eq 0 ] || die "must run as root (SlurmUser=root, munged key ownership)"
for b in munged munge unmunge slurmctld slurmd sinfo scontrol; do
	command -v "$b" >/dev/null || die "$b not found: apt-get install -y slurm-wlm munge"
done

HOST=$(hostname -s 2>/dev/null || uname -n)
[ -n "$HOST" ] || die "hostname -s printed nothing"
CPUS=$(nproc)
# slurmd refuses a node whose RealMemory exceeds what it sees; stay below it.
MEM_MB=$(awk '/^MemTotal:/ {printf "%d", $2 / 1024 * 0.9}' /proc/meminfo)
[ "$MEM_MB" -gt 0 ] || die "cannot read MemTotal from /proc/meminfo"

mkdir -p "$DIR"/{munge,state,spool,run,log}
chmod 755 "$DIR" "$DIR/munge"

# munge: fresh key, private socket; munged refuses root without --force.
if [ ! -s "$DIR/munge/munge.key" ]; then
	dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
fi
chmod 400 "$DIR/munge/munge.key"
munged --force \
	--socket="$DIR/munge/munge.socket" \
	--key-file="$DIR/munge/munge.key" \
	--log-file="$DIR/log/munged.log" \
	--pid-file="$DIR/run/munged.pid" \
	--seed-file="$DIR/munge/munged.seed" ||
	die "munged failed to start (log: $DIR/log/munged.log)"
munge -n -S "$DIR/munge/munge.socket" | unmunge -S "$DIR/munge/munge.socket" >/dev/null ||
	die "munge credential round trip failed (log: $DIR/log/munged.log)"

sed -e "s|@DIR@|$DIR|g" -e "s|@HOST@|$HOST|g" -e "s|@CPUS@|$CPUS|g" \
	-e "s|@MEM_MB@|$MEM_MB|g" -e "s|@CTLD_PORT@|$CTLD_PORT|g" \
	-e "s|@SLURMD_PORT@|$SLURMD_PORT|g" -e "s|@CRED_EXPIRE@|$CRED_EXPIRE|g" "$HERE/slurm.conf.in" >"$DIR/slurm.conf"
export SLURM_CONF="$DIR/slurm.conf"

# -c: clear any saved state (a fresh cluster each time). Both daemonize.
slurmctld -c -f "$SLURM_CONF" || die "slurmctld failed to start (log: $DIR/log/slurmctld.log)"
slurmd -f "$SLURM_CONF" -N "$HOST" || die "slurmd failed to start (log: $DIR/log/slurmd-$HOST.log)"

deadline=$((SECONDS + TIMEOUT))
state=""
while [ $SECONDS -lt $deadline ]; do
	state=$(sinfo -h -N -n "$HOST" -o '%T' 2>/dev/null || true)
	case "$state" in
	idle | idle~ | mixed | allocated) break ;;
	esac
	# Nodes registered as down/drained after a restart: put them back in service.
	case "$state" in
	down* | drain* | unknown*)
		scontrol update nodename="$HOST" state=resume >/dev/null 2>&1 || true
		;;
	esac
	sleep 1
done
case "$state" in
idle | idle~ | mixed | allocated) ;;
*) die "node $HOST not idle after ${TIMEOUT}s (sinfo state: '${state:-none}'; logs in $DIR/log)" ;;
esac
echo "export SLURM_CONF=$SLURM_CONF"
