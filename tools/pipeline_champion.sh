#!/usr/bin/env bash
# Run the pipeline once on a fresh local cloud with the code in DIR (a checkout), and write the champion
# pointer it leaves to OUT. The model-comparison workflow runs it for the base branch and for the pull
# request, so both models are trained and scored on the same replayed data.
#
#   bash tools/pipeline_champion.sh DIR OUT.json
set -euo pipefail
dir=$(cd "$1" && pwd)
out=$2
tools=$(cd "$(dirname "$0")" && pwd)
cd "$dir"

make venv
rm -rf .rps
mkdir -p .rps
.venv/bin/rps up > .rps/up.log 2>&1 &
cloud=$!
trap 'kill "$cloud" 2>/dev/null || true; wait "$cloud" 2>/dev/null || true' EXIT

for _ in $(seq 1 180); do
  [ -s .rps/endpoints.json ] && break
  if ! kill -0 "$cloud" 2>/dev/null; then
    echo "the local cloud exited:" >&2
    cat .rps/up.log >&2
    exit 1
  fi
  sleep 1
done
if [ ! -s .rps/endpoints.json ]; then
  echo "the local cloud was not ready after 180 s:" >&2
  cat .rps/up.log >&2
  exit 1
fi

.venv/bin/rps run
.venv/bin/python "$tools/fetch_champion.py" .rps/endpoints.json > "$out"
echo "champion pointer of $dir written to $out"
