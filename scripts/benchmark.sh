#!/usr/bin/env bash
# The main job, on a fresh machine: sets up what is missing (the interpreter,
# fuelbench, llama-server and a small coding model, all cached after the
# first time), starts llama-server on 127.0.0.1, benchmarks the model on all
# 15 problems (solve and refactor), stops the server and prints the
# leaderboard. Results go to ./results (or $FUELBENCH_RESULTS); running it
# again resumes an unfinished run, or just prints the board of a finished one.
#
#   scripts/benchmark.sh [more `fuelbench run` options, e.g. --problems p01,p02]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/setup.sh
server="" model=""
while read -r what path; do
  case "$what" in
    server) server=$path ;;
    model) model=$path ;;
  esac
done < <(scripts/setup-llama.sh --install-deps --quiet)
target=${CARGO_TARGET_DIR:-target}
out=${FUELBENCH_RESULTS:-results}
# The 0.5B answers in 200-600 tokens but sometimes loops to the cap, and on
# one CPU thread 8192 tokens take over ten minutes; 2048 leaves 3x headroom.
max_tokens=${FUELBENCH_MAX_TOKENS:-2048}
FUELBENCH_PROBLEMS="$PWD/problems" "$target/release/fuelbench" run \
  --serve-model "$model" --llama-server "$server" \
  --model qwen2.5-coder-0.5b-instruct --max-tokens "$max_tokens" --out "$out" --resume "$@"
echo
echo "See why it scored what it scored: scripts/fuelbench.sh serve --results $out"
echo "then open http://127.0.0.1:8080/ (the leaderboard; follow the model to every answer)."
