// SPDX-License-Identifier: GPL-2.0-only OR Apache-2.0
/*
 * tree.c - the in-memory tree both sources build: nodes, names, xattrs.
 *
 * A node is one inode of the image; hard links are several dentries that
 * point at one node.  Names are bytes compared with memcmp, shorter first
 * on a common prefix: the order EROFS directories are sorted in, so the
 * same order serves the dirent blocks and the image layout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "mkfs.h"

struct sharefs_node *sharefs_node_new(uint32_t mode)
{
	struct sharefs_node *n = sharefs_xcalloc(1, sizeof(*n));

	n->mode = mode;
	n->nlink = S_ISDIR(mode) ? 2 : 1;
	return n;
}

int sharefs_name_cmp(const char *a, unsigned int alen,
		     const char *b, unsigned int blen)
{
	int r = memcmp(a, b, alen < blen ? alen : blen);

	if (r)
		return r;
	return alen < blen ? -1 : alen > blen;
}

int sharefs_node_add_child(struct sharefs_node *dir, const char *name,
			   struct sharefs_node *child)
{
	size_t len = strlen(name);

	if (len == 0 || len > SHAREFS_NAME_LEN)
		return -ENAMETOOLONG;
	if (dir->nchild == dir->capchild) {
		dir->capchild = dir->capchild ? dir->capchild * 2 : 8;
		dir->children = sharefs_xrealloc(dir->children,
				dir->capchild * sizeof(*dir->children));
	}
	dir->children[dir->nchild].name = sharefs_xstrdup(name);
	dir->children[dir->nchild].len = (unsigned int)len;
	dir->children[dir->nchild].node = child;
	dir->nchild++;
	if (S_ISDIR(child->mode)) {
		child->parent = dir;
		dir->nlink++;
	}
	return 0;
}

static int dentry_cmp(const void *pa, const void *pb)
{
	const struct sharefs_dentry *a = pa, *b = pb;

	return sharefs_name_cmp(a->name, a->len, b->name, b->len);
}

/* qsort() wants a non-NULL base even for zero elements (C11 7.22.5). */
void sharefs_node_sort_children(struct sharefs_node *dir)
{
	if (dir->nchild > 1)
		qsort(dir->children, dir->nchild, sizeof(*dir->children),
		      dentry_cmp);
}

unsigned int sharefs_mode_to_ftype(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:	return SHAREFS_FT_REG_FILE;
	case S_IFDIR:	return SHAREFS_FT_DIR;
	case S_IFCHR:	return SHAREFS_FT_CHRDEV;
	case S_IFBLK:	return SHAREFS_FT_BLKDEV;
	case S_IFIFO:	return SHAREFS_FT_FIFO;
	case S_IFSOCK:	return SHAREFS_FT_SOCK;
	case S_IFLNK:	return SHAREFS_FT_SYMLINK;
	}
	return SHAREFS_FT_UNKNOWN;
}

void sharefs_xattr_set_raw(struct sharefs_node *n, uint8_t index,
			   const char *name, const void *value, size_t len)
{
	size_t nlen = strlen(name);
	struct sharefs_xattr *x = NULL;

	for (unsigned int i = 0; i < n->nxattrs; i++) {
		struct sharefs_xattr *y = &n->xattrs[i];

		if (y->index == index && y->name_len == nlen &&
		    !memcmp(y->name, name, nlen)) {
			x = y;
			free(x->value);
			break;
		}
	}
	if (!x) {
		n->xattrs = sharefs_xrealloc(n->xattrs,
				(n->nxattrs + 1) * sizeof(*n->xattrs));
		x = &n->xattrs[n->nxattrs++];
		x->index = index;
		x->name = sharefs_xstrdup(name);
		x->name_len = (uint8_t)nlen;
	}
	x->value = sharefs_xmalloc(len);
	memcpy(x->value, value, len);
	x->value_len = (uint16_t)len;
}

static const struct {
	const char *prefix;
	uint8_t index;
	bool whole;			/* the name is the prefix, no suffix */
} xattr_prefixes[] = {
	{ "user.",			SHAREFS_XATTR_INDEX_USER,		false },
	{ "trusted.",			SHAREFS_XATTR_INDEX_TRUSTED,		false },
	{ "security.",			SHAREFS_XATTR_INDEX_SECURITY,		false },
	{ "system.posix_acl_access",	SHAREFS_XATTR_INDEX_POSIX_ACL_ACCESS,	true },
	{ "system.posix_acl_default",	SHAREFS_XATTR_INDEX_POSIX_ACL_DEFAULT,	true },
};

/*
 * Map a full xattr name onto (index, suffix).  Returns -EOPNOTSUPP for a
 * namespace EROFS cannot store, -ERANGE when name or value are too long.
 */
int sharefs_xattr_set(struct sharefs_node *n, const char *fullname,
		      const void *value, size_t len)
{
	for (size_t i = 0; i < sizeof(xattr_prefixes) / sizeof(xattr_prefixes[0]); i++) {
		const char *p = xattr_prefixes[i].prefix;
		size_t plen = strlen(p);
		const char *suffix;

		if (strncmp(fullname, p, plen))
			continue;
		suffix = fullname + plen;
		if (xattr_prefixes[i].whole ? *suffix != '\0' : *suffix == '\0')
			continue;
		if (strlen(suffix) > 255 || len > 65535)
			return -ERANGE;
		sharefs_xattr_set_raw(n, xattr_prefixes[i].index, suffix,
				      value, len);
		return 0;
	}
	return -EOPNOTSUPP;
}

/*
 * A fingerprint or verity xattr in the image is always one mkfs computed
 * from the bytes it stores.  One that comes with the source (a directory's
 * xattrs, a tar's SCHILY.xattr) was never checked against the content, so
 * it is dropped whatever the options: --no-fingerprint images carry no
 * fingerprint, images without --verity no trusted.sharefs.verity, and
 * empty or non-regular files never carry either.  The --ishare-xattr name
 * is the same full name as the fingerprint (long prefix
 * "trusted.fingerprint", empty suffix), so this covers it too.
 */
static bool is_computed(const struct sharefs_xattr *x)
{
	static const char *const names[] = {
		SHAREFS_FP_SUFFIX, SHAREFS_VERITY_SUFFIX,
	};

	if (x->index != SHAREFS_XATTR_INDEX_TRUSTED)
		return false;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (x->name_len == strlen(names[i]) &&
		    !memcmp(x->name, names[i], x->name_len))
			return true;
	return false;
}

void sharefs_xattr_drop_computed(struct sharefs_node *n)
{
	for (unsigned int i = 0; i < n->nxattrs;) {
		struct sharefs_xattr *x = &n->xattrs[i];

		if (!is_computed(x)) {
			i++;
			continue;
		}
		free(x->name);
		free(x->value);
		n->xattrs[i] = n->xattrs[--n->nxattrs];
	}
}

static int xattr_cmp(const void *pa, const void *pb)
{
	const struct sharefs_xattr *a = pa, *b = pb;

	if (a->index != b->index)
		return a->index < b->index ? -1 : 1;
	return sharefs_name_cmp(a->name, a->name_len, b->name, b->name_len);
}

void sharefs_xattrs_sort(struct sharefs_node *n)
{
	if (n->nxattrs > 1)
		qsort(n->xattrs, n->nxattrs, sizeof(*n->xattrs), xattr_cmp);
}

/* The inline xattr area: 12-byte header, then 4-aligned entries. */
unsigned int sharefs_xattr_ibody_size(const struct sharefs_node *n)
{
	unsigned int size;

	if (!n->nxattrs)
		return 0;
	size = sizeof(struct sharefs_xattr_ibody_header);
	for (unsigned int i = 0; i < n->nxattrs; i++)
		size += SHAREFS_XATTR_ALIGN(sizeof(struct sharefs_xattr_entry) +
					    n->xattrs[i].name_len +
					    n->xattrs[i].value_len);
	return size;
}
