#!/usr/bin/env bash
# Compile time against the size of one function: swiftbpfcc -O2 -g and clang-19 -target bpf -O2 -g
# on generated programs of N = 500, 1000, 2000 and 4000 statements, in four shapes:
#
#   straight  N statements of arithmetic on four locals, reading and writing global arrays
#   sum       one expression summing N terms, each a global
#   elseif    an if / else if chain of N arms comparing one variable
#   locals    N locals, all declared at the top of the function (in scope to its end), each
#             computed from the two before it and written to a global
#
# Each is a SEC("syscall") program the kernel loads. Prints, per shape and N, the best of three
# wall-clock times (one run when a compile takes over 5 s) of each compiler and ours/clang, then
# per shape ours(4000)/ours(500), each marked against issue 11's targets: ours/clang <= 3 at
# N = 4000, and ours(4000)/ours(500) <= 12 (near-linear growth).
#
#     bench/compile_time.sh           # bench/run.sh runs it too
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh

sizes=(500 1000 2000 4000)
shapes=(straight sum elseif locals)

# The common head of every program: inputs the compiler cannot fold, outputs it cannot drop.
prologue() {
	cat <<-'EOF'
	#include <swiftbpf.h>

	char LICENSE[] SEC("license") = "GPL";

	long in[8] = { 3, 5, 7, 11, 13, 17, 19, 23 };
	long out[8];
	EOF
}

generate_straight() {
	local n=$1 i
	prologue
	echo 'SEC("syscall") int straight(void *ctx)'
	echo '{'
	echo '	long a = in[0], b = in[1], c = in[2], d = in[3];'
	for ((i = 0; i < n; i++)); do
		case $((i % 5)) in
		0) echo "	a += b * $((i % 13 + 2));" ;;
		1) echo "	b ^= c + $i;" ;;
		2) echo "	c = (c << $((i % 7 + 1))) - d;" ;;
		3) echo "	d += a & $((i % 255 + 1));" ;;
		4) echo "	out[$((i % 8))] = a + in[$(((i + 3) % 8))];" ;;
		esac
	done
	echo '	return (int)(a ^ b ^ c ^ d);'
	echo '}'
}

generate_sum() {
	local n=$1 i
	prologue
	# A global per term: terms that are values of one variable (x ^ i) or elements of one array
	# clang reassociates into a tree that needs more stack than BPF has.
	for ((i = 0; i < n; i++)); do echo "long g$i;"; done
	echo 'SEC("syscall") int sum(void *ctx)'
	echo '{'
	echo '	out[0] = g0'
	for ((i = 1; i < n; i++)); do echo "		+ g$i"; done
	echo '		;'
	echo '	return 0;'
	echo '}'
}

generate_elseif() {
	local n=$1 i
	prologue
	echo 'SEC("syscall") int elseif(void *ctx)'
	echo '{'
	echo '	long x = in[0], r;'
	echo '	if (x == 0)'
	echo '		r = 1;'
	for ((i = 1; i < n; i++)); do
		echo "	else if (x == $((i * 3)))"
		echo "		r = x * $((i % 61 + 2)) + $i;"
	done
	echo '	else'
	echo '		r = -1;'
	echo '	out[0] = r;'
	echo '	return 0;'
	echo '}'
}

generate_locals() {
	local n=$1 i
	prologue
	echo 'SEC("syscall") int locals(void *ctx)'
	echo '{'
	for ((i = 0; i < n; i++)); do echo "	long v$i;"; done
	echo '	v0 = in[0];'
	echo '	v1 = in[1];'
	for ((i = 2; i < n; i++)); do
		echo "	v$i = (v$((i - 1)) ^ v$((i - 2))) + $i;"
		if ((i % 16 == 0)); then echo "	out[$((i / 16 % 8))] = v$i;"; fi
	done
	echo "	return (int)(v$((n - 1)) + v0);"
	echo '}'
}

# "ok" when the ratio $1 is at most $2, else "MISSED".
mark() { awk -v r="$1" -v limit="$2" 'BEGIN { print (r <= limit ? "ok" : "MISSED") }'; }

echo "Compile time against function size (best of three, us), -O2 -g"
printf '%-9s %5s %10s %10s %7s\n' shape N clang ours ratio
declare -A ours_us
for shape in "${shapes[@]}"; do
	for n in "${sizes[@]}"; do
		source="$work/$shape-$n.c"
		"generate_$shape" "$n" >"$source"
		clang_us=$(best_time clang-19 -target bpf -O2 -g -I include -I /usr/include/x86_64-linux-gnu -c "$source" \
			-o "$work/$shape-$n-clang.o")
		ours_us[$shape-$n]=$(best_time "$bin/swiftbpfcc" -O2 -g -I include "$source" -o "$work/$shape-$n-ours.o")
		against=$(ratio "${ours_us[$shape-$n]}" "$clang_us")
		target=""
		if [ "$n" -eq 4000 ]; then target="  (<= 3: $(mark "$against" 3))"; fi
		printf '%-9s %5d %10d %10d %7s%s\n' "$shape" "$n" "$clang_us" "${ours_us[$shape-$n]}" "$against" "$target"
	done
done
echo
echo "Growth of our compile time from N = 500 to N = 4000 (8x the statements)"
printf '%-9s %7s\n' shape ratio
for shape in "${shapes[@]}"; do
	growth=$(ratio "${ours_us[$shape-4000]}" "${ours_us[$shape-500]}")
	printf '%-9s %7s  (<= 12: %s)\n' "$shape" "$growth" "$(mark "$growth" 12)"
done
