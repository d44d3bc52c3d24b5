/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * manifest.h - a canonical text description of a mounted tree.
 *
 * One line per entry, sorted by path (byte order), never following
 * symlinks.  scripts/manifest.py writes the same format from a host tree,
 * so a tree can be compared with the mount of an image built from it, and
 * two mounts of one image (stock erofs and sharefs) with each other:
 *
 *   PATH type=T mode=OOOO uid=U gid=G nlink=N size=S dsize=S
 *        mtime=SEC.NSEC rdev=MAJ:MIN data=SHA256HEX|target=HEX
 *        xattrs=NAME=HEX,...|- dtype=T hl=FIRSTPATH|- ino=I blocks=B
 *
 * PATH is "/" for the root, else "/a/b", with bytes outside 0x21..0x7e and
 * '%' written as %XX.  Only the selected fields appear, in this order.
 * size is for non-directories, dsize for directories (builders lay
 * directories out differently from the host's filesystem).  data is the
 * SHA-256 of a regular file's content, target the hex of a symlink's
 * target.  xattrs are sorted by name.  dtype is the d_type that readdir
 * of the parent reported ("-" for the root).  hl names the first path (in
 * sorted order) of a group of non-directories that share one st_ino, "-"
 * for a file alone.
 *
 * A manifest file starts with header lines:
 *   #fields type,mode,...       the fields the builder preserves
 *   #ignore-xattr NAME,...      xattrs the builder adds (fingerprints)
 */
#ifndef SFS_MANIFEST_H
#define SFS_MANIFEST_H

#include <stddef.h>

enum {
	MF_TYPE = 1 << 0, MF_MODE = 1 << 1, MF_UID = 1 << 2, MF_GID = 1 << 3,
	MF_NLINK = 1 << 4, MF_SIZE = 1 << 5, MF_DSIZE = 1 << 6,
	MF_MTIME = 1 << 7, MF_RDEV = 1 << 8, MF_DATA = 1 << 9,
	MF_XATTRS = 1 << 10, MF_DTYPE = 1 << 11, MF_HL = 1 << 12,
	MF_INO = 1 << 13, MF_BLOCKS = 1 << 14,
	MF_ALL = (1 << 15) - 1,
};

#define MF_MAX_IGNORE	8

struct sfs_mf_opts {
	unsigned int fields;		/* MF_* */
	int max_depth;			/* 0: unbounded */
	long max_entries;		/* 0: unbounded */
	const char *ignore_xattr[MF_MAX_IGNORE];	/* NULL-terminated */
};

struct sfs_mf {
	char **lines;
	size_t n, cap;
	long entries;		/* entries visited */
	int nerrs;		/* operations that failed */
	int first_err;		/* errno of the first failure */
	char err_where[512];	/* "op path" of the first failure */
	int truncated;		/* hit max_depth or max_entries */
	/* from a loaded file */
	unsigned int fields;
	char ignore_buf[256];
	const char *ignore_xattr[MF_MAX_IGNORE];
};

/* Parse "type,mode,..." ("all" for everything); -1 on an unknown name. */
int sfs_mf_parse_fields(const char *csv, unsigned int *fields);

/* Walk the tree at root.  Returns 0 when the walk ran (m->nerrs counts the
 * operations that failed, m->first_err/err_where the first), or -errno
 * when root itself cannot be read. */
int sfs_mf_build(const char *root, const struct sfs_mf_opts *o,
		 struct sfs_mf *m);

/* Load a manifest file with its header. */
int sfs_mf_load(const char *path, struct sfs_mf *m);

/* Options that produce a manifest comparable with a loaded one. */
void sfs_mf_opts_from(const struct sfs_mf *loaded, struct sfs_mf_opts *o);

/* Number of differing lines (a line present in only one counts once);
 * the first max of them are written to buf as "-a" / "+b" lines. */
int sfs_mf_diff(const struct sfs_mf *a, const struct sfs_mf *b,
		char *buf, size_t len, int max);

void sfs_mf_free(struct sfs_mf *m);

/* SHA-256 of a file's content (hex, 65 bytes), reading with read(2). */
int sfs_sha256_file(const char *path, char hex[65]);
void sfs_sha256_hex(const void *data, size_t len, char hex[65]);

#endif
