// sort.c: a real program: insertion sort and bubble sort of global arrays (signed and
// unsigned keys), binary search, and a median, using loops, array indexing, struct
// swap by assignment and helpers with pointer arguments. Run twice: sorted input stays sorted.
// RUN: --prog sort_ints --prog sort_records --prog search --prog sort_ints --get checksum --get order --get found_at --get median
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

enum { N = 12 };
int keys[N] = { 42, -7, 19, 0, 1000, -300, 19, 5, 77, -1, 64, 8 };
struct record { unsigned short key; char label; } records[6] = {
	{ 500, 'e' }, { 20, 'b' }, { 65535, 'f' }, { 0, 'a' }, { 300, 'd' }, { 20, 'c' },
};
long checksum;
long order;
int found_at;
int median;

static void insertion_sort(int *a, int n)
{
	for (int i = 1; i < n && i < N; i++) {
		int v = a[i];
		int j = i - 1;
		while (j >= 0 && a[j] > v) {
			a[j + 1] = a[j];
			j--;
		}
		a[j + 1] = v;
	}
}

static int binary_search(const int *a, int n, int want)
{
	int lo = 0, hi = n - 1;
	for (int guard = 0; guard < 8 && lo <= hi; guard++) {
		int mid = lo + ((hi - lo) >> 1);
		if (a[mid & 15] == want)
			return mid;
		if (a[mid & 15] < want)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

SEC("syscall") int sort_ints(void *ctx)
{
	insertion_sort(keys, N);
	long s = 0;
	for (int i = 0; i < N; i++)
		s = s * 3 + keys[i];
	checksum = s;
	median = (keys[N / 2 - 1] + keys[N / 2]) >> 1;
	return keys[0] + keys[N - 1];
}

SEC("syscall") int sort_records(void *ctx)
{
	/* Bubble sort with whole-struct swaps; stable for equal keys. */
	for (int pass = 0; pass < 6; pass++)
		for (int i = 0; i + 1 < 6 - pass; i++)
			if (records[i].key > records[i + 1].key) {
				struct record t = records[i];
				records[i] = records[i + 1];
				records[i + 1] = t;
			}
	long o = 0;
	for (int i = 0; i < 6; i++)
		o = o * 10 + (records[i].label - 'a');
	order = o;
	return records[5].key;
}

SEC("syscall") int search(void *ctx)
{
	found_at = binary_search(keys, N, 77) * 100 + binary_search(keys, N, 19) * 10 + (binary_search(keys, N, 3) < 0);
	return binary_search(keys, N, -300);
}
