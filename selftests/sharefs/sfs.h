/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sfs.h - fixtures shared by the sharefs selftests.
 *
 * Test images are attached to the VM by scripts/vm-run.sh: all of them on
 * one virtio disk whose layout is listed in /images/manifest ("name offset
 * size" lines), some also as their own disk (/dev/disk/by-id/NAME).  The
 * helpers here attach an image to a loop device, mount and unmount it, and
 * read what the kernel logged in the meantime.
 */
#ifndef SFS_H
#define SFS_H

#include <stddef.h>
#include <sys/types.h>

#define SFS_IMAGES_DISK	"/dev/disk/by-id/images"
#define SFS_MANIFEST	"/images/manifest"

/* Attach image NAME to a free read-only, autoclear loop device and write
 * its path to dev.  Returns an open fd of the device (close it once the
 * device is mounted or no longer needed: the last close clears it), or
 * -errno. */
int sfs_loop_attach(const char *name, char *dev, size_t len);
/* The same for @size bytes at @off of the open file @fd. */
int sfs_loop_attach_fd(int fd, unsigned long long off,
		       unsigned long long size, const char *name,
		       char *dev, size_t len);
int sfs_loop_detach(const char *dev);
/* Where image NAME lies on SFS_IMAGES_DISK: 0 or -errno. */
int sfs_image_extent(const char *name, unsigned long long *off,
		     unsigned long long *size);

/*
 * Device mapper, read-only tables of one target ("START LEN TYPE PARAMS",
 * in 512-byte sectors, devices as MAJ:MIN).  sfs_dm_create() makes device
 * NAME and its node /dev/sfs-NAME (written to dev); sfs_dm_load() swaps a
 * new table in under a live device; all return 0 or -errno.
 */
int sfs_dm_create(const char *name, const char *table, char *dev, size_t len);
int sfs_dm_load(const char *name, const char *table);
int sfs_dm_remove(const char *name);
/* Reads completed on block device @dev (the first field of its sysfs
 * stat), or -1. */
long sfs_dev_reads(const char *dev);
/* Field @field (from 0) of block device @dev's sysfs stat: 0 reads
 * completed, 2 sectors read, ...; or -1. */
long sfs_dev_stat(const char *dev, int field);
/* Wait (up to 2 s) until @dev has no request in flight: 0 or -errno.
 * The request count may still lag by one; sectors are exact. */
int sfs_dev_idle(const char *dev);
/* sfs_dev_stat() once @dev is idle, or -1. */
long sfs_dev_stat_idle(const char *dev, int field);
/* "MAJ:MIN" of block device @path into buf: 0 or -errno. */
int sfs_dev_numbers(const char *path, char *buf, size_t len);

/* Mount image NAME (via a loop device) on a new directory under /mnt.
 * Returns 0 or -errno; the loop device autoclears on umount. */
int sfs_mount_image(const char *name, const char *fstype, const char *opts,
		    char *dir, size_t len);
int sfs_umount(const char *dir);
/* umount2(@dir, @flags), tried again for up to a second on EBUSY: 0 or
 * -errno.  sfs_umount() is this with 0, and removes the directory. */
int sfs_umount_flags(const char *dir, int flags);

/* Kernel log: remember where it ends now, then find what came after. */
void sfs_kmsg_mark(void);
/* Returns 1 if a line logged since the mark contains needle. */
int sfs_kmsg_has(const char *needle);
/* The number of lines logged since the mark that contain needle. */
int sfs_kmsg_count(const char *needle);
/* Calls fn with the text of each line logged since the mark. */
void sfs_kmsg_scan(void (*fn)(const char *text, void *arg), void *arg);
/* Copies the log lines since the mark into buf (for diagnostics). */
void sfs_kmsg_since(char *buf, size_t len);

/* The device of the mount on @dir without "/dev/" (its name under
 * /sys/fs/sharefs/), or NULL.  Valid until the next call. */
const char *sfs_mount_source(const char *dir);
/* A counter of the mount on @dir: /sys/fs/sharefs/<dev>/NAME, or -1. */
long sfs_mount_counter(const char *dir, const char *name);

/*
 * Write WHAT to /proc/sys/vm/drop_caches after a sync: "3" drops the page
 * cache, dentries and inodes, "2" only dentries and inodes.
 */
void sfs_drop_caches(const char *what);

/* The number a file starts with (sysfs, procfs), or -1. */
long sfs_read_num(const char *path);
/* The value of KEY in a file of "KEY VALUE" lines (memory.stat,
 * memory.events), or -1. */
long sfs_read_key(const char *path, const char *key);
/* Write VAL to the file at PATH (sysfs, cgroupfs); 0 or -errno. */
int sfs_write_str(const char *path, const char *val);

/* Is a filesystem type registered (in /proc/filesystems)? */
int sfs_have_fs(const char *fstype);

/* Is the running kernel at least version major.minor? */
int sfs_kernel_at_least(int major, int minor);
/* Is @sym in /proc/kallsyms (a decompressor built into the kernel)? */
int sfs_have_ksym(const char *sym);

/* /proc/meminfo field in KiB, or -1. */
long sfs_meminfo_kb(const char *field);
/* Read the whole file with read(); bytes read or -errno. */
long sfs_read_all(const char *path);
/* @rel under @dir, whole: its bytes (malloc) or NULL with errno set. */
char *sfs_slurp_at(const char *dir, const char *rel, size_t *len);
/* 0: @dir/@rel reads @oracle/@rel's bytes; -errno: it fails; 1: other
 * bytes. */
int sfs_same_file(const char *dir, const char *oracle, const char *rel);
/* Map both files, touch every page, count the pages with equal page-frame
 * numbers (/proc/self/pagemap; root sees real PFNs).  *pages gets the
 * file's page count; -1 on error. */
long sfs_same_pfns(const char *p1, const char *p2, long *pages);

/* Images ship with small side files (NAME.manifest, NAME.xmanifest, *.list)
 * in /images/: the path of one. */
#define SFS_IMAGES_DIR	"/images"

/*
 * Skip a test that needs root and the sharefs module.  A macro: SKIP()
 * must return from the test itself (use with kselftest_harness.h).
 */
#define SFS_REQUIRE_SHAREFS(_metadata) do {				\
	if (getuid() != 0)						\
		SKIP(return, "needs root");				\
	if (!sfs_have_fs("sharefs"))					\
		SKIP(return, "sharefs is not registered");		\
} while (0)

#endif
