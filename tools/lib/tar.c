// SPDX-License-Identifier: GPL-2.0-only OR Apache-2.0
/*
 * tar.c - read a tar stream (libarchive) into nodes, data straight to disk.
 *
 * A tar is read once, in order, so each regular file is placed in the data
 * region when its header arrives and its bytes are written there while they
 * are hashed.  A file whose digest matches an earlier one gives its blocks
 * back (they are the last ones allocated) and shares the earlier copy.
 * Entries may come in any order and may repeat a path: the last one wins
 * and replaces the earlier one completely, as `tar -x --recursive-unlink`
 * (and an OCI layer applier) does: a directory replaced by anything but a
 * directory leaves with everything below it; a directory over a directory
 * only takes the new attributes and keeps the children (plain `tar -x`).
 * Missing parent directories are created with mode 0755.  Paths are kept
 * in a hash table that maps the normalized path to its dentry.
 *
 * Several tar archives are layers of one OCI image, read base first into
 * one tree; each node remembers the layer that last defined it.  With
 * --aufs, whiteouts follow the OCI image spec.  One layer keeps them for
 * overlayfs, as mkfs.erofs --aufs does: .wh.NAME becomes a 0:0 character
 * device NAME (mode 0, the entry's owner and time), .wh..wh..opq the xattr
 * trusted.overlay.opaque="y" on its directory, and each directory holding
 * whiteouts gets an empty trusted.overlay.origin, which makes overlayfs
 * filter them even where only that layer has the directory.  Several
 * layers are flattened: a whiteout deletes NAME, and an opaque marker
 * everything in its directory, that layers below defined (never what its
 * own layer did), and no marker is stored.  Deleted entries are holes in
 * their directory until the last layer is read.  Other .wh..wh.* names
 * (aufs's own, such as .wh..wh.plnk) are dropped with what is below them.
 */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "mkfs.h"

struct pent {
	char *path;
	struct sharefs_node *dir;	/* parent */
	size_t idx;			/* index in dir->children */
	bool gone;			/* below a replaced directory */
};

struct tarctx {
	struct sharefs_build *b;
	struct pent *tab;
	size_t n, cap;
	const char *src;
	uint8_t *zero;
	unsigned int layer, nlayers;
	/* one layer, --aufs: directories to mark, applied after the last
	 * entry (a directory's own entry may come after its markers) */
	char **opaque, **origin;
	size_t nopaque, norigin;
};

static size_t str_hash(const char *s)
{
	size_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static struct pent *ptab_find(struct tarctx *t, const char *path)
{
	if (!t->cap)
		return NULL;
	/* a gone entry keeps its slot: later ones may sit after it */
	for (size_t i = str_hash(path) & (t->cap - 1); t->tab[i].path;
	     i = (i + 1) & (t->cap - 1))
		if (!t->tab[i].gone && !strcmp(t->tab[i].path, path))
			return &t->tab[i];
	return NULL;
}

static void ptab_add(struct tarctx *t, char *path, struct sharefs_node *dir,
		     size_t idx)
{
	size_t i;

	if (2 * (t->n + 1) > t->cap) {
		struct pent *old = t->tab;
		size_t oldcap = t->cap;

		t->cap = oldcap ? oldcap * 2 : 4096;
		t->tab = sharefs_xcalloc(t->cap, sizeof(*t->tab));
		t->n = 0;
		for (size_t j = 0; j < oldcap; j++)
			if (old[j].gone)
				free(old[j].path);
			else if (old[j].path)
				ptab_add(t, old[j].path, old[j].dir, old[j].idx);
		free(old);
	}
	for (i = str_hash(path) & (t->cap - 1); t->tab[i].path;
	     i = (i + 1) & (t->cap - 1))
		;
	t->tab[i] = (struct pent){ path, dir, idx, false };
	t->n++;
}

/* "./a//b/" -> "a/b"; "" is the root; ".." anywhere is refused. */
static int normalize(const char *in, char *out, size_t outsz)
{
	size_t o = 0;

	while (*in) {
		const char *s;
		size_t len;

		while (*in == '/')
			in++;
		s = in;
		while (*in && *in != '/')
			in++;
		len = (size_t)(in - s);
		if (!len || (len == 1 && s[0] == '.'))
			continue;
		if (len == 2 && s[0] == '.' && s[1] == '.')
			return -EINVAL;
		if (len > SHAREFS_NAME_LEN)
			return -ENAMETOOLONG;
		if (o + len + 2 > outsz)
			return -ENAMETOOLONG;
		if (o)
			out[o++] = '/';
		memcpy(out + o, s, len);
		o += len;
	}
	out[o] = '\0';
	return 0;
}

static struct sharefs_node *lookup(struct tarctx *t, const char *path)
{
	struct pent *p;

	if (!*path)
		return t->b->root;
	p = ptab_find(t, path);
	return p ? p->dir->children[p->idx].node : NULL;
}

static void init_dir_attrs(struct tarctx *t, struct sharefs_node *n)
{
	n->mode = S_IFDIR | 0755;
	n->mtime = t->b->opts.have_timestamp ? t->b->opts.timestamp : 0;
}

/* Find or create the directory at path (and its parents). */
static struct sharefs_node *ensure_dir(struct tarctx *t, char *path)
{
	struct sharefs_node *n = lookup(t, path), *parent;
	char *slash, *name;

	if (n)
		return S_ISDIR(n->mode) ? n : NULL;
	slash = strrchr(path, '/');
	if (slash) {
		*slash = '\0';
		parent = ensure_dir(t, path);
		*slash = '/';
		name = slash + 1;
	} else {
		parent = t->b->root;
		name = path;
	}
	if (!parent)
		return NULL;
	n = sharefs_node_new(S_IFDIR | 0755);
	init_dir_attrs(t, n);
	n->path = sharefs_xstrdup(path);
	n->layer = t->layer;
	if (sharefs_node_add_child(parent, name, n))
		return NULL;
	ptab_add(t, sharefs_xstrdup(path), parent, parent->nchild - 1);
	return n;
}

static void set_attrs(struct sharefs_node *n, struct archive_entry *e)
{
	n->mode = archive_entry_mode(e);
	n->uid = (uint32_t)archive_entry_uid(e);
	n->gid = (uint32_t)archive_entry_gid(e);
	n->mtime = archive_entry_mtime(e);
	n->mtime_nsec = archive_entry_mtime_is_set(e) ?
			(uint32_t)archive_entry_mtime_nsec(e) : 0;
	n->rdev_major = (uint64_t)archive_entry_rdevmajor(e);
	n->rdev_minor = (uint64_t)archive_entry_rdevminor(e);
}

/* POSIX ACLs as the VFS xattr: version 2, then {tag, perm, id} sorted. */
static void acl_to_xattr(struct sharefs_node *n, struct archive_entry *e,
			 int type, const char *xname)
{
	struct { uint16_t tag, perm; uint32_t id; } ent[256];
	int cnt = archive_entry_acl_reset(e, type), k = 0, atype, perm, tag, qual;
	const char *name;
	uint8_t buf[4 + 8 * 256];

	if (cnt <= 0 || cnt > 256)
		return;
	while (k < 256 && archive_entry_acl_next(e, type, &atype, &perm, &tag,
						 &qual, &name) == ARCHIVE_OK) {
		uint16_t t2;

		switch (tag) {
		case ARCHIVE_ENTRY_ACL_USER_OBJ:	t2 = 0x01; break;
		case ARCHIVE_ENTRY_ACL_USER:		t2 = 0x02; break;
		case ARCHIVE_ENTRY_ACL_GROUP_OBJ:	t2 = 0x04; break;
		case ARCHIVE_ENTRY_ACL_GROUP:		t2 = 0x08; break;
		case ARCHIVE_ENTRY_ACL_MASK:		t2 = 0x10; break;
		case ARCHIVE_ENTRY_ACL_OTHER:		t2 = 0x20; break;
		default:				continue;
		}
		ent[k].tag = t2;
		ent[k].perm = (uint16_t)(perm & 7);
		ent[k].id = (t2 == 0x02 || t2 == 0x08) ? (uint32_t)qual : 0xffffffffu;
		k++;
	}
	/* only base entries: the mode says it all, no xattr */
	if (type == ARCHIVE_ENTRY_ACL_TYPE_ACCESS && k <= 3)
		return;

	for (int i = 1; i < k; i++)	/* insertion sort by (tag, id) */
		for (int j = i; j > 0 && (ent[j - 1].tag > ent[j].tag ||
		     (ent[j - 1].tag == ent[j].tag && ent[j - 1].id > ent[j].id)); j--) {
			typeof(ent[0]) tmp = ent[j];

			ent[j] = ent[j - 1];
			ent[j - 1] = tmp;
		}
	{
		__le32 v = cpu_to_le32(2);

		memcpy(buf, &v, 4);
	}
	for (int i = 0; i < k; i++) {
		__le16 tg = cpu_to_le16(ent[i].tag), pm = cpu_to_le16(ent[i].perm);
		__le32 id = cpu_to_le32(ent[i].id);

		memcpy(buf + 4 + 8 * i, &tg, 2);
		memcpy(buf + 6 + 8 * i, &pm, 2);
		memcpy(buf + 8 + 8 * i, &id, 4);
	}
	sharefs_xattr_set(n, xname, buf, 4 + 8 * (size_t)k);
}

static int read_xattrs(struct tarctx *t, struct sharefs_node *n,
		       struct archive_entry *e, const char *path)
{
	const char *name;
	const void *val;
	size_t size;
	bool acc = false, def = false;

	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, &val, &size) == ARCHIVE_OK) {
		int err = sharefs_xattr_set(n, name, val, size);

		if (err == -EOPNOTSUPP) {
			sharefs_msg("%s: %s: xattr %s: namespace not supported, skipped",
				    t->src, path, name);
		} else if (err) {
			sharefs_msg("%s: %s: xattr %s too long", t->src, path, name);
			return err;
		}
		acc |= !strcmp(name, "system.posix_acl_access");
		def |= !strcmp(name, "system.posix_acl_default");
	}
	/*
	 * libarchive copies the ACL's group:: entry into the mode's group
	 * bits; with a mask the VFS keeps the mask there (as stat shows it).
	 */
	if (archive_entry_acl_reset(e, ARCHIVE_ENTRY_ACL_TYPE_ACCESS) > 0) {
		int atype, perm, tag, qual;
		const char *an;

		while (archive_entry_acl_next(e, ARCHIVE_ENTRY_ACL_TYPE_ACCESS,
					      &atype, &perm, &tag, &qual, &an) == ARCHIVE_OK)
			if (tag == ARCHIVE_ENTRY_ACL_MASK)
				n->mode = (n->mode & ~070u) | ((uint32_t)(perm & 7) << 3);
	}
	if (!acc)
		acl_to_xattr(n, e, ARCHIVE_ENTRY_ACL_TYPE_ACCESS,
			     "system.posix_acl_access");
	if (!def && S_ISDIR(n->mode))
		acl_to_xattr(n, e, ARCHIVE_ENTRY_ACL_TYPE_DEFAULT,
			     "system.posix_acl_default");
	sharefs_xattr_drop_computed(n);
	return 0;
}

/*
 * Where a file's bytes go; the bytes hashed are the bytes stored.  Flat:
 * into its blocks, holes left unwritten.  With -z a small content goes to
 * memory first (compressed, or flat if that does not save blocks, once
 * all of it is there), a large one through the compressor, which takes
 * the zeros of the holes too.
 */
struct tar_sink {
	struct sharefs_content *c;
	uint8_t *mem;			/* -z, small: the whole content */
	bool stream;			/* -z, large */
};

static int sink_data(struct tarctx *t, struct tar_sink *k, const void *p,
		     size_t len, uint64_t off)
{
	if (k->mem) {
		memcpy(k->mem + off, p, len);	/* off + len <= size: checked */
		return 0;
	}
	if (k->stream)
		return sharefs_z_stream_write(t->b, k->c, p, len);
	return sharefs_content_write(t->b, k->c, p, len, off);
}

/* @len (at most 64 KiB) bytes of a hole, hashed as zeros. */
static int sink_hole(struct tarctx *t, struct tar_sink *k, EVP_MD_CTX *md,
		     size_t len)
{
	EVP_DigestUpdate(md, t->zero, len);
	if (!k->stream)
		return 0;	/* memory is zeroed; flat holes read as zeros */
	return sharefs_z_stream_write(t->b, k->c, t->zero, len);
}

/* Holes from @from up to @to, in 64 KiB pieces. */
static int sink_holes(struct tarctx *t, struct tar_sink *k, EVP_MD_CTX *md,
		      uint64_t from, uint64_t to)
{
	int err = 0;

	while (!err && from < to) {
		size_t z = to - from > (1u << 16) ? (1u << 16) : (size_t)(to - from);

		err = sink_hole(t, k, md, z);
		from += z;
	}
	return err;
}

static void plan_file(struct tarctx *t, struct archive_entry *e,
		      struct sharefs_node *n, struct tar_sink *k)
{
	struct sharefs_build *b = t->b;
	struct sharefs_content *c = k->c;

	/* -z: no chunk map; holes are zeros the compressor squeezes */
	if (!b->opts.zcodec && archive_entry_sparse_reset(e) > 0) {
		la_int64_t so, sl;

		sharefs_content_plan_chunks(b, c);
		while (archive_entry_sparse_next(e, &so, &sl) == ARCHIVE_OK)
			if (sl > 0 && (uint64_t)so < c->size)
				sharefs_content_mark_data(b, c, (uint64_t)so,
							  (uint64_t)sl);
	}
	/* reserve the computed xattrs so the inline decision is final now */
	sharefs_add_content_xattrs(b, n);
	c->tail_block = !sharefs_want_inline(b->blksz,
			sizeof(struct sharefs_inode_extended) +
			sharefs_xattr_ibody_size(n), c->size);
	if (b->opts.zcodec && c->size <= SHAREFS_Z_SMALL_MAX) {
		k->mem = sharefs_xcalloc(1, (size_t)c->size);
	} else if (b->opts.zcodec) {
		k->stream = true;
		sharefs_z_stream_begin(b, c);
	} else {
		sharefs_content_place(b, c);
	}
}

/* All bytes are in: store a small -z content, or settle dedup. */
static int finish_file(struct sharefs_build *b, struct tar_sink *k,
		       uint64_t start)
{
	struct sharefs_content *c = k->c;
	int err = 0;

	if (k->stream)
		err = sharefs_z_stream_end(b, c);
	if (err || !k->mem)
		return err ? err : sharefs_content_finish(b, c, start);
	c->same = sharefs_content_dedup(b, c);
	if (c->same)
		b->dedup_bytes += c->size;
	else
		err = sharefs_z_store_mem(b, c, k->mem);
	return err;
}

static int read_file(struct tarctx *t, struct archive *a,
		     struct archive_entry *e, struct sharefs_node *n,
		     const char *path)
{
	struct sharefs_build *b = t->b;
	struct sharefs_content *c = sharefs_xcalloc(1, sizeof(*c));
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	struct tar_sink k = { .c = c };
	uint64_t hashed = 0, start = b->data_next;
	int err = 0, r;

	c->size = n->size;
	n->content = c;
	if (!md)
		return -ENOMEM;
	plan_file(t, e, n, &k);
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	for (;;) {
		const void *buf;
		size_t size;
		la_int64_t off;

		r = archive_read_data_block(a, &buf, &size, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			sharefs_msg("%s: %s: %s", t->src, path, archive_error_string(a));
			err = -EIO;
			goto out;
		}
		if (off < 0 || (uint64_t)off < hashed || (uint64_t)off + size > c->size) {
			sharefs_msg("%s: %s: corrupt data offsets", t->src, path);
			err = -EIO;
			goto out;
		}
		err = sink_holes(t, &k, md, hashed, (uint64_t)off);
		if (!err) {
			EVP_DigestUpdate(md, buf, size);
			err = sink_data(t, &k, buf, size, (uint64_t)off);
		}
		if (err) {
			sharefs_msg("%s: %s: %s", b->image, path, err == -EINVAL ?
				    "data outside the sparse map" : strerror(-err));
			goto out;
		}
		hashed = (uint64_t)off + size;
	}
	err = sink_holes(t, &k, md, hashed, c->size);
	EVP_DigestFinal_ex(md, c->digest, NULL);
	sharefs_add_content_xattrs(b, n);
	if (!err)
		err = finish_file(b, &k, start);
	if (err)
		sharefs_msg("%s: %s: %s", b->image, path, strerror(-err));
	if (c->same)
		n->content = c->same;
out:
	free(k.mem);
	EVP_MD_CTX_free(md);
	return err;
}

/*
 * Directory @dir at @path is being replaced by a non-directory: the names
 * below it stop resolving (a later hard link to one is refused, as tar
 * refuses it, and a later entry below @path starts afresh), and files
 * linked from elsewhere lose the links that were inside it.
 */
static void forget_subtree(struct tarctx *t, const char *path,
			   struct sharefs_node *dir)
{
	size_t plen = strlen(path);

	for (size_t i = 0; i < dir->nchild; i++) {
		struct sharefs_dentry *d = &dir->children[i];
		char *sub;
		struct pent *pe;

		if (!d->node)		/* a hole: deleted by a whiteout */
			continue;
		sub = sharefs_xmalloc(plen + d->len + 2);
		memcpy(sub, path, plen);
		sub[plen] = '/';
		memcpy(sub + plen + 1, d->name, d->len + 1);
		pe = ptab_find(t, sub);
		if (pe)
			pe->gone = true;
		if (S_ISDIR(d->node->mode))
			forget_subtree(t, sub, d->node);
		else
			d->node->nlink--;
		free(sub);
	}
}

/*
 * The entry @pe at @path stops being what it was: a later entry replaces
 * it, or a whiteout of a later layer deletes it.  The link counts follow.
 */
static void drop_old(struct tarctx *t, const char *path, struct pent *pe)
{
	struct sharefs_node *old = pe->dir->children[pe->idx].node;

	if (S_ISDIR(old->mode)) {
		forget_subtree(t, path, old);
		pe->dir->nlink--;
	} else {
		old->nlink--;
	}
}

/* @n takes the place of the entry @pe at @path */
static void replace_entry(struct tarctx *t, const char *path, struct pent *pe,
			  struct sharefs_node *n)
{
	drop_old(t, path, pe);
	pe->dir->children[pe->idx].node = n;
	if (S_ISDIR(n->mode)) {
		n->parent = pe->dir;
		pe->dir->nlink++;
	}
}

/* A node for entry @e at @path (anything but a hard link), its data read. */
static int new_node(struct tarctx *t, struct archive *a,
		    struct archive_entry *e, const char *path,
		    struct sharefs_node **out)
{
	struct sharefs_node *n = sharefs_node_new(archive_entry_filetype(e));
	const char *tg;
	int err;

	*out = n;
	set_attrs(n, e);
	n->path = sharefs_xstrdup(path);
	n->layer = t->layer;
	err = read_xattrs(t, n, e, path);
	if (err)
		return err;
	switch (n->mode & S_IFMT) {
	case S_IFREG:
		n->size = (uint64_t)archive_entry_size(e);
		return n->size ? read_file(t, a, e, n, path) : 0;
	case S_IFLNK:
		tg = archive_entry_symlink(e);
		if (!tg) {
			sharefs_msg("%s: %s: symlink without target", t->src, path);
			return -EINVAL;
		}
		n->mem = (uint8_t *)sharefs_xstrdup(tg);
		n->size = strlen(tg);
		return 0;
	case S_IFDIR: case S_IFCHR: case S_IFBLK: case S_IFIFO: case S_IFSOCK:
		return 0;
	}
	sharefs_msg("%s: %s: unknown file type", t->src, path);
	return -EINVAL;
}

/* ---- OCI whiteouts (--aufs) ------------------------------------------ */

#define WH_PREFIX	".wh."
#define WH_META		".wh..wh."
#define WH_OPAQUE	".wh..wh..opq"

/* "dir" + "name" -> "dir/name" ("" is the root) */
static char *path_join(const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);
	char *p = sharefs_xmalloc(dl + nl + 2);

	memcpy(p, dir, dl);
	if (dl)
		p[dl++] = '/';
	memcpy(p + dl, name, nl + 1);
	return p;
}

/* Delete @path (@pe), which a layer below defined: flattening a whiteout.
 * The dentry becomes a hole, compacted after the last layer. */
static void remove_entry(struct tarctx *t, const char *path, struct pent *pe)
{
	drop_old(t, path, pe);
	pe->dir->children[pe->idx].node = NULL;
	pe->gone = true;
}

/* An opaque directory hides all that layers below put in it, at any depth;
 * what its own layer put there (its subdirectories too) stays. */
static void hide_lower(struct tarctx *t, const char *path,
		       struct sharefs_node *dir)
{
	for (size_t i = 0; i < dir->nchild; i++) {
		struct sharefs_dentry *d = &dir->children[i];
		char *sub;

		if (!d->node)
			continue;
		sub = path_join(path, d->name);
		if (d->node->layer < t->layer)
			remove_entry(t, sub, ptab_find(t, sub));
		else if (S_ISDIR(d->node->mode) && d->node->parent == dir)
			hide_lower(t, sub, d->node);
		free(sub);
	}
}

/* The directories above an entry exist in its layer too. */
static void stamp_layer(struct tarctx *t, struct sharefs_node *n)
{
	for (; n && n->layer < t->layer; n = n->parent)
		n->layer = t->layer;
}

static void mark_dir(char ***list, size_t *n, const char *path)
{
	*list = sharefs_xrealloc(*list, (*n + 1) * sizeof(**list));
	(*list)[(*n)++] = sharefs_xstrdup(path);
}

/* is some component of @path one of aufs's own (.wh..wh.*), other than a
 * last component .wh..wh..opq? */
static bool aufs_meta(const char *path)
{
	for (const char *c = path; (c = strstr(c, WH_META)); c++)
		if ((c == path || c[-1] == '/') &&
		    (strchr(c, '/') || strcmp(c, WH_OPAQUE)))
			return true;
	return false;
}

/* Several layers: apply whiteout @name of directory @dir_path now. */
static void flatten_whiteout(struct tarctx *t, const char *dir_path,
			     const char *name)
{
	struct sharefs_node *dir = lookup(t, dir_path);
	struct pent *pe;
	char *target;

	if (!dir || !S_ISDIR(dir->mode))
		return;			/* nothing below to hide */
	stamp_layer(t, dir);
	if (!strcmp(name, WH_OPAQUE)) {
		hide_lower(t, dir_path, dir);
		return;
	}
	target = path_join(dir_path, name + strlen(WH_PREFIX));
	pe = ptab_find(t, target);
	/* a whiteout hides only what layers below defined */
	if (pe && pe->dir->children[pe->idx].node->layer < t->layer)
		remove_entry(t, target, pe);
	free(target);
}

/*
 * --aufs: what a whiteout entry at @path means.  Returns 1 for an ordinary
 * entry (a whiteout of one layer is rewritten in place into its 0:0
 * character device, @path included), 0 when the entry is consumed.
 */
static int aufs_entry(struct tarctx *t, struct archive_entry *e, char *path)
{
	char *slash = strrchr(path, '/'), *name = slash ? slash + 1 : path;
	const char *dir_path = slash ? path : "";

	if (aufs_meta(path))
		return 0;
	if (strncmp(name, WH_PREFIX, strlen(WH_PREFIX)))
		return 1;
	if (slash)
		*slash = '\0';
	if (t->nlayers > 1) {
		flatten_whiteout(t, dir_path, name);
		return 0;
	}
	if (!strcmp(name, WH_OPAQUE)) {
		mark_dir(&t->opaque, &t->nopaque, dir_path);
		return 0;
	}
	mark_dir(&t->origin, &t->norigin, dir_path);
	if (slash)
		*slash = '/';
	memmove(name, name + strlen(WH_PREFIX), strlen(name) - strlen(WH_PREFIX) + 1);
	archive_entry_set_hardlink(e, NULL);
	archive_entry_set_filetype(e, AE_IFCHR);
	archive_entry_set_perm(e, 0);
	archive_entry_set_rdev(e, 0);
	archive_entry_set_size(e, 0);
	return 1;
}

/* one layer: the overlayfs xattrs of marked directories */
static int aufs_apply_marks(struct tarctx *t)
{
	struct sharefs_node *n;
	size_t i;
	int err = 0;

	for (i = 0; !err && i < t->nopaque; i++)
		if ((n = lookup(t, t->opaque[i])) && S_ISDIR(n->mode))
			err = sharefs_xattr_set(n, "trusted.overlay.opaque", "y", 1);
	for (i = 0; !err && i < t->norigin; i++)
		if ((n = lookup(t, t->origin[i])) && S_ISDIR(n->mode))
			err = sharefs_xattr_set(n, "trusted.overlay.origin", "", 0);
	return err;
}

/* after the last layer: the holes whiteouts left go */
static void compact_tree(struct sharefs_node *dir)
{
	size_t i, j = 0;

	for (i = 0; i < dir->nchild; i++) {
		struct sharefs_dentry *d = &dir->children[i];

		if (!d->node) {
			free(d->name);
			continue;
		}
		if (S_ISDIR(d->node->mode) && d->node->parent == dir)
			compact_tree(d->node);
		dir->children[j++] = *d;
	}
	dir->nchild = j;
}

static int add_entry(struct tarctx *t, struct archive *a,
		     struct archive_entry *e)
{
	struct sharefs_build *b = t->b;
	const char *raw = archive_entry_pathname(e);
	const char *hl = archive_entry_hardlink(e);
	char path[8192], *slash, *name;
	struct sharefs_node *parent, *n, *old = NULL;
	struct pent *pe;
	int err;

	if (!raw)
		return 0;
	err = normalize(raw, path, sizeof(path));
	if (err) {
		sharefs_msg("%s: %s: %s", t->src, raw, err == -EINVAL ?
			    "path with '..' refused" : "name longer than 255 bytes");
		return err;
	}
	if (t->b->opts.aufs) {
		err = aufs_entry(t, e, path);
		if (err <= 0)
			return err;
	}
	if (!*path) {			/* the root itself */
		set_attrs(b->root, e);
		b->root->mode = S_IFDIR | (b->root->mode & 07777);
		return read_xattrs(t, b->root, e, "/");
	}
	slash = strrchr(path, '/');
	if (slash) {
		*slash = '\0';
		parent = ensure_dir(t, path);
		*slash = '/';
		name = slash + 1;
	} else {
		parent = b->root;
		name = path;
	}
	if (!parent) {
		sharefs_msg("%s: %s: parent is not a directory", t->src, path);
		return -ENOTDIR;
	}
	stamp_layer(t, parent);
	pe = ptab_find(t, path);
	if (pe)
		old = pe->dir->children[pe->idx].node;

	if (hl) {
		char target[8192];

		if (normalize(hl, target, sizeof(target)) ||
		    !(n = lookup(t, target)) || S_ISDIR(n->mode)) {
			sharefs_msg("%s: %s: bad hard link target %s", t->src, path, hl);
			return -EINVAL;
		}
		if (n == old)
			return 0;
		n->nlink++;
	} else if (old && S_ISDIR(old->mode) &&
		   archive_entry_filetype(e) == AE_IFDIR) {
		old->layer = t->layer;
		set_attrs(old, e);
		return read_xattrs(t, old, e, path);
	} else {
		err = new_node(t, a, e, path, &n);
		if (err)
			return err;
	}
	if (old) {			/* a later entry replaces the path */
		replace_entry(t, path, pe, n);
		return 0;
	}
	err = sharefs_node_add_child(parent, name, n);
	if (err)
		return err;
	ptab_add(t, sharefs_xstrdup(path), parent, parent->nchild - 1);
	return 0;
}

static void sort_tree(struct sharefs_node *dir)
{
	sharefs_node_sort_children(dir);
	for (size_t i = 0; i < dir->nchild; i++)
		if (S_ISDIR(dir->children[i].node->mode) &&
		    dir->children[i].node->parent == dir)
			sort_tree(dir->children[i].node);
}

/* Read one layer's archive into the tree. */
static int read_layer(struct tarctx *t, const char *src, size_t *count)
{
	struct sharefs_build *b = t->b;
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	int r, err = 0;

	t->src = src;
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	if (!strcmp(src, "-"))
		r = archive_read_open_fd(a, STDIN_FILENO, 1 << 16);
	else
		r = archive_read_open_filename(a, src, 1 << 16);
	if (r != ARCHIVE_OK) {
		sharefs_msg("%s: %s", src, archive_error_string(a));
		err = -EIO;
		goto out;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK ||
	       r == ARCHIVE_WARN) {
		err = add_entry(t, a, e);
		if (err)
			goto out;
		if (++*count % 256 == 0 && b->opts.progress && sharefs_progress_due())
			fprintf(stderr, "\rtar: %zu entries, %llu MiB ", *count,
				(unsigned long long)((b->data_next - b->data_start) *
						     b->blksz >> 20));
	}
	if (r != ARCHIVE_EOF) {
		sharefs_msg("%s: corrupt archive: %s", src,
			    archive_error_string(a) ? archive_error_string(a) : "?");
		err = -EIO;
	}
out:
	archive_read_free(a);
	return err;
}

static void free_marks(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

int sharefs_read_tar(struct sharefs_build *b, const char *const *layers,
		     int nlayers)
{
	struct tarctx t = { .b = b, .nlayers = (unsigned int)nlayers };
	size_t count = 0;
	int err = 0;

	t.zero = sharefs_xcalloc(1, 1u << 16);
	b->root = sharefs_node_new(S_IFDIR | 0755);
	init_dir_attrs(&t, b->root);
	b->root->path = sharefs_xstrdup("/");
	for (t.layer = 0; !err && t.layer < t.nlayers; t.layer++)
		err = read_layer(&t, layers[t.layer], &count);
	if (!err && b->opts.progress)
		fprintf(stderr, "\rtar: %zu entries\n", count);
	if (!err)
		err = aufs_apply_marks(&t);
	if (!err) {
		compact_tree(b->root);
		sort_tree(b->root);
	}
	for (size_t i = 0; i < t.cap; i++)
		free(t.tab[i].path);
	free(t.tab);
	free(t.zero);
	free_marks(t.opaque, t.nopaque);
	free_marks(t.origin, t.norigin);
	return err;
}
