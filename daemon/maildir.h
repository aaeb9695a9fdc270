/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Delivery into a Maildir (the embedded default transport): each message is
 * written whole to tmp/, flushed to disk, then renamed into new/, so a mail
 * client never sees half a message and a crash never leaves one in new/. */

#include <stddef.h>

/* Creates dir and its tmp/, new/ and cur/ if missing (mode 0700). */
int maildir_prepare(const char *dir);
/* Writes one message; *ret_name (optional) is its file name in new/. */
int maildir_deliver(const char *dir, const char *data, size_t size, char **ret_name);
