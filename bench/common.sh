# What the bench scripts share (sourced from the repository's root, not run): a release build,
# its binaries in $bin, a scratch directory $work removed on exit, and the timing helpers.

export PATH="$PATH:/opt/swift/usr/bin"
swift build -c release >/dev/null
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

now_ns() { date +%s%N; }

# The best of up to three wall-clock times of a command, in microseconds: a run that takes over
# five seconds is not repeated, its one time is telling enough.
best_time() {
	local best=0 start end elapsed
	for _ in 1 2 3; do
		start=$(now_ns)
		"$@" >/dev/null 2>&1
		end=$(now_ns)
		elapsed=$(((end - start) / 1000))
		if [ "$best" -eq 0 ] || [ "$elapsed" -lt "$best" ]; then best=$elapsed; fi
		if [ "$elapsed" -gt 5000000 ]; then break; fi
	done
	echo "$best"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.2f", a / b }'; }
