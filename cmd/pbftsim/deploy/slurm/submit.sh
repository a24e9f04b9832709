#!/usr/bin/env bash
# submit.sh SHARDS OUTDIR OUT [pbftsim sweep flags...]
#
# Submits a pbftsim sweep as a Slurm job array of SHARDS tasks (sweep.sbatch)
# and a merge job that runs after every task succeeded (merge.sbatch,
# --dependency=afterok). Prints "ARRAY_JOB_ID MERGE_JOB_ID" on the last line.
#
#   PBFTSIM=$PWD/bin/pbftsim ./submit.sh 100 $PWD/results $PWD/sweep.jsonl \
#       --scenario adversarial --seeds 1..1000000
#
# OUTDIR gets the parts and logs (logs/); OUT is the merged file. Both, the
# binary and any scenario file must be on a file system every node sees.
# Env: PBFTSIM (binary, default pbftsim on PATH) and PBFTSIM_MAX_RESTARTS are
# passed to the jobs; PBFTSIM_SBATCH_ARGS (split on spaces) is added to both
# sbatch commands, e.g. "--partition=short --account=lab --time=1:00:00";
# Slurm's own SBATCH_* variables work as usual.
set -euo pipefail

[ $# -ge 3 ] || {
	echo "usage: submit.sh SHARDS OUTDIR OUT [pbftsim sweep flags...]" >&2
	exit 2
}
SHARDS=$1 OUTDIR=$2 OUT=$3
shift 3
case "$SHARDS" in
'' | *[!0-9]* | 0) echo "submit.sh: SHARDS must be a positive integer, got '$SHARDS'" >&2; exit 2 ;;
esac
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$OUTDIR/logs"
OUTDIR=$(cd "$OUTDIR" && pwd)
case "$OUT" in /*) ;; *) OUT="$PWD/$OUT" ;; esac
# shellcheck disable=SC2206 # word splitting is the point
extra=(${PBFTSIM_SBATCH_ARGS:-})
export PBFTSIM=${PBFTSIM:-pbftsim}

array=$(sbatch --parsable "${extra[@]}" --array="0-$((SHARDS - 1))" \
	--output="$OUTDIR/logs/sweep-%A_%a.log" --chdir="$OUTDIR" \
	"$HERE/sweep.sbatch" "$OUTDIR" "$@")
array=${array%%;*} # "id;cluster" on multi-cluster setups
merge=$(sbatch --parsable "${extra[@]}" --dependency="afterok:$array" --kill-on-invalid-dep=yes \
	--output="$OUTDIR/logs/merge-%j.log" --chdir="$OUTDIR" \
	"$HERE/merge.sbatch" "$OUTDIR" "$SHARDS" "$OUT")
merge=${merge%%;*}
echo "submitted sweep array $array ($SHARDS shards) and merge job $merge -> $OUT" >&2
echo "$array $merge"
