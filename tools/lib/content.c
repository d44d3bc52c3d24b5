// SPDX-License-Identifier: GPL-2.0-only OR Apache-2.0
/*
 * content.c - fingerprint file contents and store each distinct one once.
 *
 * Every source byte is read once, and the bytes that are hashed are the
 * bytes that are written.  A file edited while mkfs runs therefore cannot
 * get a fingerprint that differs from what the image stores: such an image
 * would hand wrong bytes to every mount sharing that fingerprint.
 *
 * Directory input is an ordered pipeline over the regular files in tree
 * order.  Reader threads open each file (once); a small one is read whole
 * into memory and hashed there, a large or sparse one is left open.  The
 * committer (the calling thread) takes the files strictly in tree order:
 * a buffered file is looked up by digest and written only if its bytes are
 * new; an open one is placed at the end of the data region and streamed
 * there while it is hashed, and when its digest then matches an earlier
 * content, its blocks (the last ones allocated) are given back.  Placement
 * depends only on the input, never on thread timing, so images stay
 * reproducible.  Readers stay at most WINDOW files ahead of the committer,
 * which bounds memory to about WINDOW * SMALL_MAX.
 *
 * Tar input is a stream (tar.c) and uses the same place, write and finish
 * steps as the streamed files here.
 *
 * Dedup trusts SHA-256: two contents with the same digest and size share
 * blocks without a byte compare (a collision is not a practical concern).
 * Sparse files are never deduplicated; their layout is their own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "mkfs.h"

#define IOBUF_SIZE	(1u << 20)
#define SMALL_MAX	IOBUF_SIZE	/* read whole by a reader thread */
#define WINDOW		64		/* files read ahead of the committer */

/*
 * A tail is packed after its inode (FLAT_INLINE) when inode, xattrs and tail
 * fit in one block; the caller pads to the next block if they do not fit in
 * what is left of the current one.  ibody_max is the largest inode plus
 * xattr size the node can have, so the answer does not change when the
 * layout later picks a compact inode.
 */
bool sharefs_want_inline(unsigned int blksz, unsigned int ibody_max,
			 uint64_t size)
{
	uint64_t tail = size % blksz;

	if (!tail)
		return false;
	return ibody_max + tail <= blksz;
}

/* Sets (or reserves, before the digest is known) the fingerprint xattr. */
static void add_fingerprint(struct sharefs_build *b, struct sharefs_node *n)
{
	uint8_t value[SHAREFS_FP_VALUE_LEN];
	struct sharefs_content *c = n->content;

	if (!b->opts.fingerprint || !S_ISREG(n->mode) || !n->size)
		return;
	memcpy(value, SHAREFS_FP_TAG, SHAREFS_FP_TAG_LEN);
	memcpy(value + SHAREFS_FP_TAG_LEN, c->digest, SHAREFS_FP_DIGEST_LEN);
	/* the readers dropped any copy that came with the source */
	if (b->opts.ishare) {
		sharefs_xattr_set_raw(n, SHAREFS_XATTR_LONG_PREFIX |
				      b->ishare_prefix_id, "", value,
				      sizeof(value));
	} else {
		sharefs_xattr_set_raw(n, SHAREFS_XATTR_INDEX_TRUSTED,
				      SHAREFS_FP_SUFFIX, value, sizeof(value));
	}
}

/*
 * The xattrs mkfs computes for a regular file: the fingerprint, and with
 * --verity trusted.sharefs.verity.  Called before the content is read, to
 * reserve them at their final sizes (so the inline decision is final), and
 * after, with the real values (verity.c sets its own last).
 */
void sharefs_add_content_xattrs(struct sharefs_build *b, struct sharefs_node *n)
{
	add_fingerprint(b, n);
	sharefs_verity_set_xattr(b, n);
}

void sharefs_content_register(struct sharefs_build *b,
			      struct sharefs_content *c)
{
	if (b->ncontents == b->capcontents) {
		b->capcontents = b->capcontents ? b->capcontents * 2 : 256;
		b->contents = sharefs_xrealloc(b->contents,
				b->capcontents * sizeof(*b->contents));
	}
	b->contents[b->ncontents++] = c;
}

static size_t digest_slot(const struct sharefs_build *b, const uint8_t *d)
{
	uint64_t h;

	memcpy(&h, d, sizeof(h));
	return (size_t)(h % b->hashsize);
}

/*
 * Returns an earlier content that holds these bytes and every block c
 * needs (a plain tail block when c stores its tail plain), or NULL after
 * adding c to the table.
 */
struct sharefs_content *sharefs_content_dedup(struct sharefs_build *b,
					      struct sharefs_content *c)
{
	size_t slot;

	if (c->sparse || !c->size)
		return NULL;
	if (!b->hash) {
		b->hashsize = 65521;
		b->hash = sharefs_xcalloc(b->hashsize, sizeof(*b->hash));
	}
	slot = digest_slot(b, c->digest);
	for (struct sharefs_content *o = b->hash[slot]; o; o = o->hnext)
		if (o->size == c->size &&
		    (o->compressed || o->tail_block || !c->tail_block) &&
		    !memcmp(o->digest, c->digest, sizeof(c->digest)))
			return o;
	c->hnext = b->hash[slot];
	b->hash[slot] = c;
	return NULL;
}

/* ---- placing and writing one content ---- */

/* Chunks of block << bits; the map stays at most 4096 entries or so. */
void sharefs_content_plan_chunks(struct sharefs_build *b,
				 struct sharefs_content *c)
{
	unsigned int bits = 0;

	c->sparse = true;
	while (bits < 31 && ((c->size - 1) >> (b->opts.blkszbits + bits)) + 1 > 4096)
		bits++;
	c->chunkbits = bits;
	c->nchunks = (uint32_t)(((c->size - 1) >> (b->opts.blkszbits + bits)) + 1);
	c->chunkmap = sharefs_xcalloc(c->nchunks, sizeof(*c->chunkmap));
	/* 0 = hole for now; filled with real blocks at placement */
}

/* The chunks over [off, off + len) have data. */
void sharefs_content_mark_data(struct sharefs_build *b,
			       struct sharefs_content *c,
			       uint64_t off, uint64_t len)
{
	unsigned int shift = b->opts.blkszbits + c->chunkbits;

	if (!len)
		return;
	for (uint64_t i = off >> shift; i <= (off + len - 1) >> shift &&
	     i < c->nchunks; i++)
		c->chunkmap[i] = 1;
}

/*
 * Put c at the end of the data region: its full blocks, plus a block for
 * the tail when its inode stores the tail plain; a sparse content gets one
 * run per chunk that has data.  Returns the first free block before, where
 * sharefs_content_finish() can give the space back.
 */
uint64_t sharefs_content_place(struct sharefs_build *b,
			       struct sharefs_content *c)
{
	uint64_t start = b->data_next;
	unsigned int tailsz = (unsigned int)(c->size % b->blksz);

	if (tailsz && !c->sparse && !c->tail)
		c->tail = sharefs_xcalloc(1, tailsz);
	if (c->sparse) {
		unsigned int shift = b->opts.blkszbits + c->chunkbits;

		for (uint32_t i = 0; i < c->nchunks; i++) {
			uint64_t off = (uint64_t)i << shift, len;

			if (!c->chunkmap[i]) {
				c->chunkmap[i] = SHAREFS_NULL_ADDR;
				continue;
			}
			len = c->size - off < (1ull << shift) ?
			      c->size - off : (1ull << shift);
			c->chunkmap[i] = (uint32_t)b->data_next;
			b->data_next += (len + b->blksz - 1) >> b->opts.blkszbits;
		}
		return start;
	}
	c->blkaddr = b->data_next;
	b->data_next += c->size >> b->opts.blkszbits;
	if (c->tail_block && tailsz)
		b->data_next++;
	return start;
}

/*
 * Where byte off of content c lives in the image; -1 if nowhere (hole).
 * *room: the bytes from off on that lie in one piece (or one hole).
 */
static int64_t data_pos(struct sharefs_build *b, struct sharefs_content *c,
			uint64_t off, uint64_t *room)
{
	unsigned int bits = b->opts.blkszbits;

	if (c->sparse) {
		unsigned int shift = bits + c->chunkbits;
		uint64_t i = off >> shift;

		*room = ((i + 1) << shift) - off;
		if (i >= c->nchunks || c->chunkmap[i] == SHAREFS_NULL_ADDR)
			return -1;
		return (int64_t)(((uint64_t)c->chunkmap[i] << bits) +
				 (off & ((1ull << shift) - 1)));
	}
	*room = UINT64_MAX;
	return (int64_t)((c->blkaddr << bits) + off);
}

/*
 * Store bytes [off, off + len) of a placed content: into its blocks, and
 * the tail also into memory for an inline copy.  -EINVAL for bytes outside
 * the content or in a chunk the sparse map calls a hole.
 */
int sharefs_content_write(struct sharefs_build *b, struct sharefs_content *c,
			  const uint8_t *p, size_t len, uint64_t off)
{
	uint64_t tailoff = c->size - c->size % b->blksz;

	while (len) {
		uint64_t room, n = len;
		int64_t pos;
		int err;

		if (off >= c->size)
			return -EINVAL;
		if (n > c->size - off)
			n = c->size - off;
		if (!c->sparse && off < tailoff && off + n > tailoff)
			n = tailoff - off;
		if (!c->sparse && off >= tailoff) {
			memcpy(c->tail + (off - tailoff), p, (size_t)n);
			if (!c->tail_block)
				goto next;
		}
		pos = data_pos(b, c, off, &room);
		if (pos < 0)
			return -EINVAL;
		if (n > room)
			n = room;
		err = sharefs_pwrite_all(b->fd, p, (size_t)n, (uint64_t)pos);
		if (err)
			return err;
next:
		p += n;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * All of c is written and its digest known.  If an earlier content holds
 * the same bytes, c shares it (c->same) and its own blocks, the last ones
 * allocated since start, are given back; the truncate also drops their
 * bytes, so no stale data stays in the image's slack.
 */
int sharefs_content_finish(struct sharefs_build *b, struct sharefs_content *c,
			   uint64_t start)
{
	struct sharefs_content *o = sharefs_content_dedup(b, c);

	if (!o) {
		sharefs_verity_stored(b, c);
		return 0;
	}
	c->same = o;
	b->dedup_bytes += c->size;
	if (b->data_next > start) {
		b->data_next = start;
		if (ftruncate(b->fd, (off_t)(start << b->opts.blkszbits)))
			return -errno;
	}
	return 0;
}

/*
 * Read back bytes [off, off + len) of a stored content, as the image holds
 * them: its blocks, the tail from memory (it may be inline), zeros for the
 * holes of a sparse content.  -EINVAL past its end.
 */
int sharefs_content_read(struct sharefs_build *b, struct sharefs_content *c,
			 uint8_t *p, size_t len, uint64_t off)
{
	uint64_t tailoff = c->size - c->size % b->blksz;

	if (c->compressed)
		return sharefs_z_read(b, c, p, len, off);
	if (off > c->size || len > c->size - off)
		return -EINVAL;
	while (len) {
		uint64_t room, n = len;
		int64_t pos;
		int err;

		if (!c->sparse && off >= tailoff) {
			memcpy(p, c->tail + (off - tailoff), (size_t)n);
			return 0;
		}
		if (!c->sparse && off + n > tailoff)
			n = tailoff - off;
		pos = data_pos(b, c, off, &room);
		if (n > room)
			n = room;
		if (pos < 0) {
			memset(p, 0, (size_t)n);
		} else {
			err = sharefs_pread_all(b->fd, p, (size_t)n, (uint64_t)pos);
			if (err)
				return err;
		}
		p += n;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- directory input: readers ---- */

/* Chunk map of a file with holes, from SEEK_DATA/SEEK_HOLE. */
static void find_data(struct sharefs_build *b, struct sharefs_content *c,
		      int fd)
{
	uint64_t off = 0;

	sharefs_content_plan_chunks(b, c);
	while (off < c->size) {
		off_t d = lseek(fd, (off_t)off, SEEK_DATA), h;

		if (d < 0 || (uint64_t)d >= c->size)
			break;		/* ENXIO: a hole up to EOF */
		h = lseek(fd, d, SEEK_HOLE);
		if (h < 0 || (uint64_t)h > c->size)
			h = (off_t)c->size;
		sharefs_content_mark_data(b, c, (uint64_t)d, (uint64_t)(h - d));
		off = (uint64_t)h;
	}
}

/*
 * A reader thread's part: open the file, find its holes, and read and
 * hash a small one whole (c->buf, c->digest).  A large or sparse one stays
 * open (c->fd) for the committer, which streams it into place.
 */
static int read_source(struct sharefs_build *b, struct sharefs_content *c,
		       struct sharefs_zc *zc)
{
	struct stat st;
	off_t h;
	int fd, err;

	c->fd = -1;
	fd = open(c->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || (uint64_t)st.st_size != c->size) {
		close(fd);
		return -EIO;
	}
	/* -z: holes are zeros to the compressor, which makes them cheap */
	h = lseek(fd, 0, SEEK_HOLE);
	if (!b->opts.zcodec && h >= 0 && (uint64_t)h < c->size)
		find_data(b, c, fd);
	if (c->sparse || c->size > SMALL_MAX) {
		c->fd = fd;
		return 0;
	}
	c->buf = sharefs_xmalloc((size_t)c->size);
	err = sharefs_pread_all(fd, c->buf, (size_t)c->size, 0);
	close(fd);
	if (!err && !EVP_Digest(c->buf, (size_t)c->size, c->digest, NULL,
				EVP_sha256(), NULL))
		err = -ENOMEM;
	/* compressed here, on the reader's thread; the committer decides */
	if (!err && zc)
		err = sharefs_z_compress_mem(zc, b, c, c->buf);
	if (err) {
		free(c->buf);
		c->buf = NULL;
	}
	return err;
}

/* ---- directory input: the committer ---- */

/* A file read whole: write it only if its bytes are new. */
static int commit_buffered(struct sharefs_build *b, struct sharefs_content *c)
{
	int err = 0;

	c->same = sharefs_content_dedup(b, c);
	if (c->same) {
		b->dedup_bytes += c->size;
	} else if (b->opts.zcodec) {
		err = sharefs_z_store_mem(b, c, c->buf);
	} else {
		sharefs_content_place(b, c);
		err = sharefs_content_write(b, c, c->buf, (size_t)c->size, 0);
		if (!err)
			sharefs_verity_stored(b, c);
	}
	free(c->buf);
	c->buf = NULL;
	free(c->zmem);
	c->zmem = NULL;
	return err;
}

/* A large or sparse file: place, then read, hash and write each piece. */
static int commit_stream(struct sharefs_build *b, struct sharefs_content *c,
			 uint8_t *buf, EVP_MD_CTX *md)
{
	unsigned int shift = b->opts.blkszbits + c->chunkbits;
	uint64_t start = b->data_next, off = 0;
	int err = 0;

	if (b->opts.zcodec)
		sharefs_z_stream_begin(b, c);
	else
		sharefs_content_place(b, c);

	if (!EVP_DigestInit_ex(md, EVP_sha256(), NULL))
		err = -ENOMEM;
	while (!err && off < c->size) {
		uint64_t len = c->size - off < IOBUF_SIZE ? c->size - off : IOBUF_SIZE;
		bool hole = false;

		if (c->sparse) {
			uint64_t i = off >> shift, end = (i + 1) << shift;

			if (end - off < len)
				len = end - off;
			hole = c->chunkmap[i] == SHAREFS_NULL_ADDR;
		}
		if (hole)	/* what the image will read back there */
			memset(buf, 0, (size_t)len);
		else
			err = sharefs_pread_all(c->fd, buf, (size_t)len, off);
		if (!err && !EVP_DigestUpdate(md, buf, (size_t)len))
			err = -ENOMEM;
		if (!err && b->opts.zcodec)
			err = sharefs_z_stream_write(b, c, buf, (size_t)len);
		else if (!err && !hole)
			err = sharefs_content_write(b, c, buf, (size_t)len, off);
		off += len;
	}
	close(c->fd);
	c->fd = -1;
	if (!err && b->opts.zcodec)
		err = sharefs_z_stream_end(b, c);
	if (!err && !EVP_DigestFinal_ex(md, c->digest, NULL))
		err = -ENOMEM;
	if (!err)
		err = sharefs_content_finish(b, c, start);
	return err;
}

struct pipeline {
	struct sharefs_build *b;
	size_t next;		/* the next file a reader takes */
	size_t committed;	/* files the committer is done with */
	bool stop;		/* an error: readers take no more files */
	pthread_mutex_t lock;	/* protects the fields above, ->ready and ->err */
	pthread_cond_t ready;	/* a reader finished a file */
	pthread_cond_t room;	/* the committer moved on, or stop */
};

static void *reader_thread(void *arg)
{
	struct pipeline *p = arg;
	struct sharefs_zc *zc = p->b->opts.zcodec ? sharefs_zc_new(p->b) : NULL;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct sharefs_content *c;
		int err;

		while (!p->stop && p->next < p->b->ncontents &&
		       p->next >= p->committed + WINDOW)
			pthread_cond_wait(&p->room, &p->lock);
		if (p->stop || p->next >= p->b->ncontents)
			break;
		c = p->b->contents[p->next++];
		pthread_mutex_unlock(&p->lock);
		err = read_source(p->b, c, zc);
		pthread_mutex_lock(&p->lock);
		c->err = err;
		c->ready = true;
		pthread_cond_broadcast(&p->ready);
	}
	pthread_mutex_unlock(&p->lock);
	sharefs_zc_free(zc);
	return NULL;
}

/* Wait for content i to be read; without readers, read it here. */
static int wait_ready(struct pipeline *p, size_t i, int readers)
{
	struct sharefs_content *c = p->b->contents[i];
	int err;

	if (!readers) {
		p->next = i + 1;
		return read_source(p->b, c, NULL);	/* the committer compresses */
	}
	pthread_mutex_lock(&p->lock);
	while (!c->ready)
		pthread_cond_wait(&p->ready, &p->lock);
	err = c->err;
	pthread_mutex_unlock(&p->lock);
	return err;
}

static void show_progress(struct sharefs_build *b, size_t done, uint64_t bytes,
			  bool last)
{
	if (!b->opts.progress || (!last && !sharefs_progress_due()))
		return;
	fprintf(stderr, "\rdata: %zu/%zu files, %llu MiB%s", done, b->ncontents,
		(unsigned long long)(bytes >> 20), last ? "\n" : " ");
}

static int commit_all(struct pipeline *p, int readers)
{
	struct sharefs_build *b = p->b;
	uint8_t *buf = sharefs_xmalloc(IOBUF_SIZE);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint64_t bytes = 0;
	int err = md ? 0 : -ENOMEM;

	for (size_t i = 0; i < b->ncontents && !err; i++) {
		struct sharefs_content *c = b->contents[i];

		err = wait_ready(p, i, readers);
		if (!err)
			err = c->buf ? commit_buffered(b, c) :
				       commit_stream(b, c, buf, md);
		if (err) {
			sharefs_msg("%s: %s", c->path, err == -EIO ?
				    "file changed while reading" : strerror(-err));
			break;
		}
		bytes += c->size;
		show_progress(b, i + 1, bytes, false);
		pthread_mutex_lock(&p->lock);
		p->committed = i + 1;
		pthread_cond_broadcast(&p->room);
		pthread_mutex_unlock(&p->lock);
	}
	if (!err)
		show_progress(b, b->ncontents, bytes, true);
	EVP_MD_CTX_free(md);
	free(buf);
	return err;
}

/* After an error: what readers left behind. */
static void drop_unread(struct sharefs_build *b)
{
	for (size_t i = 0; i < b->ncontents; i++) {
		struct sharefs_content *c = b->contents[i];

		if (c->ready && c->fd >= 0)
			close(c->fd);
		c->fd = -1;
		free(c->buf);
		c->buf = NULL;
	}
}

/* ---- directory input: the whole step ---- */

static void collect(struct sharefs_build *b, struct sharefs_node *dir)
{
	for (size_t i = 0; i < dir->nchild; i++) {
		struct sharefs_node *n = dir->children[i].node;

		if (S_ISDIR(n->mode)) {
			collect(b, n);
		} else if (S_ISREG(n->mode) && n->size && !n->placed) {
			n->placed = true;	/* hard links: once */
			sharefs_content_register(b, n->content);
		}
	}
}

static void clear_placed(struct sharefs_node *dir)
{
	for (size_t i = 0; i < dir->nchild; i++) {
		struct sharefs_node *n = dir->children[i].node;

		n->placed = false;
		if (S_ISDIR(n->mode))
			clear_placed(n);
	}
}

/* Tree order; needs sorted children. */
static void for_each_file(struct sharefs_node *dir,
			  void (*fn)(struct sharefs_build *, struct sharefs_node *),
			  struct sharefs_build *b)
{
	for (size_t i = 0; i < dir->nchild; i++) {
		struct sharefs_node *n = dir->children[i].node;

		if (S_ISDIR(n->mode))
			for_each_file(n, fn, b);
		else if (S_ISREG(n->mode) && n->size)
			fn(b, n);
	}
}

/*
 * Before any byte is read: the fingerprint xattr has its final size
 * already, so whether the tail is inline, and so the blocks the content
 * needs, is known when it is placed.
 */
static void decide_tail(struct sharefs_build *b, struct sharefs_node *n)
{
	sharefs_add_content_xattrs(b, n);
	n->content->tail_block = !sharefs_want_inline(b->blksz,
			sizeof(struct sharefs_inode_extended) +
			sharefs_xattr_ibody_size(n), n->size);
}

/* After: the real digest, and the content that holds the bytes. */
static void set_fingerprint(struct sharefs_build *b, struct sharefs_node *n)
{
	if (n->content->same)
		n->content = n->content->same;
	sharefs_add_content_xattrs(b, n);
}

int sharefs_content_store_all(struct sharefs_build *b)
{
	struct pipeline p = { .b = b };
	int jobs = b->opts.jobs > 0 ? b->opts.jobs : 1, readers = 0, err;
	pthread_t *tids;

	collect(b, b->root);
	clear_placed(b->root);
	for_each_file(b->root, decide_tail, b);
	pthread_mutex_init(&p.lock, NULL);
	pthread_cond_init(&p.ready, NULL);
	pthread_cond_init(&p.room, NULL);
	tids = sharefs_xcalloc((size_t)jobs, sizeof(*tids));
	for (int i = 0; i < jobs && (size_t)i < b->ncontents; i++)
		if (!pthread_create(&tids[readers], NULL, reader_thread, &p))
			readers++;
	err = commit_all(&p, readers);
	pthread_mutex_lock(&p.lock);
	p.stop = true;
	pthread_cond_broadcast(&p.room);
	pthread_mutex_unlock(&p.lock);
	for (int i = 0; i < readers; i++)
		pthread_join(tids[i], NULL);
	free(tids);
	if (err)
		drop_unread(b);
	else
		for_each_file(b->root, set_fingerprint, b);
	pthread_cond_destroy(&p.room);
	pthread_cond_destroy(&p.ready);
	pthread_mutex_destroy(&p.lock);
	return err;
}
