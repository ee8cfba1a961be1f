#!/usr/bin/env bash
# The Autobahn|Testsuite fuzzing client (`wstest -m fuzzingclient`) against simmer's
# WebSocket echo (examples/hello_tls, plain ws://), every case; prints one line per case
# group and the cases that did not pass. The HTML report is left in $OUT/reports.
#
#   bash benches/autobahn.sh                      # 1 MiB limits (the default): the 9.x
#                                                 # cases of 4-16 MiB get 1009
#   WS_MAX_BYTES=33554432 bash benches/autobahn.sh   # limits above the largest case
#   CASES='"9.*"' bash benches/autobahn.sh            # some cases only (JSON list items)
#
# autobahntestsuite runs on Python 2.7 only. Give it with PYTHON2 (default: python2.7 on
# the PATH, or pyenv's 2.7); it is pip-installed into $OUT/py2 if not importable there.
set -euo pipefail
cd "$(dirname "$0")/.."

WS_MAX_BYTES=${WS_MAX_BYTES:-1048576}
CASES=${CASES:-'"*"'}
OUT=${OUT:-target/autobahn}
ADDR=127.0.0.1:19001
if [ -z "${PYTHON2:-}" ]; then
  PYTHON2=$HOME/.pyenv/versions/2.7.18/bin/python
  python2.7 -c pass 2>/dev/null && PYTHON2=python2.7
fi
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

if ! "$PYTHON2" -c "import site; site.addsitedir('$OUT/py2'); import autobahntestsuite" 2>/dev/null; then
  echo "== pip install autobahntestsuite into $OUT/py2 (Python 2.7: $PYTHON2)"
  "$PYTHON2" -m pip install -q --target "$OUT/py2" autobahntestsuite
fi

cargo build --release --quiet --example hello_tls
target/release/examples/hello_tls --addr "$ADDR" --ws-max-bytes "$WS_MAX_BYTES" >/dev/null 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
sleep 0.5

cat > "$OUT/fuzzingclient.json" <<EOF
{
  "outdir": "$OUT/reports",
  "servers": [{"agent": "simmer", "url": "ws://$ADDR/ws"}],
  "cases": [$CASES],
  "exclude-cases": [],
  "exclude-agent-cases": {}
}
EOF
rm -rf "$OUT/reports"
# site.addsitedir reads the .pth files of zope's namespace package, which a plain
# PYTHONPATH entry would not.
(cd "$OUT" && "$PYTHON2" -c "import site, sys; site.addsitedir('$OUT/py2'); \
sys.argv = ['wstest', '-m', 'fuzzingclient', '-s', 'fuzzingclient.json']; \
from autobahntestsuite.wstest import run; run()" > "$OUT/wstest.log" 2>&1)

python3 - "$OUT/reports/index.json" <<'EOF'
import collections, json, sys
results = json.load(open(sys.argv[1]))["simmer"]
groups = collections.defaultdict(collections.Counter)
for case, r in results.items():
    groups[int(case.split(".")[0])][r["behavior"]] += 1
print("group  " + "  ".join(f"{k}" for k in ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED"]))
for g in sorted(groups):
    c = groups[g]
    print(f"{g:>5}  " + "  ".join(f"{c[k]}" for k in ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED"]))
total = collections.Counter(r["behavior"] for r in results.values())
print("total", dict(total))
key = lambda c: [int(x) for x in c.split(".")]
for case in sorted(results, key=key):
    r = results[case]
    if r["behavior"] in ("FAILED", "WRONG CODE", "UNCLEAN") or r["behaviorClose"] not in ("OK", "INFORMATIONAL"):
        print("not passed:", case, r["behavior"], "close:", r["behaviorClose"], "code:", r.get("remoteCloseCode"))
EOF
