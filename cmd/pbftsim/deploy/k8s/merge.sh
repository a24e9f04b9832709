#!/bin/sh
# Merge the SHARDS parts of a pbftsim sweep (shard.sh) into OUT, the file an
# unsharded sweep writes, byte for byte (merge-job.yaml runs it once the
# Indexed Job is complete). Only final part names are passed, never a temp
# file of a failed pod; merge names missing or duplicated shards, refuses
# incomplete parts, and writes OUT through a temp file renamed into place.
#
# Env: SHARDS, OUTDIR (default /data/parts), OUT (default /data/sweep.jsonl),
#      PBFTSIM (binary, default pbftsim).
set -eu

N=${SHARDS:?set SHARDS to the sweep Job spec.completions}
OUTDIR=${OUTDIR:-/data/parts}
OUT=${OUT:-/data/sweep.jsonl}
PBFTSIM=${PBFTSIM:-pbftsim}
set --
i=0
while [ "$i" -lt "$N" ]; do
	p="$OUTDIR/part-$i-of-$N.jsonl"
	if [ -e "$p" ]; then set -- "$@" "$p"; fi
	i=$((i + 1))
done
if [ $# -eq 0 ]; then
	echo "pbftsim-merge: no part-I-of-$N.jsonl in $OUTDIR" >&2
	exit 2
fi
exec "$PBFTSIM" merge --out "$OUT" "$@"
