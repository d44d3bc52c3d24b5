/* SPDX-License-Identifier: GPL-2.0-only OR Apache-2.0 */
/*
 * mount.h - the parts of mount.sharefs: options (options.c), the direct-I/O
 * loop device (loop.c), the mount itself (main.c).
 */
#ifndef SHAREFS_MOUNT_H
#define SHAREFS_MOUNT_H

#include <stddef.h>

/* mount(8)'s exit codes */
#define MNT_EX_USAGE	1
#define MNT_EX_SYSERR	2
#define MNT_EX_FAIL	32

/* -o, split into mount attributes, loop parameters and sharefs options */
struct sharefs_mount_opts {
	unsigned long long attr;	/* MOUNT_ATTR_* for fsmount() */
	unsigned long long offset;	/* loop offset= */
	unsigned long long sizelimit;	/* loop sizelimit= */
	int want_loop;			/* "loop": the caller asked for one */
	int nodio;			/* "nodio": a buffered loop device */
	char *fs[64];			/* options for the filesystem itself */
	int nr_fs;
};

/* options.c */
int sharefs_parse_mount_opts(char *opts, struct sharefs_mount_opts *mo,
			     char *err, size_t errlen);

/* loop.c */
int sharefs_loop_attach(const char *image, unsigned long long offset,
			unsigned long long sizelimit, int dio,
			char *dev, size_t len);
int sharefs_loop_dio(const char *dev);
int sharefs_loop_set_dio(int fd);

#endif /* SHAREFS_MOUNT_H */
