/* The control protocol's framing and answers. Pure: no sockets, no tracer,
 * so the fuzz target (tests/fuzz/) drives it directly.
 *
 * A connection carries JSON requests. One ended by a newline keeps the
 * connection open for the next one (our clients: one request per line); one
 * that ends the data without a newline is the seed's style (one object per
 * connection): it is answered and the connection is closed. Invalid JSON, a
 * request over PROTO_MAX_REQUEST bytes, or anything that is not an object is
 * answered with an error and skipped up to the next newline. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define PROTO_MAX_REQUEST (1024 * 1024)

struct proto_in {
	char *buf;
	size_t len, cap;
	bool skipping; /* discarding an invalid request up to the next newline */
};

enum proto_frame { PROTO_MORE = 0, PROTO_REQUEST, PROTO_ERROR };

struct proto_next {
	json_t *req;   /* PROTO_REQUEST: the request (owned by the caller) */
	bool last;     /* PROTO_REQUEST: no newline after it (seed style) */
	json_t *error; /* PROTO_ERROR: the answer to send (owned by the caller) */
};

/* Append bytes read from the peer (call proto_take after each read: it
 * reports a request that grows past PROTO_MAX_REQUEST). */
void proto_feed(struct proto_in *in, const void *data, size_t n);
/* The next request or error in the buffer; eof: the peer closed its side. */
enum proto_frame proto_take(struct proto_in *in, bool eof, struct proto_next *out);
void proto_in_free(struct proto_in *in);

/* Answers: {"type":"ok"|"error","message":...,"payload":...}. The message is
 * made valid UTF-8 (invalid bytes become U+FFFD). */
json_t *proto_ok(const char *message, json_t *payload);
json_t *proto_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A JSON string of any C string (invalid UTF-8 repaired). Never NULL. */
json_t *proto_str(const char *s);
/* One line of JSON text (ends with "\n"), malloc'd. Never NULL: an answer that
 * cannot be encoded is replaced by an error answer. */
char *proto_dump(json_t *answer, size_t *len);

/* Checks of a request's fields: the value of key when it has the wanted type,
 * else NULL with *err set (a message naming the field). */
const char *proto_get_str(json_t *o, const char *key, bool required, char *err, size_t errlen);
/* An integer in [min, max]; returns 1 when present, 0 when absent and not
 * required, -1 on error. */
int proto_get_int(json_t *o, const char *key, bool required, long long min, long long max,
		  long long *out, char *err, size_t errlen);
