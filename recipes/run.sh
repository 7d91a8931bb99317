#!/usr/bin/env bash
# Run one recipe end to end: prepare -> analyze -> corrupt -> train per prior -> compare -> report.
# Usage: recipes/run.sh RECIPE [--debug | --gpu | --protocol | --converged | --gpu-protocol] [any `audiospec run` option, e.g. --out DIR]
# (--protocol: conf/protocol.yaml, the full CPU protocol of the mini recipe (300-step preview); --converged:
# conf/converged.yaml, the same with the compute-optimal training and a budget in seconds; --gpu-protocol: conf/gpu-protocol.yaml, the
# converged protocol on one GPU, debian recipe; recipes/debian/gpu-protocol.sh runs it from a log-mel cache)
# The run folder defaults to runs/RECIPE-CONF and is resumed when it exists.
set -euo pipefail
recipes="$(cd "$(dirname "$0")" && pwd)"
recipe="${1:?usage: recipes/run.sh RECIPE [--debug|--gpu|--protocol|--converged|--gpu-protocol] [options]}"; shift
conf=cpu
case "${1:-}" in
  --debug) conf=debug; shift ;; --gpu) conf=gpu; shift ;; --protocol) conf=protocol; shift ;;
  --gpu-protocol) conf=gpu-protocol; shift ;; --converged) conf=converged; shift ;;
esac
audiospec="$recipes/../.venv/bin/audiospec"
[ -x "$audiospec" ] || audiospec=audiospec
exec "$audiospec" run --config "$recipes/$recipe/conf/$conf.yaml" --out "runs/$recipe-$conf" "$@"
