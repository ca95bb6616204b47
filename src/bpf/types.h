/* event.h for user space: its fixed-size types. */
#pragma once

#include <linux/types.h>
#include <stdbool.h>

#include "bpf/event.h"
