#!/bin/sh
# scripts/fuzz.sh [SECONDS]: run every fuzz target of the tree for a short time
# (make test calls it with 3 s each). New crashers land in the package's
# testdata/fuzz/ directory, which is kept in git as the regression corpus.
set -eu
cd "$(dirname "$0")/.."
t=${1:-3}
# fuzz_one runs one target. Go 1.26's fuzzing coordinator can end a
# -fuzztime run with a bare "context deadline exceeded" when a worker is
# still busy at the deadline (go.dev/issue/75804, fixed in Go 1.27): no
# input failed and none is written. That case alone is run once more; a
# failing input, a panic or a t.Fatal fails at once.
fuzz_one() {
	out=$(go test -run '^$' -fuzz "^$1\$" -fuzztime "${t}s" "$2" 2>&1) && return 0
	if printf '%s\n' "$out" | grep -q '^    context deadline exceeded$' &&
		! printf '%s\n' "$out" | grep -q 'Failing input written\|panic:\|_test.go:[0-9]'; then
		echo "fuzz: $1: the coordinator's deadline race (go.dev/issue/75804), no failing input; running it again" >&2
		out=$(go test -run '^$' -fuzz "^$1\$" -fuzztime "${t}s" "$2" 2>&1) && return 0
	fi
	printf '%s\n' "$out"
	return 1
}

failed=0
npass=0
nfail=0
for f in $(grep -rl --include='*_test.go' '^func Fuzz' .); do
	pkg=./$(dirname "$f" | sed 's|^\./||')
	for fn in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$f"); do
		printf 'fuzz %-32s %s ... ' "$fn" "$pkg"
		if out=$(fuzz_one "$fn" "$pkg"); then
			echo ok
			npass=$((npass + 1))
		else
			echo FAIL
			echo "$out" | tail -20
			failed=1
			nfail=$((nfail + 1))
		fi
	done
done
echo "fuzz: $npass passed, $nfail failed"
exit $failed
