/* The options object of AddHookBefore/AddHookAfter (docs/hooks.md). */
#pragma once

#include <JavaScriptCore/JavaScript.h>

#include "hooks/hooks.h"

/* Read opts (undefined or null: none) into *f and *mode. -1 with *e filled
 * when it is not an object, has an unknown key, a bad filter or mode. */
int js_hook_opts(JSContextRef ctx, JSValueRef opts, struct hook_filter *f, enum hook_mode *mode,
		 struct jv_error *e);
