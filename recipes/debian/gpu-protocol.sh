#!/usr/bin/env bash
# The converged protocol at GPU scale (issue 24) on one H100 / H200, from a log-mel cache of the debian corpus:
# for a GPU machine that has neither the audio nor a network. Prepare the cache where the audio is:
#   audiospec prepare debian --install-packages
#   audiospec export-log-mel --config recipes/debian/conf/gpu-protocol.yaml --out data/debian-log-mel
# then, on the GPU machine (audiospec importable, e.g. PYTHONPATH=<repo>):
#   recipes/debian/gpu-protocol.sh data/debian-log-mel runs/debian-gpu-protocol [RESULTS_DIR]
# RESULTS_DIR, when given, receives the small files worth keeping (budget, throughput, convergence, every stage's
# JSON and figures as one results.tar.gz, the report). GPU_PROTOCOL_SECONDS (default 540) stops the run in time to
# collect what it has; the run resumes where it stopped when started again with the same folders.
set -uo pipefail
cd "$(dirname "$0")/../.."
cache="${1:?usage: recipes/debian/gpu-protocol.sh CACHE_DIR RUN_DIR [RESULTS_DIR]}"
run="${2:?usage: recipes/debian/gpu-protocol.sh CACHE_DIR RUN_DIR [RESULTS_DIR]}"
results="${3:-}"
[ -n "$results" ] && results="$(mkdir -p "$results" && cd "$results" && pwd)"
config="${GPU_PROTOCOL_CONFIG:-recipes/debian/conf/gpu-protocol.yaml}"  # a smaller copy for a test run
python="${PYTHON:-python3}"
[ -x .venv/bin/python ] && [ -z "${PYTHON:-}" ] && python=.venv/bin/python
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv 2>/dev/null || echo "no nvidia-smi"
"$python" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
start=$(date +%s)
PYTHONUNBUFFERED=1 timeout "${GPU_PROTOCOL_SECONDS:-540}" "$python" -m audiospec run \
  --config "$config" --dataset "log-mel:$cache" --out "$run" --no-progress
status=$?
echo "audiospec run exited with $status after $(( $(date +%s) - start )) s"
if [ -n "$results" ]; then
  for f in budget.json throughput.json; do [ -f "$run/$f" ] && cp "$run/$f" "$results/"; done
  (cd "$run" && find . -path ./compare/models -prune -o -path ./baselines/models -prune -o \
     \( -name '*.json' -o -name '*.png' -o -name '*.csv' -o -name '*.yaml' \) -print \
     | tar -czf "$results/results.tar.gz" -T - 2>/dev/null)
  models=$(cd "$run" && find . -path '*/models/*' \( -name heldout.csv -o -name train_result.json -o -name loss.csv \) 2>/dev/null)
  [ -n "$models" ] && (cd "$run" && echo "$models" | tar -czf "$results/models.tar.gz" -T -)
  [ -f "$run/report.html" ] && cp "$run/report.html" "$results/"
fi
exit $status
