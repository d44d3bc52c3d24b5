// SPDX-License-Identifier: GPL-2.0-only OR Apache-2.0
/*
 * verity.c - fs-verity Merkle trees (mkfs.sharefs --verity).
 *
 * For each distinct content that a non-empty regular file of the final
 * tree holds, libfsverity computes the fs-verity digest (SHA-256,
 * 4096-byte blocks, the salt of --verity-salt) and hands over the Merkle
 * tree blocks and the 256-byte descriptor through its metadata callbacks.
 * The tree goes into the image packed (each block without the zero
 * padding after its last hash); of the descriptor only the root hash is
 * kept, in the xattr trusted.sharefs.verity, from which a reader rebuilds
 * the rest (format: verity_fs.h).
 *
 * The bytes hashed are read back from the image (sharefs_content_read),
 * not from the source: the tree describes what a reader of the image gets,
 * whatever happened to the source meanwhile, as the fingerprint does.
 *
 * The trees are computed while the contents are still being stored: the
 * committer (content.c, tar.c) hands every content it has finished, and
 * kept, to the pipe below, whose threads read it back (from the page
 * cache: it was just written) and compute its tree into memory.  Hashing
 * then overlaps the source reads and image writes instead of following
 * them; the price is memory for the packed trees until the layout, 1/128
 * of the distinct data (8 MiB per GiB).
 *
 * Trees lie back to back after the data region, in tree order of their
 * contents, placed and written by sharefs_verity_all() once every content
 * is stored: the image does not depend on which thread computed what, so
 * it stays reproducible.  Contents that dedup made one (equal files, hard
 * links) share one tree.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <libfsverity.h>
#include <openssl/evp.h>
#include "mkfs.h"

#define READ_CHUNK	(1u << 20)	/* bytes read back from the image at once */
#define BLOCK		SHAREFS_VERITY_BLOCK_SIZE
#define HASH		SHAREFS_VERITY_DIGEST_SIZE
#define PER_BLOCK	SHAREFS_VERITY_HASHES_PER_BLOCK
/* 2^52 data blocks at most (64-bit sizes), 128 times fewer hashes a level */
#define MAX_LEVELS	8

/*
 * The levels of fs-verity's Merkle tree over a file of @size bytes, in
 * fs-verity's padded layout and in the packed one of the image.  Level 0
 * holds a hash per data block, level k + 1 a hash per 128 hashes (one
 * tree block) of level k, up to the first level of at most 128 hashes.
 * Both layouts store the top level first and level 0 last.
 */
struct tree_geometry {
	int levels;			/* 0: one data block (or none), no tree */
	uint64_t hashes[MAX_LEVELS];	/* hashes of each level */
	uint64_t padded_off[MAX_LEVELS]; /* byte offset of each level, padded */
	uint64_t packed_off[MAX_LEVELS]; /* and packed */
	uint64_t padded_size, packed_size;
};

static void tree_geometry(uint64_t size, struct tree_geometry *g)
{
	uint64_t n = size / BLOCK + (size % BLOCK != 0);

	memset(g, 0, sizeof(*g));
	while (n > 1) {
		g->hashes[g->levels++] = n;
		if (n <= PER_BLOCK)
			break;
		n = (n + PER_BLOCK - 1) / PER_BLOCK;
	}
	for (int k = g->levels - 1; k >= 0; k--) {
		g->padded_off[k] = g->padded_size;
		g->packed_off[k] = g->packed_size;
		g->padded_size += (g->hashes[k] + PER_BLOCK - 1) / PER_BLOCK * BLOCK;
		g->packed_size += g->hashes[k] * HASH;
	}
}

/* Bytes of the packed tree of a file of @size bytes (0: no tree). */
uint64_t sharefs_verity_tree_size(uint64_t size)
{
	struct tree_geometry g;

	tree_geometry(size, &g);
	return g.packed_size;
}

/* Bytes of trusted.sharefs.verity with this build's salt. */
static size_t xattr_size(const struct sharefs_build *b)
{
	return sizeof(struct sharefs_verity_xattr) + b->opts.verity_salt_size;
}

/*
 * Sets trusted.sharefs.verity of a non-empty regular file: its content's
 * value once computed, a zero value of the same size before (reserving the
 * room, as for the fingerprint).
 */
void sharefs_verity_set_xattr(struct sharefs_build *b, struct sharefs_node *n)
{
	static const uint8_t placeholder[sizeof(struct sharefs_verity_xattr) +
					 SHAREFS_VERITY_MAX_SALT];
	const void *v;

	if (!b->opts.verity || !S_ISREG(n->mode) || !n->size)
		return;
	v = n->content->verity ? (const void *)n->content->verity : placeholder;
	sharefs_xattr_set_raw(n, SHAREFS_XATTR_INDEX_TRUSTED,
			      SHAREFS_VERITY_SUFFIX, v, xattr_size(b));
}

/*
 * The descriptor a reader rebuilds from the xattr and i_size; SHA-256 of
 * it is the file digest.
 */
static void build_descriptor(const struct sharefs_verity_xattr *v,
			     uint64_t size, struct sharefs_verity_descriptor *d)
{
	memset(d, 0, sizeof(*d));
	d->version = SHAREFS_VERITY_VERSION;
	d->hash_algorithm = v->hash_algorithm;
	d->log_blocksize = v->log_blocksize;
	d->salt_size = v->salt_size;
	d->data_size = cpu_to_le64(size);
	memcpy(d->root_hash, v->root_hash, sizeof(v->root_hash));
	memcpy(d->salt, v->salt, v->salt_size);
}

/* ---- one content ---- */

/* What the callbacks of one libfsverity_compute_digest() call see. */
struct verity_ctx {
	struct sharefs_build *b;
	struct sharefs_content *c;
	struct tree_geometry g;
	uint64_t off;			/* next content byte to read back */
	uint8_t *buf;			/* READ_CHUNK bytes read back */
	size_t len, pos;		/* bytes in buf, bytes handed out */
	uint64_t tree_written;		/* packed tree bytes written */
	bool have_descriptor;
	uint8_t descriptor[sizeof(struct sharefs_verity_descriptor)];
};

/* libfsverity_read_fn_t: the next @count bytes of the content. */
static int read_stored(void *arg, void *out, size_t count)
{
	struct verity_ctx *x = arg;
	uint8_t *p = out;

	while (count) {
		size_t n;

		if (x->pos == x->len) {
			uint64_t left = x->c->size - x->off;
			int err;

			if (!left)
				return -EIO;	/* asked for bytes past the end */
			x->len = left < READ_CHUNK ? (size_t)left : READ_CHUNK;
			x->pos = 0;
			err = sharefs_content_read(x->b, x->c, x->buf, x->len,
						   x->off);
			if (err)
				return err;
			x->off += x->len;
		}
		n = x->len - x->pos < count ? x->len - x->pos : count;
		memcpy(p, x->buf + x->pos, n);
		x->pos += n;
		p += n;
		count -= n;
	}
	return 0;
}

/* libfsverity's (padded) tree has the size the file size implies. */
static int tree_size_cb(void *arg, uint64_t size)
{
	struct verity_ctx *x = arg;

	return size == x->g.padded_size ? 0 : -EUCLEAN;
}

/*
 * A tree block at @offset of fs-verity's padded layout: its hashes, the
 * zero padding after them stripped, into the packed tree in the image.
 * The padding must be zeros: a reader pads with zeros.
 */
static int tree_block_cb(void *arg, const void *block, size_t size,
			 uint64_t offset)
{
	static const uint8_t zeros[BLOCK];
	struct verity_ctx *x = arg;
	const struct tree_geometry *g = &x->g;
	uint64_t blk, first, count;
	int k;

	if (size != BLOCK || offset % BLOCK)
		return -EUCLEAN;
	for (k = 0; k < g->levels; k++)
		if (offset >= g->padded_off[k] &&
		    offset - g->padded_off[k] <
		    (g->hashes[k] + PER_BLOCK - 1) / PER_BLOCK * BLOCK)
			break;
	if (k == g->levels)
		return -EUCLEAN;
	blk = (offset - g->padded_off[k]) / BLOCK;
	first = blk * PER_BLOCK;
	count = g->hashes[k] - first < PER_BLOCK ? g->hashes[k] - first : PER_BLOCK;
	if (memcmp((const uint8_t *)block + count * HASH, zeros,
		   BLOCK - count * HASH))
		return -EUCLEAN;
	x->tree_written += count * HASH;
	memcpy(x->c->tree + g->packed_off[k] + first * HASH, block,
	       count * HASH);
	return 0;
}

static int descriptor_cb(void *arg, const void *desc, size_t size)
{
	struct verity_ctx *x = arg;

	if (size != sizeof(x->descriptor))
		return -EUCLEAN;
	memcpy(x->descriptor, desc, size);
	x->have_descriptor = true;
	return 0;
}

/*
 * The digest libfsverity returns is SHA-256 of the descriptor a reader
 * rebuilds from the xattr alone.
 */
static bool digest_matches(const struct libfsverity_digest *d,
			   const struct sharefs_verity_descriptor *desc)
{
	uint8_t md[HASH];

	if (d->digest_algorithm != SHAREFS_VERITY_HASH_SHA256 ||
	    d->digest_size != sizeof(md) ||
	    !EVP_Digest(desc, sizeof(*desc), md, NULL, EVP_sha256(), NULL))
		return false;
	return !memcmp(md, d->digest, sizeof(md));
}

/* A fresh xattr value for content @c: all but tree_pos and the root hash. */
static struct sharefs_verity_xattr *new_xattr(const struct sharefs_build *b)
{
	struct sharefs_verity_xattr *v = sharefs_xcalloc(1, xattr_size(b));

	memcpy(v->magic, SHAREFS_VERITY_MAGIC, SHAREFS_VERITY_MAGIC_LEN);
	v->log_blocksize = SHAREFS_VERITY_LOG_BLOCKSIZE;
	v->hash_algorithm = SHAREFS_VERITY_HASH_SHA256;
	v->salt_size = (uint8_t)b->opts.verity_salt_size;
	memcpy(v->salt, b->opts.verity_salt, b->opts.verity_salt_size);
	return v;
}

/*
 * The tree of stored content @c into memory (c->tree, packed) and its root
 * hash into c->verity.  The descriptor libfsverity hashed must be the one
 * a reader rebuilds, and every hash of the tree must have been handed
 * over.  On failure c keeps neither.
 */
static int verity_one(struct sharefs_build *b, struct sharefs_content *c,
		      uint8_t *buf)
{
	struct verity_ctx x = { .b = b, .c = c, .buf = buf };
	struct libfsverity_metadata_callbacks cbs = {
		.ctx = &x,
		.merkle_tree_size = tree_size_cb,
		.merkle_tree_block = tree_block_cb,
		.descriptor = descriptor_cb,
	};
	struct libfsverity_merkle_tree_params params = {
		.version = 1,
		.hash_algorithm = FS_VERITY_HASH_ALG_SHA256,
		.file_size = c->size,
		.block_size = BLOCK,
		.salt_size = b->opts.verity_salt_size,
		.salt = b->opts.verity_salt_size ? b->opts.verity_salt : NULL,
		.metadata_callbacks = &cbs,
	};
	struct sharefs_verity_xattr *v = new_xattr(b);
	struct sharefs_verity_descriptor rebuilt;
	struct libfsverity_digest *d = NULL;
	int err;

	tree_geometry(c->size, &x.g);
	c->tree = x.g.packed_size ? sharefs_xmalloc(x.g.packed_size) : NULL;
	err = libfsverity_compute_digest(&x, read_stored, &params, &d);
	if (err)
		goto out;
	if (!x.have_descriptor || x.off != c->size || x.pos != x.len ||
	    x.tree_written != x.g.packed_size) {
		err = -EUCLEAN;
		goto out;
	}
	memcpy(v->root_hash,
	       x.descriptor + offsetof(struct sharefs_verity_descriptor, root_hash),
	       sizeof(v->root_hash));
	build_descriptor(v, c->size, &rebuilt);
	if (memcmp(&rebuilt, x.descriptor, sizeof(rebuilt)) ||
	    !digest_matches(d, &rebuilt))
		err = -EUCLEAN;
out:
	free(d);
	if (err) {
		free(v);
		free(c->tree);
		c->tree = NULL;
		return err;
	}
	c->verity = v;
	return 0;
}

static void report(const struct sharefs_content *c, int err)
{
	const char *why = err == -EUCLEAN ?
			  "libfsverity's output is not what was expected" :
			  strerror(-err);

	if (c->path)
		sharefs_msg("%s: fs-verity digest: %s", c->path, why);
	else
		sharefs_msg("fs-verity digest of a %llu-byte file: %s",
			    (unsigned long long)c->size, why);
}

/* ---- the pipe: trees computed while the committer stores contents ---- */

struct sharefs_verity_pipe {
	struct sharefs_build *b;
	struct sharefs_content **q;	/* stored contents, in store order */
	size_t n, cap;			/* queued */
	size_t next;			/* taken by a thread */
	bool closed;			/* no more will come */
	int err;			/* the first failure: stop */
	pthread_mutex_t lock;		/* protects every field above */
	pthread_cond_t more;		/* something queued, or closed */
	pthread_t *tids;
	int threads;
};

static void *pipe_thread(void *arg)
{
	struct sharefs_verity_pipe *p = arg;
	uint8_t *buf = sharefs_xmalloc(READ_CHUNK);

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct sharefs_content *c;
		int err;

		while (!p->err && p->next == p->n && !p->closed)
			pthread_cond_wait(&p->more, &p->lock);
		if (p->err || p->next == p->n)
			break;
		c = p->q[p->next++];
		pthread_mutex_unlock(&p->lock);
		err = verity_one(p->b, c, buf);
		if (err)
			report(c, err);
		pthread_mutex_lock(&p->lock);
		if (err && !p->err) {
			p->err = err;
			pthread_cond_broadcast(&p->more);
		}
	}
	pthread_mutex_unlock(&p->lock);
	free(buf);
	return NULL;
}

static void libfsverity_msg(const char *msg)
{
	sharefs_msg("libfsverity: %s", msg);
}

/*
 * Start --jobs threads that compute the trees of contents as the committer
 * hands them over (sharefs_verity_stored).  No-op without --verity.
 */
void sharefs_verity_start(struct sharefs_build *b)
{
	struct sharefs_verity_pipe *p;
	int jobs = b->opts.jobs > 0 ? b->opts.jobs : 1;

	if (!b->opts.verity)
		return;
	libfsverity_set_error_callback(libfsverity_msg);
	p = sharefs_xcalloc(1, sizeof(*p));
	p->b = b;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->more, NULL);
	p->tids = sharefs_xcalloc((size_t)jobs, sizeof(*p->tids));
	for (int i = 0; i < jobs; i++)
		if (!pthread_create(&p->tids[p->threads], NULL, pipe_thread, p))
			p->threads++;
	b->verity_pipe = p;
}

/*
 * Content @c is stored for good (written, and not a duplicate whose blocks
 * are given back): its bytes in the image no longer change.
 */
void sharefs_verity_stored(struct sharefs_build *b, struct sharefs_content *c)
{
	struct sharefs_verity_pipe *p = b->verity_pipe;

	if (!p || !c->size)
		return;
	pthread_mutex_lock(&p->lock);
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 1024;
		p->q = sharefs_xrealloc(p->q, p->cap * sizeof(*p->q));
	}
	p->q[p->n++] = c;
	pthread_cond_signal(&p->more);
	pthread_mutex_unlock(&p->lock);
}

/*
 * No more contents: let the threads finish the queue (or give up on the
 * first failure, already reported) and join them.  Safe to call without
 * --verity and more than once; mkfs calls it on its error paths too.
 */
int sharefs_verity_stop(struct sharefs_build *b)
{
	struct sharefs_verity_pipe *p = b->verity_pipe;
	int err;

	if (!p)
		return 0;
	pthread_mutex_lock(&p->lock);
	p->closed = true;
	pthread_cond_broadcast(&p->more);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->threads; i++)
		pthread_join(p->tids[i], NULL);
	err = p->threads ? p->err : -EAGAIN;
	if (!p->threads)
		sharefs_msg("cannot start threads for --verity");
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->more);
	free(p->tids);
	free(p->q);
	free(p);
	b->verity_pipe = NULL;
	return err;
}

/* ---- placing the trees ---- */

struct verity_layout {
	struct sharefs_build *b;
	uint8_t *buf;			/* for a content the pipe never saw */
	uint64_t region;		/* image byte where the trees start */
	uint64_t tree_bytes;		/* bytes of the trees placed so far */
	int err;
};

/*
 * Give the tree of the content of regular file @n the next place in the
 * tree region and write it there, once per content (hard links and equal
 * files reach it again).  Every stored content went through the pipe; one
 * that did not (a path that forgot sharefs_verity_stored) is computed here
 * rather than left without a tree.
 */
static void place_file(struct verity_layout *l, struct sharefs_node *n)
{
	struct sharefs_content *c = n->content;
	uint64_t tree_size = sharefs_verity_tree_size(c->size);
	int err = 0;

	if (c->tree_placed || l->err)
		return;
	if (!c->verity) {
		err = verity_one(l->b, c, l->buf);
		if (err) {
			report(c, err);
			l->err = err;
			return;
		}
	}
	if (tree_size) {
		/* sizes are multiples of 32, the region starts on a block */
		c->verity->tree_pos = cpu_to_le64(l->region + l->tree_bytes);
		err = sharefs_pwrite_all(l->b->fd, c->tree, tree_size,
					 l->region + l->tree_bytes);
		l->tree_bytes += tree_size;
	}
	free(c->tree);
	c->tree = NULL;
	c->tree_placed = true;
	if (err && !l->err) {
		sharefs_msg("%s: %s", l->b->image, strerror(-err));
		l->err = err;
	}
}

/* Tree order, as content.c stores the data; needs sorted children. */
static void place_dir(struct verity_layout *l, struct sharefs_node *dir)
{
	for (size_t i = 0; i < dir->nchild; i++) {
		struct sharefs_node *n = dir->children[i].node;

		if (!n)
			continue;
		if (S_ISDIR(n->mode))
			place_dir(l, n);
		else if (S_ISREG(n->mode) && n->size)
			place_file(l, n);
	}
}

static void set_xattrs(struct sharefs_build *b, struct sharefs_node *dir)
{
	for (size_t i = 0; i < dir->nchild; i++) {
		struct sharefs_node *n = dir->children[i].node;

		if (!n)
			continue;
		if (S_ISDIR(n->mode))
			set_xattrs(b, n);
		else
			sharefs_verity_set_xattr(b, n);
	}
}

/*
 * Every content is stored: wait for the last trees, place and write every
 * tree a file of the image needs, then set every file's
 * trusted.sharefs.verity.
 */
int sharefs_verity_all(struct sharefs_build *b)
{
	struct verity_layout l = { .b = b };
	int err = sharefs_verity_stop(b);

	if (err)
		return err;
	l.buf = sharefs_xmalloc(READ_CHUNK);
	l.region = b->data_next << b->opts.blkszbits;
	place_dir(&l, b->root);
	free(l.buf);
	if (l.err)
		return l.err;
	/* the region: whole blocks, its tail zeros */
	b->data_next += (l.tree_bytes + b->blksz - 1) >> b->opts.blkszbits;
	if (b->opts.progress)
		fprintf(stderr, "verity: %llu bytes of trees\n",
			(unsigned long long)l.tree_bytes);
	set_xattrs(b, b->root);
	return 0;
}
