/* The memory of one BPF record: the bytes its captures hold, read as the
 * decoder reads a tracee (struct dec_mem). What was not captured reads as
 * EFAULT, as the kernel would have said. */
#pragma once

#include <stddef.h>

#include "bpf/types.h"
#include "syscalls/decode.h"

struct capmem {
	struct dec_mem mem;
	const struct jb_event *ev;
	const unsigned char *end;
	char fdpath[4096 + 64];
};

/* Check a record's captures (bounds, sizes); false when malformed. */
bool capmem_init(struct capmem *m, const struct jb_event *ev, size_t size);
