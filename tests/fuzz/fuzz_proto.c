/* libFuzzer target for the control protocol's request parser (src/control/proto.c):
 * the input, cut into chunks as a socket might deliver it, goes through the
 * framing; every request is checked the way the server checks one, and every
 * answer must encode to one line of valid JSON. `make fuzz` runs it. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/proto.h"

static void check_answer(json_t *a)
{
	size_t n;
	char *line = proto_dump(a, &n);
	json_decref(a);
	if (n == 0 || line[n - 1] != '\n' || memchr(line, '\n', n - 1))
		abort();
	json_t *back = json_loadb(line, n, 0, NULL);
	if (!json_is_object(back) || !json_is_string(json_object_get(back, "type")) ||
	    !json_is_string(json_object_get(back, "message")))
		abort();
	json_decref(back);
	free(line);
}

static void check_request(json_t *req)
{
	char err[256];
	json_t *p = json_object_get(req, "payload");
	const char *type = proto_get_str(req, "type", true, err, sizeof(err));
	long long v;
	proto_get_int(p, "pid", false, 1, (1LL << 31) - 1, &v, err, sizeof(err));
	proto_get_int(p, "value", true, -20, 19, &v, err, sizeof(err));
	const char *src = proto_get_str(p, "source", false, err, sizeof(err));
	check_answer(proto_ok(type ? type : err, src ? proto_str(src) : NULL));
	check_answer(proto_error("bad: %s", err));
	json_decref(req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_in in = {0};
	size_t chunk = size ? (size_t)data[0] % 64 + 1 : 1;
	size_t off = 0;
	bool closed = false;
	while (!closed) {
		size_t n = size - off < chunk ? size - off : chunk;
		proto_feed(&in, data + off, n);
		off += n;
		bool eof = off >= size;
		for (;;) {
			struct proto_next nx;
			enum proto_frame f = proto_take(&in, eof, &nx);
			if (f == PROTO_MORE)
				break;
			if (f == PROTO_ERROR)
				check_answer(nx.error);
			else
				check_request(nx.req);
			if (nx.last && eof)
				break;
		}
		if (eof)
			closed = true;
	}
	proto_in_free(&in);
	return 0;
}
