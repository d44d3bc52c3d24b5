// SPDX-License-Identifier: GPL-2.0-only OR Apache-2.0
/*
 * walk.c - read a directory tree into nodes.
 *
 * lstat() everything and never follow a symlink below SOURCE.  Hard links
 * are found by (st_dev, st_ino) of non-directories with st_nlink > 1 and
 * become one node; nlink is then the number of links inside the image.  A
 * directory whose (dev, ino) is already on the current path is a loop (bind
 * mounts can make one) and is an error.  File contents are not read here:
 * content.c does that in parallel.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "mkfs.h"

struct link_ent {
	dev_t dev;
	ino_t ino;
	struct sharefs_node *node;
};

struct walk {
	struct sharefs_build *b;
	struct link_ent *links;		/* open-addressed (dev, ino) table */
	size_t nlinks, caplinks;
	struct { dev_t dev; ino_t ino; } *stack;	/* dirs on the path */
	size_t depth, capdepth;
	size_t nfiles;
};

static size_t link_hash(dev_t dev, ino_t ino, size_t cap)
{
	return (size_t)((ino * 0x9E3779B97F4A7C15ull) ^ dev) & (cap - 1);
}

static struct link_ent *link_find(struct walk *w, dev_t dev, ino_t ino)
{
	size_t i;

	if (!w->caplinks)
		return NULL;
	for (i = link_hash(dev, ino, w->caplinks); w->links[i].node;
	     i = (i + 1) & (w->caplinks - 1))
		if (w->links[i].dev == dev && w->links[i].ino == ino)
			return &w->links[i];
	return NULL;
}

static void link_add(struct walk *w, dev_t dev, ino_t ino,
		     struct sharefs_node *n)
{
	size_t i;

	if (2 * (w->nlinks + 1) > w->caplinks) {
		struct link_ent *old = w->links;
		size_t oldcap = w->caplinks;

		w->caplinks = oldcap ? oldcap * 2 : 1024;
		w->links = sharefs_xcalloc(w->caplinks, sizeof(*w->links));
		w->nlinks = 0;
		for (size_t j = 0; j < oldcap; j++)
			if (old[j].node)
				link_add(w, old[j].dev, old[j].ino, old[j].node);
		free(old);
	}
	for (i = link_hash(dev, ino, w->caplinks); w->links[i].node;
	     i = (i + 1) & (w->caplinks - 1))
		;
	w->links[i].dev = dev;
	w->links[i].ino = ino;
	w->links[i].node = n;
	w->nlinks++;
}

static int read_xattrs(struct sharefs_node *n, const char *path)
{
	ssize_t len = llistxattr(path, NULL, 0);
	char *names, *p;

	if (len < 0)
		return (errno == ENOTSUP || errno == ENOSYS) ? 0 : -errno;
	if (!len)
		return 0;
	names = sharefs_xmalloc((size_t)len);
	len = llistxattr(path, names, (size_t)len);
	if (len < 0) {
		free(names);
		return -errno;
	}
	for (p = names; p < names + len; p += strlen(p) + 1) {
		ssize_t vlen = lgetxattr(path, p, NULL, 0);
		char *val;
		int err;

		if (vlen < 0) {
			if (errno == ENODATA)
				continue;
			free(names);
			return -errno;
		}
		val = sharefs_xmalloc((size_t)vlen);
		vlen = lgetxattr(path, p, val, (size_t)vlen);
		if (vlen < 0) {
			free(val);
			free(names);
			return -errno;
		}
		err = sharefs_xattr_set(n, p, val, (size_t)vlen);
		if (err == -EOPNOTSUPP)
			sharefs_msg("%s: xattr %s: namespace not supported, skipped",
				    path, p);
		else if (err) {
			sharefs_msg("%s: xattr %s: too long", path, p);
			free(val);
			free(names);
			return err;
		}
		free(val);
	}
	free(names);
	sharefs_xattr_drop_computed(n);
	return 0;
}

static void fill_attrs(struct sharefs_node *n, const struct stat *st)
{
	n->mode = st->st_mode;
	n->uid = st->st_uid;
	n->gid = st->st_gid;
	n->mtime = st->st_mtim.tv_sec;
	n->mtime_nsec = (uint32_t)st->st_mtim.tv_nsec;
	if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
		n->rdev_major = major(st->st_rdev);
		n->rdev_minor = minor(st->st_rdev);
	}
}

static char *join(const char *dir, const char *name)
{
	size_t a = strlen(dir), c = strlen(name);
	char *p = sharefs_xmalloc(a + c + 2);

	memcpy(p, dir, a);
	p[a] = '/';
	memcpy(p + a + 1, name, c + 1);
	return p;
}

static int walk_dir(struct walk *w, struct sharefs_node *dir, const char *path,
		    const struct stat *dst);

static int walk_entry(struct walk *w, struct sharefs_node *dir,
		      const char *path, const char *name)
{
	struct sharefs_node *n;
	struct link_ent *le;
	struct stat st;
	int err;

	if (strlen(name) > SHAREFS_NAME_LEN) {
		sharefs_msg("%s: name longer than %d bytes", path,
			    SHAREFS_NAME_LEN);
		return -ENAMETOOLONG;
	}
	if (lstat(path, &st)) {
		err = -errno;
		sharefs_msg("%s: %s", path, strerror(errno));
		return err;
	}
	if (!S_ISDIR(st.st_mode) && st.st_nlink > 1 &&
	    (le = link_find(w, st.st_dev, st.st_ino))) {
		le->node->nlink++;
		return sharefs_node_add_child(dir, name, le->node);
	}
	n = sharefs_node_new(st.st_mode);
	fill_attrs(n, &st);
	n->path = sharefs_xstrdup(path);
	err = read_xattrs(n, path);
	if (err) {
		sharefs_msg("%s: reading xattrs: %s", path, strerror(-err));
		return err;
	}
	switch (st.st_mode & S_IFMT) {
	case S_IFREG:
		n->size = (uint64_t)st.st_size;
		if (n->size) {
			n->content = sharefs_xcalloc(1, sizeof(*n->content));
			n->content->size = n->size;
			n->content->path = n->path;
		}
		if (access(path, R_OK) && errno == EACCES) {
			sharefs_msg("%s: %s", path, strerror(EACCES));
			return -EACCES;
		}
		if (st.st_nlink > 1)
			link_add(w, st.st_dev, st.st_ino, n);
		break;
	case S_IFLNK: {
		char *buf = sharefs_xmalloc((size_t)st.st_size + 1);
		ssize_t len = readlink(path, buf, (size_t)st.st_size + 1);

		if (len < 0 || len > st.st_size) {
			err = len < 0 ? -errno : -EIO;
			sharefs_msg("%s: readlink: %s", path, strerror(-err));
			free(buf);
			return err;
		}
		n->mem = (uint8_t *)buf;
		n->size = (uint64_t)len;
		break;
	}
	case S_IFDIR:
		err = sharefs_node_add_child(dir, name, n);
		if (err)
			return err;
		return walk_dir(w, n, path, &st);
	default:
		if (st.st_nlink > 1)
			link_add(w, st.st_dev, st.st_ino, n);
		break;
	}
	return sharefs_node_add_child(dir, name, n);
}

static int walk_dir(struct walk *w, struct sharefs_node *dir, const char *path,
		    const struct stat *dst)
{
	struct dirent *de;
	char **names = NULL;
	size_t nnames = 0, cap = 0;
	DIR *d;
	int err = 0;

	for (size_t i = 0; i < w->depth; i++)
		if (w->stack[i].dev == dst->st_dev &&
		    w->stack[i].ino == dst->st_ino) {
			sharefs_msg("%s: directory loop (already on the path)",
				    path);
			return -ELOOP;
		}
	if (w->depth == w->capdepth) {
		w->capdepth = w->capdepth ? w->capdepth * 2 : 64;
		w->stack = sharefs_xrealloc(w->stack,
				w->capdepth * sizeof(*w->stack));
	}
	w->stack[w->depth].dev = dst->st_dev;
	w->stack[w->depth].ino = dst->st_ino;
	w->depth++;

	d = opendir(path);
	if (!d) {
		err = -errno;
		sharefs_msg("%s: %s", path, strerror(errno));
		goto out;
	}
	/* read all names first: one open DIR per level, not per depth */
	errno = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (nnames == cap) {
			cap = cap ? cap * 2 : 32;
			names = sharefs_xrealloc(names, cap * sizeof(*names));
		}
		names[nnames++] = sharefs_xstrdup(de->d_name);
	}
	if (errno) {
		err = -errno;
		sharefs_msg("%s: readdir: %s", path, strerror(errno));
	}
	closedir(d);
	for (size_t i = 0; i < nnames && !err; i++) {
		char *child = join(path, names[i]);

		err = walk_entry(w, dir, child, names[i]);
		free(child);
		if (++w->nfiles % 1024 == 0 && w->b->opts.progress &&
		    sharefs_progress_due())
			fprintf(stderr, "\rscan: %zu entries ", w->nfiles);
	}
	for (size_t i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	sharefs_node_sort_children(dir);
out:
	w->depth--;
	return err;
}

int sharefs_read_dir(struct sharefs_build *b, const char *path)
{
	struct walk w = { .b = b };
	struct stat st;
	int err;

	/* SOURCE itself may be a symlink to the tree; below it none is followed */
	if (stat(path, &st)) {
		err = -errno;
		sharefs_msg("%s: %s", path, strerror(errno));
		return err;
	}
	if (!S_ISDIR(st.st_mode)) {
		sharefs_msg("%s: not a directory (use --tar for archives)", path);
		return -ENOTDIR;
	}
	b->root = sharefs_node_new(st.st_mode);
	fill_attrs(b->root, &st);
	b->root->path = sharefs_xstrdup(path);
	err = read_xattrs(b->root, path);
	if (err) {
		sharefs_msg("%s: reading xattrs: %s", path, strerror(-err));
		return err;
	}
	err = walk_dir(&w, b->root, path, &st);
	if (b->opts.progress)
		fprintf(stderr, "\rscan: %zu entries\n", w.nfiles);
	free(w.links);
	free(w.stack);
	return err;
}
