// SPDX-License-Identifier: GPL-2.0-only OR Apache-2.0
/*
 * content.c - fingerprint file contents and store each distinct one once.
 *
 * Directory input runs two parallel passes over the regular files, in tree
 * order: the first reads each file once to compute SHA-256, keep its tail
 * (the bytes after the last full block) and find holes; the second copies
 * the bytes into the data region (copy_file_range, with a read/write
 * fallback).  Between the two, a single thread deduplicates and assigns
 * blocks in tree order, so the image does not depend on which thread
 * finished first.  Tar input is a stream and is written in place as it is
 * read (tar.c); it shares the dedup and inline decisions below.
 *
 * Dedup trusts SHA-256: two contents with the same digest and size share
 * blocks without a byte compare (a collision is not a practical concern).
 * Sparse files are never deduplicated; their layout is their own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "mkfs.h"

#define IOBUF_SIZE	(1u << 20)

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

static unsigned int fp_entry_size(const struct sharefs_build *b)
{
	unsigned int name = b->opts.ishare ? 0 : sizeof(SHAREFS_FP_SUFFIX) - 1;

	return SHAREFS_XATTR_ALIGN(sizeof(struct sharefs_xattr_entry) + name +
				   SHAREFS_FP_VALUE_LEN);
}

/* Sets (or reserves, before the digest is known) the fingerprint xattr. */
void sharefs_add_fingerprint(struct sharefs_build *b, struct sharefs_node *n)
{
	uint8_t value[SHAREFS_FP_VALUE_LEN];
	struct sharefs_content *c = n->content;

	if (!b->opts.fingerprint || !S_ISREG(n->mode) || !n->size)
		return;
	(void)fp_entry_size;
	memcpy(value, SHAREFS_FP_TAG, SHAREFS_FP_TAG_LEN);
	memcpy(value + SHAREFS_FP_TAG_LEN, c->digest, SHAREFS_FP_DIGEST_LEN);
	if (b->opts.ishare) {
		/* one name, one encoding: drop a copy that came with the source */
		for (unsigned int i = 0; i < n->nxattrs; i++) {
			struct sharefs_xattr *x = &n->xattrs[i];

			if (x->index == SHAREFS_XATTR_INDEX_TRUSTED &&
			    !strcmp(x->name, SHAREFS_FP_SUFFIX)) {
				free(x->name);
				free(x->value);
				n->xattrs[i] = n->xattrs[--n->nxattrs];
				break;
			}
		}
		sharefs_xattr_set_raw(n, SHAREFS_XATTR_LONG_PREFIX |
				      b->ishare_prefix_id, "", value,
				      sizeof(value));
	} else {
		sharefs_xattr_set_raw(n, SHAREFS_XATTR_INDEX_TRUSTED,
				      SHAREFS_FP_SUFFIX, value, sizeof(value));
	}
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

/* Returns the content that already holds these bytes, or NULL (and adds c). */
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
		if (o->size == c->size && !memcmp(o->digest, c->digest,
						  sizeof(c->digest)))
			return o;
	c->hnext = b->hash[slot];
	b->hash[slot] = c;
	return NULL;
}

/* ---- a small pool: workers take the next index until all are done ---- */

struct pool {
	struct sharefs_build *b;
	int (*fn)(struct sharefs_build *b, struct sharefs_content *c,
		  uint8_t *buf);
	atomic_size_t next, done;
	atomic_ullong bytes;
	atomic_int failed;
	size_t n;
	pthread_mutex_t lock;		/* protects err_path/err */
	const char *err_path;
	int err;
};

static void *pool_worker(void *arg)
{
	struct pool *p = arg;
	uint8_t *buf = sharefs_xmalloc(IOBUF_SIZE);

	for (;;) {
		size_t i = atomic_fetch_add(&p->next, 1);
		struct sharefs_content *c;
		int err;

		if (i >= p->n || atomic_load(&p->failed))
			break;
		c = p->b->contents[i];
		err = p->fn(p->b, c, buf);
		if (err) {
			pthread_mutex_lock(&p->lock);
			if (!p->err) {
				p->err = err;
				p->err_path = c->path;
			}
			pthread_mutex_unlock(&p->lock);
			atomic_store(&p->failed, 1);
			break;
		}
		atomic_fetch_add(&p->bytes, c->size);
		atomic_fetch_add(&p->done, 1);
	}
	free(buf);
	return NULL;
}

static int pool_run(struct sharefs_build *b, const char *what,
		    int (*fn)(struct sharefs_build *, struct sharefs_content *,
			      uint8_t *))
{
	struct pool p = { .b = b, .fn = fn, .n = b->ncontents };
	int jobs = b->opts.jobs > 0 ? b->opts.jobs : 1;
	pthread_t *tids;
	int started = 0;

	pthread_mutex_init(&p.lock, NULL);
	if ((size_t)jobs > p.n)
		jobs = p.n ? (int)p.n : 1;
	tids = sharefs_xcalloc((size_t)jobs, sizeof(*tids));
	for (int i = 0; i < jobs; i++)
		if (!pthread_create(&tids[i], NULL, pool_worker, &p))
			started++;
	if (!started)
		pool_worker(&p);
	while (b->opts.progress && atomic_load(&p.done) < p.n &&
	       !atomic_load(&p.failed)) {
		if (sharefs_progress_due())
			fprintf(stderr, "\r%s: %zu/%zu files, %llu MiB ", what,
				(size_t)atomic_load(&p.done), p.n,
				(unsigned long long)(atomic_load(&p.bytes) >> 20));
		usleep(50000);
	}
	for (int i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	if (b->opts.progress)
		fprintf(stderr, "\r%s: %zu/%zu files, %llu MiB\n", what,
			(size_t)atomic_load(&p.done), p.n,
			(unsigned long long)(atomic_load(&p.bytes) >> 20));
	free(tids);
	pthread_mutex_destroy(&p.lock);
	if (p.err) {
		sharefs_msg("%s: %s", p.err_path ? p.err_path : "?",
			    p.err == -EIO ? "file changed while reading" :
			    strerror(-p.err));
		return p.err;
	}
	return 0;
}

/* ---- pass 1: fingerprint, tail and holes ---- */

/* Chunks of block << bits; the map stays at most 4096 entries or so. */
static void plan_chunks(struct sharefs_build *b, struct sharefs_content *c)
{
	unsigned int bits = 0;

	while (bits < 31 && ((c->size - 1) >> (b->opts.blkszbits + bits)) + 1 > 4096)
		bits++;
	c->chunkbits = bits;
	c->nchunks = (uint32_t)(((c->size - 1) >> (b->opts.blkszbits + bits)) + 1);
	c->chunkmap = sharefs_xcalloc(c->nchunks, sizeof(*c->chunkmap));
	/* 0 = hole for now; filled with real blocks at allocation */
}

static void mark_data(struct sharefs_build *b, struct sharefs_content *c,
		      uint64_t off, uint64_t len)
{
	unsigned int shift = b->opts.blkszbits + c->chunkbits;

	if (!len)
		return;
	for (uint64_t i = off >> shift; i <= (off + len - 1) >> shift &&
	     i < c->nchunks; i++)
		c->chunkmap[i] = 1;
}

static int hash_one(struct sharefs_build *b, struct sharefs_content *c,
		    uint8_t *buf)
{
	uint64_t tailsz = c->size % b->blksz, tailoff = c->size - tailsz;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint64_t off = 0;
	struct stat st;
	int fd, err = 0;

	if (!md)
		return -ENOMEM;
	fd = open(c->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		err = -errno;
		goto out_md;
	}
	if (fstat(fd, &st) || (uint64_t)st.st_size != c->size) {
		err = -EIO;
		goto out;
	}
	if (tailsz)
		c->tail = sharefs_xmalloc(tailsz);
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	/* holes: SEEK_HOLE before EOF means the file is sparse */
	{
		off_t h = lseek(fd, 0, SEEK_HOLE);

		if (h >= 0 && (uint64_t)h < c->size) {
			c->sparse = true;
			plan_chunks(b, c);
		}
	}
	while (off < c->size) {
		uint64_t want = c->size - off, data_end = c->size;
		ssize_t n;

		if (c->sparse) {
			off_t d = lseek(fd, (off_t)off, SEEK_DATA);
			off_t h;

			if (d < 0)
				d = (off_t)c->size;	/* ENXIO: hole to EOF */
			/* feed the hole [off, d) as zeros */
			while (off < (uint64_t)d) {
				size_t z = (size_t)((uint64_t)d - off < IOBUF_SIZE ?
						    (uint64_t)d - off : IOBUF_SIZE);

				memset(buf, 0, z);
				EVP_DigestUpdate(md, buf, z);
				if (off + z > tailoff && tailsz) {
					uint64_t s = off > tailoff ? off : tailoff;

					memset(c->tail + (s - tailoff), 0, off + z - s);
				}
				off += z;
			}
			if (off >= c->size)
				break;
			h = lseek(fd, (off_t)off, SEEK_HOLE);
			data_end = h < 0 ? c->size : (uint64_t)h;
			if (data_end > c->size)
				data_end = c->size;
			mark_data(b, c, off, data_end - off);
			want = data_end - off;
		}
		if (want > IOBUF_SIZE)
			want = IOBUF_SIZE;
		n = pread(fd, buf, (size_t)want, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		if (n == 0) {
			err = -EIO;
			goto out;
		}
		EVP_DigestUpdate(md, buf, (size_t)n);
		if (tailsz && off + (uint64_t)n > tailoff) {
			uint64_t s = off > tailoff ? off : tailoff;

			memcpy(c->tail + (s - tailoff), buf + (s - off),
			       off + (uint64_t)n - s);
		}
		off += (uint64_t)n;
	}
	EVP_DigestFinal_ex(md, c->digest, NULL);
out:
	close(fd);
out_md:
	EVP_MD_CTX_free(md);
	return err;
}

/*
 * Assign data blocks: full blocks, plus a block for the tail when some
 * inode using this content stores it plain.  Sparse contents get one run
 * per chunk that has data.
 */
static void place_content(struct sharefs_build *b, struct sharefs_content *c)
{
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
		return;
	}
	c->blkaddr = b->data_next;
	b->data_next += c->size >> b->opts.blkszbits;
	if (c->tail_block && c->size % b->blksz)
		b->data_next++;
}

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

static void decide_tail(struct sharefs_build *b, struct sharefs_node *n)
{
	struct sharefs_content *c = n->content;

	sharefs_add_fingerprint(b, n);
	if (c->same)
		c = c->same;
	if (!sharefs_want_inline(b->blksz, sizeof(struct sharefs_inode_extended) +
				 sharefs_xattr_ibody_size(n), n->size))
		c->tail_block = true;
	n->content = c;
}

int sharefs_content_fingerprint_all(struct sharefs_build *b)
{
	int err;

	collect(b, b->root);
	clear_placed(b->root);
	err = pool_run(b, "fingerprint", hash_one);
	if (err)
		return err;
	for (size_t i = 0; i < b->ncontents; i++) {
		struct sharefs_content *c = b->contents[i];

		c->same = sharefs_content_dedup(b, c);
		if (c->same)
			b->dedup_bytes += c->size;
	}
	for_each_file(b->root, decide_tail, b);
	return 0;
}

/* ---- pass 2: copy into the data region ---- */

static int copy_range(int in, uint64_t off, int out, uint64_t dst,
		      uint64_t len, uint8_t *buf)
{
	bool cfr = true;

	while (len) {
		ssize_t n;

		if (cfr) {
			loff_t a = (loff_t)off, d = (loff_t)dst;

			n = copy_file_range(in, &a, out, &d, (size_t)len, 0);
			if (n < 0 && (errno == EXDEV || errno == EINVAL ||
				      errno == ENOSYS || errno == EOPNOTSUPP ||
				      errno == EBADF)) {
				cfr = false;
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return -errno;
			if (n == 0)
				return -EIO;
		} else {
			int err;

			n = pread(in, buf, len < IOBUF_SIZE ? (size_t)len :
				  IOBUF_SIZE, (off_t)off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return -errno;
			if (n == 0)
				return -EIO;
			err = sharefs_pwrite_all(out, buf, (size_t)n, dst);
			if (err)
				return err;
		}
		off += (uint64_t)n;
		dst += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

static int store_one(struct sharefs_build *b, struct sharefs_content *c,
		     uint8_t *buf)
{
	unsigned int bits = b->opts.blkszbits;
	int fd, err = 0;

	if (c->same || c->placed)
		return 0;
	fd = open(c->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (c->sparse) {
		unsigned int shift = bits + c->chunkbits;

		for (uint32_t i = 0; i < c->nchunks && !err; i++) {
			uint64_t off = (uint64_t)i << shift, len;

			if (c->chunkmap[i] == SHAREFS_NULL_ADDR)
				continue;
			len = c->size - off < (1ull << shift) ?
			      c->size - off : (1ull << shift);
			err = copy_range(fd, off, b->fd,
					 (uint64_t)c->chunkmap[i] << bits, len, buf);
		}
	} else {
		uint64_t len = c->size;

		if (!c->tail_block)
			len -= c->size % b->blksz;
		err = copy_range(fd, 0, b->fd, c->blkaddr << bits, len, buf);
	}
	close(fd);
	c->placed = !err;
	return err;
}

int sharefs_content_store_all(struct sharefs_build *b)
{
	for (size_t i = 0; i < b->ncontents; i++)
		if (!b->contents[i]->same && !b->contents[i]->placed)
			place_content(b, b->contents[i]);
	return pool_run(b, "write", store_one);
}

/* Tar input: place c now, before its bytes are streamed in. */
int sharefs_content_stream_begin(struct sharefs_build *b,
				 struct sharefs_content *c)
{
	place_content(b, c);
	return 0;
}
