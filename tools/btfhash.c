/* Build helper: print the size and btf_hash() of a BTF file as C defines
 * (tools/gen-min-btf.sh). */
#include <stdio.h>
#include <stdlib.h>

#include "bpf/btfhash.h"

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: btfhash FILE\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	size_t cap = 1 << 20, n = 0, r;
	unsigned char *buf = malloc(cap);
	while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap)
			buf = realloc(buf, cap *= 2);
	}
	if (!buf || ferror(f)) {
		fprintf(stderr, "btfhash: cannot read %s\n", argv[1]);
		return 1;
	}
	fclose(f);
	printf("#define JV_KERNEL_BTF_SIZE %zuu\n#define JV_KERNEL_BTF_HASH 0x%016llxull\n", n,
	       (unsigned long long)btf_hash(buf, n));
	free(buf);
	return 0;
}
