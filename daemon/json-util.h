/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Small pieces shared by the JSON the daemon and deadlinectl write. */

#include <jansson.h>
#include <stdint.h>

/* An instant as an RFC 3339 string in the configured zone, or null for
 * NO_TIME; NULL when out of memory. */
json_t *json_time(int64_t t);
