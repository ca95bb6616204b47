/* The options object of AddHookBefore/AddHookAfter (docs/hooks.md). */
#pragma once

#include <JavaScriptCore/JavaScript.h>

#include "hooks/argfilter.h"

/* Read opts (undefined or null: none) into *f. -1 with *e filled when it is
 * not an object, has an unknown key or a bad filter. */
int js_hook_opts(JSContextRef ctx, JSValueRef opts, struct hook_filter *f, struct jv_error *e);
