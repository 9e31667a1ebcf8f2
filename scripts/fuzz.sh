#!/bin/sh
# scripts/fuzz.sh [SECONDS]: run every fuzz target of the tree for a short time
# (make test calls it with 3 s each). New crashers land in the package's
# testdata/fuzz/ directory, which is kept in git as the regression corpus.
set -eu
cd "$(dirname "$0")/.."
t=${1:-3}
failed=0
npass=0
nfail=0
for f in $(grep -rl --include='*_test.go' '^func Fuzz' .); do
	pkg=./$(dirname "$f" | sed 's|^\./||')
	for fn in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$f"); do
		printf 'fuzz %-32s %s ... ' "$fn" "$pkg"
		if out=$(go test -run '^$' -fuzz "^$fn\$" -fuzztime "${t}s" "$pkg" 2>&1); then
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
