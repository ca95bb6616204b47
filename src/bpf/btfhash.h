/* A 64-bit fingerprint of the kernel's BTF (FNV-1a over 8-byte words, the tail
 * bytewise): the build records that of the BTF it compiled against
 * (tools/btfhash.c), and src/bpf/backend.c compares it with the running
 * kernel's to know whether the minimal BTF made at build time describes it. */
#ifndef JVISOR_BPF_BTFHASH_H
#define JVISOR_BPF_BTFHASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t btf_hash(const void *data, size_t size)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i = 0;
	for (; i + 8 <= size; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x100000001b3ull;
	}
	for (; i < size; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h ^ size;
}

#endif
