// SPDX-License-Identifier: GPL-2.0-only OR Apache-2.0
/*
 * verity.c - fs-verity Merkle trees and descriptors (mkfs.sharefs --verity).
 *
 * Runs after every content is stored (content.c, tar.c) and before the
 * layout (image.c).  For each distinct content that a non-empty regular
 * file of the final tree holds, libfsverity computes the fs-verity digest
 * (SHA-256, 4096-byte blocks, the salt of --verity-salt) and hands over
 * the Merkle tree blocks and the 256-byte descriptor through its metadata
 * callbacks: the blocks go into the image, the descriptor into the xattr
 * trusted.sharefs.verity (format: verity_fs.h).
 *
 * The bytes hashed are read back from the image (sharefs_content_read),
 * not from the source: the tree describes what a reader of the image gets,
 * whatever happened to the source meanwhile, as the fingerprint does.
 *
 * Trees lie after the data region, in tree order of their contents, each
 * on whole image blocks.  A tree's size follows from the file size alone,
 * so every tree is placed before any is computed; the computing then runs
 * on --jobs threads in any order and the image stays reproducible.
 * Contents that dedup made one (equal files, hard links) share one tree.
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
#define HASHES_PER_BLOCK (SHAREFS_VERITY_BLOCK_SIZE / SHAREFS_VERITY_DIGEST_SIZE)

/*
 * Bytes of fs-verity's Merkle tree over a file of @size bytes: each level
 * holds the hashes of the level below (the data blocks for the first), in
 * whole blocks, up to a level of one block.  A file of at most one block
 * has no tree: its root hash is the hash of that block.
 */
uint64_t sharefs_verity_tree_size(uint64_t size)
{
	uint64_t n = (size + SHAREFS_VERITY_BLOCK_SIZE - 1) >>
		     SHAREFS_VERITY_LOG_BLOCKSIZE;
	uint64_t blocks = 0;

	while (n > 1) {
		n = (n + HASHES_PER_BLOCK - 1) / HASHES_PER_BLOCK;
		blocks += n;
	}
	return blocks << SHAREFS_VERITY_LOG_BLOCKSIZE;
}

/*
 * Sets trusted.sharefs.verity of a non-empty regular file: its content's
 * value once computed, a zero value of the same size before (reserving the
 * room, as for the fingerprint).
 */
void sharefs_verity_set_xattr(struct sharefs_build *b, struct sharefs_node *n)
{
	static const struct sharefs_verity_xattr placeholder;
	const struct sharefs_verity_xattr *v;

	if (!b->opts.verity || !S_ISREG(n->mode) || !n->size)
		return;
	v = n->content->verity ? n->content->verity : &placeholder;
	sharefs_xattr_set_raw(n, SHAREFS_XATTR_INDEX_TRUSTED,
			      SHAREFS_VERITY_SUFFIX, v, sizeof(*v));
}

/* ---- one content ---- */

struct verity_job {
	struct sharefs_content *c;
	const char *path;		/* the first file that holds it */
};

/* What the callbacks of one libfsverity_compute_digest() call see. */
struct verity_ctx {
	struct sharefs_build *b;
	struct sharefs_content *c;
	uint64_t off;			/* next content byte to read back */
	uint8_t *buf;			/* READ_CHUNK bytes read back */
	size_t len, pos;		/* bytes in buf, bytes handed out */
	bool have_descriptor;
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

/* The tree is the size placed for it before anything was computed. */
static int tree_size_cb(void *arg, uint64_t size)
{
	struct verity_ctx *x = arg;

	return size == le32_to_cpu(x->c->verity->tree_size) ? 0 : -EUCLEAN;
}

/* A tree block at @offset of fs-verity's tree layout: into the image. */
static int tree_block_cb(void *arg, const void *block, size_t size,
			 uint64_t offset)
{
	struct verity_ctx *x = arg;
	const struct sharefs_verity_xattr *v = x->c->verity;
	uint64_t tree_size = le32_to_cpu(v->tree_size);

	if (offset > tree_size || size > tree_size - offset)
		return -EUCLEAN;
	return sharefs_pwrite_all(x->b->fd, block, size,
				  ((uint64_t)le32_to_cpu(v->tree_blkaddr) <<
				   x->b->opts.blkszbits) + offset);
}

static int descriptor_cb(void *arg, const void *desc, size_t size)
{
	struct verity_ctx *x = arg;

	if (size != sizeof(x->c->verity->descriptor))
		return -EUCLEAN;
	memcpy(x->c->verity->descriptor, desc, size);
	x->have_descriptor = true;
	return 0;
}

/*
 * The digest libfsverity returns is SHA-256 of the descriptor it handed
 * over: what a reader will compute from the xattr alone.
 */
static bool digest_matches(const struct libfsverity_digest *d,
			   const uint8_t *desc, size_t len)
{
	uint8_t md[SHAREFS_VERITY_DIGEST_SIZE];

	if (d->digest_algorithm != SHAREFS_VERITY_HASH_SHA256 ||
	    d->digest_size != sizeof(md) ||
	    !EVP_Digest(desc, len, md, NULL, EVP_sha256(), NULL))
		return false;
	return !memcmp(md, d->digest, sizeof(md));
}

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
		.block_size = SHAREFS_VERITY_BLOCK_SIZE,
		.salt_size = b->opts.verity_salt_size,
		.salt = b->opts.verity_salt_size ? b->opts.verity_salt : NULL,
		.metadata_callbacks = &cbs,
	};
	struct libfsverity_digest *d = NULL;
	int err;

	err = libfsverity_compute_digest(&x, read_stored, &params, &d);
	if (!err && (!x.have_descriptor || x.off != c->size || x.pos != x.len ||
		     !digest_matches(d, c->verity->descriptor,
				     sizeof(c->verity->descriptor))))
		err = -EUCLEAN;
	free(d);
	return err;
}

/* ---- all contents ---- */

struct verity_queue {
	struct sharefs_build *b;
	struct verity_job *jobs;
	size_t n, cap;
	size_t next, done;		/* jobs taken, jobs finished */
	int err;			/* the first failure: stop */
	pthread_mutex_t lock;		/* protects next, done, err */
};

/*
 * Give the content of regular file @n its tree room and queue it, once
 * per content (hard links and equal files reach it again).  -EFBIG when
 * the tree is larger than tree_size can say (files of about 500 GiB).
 */
static int queue_file(struct verity_queue *q, struct sharefs_node *n)
{
	struct sharefs_build *b = q->b;
	struct sharefs_content *c = n->content;
	struct sharefs_verity_xattr *v;
	uint64_t tree_size;

	if (c->verity)
		return 0;
	tree_size = sharefs_verity_tree_size(c->size);
	if (tree_size > UINT32_MAX) {
		sharefs_msg("%s: %llu bytes: its fs-verity tree does not fit the format's 32-bit tree_size",
			    n->path ? n->path : "?", (unsigned long long)c->size);
		return -EFBIG;
	}
	v = sharefs_xcalloc(1, sizeof(*v));
	memcpy(v->magic, SHAREFS_VERITY_MAGIC, SHAREFS_VERITY_MAGIC_LEN);
	v->tree_size = cpu_to_le32((uint32_t)tree_size);
	if (tree_size) {
		/* tree_size is whole 4096-byte blocks: whole image blocks */
		v->tree_blkaddr = cpu_to_le32((uint32_t)b->data_next);
		b->data_next += tree_size >> b->opts.blkszbits;
	}
	c->verity = v;
	if (q->n == q->cap) {
		q->cap = q->cap ? q->cap * 2 : 256;
		q->jobs = sharefs_xrealloc(q->jobs, q->cap * sizeof(*q->jobs));
	}
	q->jobs[q->n++] = (struct verity_job){ c, n->path };
	return 0;
}

/* Tree order, as content.c stores the data; needs sorted children. */
static int queue_dir(struct verity_queue *q, struct sharefs_node *dir)
{
	int err = 0;

	for (size_t i = 0; i < dir->nchild && !err; i++) {
		struct sharefs_node *n = dir->children[i].node;

		if (!n)
			continue;
		if (S_ISDIR(n->mode))
			err = queue_dir(q, n);
		else if (S_ISREG(n->mode) && n->size)
			err = queue_file(q, n);
	}
	return err;
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

static void show_progress(struct verity_queue *q, bool last)
{
	if (!q->b->opts.progress || (!last && !sharefs_progress_due()))
		return;
	fprintf(stderr, "\rverity: %zu/%zu contents%s", q->done, q->n,
		last ? "\n" : " ");
}

static void *verity_worker(void *arg)
{
	struct verity_queue *q = arg;
	uint8_t *buf = sharefs_xmalloc(READ_CHUNK);

	pthread_mutex_lock(&q->lock);
	while (!q->err && q->next < q->n) {
		struct verity_job *j = &q->jobs[q->next++];
		int err;

		pthread_mutex_unlock(&q->lock);
		err = verity_one(q->b, j->c, buf);
		pthread_mutex_lock(&q->lock);
		if (err && !q->err) {
			q->err = err;
			sharefs_msg("%s: fs-verity digest: %s", j->path ? j->path : "?",
				    err == -EUCLEAN ?
				    "libfsverity's output is not what was expected" :
				    strerror(-err));
		}
		q->done++;
		show_progress(q, false);
	}
	pthread_mutex_unlock(&q->lock);
	free(buf);
	return NULL;
}

static void libfsverity_msg(const char *msg)
{
	sharefs_msg("libfsverity: %s", msg);
}

/*
 * Place, compute and write the tree of every content a file of the image
 * holds, then set every file's trusted.sharefs.verity.
 */
int sharefs_verity_all(struct sharefs_build *b)
{
	struct verity_queue q = { .b = b };
	int jobs = b->opts.jobs > 0 ? b->opts.jobs : 1, threads = 0, err;
	pthread_t *tids;

	libfsverity_set_error_callback(libfsverity_msg);
	err = queue_dir(&q, b->root);
	if (err) {
		free(q.jobs);
		return err;
	}
	pthread_mutex_init(&q.lock, NULL);
	tids = sharefs_xcalloc((size_t)jobs, sizeof(*tids));
	for (int i = 1; i < jobs && (size_t)i < q.n; i++)
		if (!pthread_create(&tids[threads], NULL, verity_worker, &q))
			threads++;
	verity_worker(&q);	/* the calling thread works too */
	for (int i = 0; i < threads; i++)
		pthread_join(tids[i], NULL);
	free(tids);
	pthread_mutex_destroy(&q.lock);
	free(q.jobs);
	if (q.err)
		return q.err;
	show_progress(&q, true);
	set_xattrs(b, b->root);
	return 0;
}
