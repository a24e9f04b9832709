#!/bin/sh
# One shard of a pbftsim sweep, as one pod of a Kubernetes Indexed Job
# (sweep-job.yaml mounts this file from the pbftsim-scripts ConfigMap).
#
# Pod I (JOB_COMPLETION_INDEX, 0-based) of SHARDS runs
# `pbftsim sweep --shard I/SHARDS` and leaves OUTDIR/part-I-of-SHARDS.jsonl.
# The output goes to a hidden temp file renamed only when the sweep finished,
# so a failed or killed pod never leaves a part that merge would pick up; the
# Job controller then runs the index again (backoffLimitPerIndex).
# Exit 1 from sweep with its file written means failing seeds were found: a
# result, kept, and the pod succeeds. Exit 2 (bad input) fails the index for
# good (podFailurePolicy).
#
# Env: JOB_COMPLETION_INDEX (set by Kubernetes), SHARDS (= spec.completions),
#      OUTDIR (default /data/parts), PBFTSIM_SEEDS (A..B),
#      PBFTSIM_SCENARIO (optional), PBFTSIM_WORKERS (default 1),
#      POD_NAME (downward API), PBFTSIM (binary, default pbftsim).
set -eu

I=${JOB_COMPLETION_INDEX:?not an Indexed Job pod: JOB_COMPLETION_INDEX is unset}
N=${SHARDS:?set SHARDS to the Job spec.completions}
OUTDIR=${OUTDIR:-/data/parts}
SEEDS=${PBFTSIM_SEEDS:?set PBFTSIM_SEEDS, e.g. 1..100000}
PBFTSIM=${PBFTSIM:-pbftsim}
if [ "$I" -ge "$N" ]; then
	echo "pbftsim-shard: index $I out of range: SHARDS=$N must equal spec.completions" >&2
	exit 2
fi

mkdir -p "$OUTDIR"
final="$OUTDIR/part-$I-of-$N.jsonl"
tmp="$OUTDIR/.part-$I-of-$N.jsonl.${POD_NAME:-$$}.tmp"
# Leftovers of earlier pods of this index (a killed pod cannot clean up).
rm -f "$OUTDIR/.part-$I-of-$N.jsonl."*
echo "pbftsim-shard: shard $I/$N on ${POD_NAME:-?}" >&2

set -- sweep --seeds "$SEEDS" --workers "${PBFTSIM_WORKERS:-1}"
if [ -n "${PBFTSIM_SCENARIO:-}" ]; then set -- "$@" --scenario "$PBFTSIM_SCENARIO"; fi
rc=0
"$PBFTSIM" "$@" --shard "$I/$N" --out "$tmp" || rc=$?
if { [ $rc -eq 0 ] || [ $rc -eq 1 ]; } && [ -s "$tmp" ]; then
	mv -f "$tmp" "$final"
	rm -f "$tmp.partial"
	echo "pbftsim-shard: shard $I/$N done (sweep exit $rc): $final" >&2
	exit 0
fi
rm -f "$tmp" "$tmp.partial"
echo "pbftsim-shard: shard $I/$N failed (sweep exit $rc)" >&2
if [ $rc -eq 2 ]; then exit 2; fi
# Any other code: the Job controller retries this index.
exit 3
