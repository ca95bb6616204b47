/* The "args" map of a config file's callbacks entry (docs/hooks.md,
 * "Argument filters"): {"INDEX": VALUE or {"value": V, "mask": M, "op": OP}}.
 * Values are JSON integers (negative ones as 64-bit two's complement) or
 * strings of a C integer ("0x8000000000000000", "-100"). */
#include <errno.h>
#include <jansson.h>

#include "cli/cli.h"

static int value_of(const char *path, size_t i, const char *key, const char *what, json_t *v,
		    uint64_t *out, struct jv_error *e)
{
	if (json_is_integer(v)) {
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	const char *s = json_string_value(v);
	if (s && *s) {
		char *end;
		errno = 0;
		if (s[0] == '-')
			*out = (uint64_t)strtoll(s, &end, 0);
		else
			*out = strtoull(s, &end, 0);
		if (!errno && !*end)
			return 0;
	}
	return jv_err(e, 0, "%s: callbacks[%zu].args.%s%s must be an integer or a string of one",
		      path, i, key, what);
}

int config_hook_args(const char *path, size_t i, json_t *v, struct hook_filter *f,
		     struct jv_error *e)
{
	memset(f, 0, sizeof(*f));
	if (!json_is_object(v))
		return jv_err(e, 0, "%s: callbacks[%zu].args must be an object {\"INDEX\": VALUE}",
			      path, i);
	const char *key;
	json_t *a;
	json_object_foreach (v, key, a) {
		if (key[0] < '0' || key[0] > '5' || key[1])
			return jv_err(e, 0, "%s: callbacks[%zu].args: key '%s' is not 0..5", path,
				      i, key);
		long idx = key[0] - '0';
		uint64_t value = 0, mask = 0;
		const char *op = NULL;
		bool has_mask = false;
		if (json_is_object(a)) {
			const char *k;
			json_t *x;
			json_object_foreach (a, k, x) {
				if (!strcmp(k, "value")) {
					if (value_of(path, i, key, ".value", x, &value, e) < 0)
						return -1;
				} else if (!strcmp(k, "mask")) {
					has_mask = true;
					if (value_of(path, i, key, ".mask", x, &mask, e) < 0)
						return -1;
				} else if (!strcmp(k, "op")) {
					if (!(op = json_string_value(x)))
						return jv_err(
						    e, 0,
						    "%s: callbacks[%zu].args.%s.op must be "
						    "a string",
						    path, i, key);
				} else {
					return jv_err(
					    e, 0,
					    "%s: callbacks[%zu].args.%s: unknown key '%s' "
					    "(expected value, mask, op)",
					    path, i, key, k);
				}
			}
			if (!json_object_get(a, "value"))
				return jv_err(e, 0, "%s: callbacks[%zu].args.%s needs a value",
					      path, i, key);
		} else if (value_of(path, i, key, "", a, &value, e) < 0) {
			return -1;
		}
		if (argfilter_add(f, idx, op, value, has_mask, mask, e) < 0)
			return jv_err_prefix(e, "%s: callbacks[%zu].args", path, i);
	}
	return 0;
}
