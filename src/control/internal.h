/* Private to src/control/. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "control/control.h"

/* Does this request type need the tracer's thread? (Everything but errors.) */
bool control_known_type(const char *type);
/* Run one request on the tracer's thread; returns the answer. */
json_t *control_exec(json_t *req);
/* Settings shown by the `config` command. */
extern struct control_options control_opts;
extern char *control_addr_shown; /* the address as printed */
