#!/usr/bin/env bash
# test.sh - `make slurm-test`: a sharded pbftsim sweep on a real one-node Slurm
# cluster must produce, byte for byte, the file of an unsharded local sweep.
#
#  1. installs Debian's slurm-wlm and munge packages if missing;
#  2. builds pbftsim and runs the unsharded sweep locally (the reference);
#  3. starts munged, slurmctld and slurmd on localhost (start-cluster.sh), all
#     state and logs in a temp dir, and waits for the node to be idle;
#  4. submits the sweep as a SHARDS-task job array plus the dependent merge
#     job (submit.sh), with faults injected into the first attempts:
#       shard 1 writes half a record and exits 3 -> sweep.sbatch requeues it;
#       shard 2 hangs with a partial file -> this script kills it with
#       `scontrol requeue` (as a preemption or node loss would) -> Slurm
#       reruns it;
#  5. waits for the jobs (squeue polling, bounded), checks that both shards
#     were rerun (Restarts>=1), that the merge job completed and that the
#     merged file equals the reference (cmp); also that a shard failing on
#     every attempt makes Slurm cancel the merge, that merge.sbatch
#     refuses a missing part, and that the missing shard can be rerun alone;
#     runs the Kubernetes recipe's shard.sh/merge.sh as Indexed Job pods;
#  6. stops the daemons and removes the temp dir in an EXIT trap, pass or fail.
#
# A cluster that cannot be started is a failure (with the reason and the
# daemon logs), never a skip. Needs root (as CI runs).
#
# Env: SEEDS (default 1..40), SHARDS (4), SCENARIO (built-in default),
#      SLURM_TEST_TIMEOUT seconds to wait for the jobs (240),
#      SLURM_TEST_KEEP=1 keeps the temp dir, GO (go), PBFTSIM_BIN a prebuilt
#      pbftsim to test instead of building ./cmd/pbftsim.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../../.." && pwd)
SEEDS=${SEEDS:-1..40}
SHARDS=${SHARDS:-4}
SCENARIO=${SCENARIO:-}
JOB_TIMEOUT=${SLURM_TEST_TIMEOUT:-240}
GO=${GO:-go}
T0=$SECONDS

passed=0
failed=0
say() { printf "slurm-test: [%3ds] %s\n" $((SECONDS - T0)) "$*"; }
ok() {
	passed=$((passed + 1))
	say "ok   $*"
}
bad() {
	failed=$((failed + 1))
	say "FAIL $*"
}
# die: a failure that stops the test (the EXIT trap prints logs and cleans up).
die() {
	bad "$*"
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "must run as root (it installs packages and runs slurmctld/slurmd/munged as root)"

# --- 1. packages -------------------------------------------------------------
need=()
for b in munged slurmctld slurmd sbatch; do command -v "$b" >/dev/null || need+=("$b"); done
if [ ${#need[@]} -gt 0 ]; then
	say "installing Debian packages slurm-wlm munge (missing: ${need[*]})"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq || die "apt-get update failed"
	apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null ||
		die "apt-get install slurm-wlm munge failed"
fi
for b in munged slurmctld slurmd sbatch squeue scontrol sinfo; do
	command -v "$b" >/dev/null || die "$b still not found after installing the packages"
done

TMP=$(mktemp -d /tmp/pbftsim-slurm-test.XXXXXX)
chmod 755 "$TMP" # munged wants its socket reachable
CLUSTER=$TMP/cluster
cleanup() {
	rc=$?
	if [ -d "$CLUSTER/run" ]; then "$HERE/stop-cluster.sh" "$CLUSTER" || true; fi
	if [ $rc -ne 0 ] || [ $failed -ne 0 ]; then
		for f in "$CLUSTER"/log/*.log "$TMP"/out*/logs/*.log; do
			[ -f "$f" ] || continue
			echo "----- $f (last 40 lines)"
			tail -n 40 "$f"
		done
		[ -n "${SLURM_TEST_KEEP:-}" ] || rm -rf "$TMP"
		say "$passed passed, $((failed > 0 ? failed : 1)) failed in $((SECONDS - T0))s"
		echo "$passed passed, $((failed > 0 ? failed : 1)) failed"
		exit 1
	fi
	if [ -n "${SLURM_TEST_KEEP:-}" ]; then say "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 2. pbftsim and the reference sweep --------------------------------------
mkdir -p "$TMP/bin"
BIN=$TMP/bin/pbftsim
if [ -n "${PBFTSIM_BIN:-}" ]; then
	cp "$PBFTSIM_BIN" "$BIN" || die "cannot copy PBFTSIM_BIN=$PBFTSIM_BIN"
else
	(cd "$ROOT" && "$GO" build -o "$BIN" ./cmd/pbftsim) || die "go build ./cmd/pbftsim failed"
fi
"$BIN" sweep --help >/dev/null 2>&1 || die "this pbftsim has no working 'sweep' command"
"$BIN" merge --help >/dev/null 2>&1 || die "this pbftsim has no working 'merge' command"

sweep_args=(--seeds "$SEEDS")
[ -z "$SCENARIO" ] || sweep_args+=(--scenario "$SCENARIO")
ref_rc=0
(cd "$TMP" && "$BIN" sweep "${sweep_args[@]}" --quiet --out "$TMP/whole.jsonl" >"$TMP/whole.txt" 2>&1) || ref_rc=$?
if [ $ref_rc -gt 1 ] || [ ! -s "$TMP/whole.jsonl" ]; then
	cat "$TMP/whole.txt"
	die "local unsharded sweep ${sweep_args[*]} failed (exit $ref_rc)"
fi
ok "local unsharded sweep ${sweep_args[*]}: $(wc -l <"$TMP/whole.jsonl") lines, exit $ref_rc"

# Test-only wrapper that injects the faults of step 4 into first attempts.
FLAGS=$TMP/flags
mkdir -p "$FLAGS"
cat >"$TMP/bin/pbftsim-faulty" <<EOF
#!/usr/bin/env bash
out= prev=
for a in "\$@"; do [ "\$prev" = --out ] && out=\$a; prev=\$a; done
if [ "\${1:-}" = sweep ] && [ "\${SLURM_RESTART_COUNT:-0}" = 0 ]; then
	case "\${SLURM_ARRAY_TASK_ID:-}" in
	1)
		printf '{"kind":"header","INJECTED-PARTIAL' >"\$out"
		echo "injected fault: shard 1, first attempt, exits 3 after a partial write" >&2
		exit 3 ;;
	2)
		printf '{"kind":"header","INJECTED-PARTIAL' >"\$out.partial"
		echo "\$SLURM_JOB_ID" >"$FLAGS/shard2.tmp" && mv "$FLAGS/shard2.tmp" "$FLAGS/shard2"
		echo "injected fault: shard 2, first attempt, hangs until killed" >&2
		exec sleep 600 ;;
	esac
fi
exec "$BIN" "\$@"
EOF
chmod +x "$TMP/bin/pbftsim-faulty"

# --- 3. the cluster ----------------------------------------------------------
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
base=$((20000 + RANDOM % 20000))
while ! port_free $base || ! port_free $((base + 1)); do base=$((base + 2)); done
export SLURM_TEST_CTLD_PORT=$base SLURM_TEST_SLURMD_PORT=$((base + 1))
if ! "$HERE/start-cluster.sh" "$CLUSTER" >"$TMP/start.txt" 2>&1; then
	cat "$TMP/start.txt"
	die "the one-node Slurm cluster did not start (daemon logs below)"
fi
export SLURM_CONF=$CLUSTER/slurm.conf
ok "one-node cluster up in $((SECONDS - T0))s: $(sinfo -h -o '%P %a %D %T %N' | head -n 1)"

# wait_gone JOBID... : poll squeue until none of the jobs is queued or running.
wait_gone() {
	local deadline=$((SECONDS + JOB_TIMEOUT)) left
	while [ $SECONDS -lt $deadline ]; do
		left=$(squeue -h -j "$(
			IFS=,
			echo "$*"
		)" -o '%i %T %r' 2>/dev/null || true)
		[ -z "$left" ] && return 0
		sleep 1
	done
	echo "$left"
	squeue
	return 1
}
# field JOB KEY: one field of `scontrol show job` (jobs stay listed MinJobAge).
field() { scontrol -o show job "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }

# --- 4. submit with faults ---------------------------------------------------
OUT=$TMP/out
ids=$(PBFTSIM=$TMP/bin/pbftsim-faulty PBFTSIM_MAX_RESTARTS=2 \
	"$HERE/submit.sh" "$SHARDS" "$OUT" "$TMP/merged.jsonl" "${sweep_args[@]}") ||
	die "submit.sh failed"
read -r ARRAY MERGE <<<"$(tail -n 1 <<<"$ids")"
ok "submitted array job $ARRAY ($SHARDS shards) and merge job $MERGE (afterok)"

deadline=$((SECONDS + 60))
while [ ! -s "$FLAGS/shard2" ] && [ $SECONDS -lt $deadline ]; do sleep 0.5; done
[ -s "$FLAGS/shard2" ] || die "shard 2 did not start within 60s: $(squeue)"
shard2_job=$(cat "$FLAGS/shard2")
[ ! -e "$OUT/part-2-of-$SHARDS.jsonl" ] || bad "shard 2 has a final part while its first attempt still runs"
scontrol requeue "$shard2_job" || die "scontrol requeue $shard2_job (shard 2) failed"
ok "killed the hanging first attempt of shard 2 (job $shard2_job) with scontrol requeue"

# --- 5. wait and check -------------------------------------------------------
wait_gone "$ARRAY" "$MERGE" || die "jobs not finished after ${JOB_TIMEOUT}s"
for i in $(seq 0 $((SHARDS - 1))); do
	st=$(field "${ARRAY}_$i" JobState) re=$(field "${ARRAY}_$i" Restarts)
	[ "$st" = COMPLETED ] || bad "shard $i ended $st"
	case $i in
	1 | 2)
		if [ "${re:-0}" -ge 1 ]; then
			ok "shard $i was rerun by Slurm after its failed/killed attempt (Restarts=$re), $st"
		else
			bad "shard $i has Restarts=${re:-?}, want >= 1"
		fi
		;;
	esac
done
mst=$(field "$MERGE" JobState) mexit=$(field "$MERGE" ExitCode)
if [ "$mst" = COMPLETED ] || { [ $ref_rc -eq 1 ] && [ "$mexit" = 1:0 ]; }; then
	ok "merge job $MERGE ran after the array: $mst, exit $mexit"
else
	bad "merge job $MERGE ended $mst (exit $mexit), want COMPLETED (local sweep exit $ref_rc)"
fi
if grep -l INJECTED-PARTIAL "$OUT"/part-*.jsonl "$TMP/merged.jsonl" 2>/dev/null; then
	bad "a partial output of a failed attempt reached a part or the merged file"
else
	ok "no partial output of a failed or killed attempt reached a part or the merged file"
fi
leftover=$(find "$OUT" -maxdepth 1 -name '.part-*' | head -n 3)
if [ -z "$leftover" ]; then ok "no temp files left in $OUT"; else bad "temp files left: $leftover"; fi
if [ -s "$TMP/merged.jsonl" ] && cmp "$TMP/whole.jsonl" "$TMP/merged.jsonl"; then
	ok "merged file of $SHARDS Slurm shards == local unsharded sweep, byte for byte ($(wc -c <"$TMP/merged.jsonl") bytes, sha256 $(sha256sum <"$TMP/merged.jsonl" | cut -c1-16))"
else
	bad "merged file differs from the local unsharded sweep (or is missing)"
fi

# A shard that fails on every attempt: the array task fails, Slurm cancels the
# dependent merge (afterok can never be met) and no merged file appears.
cat >"$TMP/bin/pbftsim-broken" <<EOF
#!/usr/bin/env bash
[ "\${1:-}" = sweep ] && [ "\${SLURM_ARRAY_TASK_ID:-}" = 0 ] && { echo "injected fault: shard 0 always fails" >&2; exit 3; }
exec "$BIN" "\$@"
EOF
chmod +x "$TMP/bin/pbftsim-broken"
ids=$(PBFTSIM=$TMP/bin/pbftsim-broken PBFTSIM_MAX_RESTARTS=0 \
	"$HERE/submit.sh" 2 "$TMP/out-broken" "$TMP/merged-broken.jsonl" "${sweep_args[@]}") ||
	die "submit.sh (broken shard) failed"
read -r BARRAY BMERGE <<<"$(tail -n 1 <<<"$ids")"
# Meanwhile: a sweep whose seeds fail (beyond-f is outside the fault model) is
# a result: the shards keep their parts and succeed, the merge lists the
# failing seeds and exits 0 (violations outside the fault model are expected:
# the exit rule of pbftsim run), and the merged file still equals a local sweep.
frc=0
(cd "$TMP" && "$BIN" sweep --scenario beyond-f --seeds 1..20 --quiet --out "$TMP/whole-bf.jsonl" >/dev/null 2>&1) || frc=$?
ids=$(PBFTSIM=$BIN "$HERE/submit.sh" 2 "$TMP/out-bf" "$TMP/merged-bf.jsonl" --scenario beyond-f --seeds 1..20) ||
	die "submit.sh (beyond-f) failed"
read -r FARRAY FMERGE <<<"$(tail -n 1 <<<"$ids")"
wait_gone "$BARRAY" "$BMERGE" "$FARRAY" "$FMERGE" || die "broken-shard/beyond-f jobs not finished after ${JOB_TIMEOUT}s"
fst="$(field "${FARRAY}_0" JobState) $(field "${FARRAY}_1" JobState)" fmexit=$(field "$FMERGE" ExitCode)
if [ $frc -eq 0 ] && [ "$fst" = "COMPLETED COMPLETED" ] && [ "$fmexit" = 0:0 ] &&
	grep -q "pbftsim run --scenario beyond-f --seed 1$" "$TMP/out-bf/logs/merge-$FMERGE.log" &&
	cmp "$TMP/whole-bf.jsonl" "$TMP/merged-bf.jsonl"; then
	ok "failing seeds (beyond-f, outside the fault model): shards COMPLETED, merge exit 0 listing them, merged == local sweep (exit $frc)"
else
	bad "beyond-f: local exit $frc (want 0), shards '$fst' (want COMPLETED), merge exit $fmexit (want 0:0), no replay command for seed 1 in its log, or merged differs"
fi
bst=$(field "${BARRAY}_0" JobState) bmst=$(field "$BMERGE" JobState)
if [ "$bst" = FAILED ] && [ "$bmst" = CANCELLED ] && [ ! -e "$TMP/merged-broken.jsonl" ]; then
	ok "a shard failing on every attempt ($bst) makes Slurm cancel the merge ($bmst); no merged file"
else
	bad "broken shard: shard 0 $bst (want FAILED), merge $bmst (want CANCELLED), merged file $([ -e "$TMP/merged-broken.jsonl" ] && echo exists || echo absent)"
fi

# merge.sbatch outside Slurm: a missing part is named and nothing is written.
rm -f "$OUT/part-1-of-$SHARDS.jsonl"
mrc=0
PBFTSIM=$BIN bash "$HERE/merge.sbatch" "$OUT" "$SHARDS" "$TMP/merged-missing.jsonl" >"$TMP/missing.txt" 2>&1 || mrc=$?
if [ $mrc -eq 2 ] && grep -q "missing shards.*: 1$" "$TMP/missing.txt" && [ ! -e "$TMP/merged-missing.jsonl" ]; then
	ok "merge with part 1 missing refused (exit $mrc): $(grep "missing shards" "$TMP/missing.txt" | sed 's/^ *//')"
else
	cat "$TMP/missing.txt"
	bad "merge with part 1 missing: exit $mrc, want exit 2 naming missing shard 1 and no output"
fi

# Rerun one shard alone (PBFTSIM_SHARDS=N sbatch --array=1 ...) and merge again.
rjob=$(PBFTSIM=$BIN PBFTSIM_SHARDS=$SHARDS sbatch --parsable --array=1 --output="$OUT/logs/rerun-%A_%a.log" \
	"$HERE/sweep.sbatch" "$OUT" "${sweep_args[@]}") || die "sbatch of the shard 1 rerun failed"
wait_gone "${rjob%%;*}" || die "shard 1 rerun not finished after ${JOB_TIMEOUT}s"
rm -f "$TMP/merged.jsonl"
mrc=0
PBFTSIM=$BIN bash "$HERE/merge.sbatch" "$OUT" "$SHARDS" "$TMP/merged.jsonl" >"$TMP/remerge.txt" 2>&1 || mrc=$?
if [ $mrc -le 1 ] && cmp "$TMP/whole.jsonl" "$TMP/merged.jsonl"; then
	ok "shard 1 rerun alone (PBFTSIM_SHARDS=$SHARDS sbatch --array=1) and merged again == local sweep"
else
	cat "$TMP/remerge.txt"
	bad "rerun of shard 1 + merge: exit $mrc, or differs from the local sweep"
fi

# The Kubernetes recipe's scripts (deploy/k8s/shard.sh, merge.sh), run here as
# the Indexed Job's pods would be (JOB_COMPLETION_INDEX), with a first pod of
# index 1 that fails after a partial write and is "retried": same bytes again.
K8S=$HERE/../k8s
k8s_ok=1
kseeds=${SEEDS}
for i in $(seq 0 $((SHARDS - 1))); do
	if [ "$i" = 1 ]; then
		krc=0
		JOB_COMPLETION_INDEX=$i SHARDS=$SHARDS OUTDIR=$TMP/k8s PBFTSIM_SEEDS=$kseeds PBFTSIM_SCENARIO=$SCENARIO \
			POD_NAME=pod-1-a SLURM_ARRAY_TASK_ID=1 PBFTSIM=$TMP/bin/pbftsim-faulty \
			sh "$K8S/shard.sh" >>"$TMP/k8s.txt" 2>&1 || krc=$?
		if [ $krc -eq 0 ] || [ -e "$TMP/k8s/part-1-of-$SHARDS.jsonl" ]; then
			k8s_ok=0
			bad "k8s shard.sh: a failing pod exited $krc and/or left a part"
		fi
	fi
	JOB_COMPLETION_INDEX=$i SHARDS=$SHARDS OUTDIR=$TMP/k8s PBFTSIM_SEEDS=$kseeds PBFTSIM_SCENARIO=$SCENARIO \
		POD_NAME=pod-$i PBFTSIM=$BIN sh "$K8S/shard.sh" >>"$TMP/k8s.txt" 2>&1 || {
		k8s_ok=0
		bad "k8s shard.sh index $i failed"
	}
done
krc=0
SHARDS=$SHARDS OUTDIR=$TMP/k8s OUT=$TMP/k8s-merged.jsonl PBFTSIM=$BIN sh "$K8S/merge.sh" >>"$TMP/k8s.txt" 2>&1 || krc=$?
if [ $k8s_ok -eq 1 ] && [ $krc -le 1 ] && cmp "$TMP/whole.jsonl" "$TMP/k8s-merged.jsonl" &&
	[ -z "$(find "$TMP/k8s" -name '.part-*')" ]; then
	ok "k8s shard.sh x$SHARDS (one failed pod retried) + merge.sh == local unsharded sweep, byte for byte"
else
	cat "$TMP/k8s.txt"
	bad "k8s shard.sh/merge.sh did not reproduce the local sweep (merge exit $krc)"
fi

# --- 6. teardown happens in the EXIT trap ------------------------------------
if [ $failed -ne 0 ]; then exit 1; fi
say "PASS in $((SECONDS - T0))s"
echo "$passed passed, 0 failed"
