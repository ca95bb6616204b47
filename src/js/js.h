/* The JavaScript engine (JavaScriptCore). The only subsystem that includes
 * JavaScriptCore headers. Runs on the tracer's thread. */
#pragma once

#include "common/error.h"
#include "hooks/hooks.h"

struct js_options {
	unsigned timeout_ms; /* time limit of one hook call or script run */
};

/* Create the VM and the globals of the seed contract (accessors, hooks,
 * persistence, args) and register the engine with src/hooks. */
int js_init(const struct js_options *o, struct jv_error *e);
/* Run a hook script file (it registers hooks with accessors.AddHookBefore...). */
int js_load_file(const char *path, struct jv_error *e);
/* Run script source; url and line name it in errors. */
int js_load_source(const char *src, const char *url, int line, struct jv_error *e);
/* A seed config callback: run source, then register the function named entry
 * (or the script's value when entry is NULL) for (sysno, phase). Returns the
 * hook id (> 0) or -1. */
int js_add_callback(int sysno, enum hook_phase phase, enum hook_mode mode, const char *source,
		    const char *entry, const char *where, struct jv_error *e);
/* Run source sent through the control socket (src/js/eval.c): *json gets its
 * final value as JSON text (malloc'd), NULL when it has none (undefined, a
 * function); errors carry url:line and a time limit overrun says so. */
int js_eval_json(const char *src, const char *url, char **json, struct jv_error *e);
/* Change the time limit of hook calls and script runs (the control socket). */
void js_set_timeout(unsigned ms);
/* The name of a hook's function (malloc'd, "" when anonymous). */
char *js_hook_name(const struct hook *h);
void js_shutdown(void);
