// SPDX-License-Identifier: GPL-2.0-only OR Apache-2.0
/*
 * options.c - split mount(8)'s -o string for mount.sharefs.
 *
 * mount(8) passes every option to the helper: the generic ones become mount
 * attributes (nosuid, nodev, noexec, the atime family), the userspace-only
 * ones (defaults, auto, user, nofail, x-*, ...) are dropped as mount(8)
 * would, loop parameters (loop, offset=, sizelimit=, nodio) configure the
 * loop device, and the rest goes to the filesystem, which rejects what it
 * does not know with a message of its own (domain=, noshare).  mount(8)
 * adds "rw" whenever the user gave neither rw nor ro, so an "rw" cannot be
 * told from the default: the mount is read-only whatever it says, as
 * mount(8) does for a write-protected device.
 */
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mount.h"

struct attr_opt {
	const char *name;
	unsigned long long set, clear;
};

/* MOUNT_ATTR_RELATIME is 0: the atime family clears the whole field */
static const struct attr_opt attr_opts[] = {
	{ "nosuid", MOUNT_ATTR_NOSUID, 0 },
	{ "suid", 0, MOUNT_ATTR_NOSUID },
	{ "nodev", MOUNT_ATTR_NODEV, 0 },
	{ "dev", 0, MOUNT_ATTR_NODEV },
	{ "noexec", MOUNT_ATTR_NOEXEC, 0 },
	{ "exec", 0, MOUNT_ATTR_NOEXEC },
	{ "noatime", MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME },
	{ "relatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME },
	{ "strictatime", MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME },
	{ "nodiratime", MOUNT_ATTR_NODIRATIME, 0 },
	{ "diratime", 0, MOUNT_ATTR_NODIRATIME },
	{ "ro", MOUNT_ATTR_RDONLY, 0 },
};

/* options only mount(8) and fstab care about */
static const char *const ignored_opts[] = {
	"defaults", "auto", "noauto", "user", "nouser", "users", "owner",
	"group", "nofail", "_netdev", "async", "sync", "loud", "silent",
};

static int is_ignored(const char *o)
{
	size_t i;

	if (!strncmp(o, "x-", 2) || !strncmp(o, "comment=", 8))
		return 1;
	for (i = 0; i < sizeof(ignored_opts) / sizeof(ignored_opts[0]); i++)
		if (!strcmp(o, ignored_opts[i]))
			return 1;
	return 0;
}

static int parse_size(const char *v, unsigned long long *out)
{
	char *end;

	if (!*v)
		return -1;
	*out = strtoull(v, &end, 0);
	return *end ? -1 : 0;
}

/* one option; 0, or -1 with a message in err */
static int parse_one(char *o, struct sharefs_mount_opts *mo,
		     char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < sizeof(attr_opts) / sizeof(attr_opts[0]); i++) {
		if (strcmp(o, attr_opts[i].name))
			continue;
		mo->attr = (mo->attr & ~attr_opts[i].clear) | attr_opts[i].set;
		return 0;
	}
	if (!strcmp(o, "rw") || is_ignored(o))
		return 0;
	if (!strcmp(o, "loop")) {
		mo->want_loop = 1;
		return 0;
	}
	if (!strcmp(o, "nodio")) {
		mo->nodio = 1;
		return 0;
	}
	if (!strncmp(o, "offset=", 7) || !strncmp(o, "sizelimit=", 10)) {
		char *v = strchr(o, '=') + 1;

		if (parse_size(v, o[0] == 'o' ? &mo->offset : &mo->sizelimit)) {
			snprintf(err, errlen, "bad number in \"%s\"", o);
			return -1;
		}
		return 0;
	}
	if (mo->nr_fs == (int)(sizeof(mo->fs) / sizeof(mo->fs[0]))) {
		snprintf(err, errlen, "too many options");
		return -1;
	}
	mo->fs[mo->nr_fs++] = o;
	return 0;
}

int sharefs_parse_mount_opts(char *opts, struct sharefs_mount_opts *mo,
			     char *err, size_t errlen)
{
	char *o, *save = NULL;

	memset(mo, 0, sizeof(*mo));
	mo->attr = MOUNT_ATTR_RDONLY;
	for (o = opts ? strtok_r(opts, ",", &save) : NULL; o;
	     o = strtok_r(NULL, ",", &save))
		if (parse_one(o, mo, err, errlen))
			return -1;
	return 0;
}
