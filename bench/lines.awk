# Machine instructions per C line, from listings of one function: `swiftbpf dump --jited` output
# (a `; text` line above the instructions of each C line) or `objdump -d -l` output (a
# `file:line` line above them, whose text this reads from the file). A line is keyed by its text
# with the spaces trimmed, so listings of the same source by different compilers line up.
#
#     awk -f bench/lines.awk -v names="ours clang native" ours.jit clang.jit native.lst
#
# Prints one row per C line, in the order the first listing shows them (lines only others show
# come after), with each listing's count, then the totals.

function trim(s) {
	gsub(/^[ \t]+|[ \t]+$/, "", s)
	return s
}

FNR == 1 { listing++ }

# swiftbpf dump --jited: "; text" starts a line, "   1f: insn" is an instruction.
/^; / { current = trim(substr($0, 3)); next }

# objdump -d -l: "/path/file.c:52" (maybe followed by " (discriminator 2)") starts a line.
/^\/.*:[0-9]+/ {
	location = $1
	split(location, parts, ":")
	file = parts[1]
	number = parts[2] + 0
	text = ""
	for (i = 1; (getline row < file) > 0; i++) if (i == number) { text = row; break }
	close(file)
	current = trim(text)
	next
}

/^ *[0-9a-f]+:[ \t]/ {
	if (current == "" || $2 ~ /^nop/) next
	if (!(current in order)) { order[current] = ++lines; text_of[lines] = current }
	count[listing, current]++
	total[listing]++
}

END {
	split(names, name, " ")
	header = ""
	for (l = 1; l <= listing; l++) header = header sprintf("%7s", name[l])
	print header "  C line"
	for (n = 1; n <= lines; n++) {
		row = ""
		for (l = 1; l <= listing; l++) row = row sprintf("%7d", count[l, text_of[n]])
		print row "  " text_of[n]
	}
	row = ""
	for (l = 1; l <= listing; l++) row = row sprintf("%7d", total[l])
	print row "  total"
}
