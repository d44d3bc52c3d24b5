// SPDX-License-Identifier: GPL-2.0-only OR Apache-2.0
/*
 * compress.c - mkfs.sharefs -z: regular files as compressed EROFS extents.
 *
 * A compressed content is cut into extents.  Each extent is the longest
 * prefix of what is left that the codec can squeeze into one pcluster (1
 * block, or up to -C bytes: big pclusters), found by LZ4's and LZ4HC's
 * destSize compressors, and for zstd, which has none, by a short search
 * over the input length.  The compressed bytes end at the end of their
 * pcluster and the zeros before them are less than a block (ZERO_PADDING:
 * readers skip them to find the stream).  The format's rules shape the
 * choice (sharefs_fs.h has the layout):
 *
 *  - every lcluster (one block of uncompressed bytes here) holds at most
 *    one extent start: a compressed extent decodes to more than a block,
 *    and a plain (uncompressed) one is exactly a block long, so the next
 *    one starts in the next lcluster;
 *  - an extent that does not shrink (its pcluster would be as large as
 *    its bytes) is stored plain: one block holding its bytes from the
 *    block's start; but the file's last extent stays compressed when
 *    plain ones would take more blocks (see plain_blocks()).  The input
 *    that such a pcluster took becomes plain blocks without more tries,
 *    all but its last block (see next_extent());
 *  - readers ask a plain extent only for bytes up to the end of the
 *    lcluster they read, and refuse a plain extent longer than its block.
 *    A plain extent that runs past an lcluster end into the file's last
 *    lcluster (which then has no extent start to stop it) would look
 *    longer than a block, so a plain extent at the end of the file stops
 *    at the lcluster end and the rest becomes an extent of its own;
 *  - a pcluster of several blocks gives its block count in the index of
 *    the lcluster after its start (CBLKCNT), so it needs an extent that
 *    covers that lcluster without a new extent starting in it; one that
 *    does not is compressed again into a single block;
 *  - an extent holds at most IN_MAX uncompressed bytes (the lcluster
 *    distances then fit the index's 11 bits, and a reader decodes at most
 *    that much to serve one page).
 *
 * Only the content decides the extents (the input window is always full
 * but at the end, codec state is reset per content), so images stay
 * reproducible for any -j.  Small contents (up to SHAREFS_Z_SMALL_MAX) are
 * compressed in memory, by the reader threads, and stored compressed only
 * when pclusters and indexes take fewer bytes than the flat layout (whose
 * tail may be inline with the inode, costing bytes but no block): small
 * files that do not gain stay FLAT_PLAIN or FLAT_INLINE.  Larger contents are
 * streamed (directory and tar input alike) and always compressed; every
 * extent that does not shrink costs what the flat layout would.  The bytes
 * hashed for the fingerprint are the bytes handed to the compressor, and
 * --verity reads the content back by decompressing what the image holds.
 *
 * The map header, the indexes and the COMPR_CFGS records are zmeta.c's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <lz4.h>
#include <lz4hc.h>
#include <zstd.h>
#include "mkfs.h"

#define IN_MAX		(1u << 20)	/* uncompressed bytes in one extent, at most */
#define MAX_LCLUSTERS	1024		/* ... and lclusters; d0 must stay below CBLKCNT */
#define HC_FIRST_MAX	(32u << 10)	/* lz4hc: below this, a short try first */
#define ZSTD_TRIES	12		/* compressions per zstd pcluster, at most */

/* ---- options ---- */

static const struct zcodec {
	const char *name;
	int codec;
	int alg;			/* SHAREFS_Z_ALG_* on disk */
	int def, min, max;		/* levels; max 0: no level */
} zcodecs[] = {
	{ "lz4",   SHAREFS_ZC_LZ4,   SHAREFS_Z_ALG_LZ4,  0, 0, 0 },
	{ "lz4hc", SHAREFS_ZC_LZ4HC, SHAREFS_Z_ALG_LZ4,  LZ4HC_CLEVEL_DEFAULT, 1, LZ4HC_CLEVEL_MAX },
	{ "zstd",  SHAREFS_ZC_ZSTD,  SHAREFS_Z_ALG_ZSTD, ZSTD_CLEVEL_DEFAULT, 1, 22 },
};

static const struct zcodec *codec_of(int codec)
{
	for (size_t i = 0; i < sizeof(zcodecs) / sizeof(zcodecs[0]); i++)
		if (zcodecs[i].codec == codec)
			return &zcodecs[i];
	return NULL;
}

/* -z ALG[,LEVEL]: NULL, or what is wrong with it. */
const char *sharefs_z_parse(const char *spec, struct sharefs_opts *o)
{
	static char msg[200];
	const char *comma = strchr(spec, ',');
	size_t nlen = comma ? (size_t)(comma - spec) : strlen(spec);
	const struct zcodec *z = NULL;
	char *end;
	long v;

	for (size_t i = 0; i < sizeof(zcodecs) / sizeof(zcodecs[0]); i++)
		if (strlen(zcodecs[i].name) == nlen &&
		    !strncmp(zcodecs[i].name, spec, nlen))
			z = &zcodecs[i];
	if (!z) {
		snprintf(msg, sizeof(msg),
			 "unknown compressor in -z '%s' (lz4, lz4hc[,1-12] or zstd[,1-22])",
			 spec);
		return msg;
	}
	o->zcodec = z->codec;
	o->zlevel = z->def;
	if (!comma)
		return NULL;
	if (!z->max) {
		snprintf(msg, sizeof(msg),
			 "-z '%s': %s takes no level (lz4hc,N is LZ4 with levels)",
			 spec, z->name);
		return msg;
	}
	errno = 0;
	v = strtol(comma + 1, &end, 10);
	if (errno || end == comma + 1 || *end || v < z->min || v > z->max) {
		snprintf(msg, sizeof(msg), "-z '%s': %s level must be %d to %d",
			 spec, z->name, z->min, z->max);
		return msg;
	}
	o->zlevel = (int)v;
	return NULL;
}

/* -C, once the block size is known: NULL, or what is wrong with it. */
const char *sharefs_z_check_pcluster(const struct sharefs_opts *o)
{
	static char msg[200];
	unsigned int blksz = 1u << o->blkszbits;

	if (!o->pcluster)
		return NULL;
	if (!o->zcodec)
		return "-C needs -z (it sets the pcluster size of compressed files)";
	if (o->pcluster < blksz || o->pcluster % blksz ||
	    o->pcluster > SHAREFS_Z_PCLUSTER_MAX_SIZE ||
	    o->pcluster / blksz > MAX_LCLUSTERS) {
		snprintf(msg, sizeof(msg),
			 "bad pcluster size -C %u: a multiple of the block size (%u) up to %u bytes",
			 o->pcluster, blksz,
			 blksz * MAX_LCLUSTERS < SHAREFS_Z_PCLUSTER_MAX_SIZE ?
			 blksz * MAX_LCLUSTERS : SHAREFS_Z_PCLUSTER_MAX_SIZE);
		return msg;
	}
	return NULL;
}

/* ---- one thread's compressor ---- */

struct sharefs_zc {
	int codec, level;
	unsigned int blkszbits;
	size_t pcluster;		/* bytes */
	void *hc;			/* lz4hc state */
	ZSTD_CCtx *zstd;
	uint8_t *out, *trial;		/* compressed bytes: the kept, the tried */
	size_t outcap;
	uint8_t *pcl;			/* the pcluster being built */
	size_t guess;			/* zstd: input of the last pcluster */
	uint64_t plain_to;		/* content bytes before this did not shrink */
	bool last_plain;		/* the last try of this content did not shrink */
};

/* Large contents stream through a window of 2 * IN_MAX. */
struct sharefs_zstream {
	struct sharefs_zc *zc;		/* the committer's (and tar's) compressor */
	uint8_t *win;
	size_t start, end;		/* window bytes not yet in an extent */
	uint64_t pos;			/* content offset of win[start] */
};

static size_t pcluster_bytes(const struct sharefs_opts *o)
{
	return sharefs_z_pcluster(o);
}

/* Largest pcluster of the build, bytes. */
unsigned int sharefs_z_pcluster(const struct sharefs_opts *o)
{
	return o->pcluster ? o->pcluster : 1u << o->blkszbits;
}

/* The on-disk algorithm (SHAREFS_Z_ALG_*) of the build's codec. */
int sharefs_z_alg(const struct sharefs_opts *o)
{
	return codec_of(o->zcodec)->alg;
}

struct sharefs_zc *sharefs_zc_new(const struct sharefs_build *b)
{
	struct sharefs_zc *zc = sharefs_xcalloc(1, sizeof(*zc));

	zc->codec = b->opts.zcodec;
	zc->level = b->opts.zlevel;
	zc->blkszbits = b->opts.blkszbits;
	zc->pcluster = pcluster_bytes(&b->opts);
	zc->outcap = ZSTD_compressBound(IN_MAX);
	zc->out = sharefs_xmalloc(zc->outcap);
	zc->trial = sharefs_xmalloc(zc->outcap);
	zc->pcl = sharefs_xmalloc(zc->pcluster);
	if (zc->codec == SHAREFS_ZC_LZ4HC)
		zc->hc = sharefs_xmalloc((size_t)LZ4_sizeofStateHC());
	if (zc->codec == SHAREFS_ZC_ZSTD) {
		zc->zstd = ZSTD_createCCtx();
		if (!zc->zstd ||
		    ZSTD_isError(ZSTD_CCtx_setParameter(zc->zstd,
				ZSTD_c_compressionLevel, zc->level)) ||
		    ZSTD_isError(ZSTD_CCtx_setParameter(zc->zstd,
				ZSTD_c_windowLog, SHAREFS_Z_ZSTD_WLOG))) {
			sharefs_msg("zstd: cannot set up a compressor (level %d)",
				    zc->level);
			exit(1);
		}
	}
	return zc;
}

void sharefs_zc_free(struct sharefs_zc *zc)
{
	if (!zc)
		return;
	ZSTD_freeCCtx(zc->zstd);
	free(zc->hc);
	free(zc->out);
	free(zc->trial);
	free(zc->pcl);
	free(zc);
}

/*
 * zstd has no "fill this much output" mode: try input lengths, each from
 * the ratio of the last try, and keep the longest that fits, stopping
 * when it fills the pcluster to within 1/256 or the bounds on the input
 * are within 1/512 of each other.  Each try is a whole
 * frame, so the result depends on the input alone.
 */
static int zstd_fill(struct sharefs_zc *zc, const uint8_t *in, size_t avail,
		     size_t cap, size_t *used, size_t *n)
{
	size_t lo = 0, hi = avail + 1, len;

	*n = 0;
	len = zc->guess ? zc->guess : 4 * cap;
	if (len > avail)
		len = avail;
	for (int t = 0; t < ZSTD_TRIES && len > lo && len < hi; t++) {
		size_t r = ZSTD_compress2(zc->zstd, zc->trial, zc->outcap, in, len);
		uint64_t next;

		if (ZSTD_isError(r)) {
			sharefs_msg("zstd: %s", ZSTD_getErrorName(r));
			return -EIO;
		}
		if (r <= cap) {
			uint8_t *t2 = zc->out;

			zc->out = zc->trial;
			zc->trial = t2;
			lo = len;
			*n = r;
			if (len == avail)
				break;
		} else {
			hi = len;
		}
		/* full to within 1/256, or the input within 1/512 */
		if (*n >= cap - cap / 256 || hi - lo <= lo / 512 + 16)
			break;
		/* aim a little under the capacity: more input, more output */
		next = (uint64_t)len * (cap - cap / 32) / (r ? r : 1);
		if (next <= lo || next >= hi)	/* no upper bound yet: grow gently */
			next = hi > avail && lo ? lo + lo / 4 + 1 : lo + (hi - lo) / 2;
		len = next > avail ? avail : (size_t)next;
	}
	*used = lo;
	if (lo)
		zc->guess = lo;
	return 0;
}

/*
 * LZ4HC's destSize mode reads on past a full output for as long as it
 * finds no match: over bytes that do not compress, up to some 100 KiB
 * further whatever the capacity (a one-block pcluster from 1 MiB of a
 * .deb file costs 60 times what it does from 8 KiB).  So after a try that
 * did not shrink, a pcluster of less than HC_FIRST_MAX gets twice its
 * capacity first, and all of @avail only when it took most of that (a
 * larger one would gain little: the first try would read about as far).
 * The pclusters came out the same on every tree measured
 * (Documentation/benchmarks.md); either way they depend on the content
 * alone.
 */
static int hc_fill(struct sharefs_zc *zc, const uint8_t *in, size_t avail,
		   size_t cap, int *src)
{
	size_t first = 2 * cap;
	int r;

	if (zc->last_plain && avail > first && cap < HC_FIRST_MAX) {
		*src = (int)first;
		r = LZ4_compress_HC_destSize(zc->hc, (const char *)in,
					     (char *)zc->out, src, (int)cap,
					     zc->level);
		/* the output filled well before the input ran out */
		if (r > 0 && (size_t)*src < first - cap / 2)
			return r;
	}
	*src = (int)avail;
	return LZ4_compress_HC_destSize(zc->hc, (const char *)in,
					(char *)zc->out, src, (int)cap,
					zc->level);
}

/*
 * Compress the longest prefix of in[0, avail) that fits @cap bytes into
 * zc->out.  *n 0: nothing fits (the extent will be plain).
 */
static int fill_pcluster(struct sharefs_zc *zc, const uint8_t *in, size_t avail,
			 size_t cap, size_t *used, size_t *n)
{
	int src = (int)avail, r;

	switch (zc->codec) {
	case SHAREFS_ZC_LZ4:
		r = LZ4_compress_destSize((const char *)in, (char *)zc->out,
					  &src, (int)cap);
		break;
	case SHAREFS_ZC_LZ4HC:
		r = hc_fill(zc, in, avail, cap, &src);
		break;
	default:
		return zstd_fill(zc, in, avail, cap, used, n);
	}
	/* 0: LZ4 found nothing to put in @cap bytes; not an error */
	*n = r > 0 ? (size_t)r : 0;
	*used = r > 0 ? (size_t)src : 0;
	return 0;
}

/*
 * Whether the lcluster after the one holding @s is a NONHEAD of the
 * extent [s, end): one exists (the file goes on past it) and no extent
 * starts in it.  Only then can it carry a big pcluster's CBLKCNT.
 */
static bool nonhead_follows(uint64_t s, uint64_t end, uint64_t size,
			    unsigned int bits)
{
	uint64_t next = ((s >> bits) + 1) << bits;

	return end > next && (end == size || end >= next + (1ull << bits));
}

/*
 * Blocks that plain extents take for the last @len bytes of a file, the
 * first starting @c bytes into its lcluster (see next_extent()).  The last
 * extent is kept compressed when it takes fewer: 3300 bytes that start
 * 1000 bytes into an lcluster take two plain blocks, or one compressed
 * (which may then decode to less than a block: no extent follows it).
 */
static size_t plain_blocks(size_t c, size_t len, size_t blksz)
{
	size_t blocks = 0;

	while (len) {
		size_t l = len < blksz ? len : blksz;

		if (l == len && c + l > blksz)
			l = blksz - c;
		blocks++;
		len -= l;
		c = (c + l) & (blksz - 1);
	}
	return blocks;
}

/*
 * The plain extent at content byte @s: one block of bytes; at the file's
 * end, not past an lcluster.
 */
static int plain_extent(struct sharefs_zc *zc, const uint8_t *in, size_t avail,
			uint64_t s, uint64_t size, struct sharefs_zext *e)
{
	size_t blksz = (size_t)1 << zc->blkszbits;
	size_t c = (size_t)(s & (blksz - 1));
	size_t len = avail < blksz ? avail : blksz;

	if (s + len == size && c + len > blksz)
		len = blksz - c;
	memcpy(zc->pcl, in, len);
	memset(zc->pcl + len, 0, blksz - len);
	memset(e, 0, sizeof(*e));
	e->lstart = s;
	e->llen = (uint32_t)len;
	e->nblks = 1;
	e->plain = true;
	return 0;
}

/*
 * The extent that starts at content byte @s, chosen from in[0, avail) =
 * content bytes [s, s + avail), avail = min(IN_MAX, size - s) (its whole
 * lookahead, so the choice depends on the content alone).  Builds its
 * pcluster in zc->pcl; see the top of the file for the rules.
 */
static int next_extent(struct sharefs_zc *zc, const uint8_t *in, size_t avail,
		       uint64_t s, uint64_t size, struct sharefs_zext *e)
{
	unsigned int bits = zc->blkszbits;
	size_t blksz = (size_t)1 << bits, used = 0, n = 0, nblks, pad;
	size_t c = (size_t)(s & (blksz - 1));
	int err;

	if (avail > (size_t)MAX_LCLUSTERS << bits)
		avail = (size_t)MAX_LCLUSTERS << bits;
	/*
	 * The input of a pcluster that did not shrink is stored as plain
	 * blocks without a try each, as mkfs.erofs does: trying again at
	 * every block costs a 64 KiB pcluster sixteen compressions of 64 KiB.
	 * Its last block is tried again, as compressible bytes may start
	 * there.
	 */
	if (s + 2 * blksz <= zc->plain_to)
		return plain_extent(zc, in, avail, s, size, e);
	err = fill_pcluster(zc, in, avail, zc->pcluster, &used, &n);
	nblks = (n + blksz - 1) >> bits;
	if (!err && nblks > 1 && !nonhead_follows(s, s + used, size, bits)) {
		err = fill_pcluster(zc, in, avail, blksz, &used, &n);
		nblks = 1;
	}
	if (err)
		return err;
	memset(e, 0, sizeof(*e));
	e->lstart = s;
	if (n && ((nblks << bits) < used ||
		  (s + used == size && nblks < plain_blocks(c, used, blksz)))) {
		pad = (nblks << bits) - n;
		memset(zc->pcl, 0, pad);
		memcpy(zc->pcl + pad, zc->out, n);
		e->llen = (uint32_t)used;
		e->nblks = (uint16_t)nblks;
		zc->last_plain = false;
		return 0;
	}
	zc->plain_to = s + used;
	zc->last_plain = true;
	return plain_extent(zc, in, avail, s, size, e);
}

static void ext_push(struct sharefs_content *c, const struct sharefs_zext *e)
{
	if (c->nzext == c->capzext) {
		c->capzext = c->capzext ? c->capzext * 2 : 16;
		c->zext = sharefs_xrealloc(c->zext, c->capzext * sizeof(*c->zext));
	}
	c->zext[c->nzext] = *e;
	c->zext[c->nzext].pblk = (uint32_t)c->zblocks;
	c->nzext++;
	c->zblocks += e->nblks;
}

/* A new content: nothing carries over from the last one. */
static void zc_begin(struct sharefs_zc *zc)
{
	zc->guess = 0;
	zc->plain_to = 0;
	zc->last_plain = false;
}

static void z_reset(struct sharefs_content *c)
{
	free(c->zext);
	free(c->zmem);
	c->zext = NULL;
	c->zmem = NULL;
	c->nzext = c->capzext = 0;
	c->zblocks = 0;
}

/* ---- small contents: in memory, compressed only if it saves blocks ---- */

/* Compress all of buf (c->size bytes) into c->zext and c->zmem. */
int sharefs_z_compress_mem(struct sharefs_zc *zc, const struct sharefs_build *b,
			   struct sharefs_content *c, const uint8_t *buf)
{
	unsigned int bits = b->opts.blkszbits;
	size_t cap = 0;
	uint64_t s = 0;

	z_reset(c);
	zc_begin(zc);
	while (s < c->size) {
		uint64_t left = c->size - s;
		size_t avail = left < IN_MAX ? (size_t)left : IN_MAX;
		struct sharefs_zext e;
		size_t need;
		int err = next_extent(zc, buf + s, avail, s, c->size, &e);

		if (err)
			return err;
		ext_push(c, &e);
		need = (size_t)(c->zblocks << bits);
		if (need > cap) {
			cap = need * 2;
			c->zmem = sharefs_xrealloc(c->zmem, cap);
		}
		memcpy(c->zmem + need - ((size_t)e.nblks << bits), zc->pcl,
		       (size_t)e.nblks << bits);
		s += e.llen;
	}
	return 0;
}

/*
 * Store a content that is whole in memory (and not a duplicate): its
 * compressed pclusters if they and their indexes take fewer bytes than
 * the flat layout, else flat.  Compresses it first if no reader thread
 * did.
 */
int sharefs_z_store_mem(struct sharefs_build *b, struct sharefs_content *c,
			const uint8_t *buf)
{
	unsigned int bits = b->opts.blkszbits;
	uint64_t tail = c->size & (b->blksz - 1), flat, packed;
	int err = 0;

	if (!c->zext)
		err = sharefs_z_compress_mem(b->z->zc, b, c, buf);
	/*
	 * Bytes either way: an inline tail is not free, it takes inode-area
	 * bytes; the compressed file's indexes do too (and alignment, at
	 * most 7 bytes, left out).
	 */
	flat = (c->size - tail) + (c->tail_block && tail ? b->blksz : tail);
	packed = (c->zblocks << bits) + SHAREFS_Z_FULL_INDEX_POS(0) +
		 ((c->size + b->blksz - 1) >> bits) *
		 sizeof(struct sharefs_z_lcluster_index);
	if (!err && packed < flat) {
		c->compressed = true;
		c->blkaddr = b->data_next;
		err = sharefs_pwrite_all(b->fd, c->zmem, (size_t)(c->zblocks << bits),
					 c->blkaddr << bits);
		b->data_next += c->zblocks;
		free(c->zmem);
		c->zmem = NULL;
		return err;
	}
	z_reset(c);
	if (err)
		return err;
	sharefs_content_place(b, c);
	return sharefs_content_write(b, c, buf, (size_t)c->size, 0);
}

/* ---- large contents: streamed through a window of 2 * IN_MAX ---- */

int sharefs_z_init(struct sharefs_build *b)
{
	if (!b->opts.zcodec)
		return 0;
	b->z = sharefs_xcalloc(1, sizeof(*b->z));
	b->z->zc = sharefs_zc_new(b);
	b->z->win = sharefs_xmalloc(2 * (size_t)IN_MAX);
	return 0;
}

void sharefs_z_exit(struct sharefs_build *b)
{
	if (!b->z)
		return;
	sharefs_zc_free(b->z->zc);
	free(b->z->win);
	free(b->z);
	b->z = NULL;
}

void sharefs_z_stream_begin(struct sharefs_build *b, struct sharefs_content *c)
{
	z_reset(c);
	c->compressed = true;
	c->blkaddr = b->data_next;
	b->z->start = b->z->end = 0;
	b->z->pos = 0;
	zc_begin(b->z->zc);
}

/* One extent from the window, written at the end of the data region. */
static int stream_extent(struct sharefs_build *b, struct sharefs_content *c)
{
	struct sharefs_zstream *zs = b->z;
	unsigned int bits = b->opts.blkszbits;
	size_t avail = zs->end - zs->start;
	struct sharefs_zext e;
	int err;

	if (avail > IN_MAX)
		avail = IN_MAX;
	err = next_extent(zs->zc, zs->win + zs->start, avail, zs->pos, c->size, &e);
	if (!err)
		err = sharefs_pwrite_all(b->fd, zs->zc->pcl, (size_t)e.nblks << bits,
					 (c->blkaddr + c->zblocks) << bits);
	if (err)
		return err;
	ext_push(c, &e);
	b->data_next += e.nblks;
	zs->start += e.llen;
	zs->pos += e.llen;
	return 0;
}

/* The next @len bytes of the content, in order. */
int sharefs_z_stream_write(struct sharefs_build *b, struct sharefs_content *c,
			   const uint8_t *p, size_t len)
{
	struct sharefs_zstream *zs = b->z;

	if (zs->pos + (zs->end - zs->start) + len > c->size)
		return -EINVAL;
	while (len) {
		size_t k;

		if (zs->end == 2 * (size_t)IN_MAX) {
			/* less than IN_MAX is left: it moves once */
			memmove(zs->win, zs->win + zs->start, zs->end - zs->start);
			zs->end -= zs->start;
			zs->start = 0;
		}
		k = 2 * (size_t)IN_MAX - zs->end;
		if (k > len)
			k = len;
		memcpy(zs->win + zs->end, p, k);
		zs->end += k;
		p += k;
		len -= k;
		/* extents are cut only from a full window (or the end) */
		while (zs->end - zs->start >= IN_MAX) {
			int err = stream_extent(b, c);

			if (err)
				return err;
		}
	}
	return 0;
}

int sharefs_z_stream_end(struct sharefs_build *b, struct sharefs_content *c)
{
	struct sharefs_zstream *zs = b->z;

	if (zs->pos + (zs->end - zs->start) != c->size)
		return -EIO;
	while (zs->start < zs->end) {
		int err = stream_extent(b, c);

		if (err)
			return err;
	}
	return 0;
}

/* ---- reading back (--verity) ---- */

/* Decode extent @e of @c into out (e->llen bytes); pcl: a pcluster's room. */
static int decode_extent(struct sharefs_build *b, struct sharefs_content *c,
			 const struct sharefs_zext *e, uint8_t *pcl, uint8_t *out)
{
	unsigned int bits = b->opts.blkszbits;
	size_t plen = (size_t)e->nblks << bits, skip = 0;
	long long r;
	int err;

	err = sharefs_pread_all(b->fd, pcl, plen, (c->blkaddr + e->pblk) << bits);
	if (err)
		return err;
	if (e->plain) {
		memcpy(out, pcl, e->llen);
		return 0;
	}
	while (skip < plen && !pcl[skip])
		skip++;
	if (b->opts.zcodec == SHAREFS_ZC_ZSTD) {
		size_t z = ZSTD_decompress(out, e->llen, pcl + skip, plen - skip);

		r = ZSTD_isError(z) ? -1 : (long long)z;
	} else {
		r = LZ4_decompress_safe((const char *)pcl + skip, (char *)out,
					(int)(plen - skip), (int)e->llen);
	}
	if (r != (long long)e->llen) {
		sharefs_msg("internal error: the extent at byte %llu does not decompress",
			    (unsigned long long)e->lstart);
		return -EIO;
	}
	return 0;
}

/* Bytes [off, off + len) of a compressed content, as a reader gets them. */
int sharefs_z_read(struct sharefs_build *b, struct sharefs_content *c,
		   uint8_t *p, size_t len, uint64_t off)
{
	uint8_t *pcl, *out;
	uint32_t lo = 0, hi = c->nzext;
	int err = 0;

	if (off > c->size || len > c->size - off)
		return -EINVAL;
	while (hi - lo > 1) {		/* the last extent starting at or before off */
		uint32_t mid = lo + (hi - lo) / 2;

		if (c->zext[mid].lstart <= off)
			lo = mid;
		else
			hi = mid;
	}
	pcl = sharefs_xmalloc(pcluster_bytes(&b->opts));
	out = sharefs_xmalloc(IN_MAX);
	for (uint32_t i = lo; len && i < c->nzext && !err; i++) {
		const struct sharefs_zext *e = &c->zext[i];
		uint64_t from = off - e->lstart, n = e->llen - from;

		err = decode_extent(b, c, e, pcl, out);
		if (n > len)
			n = len;
		if (!err)
			memcpy(p, out + from, (size_t)n);
		p += n;
		off += n;
		len -= (size_t)n;
	}
	free(pcl);
	free(out);
	return err;
}
