// SPDX-License-Identifier: GPL-2.0-only
/*
 * zread.c - the read path of compressed files.
 *
 * A read call (readahead, or one read_folio) walks its folios in order.
 * When a folio needs bytes not yet decoded, the call maps a batch of
 * extents from there to the end of its range (zmap.c), and submits the
 * reads of all their pclusters at once, each into its own place in one
 * buffer: one bio for each run of pclusters that follow each other on
 * the device.  It then decodes the extents in file order, waiting for each
 * extent's own bio only, so decoding overlaps the reads still in flight
 * (decompress.c), into the folios the extent covers (readahead jobs,
 * below) or into a buffer copied into them (read_folio).  An inline
 * pcluster comes from the metadata block, a fragment from the packed
 * inode's page cache; neither is batched.
 *
 * The folios are any page cache: the member's own, or its shared inode's
 * (share.c), where a compressed member and an uncompressed one of the same
 * content fill one page cache, each through its own layout.  The caller
 * holds the source superblock's pin for the whole call (share.c), and
 * every bio of the call has ended before the call returns (the batch is
 * settled on every path, errors included), so the pinning rule holds.
 *
 * Memory per call: one batch of pclusters (1 MiB, the largest pcluster,
 * plus page rounding) and the decoded prefix of one extent (at most the
 * extent, which stock erofs also bounds at 12 MiB, and at most the call's
 * range from the extent's start).  Both are freed when the call returns.
 * The decoder states are taken from and given back to decompress.c's
 * spare, which keeps one set between calls.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/vmalloc.h>
#include "internal.h"

/* A batch: at most this many extents, and this many pcluster bytes. */
#define SHAREFS_Z_BATCH_EXTENTS	32
#define SHAREFS_Z_BATCH_BYTES	SHAREFS_Z_PCLUSTER_MAX_SIZE

/* One extent of a batch. */
struct sharefs_zext {
	struct sharefs_zmap map;
	u64 from, need;			/* the call wants output [from, +need) */
	u8 *in;				/* its pcluster, in the batch buffer */
	size_t inoff;			/* ... at this offset */
	struct completion done;		/* its bio ended */
	int err;			/* set before done completes */
	bool inflight;			/* a bio was submitted, not waited for */
	unsigned int run;		/* first of a bio's extents: how many */
};

struct sharefs_zcall {
	const struct sharefs_rsrc *src;
	struct inode *inode;		/* the source member: layout, device */
	u64 limit;			/* the call reads nothing past this */
	u64 la, len;			/* @out holds file bytes [la, la + len) */
	u8 *out;
	size_t outcap;
	u8 *in;				/* the batch's pclusters */
	size_t incap;
	struct sharefs_zstreams *zs;
	unsigned int nr;		/* extents in the batch */
	struct sharefs_zext ext[SHAREFS_Z_BATCH_EXTENTS];
	struct page *pages[64];		/* an extent mapped for its decoder */
	struct page *scratch;		/* its first page, before the window */
};

bool sharefs_z_inode(struct inode *inode)
{
	return sharefs_layout_is_compressed(SHAREFS_I(inode)->datalayout);
}

/* Grow *@buf to @need bytes; its old content is not kept. */
static int sharefs_z_reserve(u8 **buf, size_t *cap, size_t need)
{
	if (*cap >= need)
		return 0;
	kvfree(*buf);
	*buf = kvmalloc(need, GFP_NOFS);
	*cap = *buf ? need : 0;
	return *buf ? 0 : -ENOMEM;
}

static struct sharefs_zcall *sharefs_z_call_alloc(const struct sharefs_rsrc *src)
{
	struct sharefs_zcall *c = kzalloc(sizeof(*c), GFP_NOFS);

	if (c) {
		c->src = src;
		c->inode = src->inode;
	}
	return c;
}

/*
 * One bio reads the pclusters of e[0, e->run): each extent's waiter goes
 * on as its own completion comes, and the call is not freed before the
 * last one (sharefs_z_settle()), so e[] stays valid to the end.
 */
static void sharefs_z_end_io(struct bio *bio)
{
	struct sharefs_zext *e = bio->bi_private;
	int err = blk_status_to_errno(bio->bi_status);
	unsigned int i, n = e->run;

	bio_put(bio);
	for (i = 0; i < n; i++) {
		e[i].err = err;
		complete(&e[i].done);
	}
}

/* Wait for @e's pcluster to be read: 0, or its read's error. */
static int sharefs_z_wait(struct sharefs_zext *e)
{
	if (!e->inflight)
		return e->err;
	wait_for_completion_io(&e->done);
	e->inflight = false;
	if (!e->err && is_vmalloc_addr(e->in))
		invalidate_kernel_vmap_range(e->in, e->map.plen);
	return e->err;
}

/* No bio of the batch is in flight once this returns. */
static void sharefs_z_settle(struct sharefs_zcall *c)
{
	unsigned int i;

	for (i = 0; i < c->nr; i++)
		sharefs_z_wait(&c->ext[i]);
	c->nr = 0;
}

static void sharefs_z_call_free(struct sharefs_zcall *c)
{
	sharefs_z_settle(c);
	kvfree(c->out);
	kvfree(c->in);
	if (c->scratch)
		__free_page(c->scratch);
	sharefs_z_streams_put(c->zs);
	kfree(c);
}

/* A device pcluster, inside the image and the device (else e->err). */
static bool sharefs_z_readable(struct super_block *sb, struct sharefs_zext *e)
{
	if (e->map.flags & (SHAREFS_ZMAP_FRAGMENT | SHAREFS_ZMAP_INLINE))
		return false;
	/* -EFSCORRUPTED or -EIO */
	e->err = sharefs_check_meta(sb, e->map.pa, e->map.plen);
	return !e->err;
}

/*
 * How many extents from e[0] one bio reads (e[0] readable): those whose
 * pclusters follow each other on the device and in the buffer.  With
 * one-block pclusters a window is thousands of extents: one bio each
 * cost more than the merging of their requests saved.
 */
static unsigned int sharefs_z_run(struct super_block *sb,
				  struct sharefs_zext *e, unsigned int avail)
{
	unsigned int n = 1;
	u64 len = e[0].map.plen;

	while (n < avail && e[n].map.pa == e[n - 1].map.pa + e[n - 1].map.plen &&
	       e[n].in == e[n - 1].in + e[n - 1].map.plen &&
	       DIV_ROUND_UP(offset_in_page(e[0].in) + len + e[n].map.plen,
			    PAGE_SIZE) <= BIO_MAX_VECS &&
	       sharefs_z_readable(sb, &e[n])) {
		len += e[n].map.plen;
		n++;
	}
	return n;
}

/* Submit one bio for the pclusters of e[0, @n), into e[0].in on. */
static void sharefs_z_submit(struct super_block *sb, struct sharefs_zext *e,
			     unsigned int n)
{
	u64 len = e[n - 1].in + e[n - 1].map.plen - e[0].in;
	unsigned int i, nr = DIV_ROUND_UP(offset_in_page(e->in) + len, PAGE_SIZE);
	bool vm = is_vmalloc_addr(e->in);
	struct bio *bio;
	u8 *p = e->in;

	/* the run's pages are at most BIO_MAX_VECS (sharefs_z_run()) */
	bio = bio_alloc(sb->s_bdev, nr, REQ_OP_READ, GFP_NOFS);
	bio->bi_iter.bi_sector = e->map.pa >> SECTOR_SHIFT;
	bio->bi_private = e;
	bio->bi_end_io = sharefs_z_end_io;
	while (p < e->in + len) {
		unsigned int off = offset_in_page(p);
		unsigned int k = min_t(size_t, e->in + len - p, PAGE_SIZE - off);
		struct page *page = vm ? vmalloc_to_page(p) : virt_to_page(p);

		__bio_add_page(bio, page, k, off);
		p += k;
	}
	if (vm)
		flush_kernel_vmap_range(e->in, len);
	e->run = n;
	for (i = 0; i < n; i++) {
		init_completion(&e[i].done);
		e[i].inflight = true;
	}
	submit_bio(bio);
}

/*
 * Map the next extent of a batch at @pos, and what the call needs of it:
 * 1 and *@e filled, 0 when the batch is full, or an error.
 */
static int sharefs_z_plan(struct sharefs_zcall *c, u64 pos, u64 limit,
			  size_t *bytes, struct sharefs_zext *e)
{
	struct sharefs_zmap *m = &e->map;
	int err;

	err = sharefs_z_map(c->inode, pos, limit, m);
	if (err)
		return err;
	e->err = 0;	/* e->done is initialised when its bio is submitted */
	e->inflight = false;
	e->in = NULL;
	if (m->flags & SHAREFS_ZMAP_FRAGMENT) {
		/* from @pos on: a fragment may be as large as the file */
		e->from = pos;
		e->need = min(m->la + m->llen, limit) - pos;
		e->need = min_t(u64, e->need, SHAREFS_Z_PCLUSTER_MAX_DSIZE);
		return 1;
	}
	e->from = m->la;
	e->need = min(m->llen, limit - m->la);
	/* an extent decodes to at most 12 MiB: the buffer stays bounded */
	if (e->need > SHAREFS_Z_PCLUSTER_MAX_DSIZE) {
		sharefs_err(c->inode->i_sb, "extent of %llu bytes @ nid %llu",
			    e->need, SHAREFS_I(c->inode)->nid);
		return -EFSCORRUPTED;
	}
	/* an inline pcluster is copied into its place when decoded */
	if (c->nr && *bytes + m->plen > SHAREFS_Z_BATCH_BYTES)
		return 0;
	e->inoff = *bytes;
	*bytes += round_up(m->plen, PAGE_SIZE);
	return 1;
}

/*
 * A new batch from @pos: map its extents, then submit their pclusters'
 * reads.  An error on the first extent is the caller's; a later one ends
 * the batch there, and is met again when the call reaches it.
 */
static int sharefs_z_batch(struct sharefs_zcall *c, u64 pos)
{
	u64 limit = min_t(u64, c->limit, i_size_read(c->inode));
	struct super_block *sb = c->inode->i_sb;
	struct sharefs_zext *e;
	struct blk_plug plug;
	size_t bytes = 0;
	unsigned int i, n;
	int ret;

	sharefs_z_settle(c);
	while (c->nr < SHAREFS_Z_BATCH_EXTENTS && pos < limit) {
		e = &c->ext[c->nr];
		ret = sharefs_z_plan(c, pos, limit, &bytes, e);
		if (ret < 0 && !c->nr)
			return ret;
		if (ret <= 0)
			break;
		c->nr++;
		if (e->map.flags & SHAREFS_ZMAP_FRAGMENT)
			break;	/* a file's last extent */
		pos = e->from + e->need;
	}
	ret = sharefs_z_reserve(&c->in, &c->incap, bytes);
	if (ret) {
		c->nr = 0;
		return ret;
	}
	for (i = 0; i < c->nr; i++) {
		e = &c->ext[i];
		if (!(e->map.flags & SHAREFS_ZMAP_FRAGMENT))
			e->in = c->in + e->inoff;
	}
	blk_start_plug(&plug);
	for (i = 0; i < c->nr; i += n) {
		n = 1;
		if (!sharefs_z_readable(sb, &c->ext[i]))
			continue;
		n = sharefs_z_run(sb, &c->ext[i], c->nr - i);
		sharefs_z_submit(sb, &c->ext[i], n);
	}
	blk_finish_plug(&plug);
	return 0;
}

/* The batch's extent holding @pos, or NULL. */
static struct sharefs_zext *sharefs_z_find(struct sharefs_zcall *c, u64 pos)
{
	unsigned int i;

	for (i = 0; i < c->nr; i++) {
		struct sharefs_zext *e = &c->ext[i];

		if (pos >= e->from && pos < e->from + e->need)
			return e;
	}
	return NULL;
}

/*
 * The packed inode is read through its own page cache, a page at a time
 * (read_mapping_folio): read ahead first, so that its extents are decoded
 * once for the range rather than once per page.
 */
static void sharefs_z_packed_ra(struct inode *packed, u64 off, u64 len)
{
	struct address_space *mapping = packed->i_mapping;
	pgoff_t first = off >> PAGE_SHIFT;
	struct file_ra_state ra;

	if (!len || off >= i_size_read(packed))
		return;
	file_ra_state_init(&ra, mapping);
	page_cache_sync_readahead(mapping, &ra, NULL, first,
				  ((off + len - 1) >> PAGE_SHIFT) - first + 1);
}

/*
 * Fragment: file bytes [@pos, +@len) of the extent lie in the packed
 * inode at @map->pa + (@pos - extent start).  A copy, not a decode: read
 * only what the call needs, however large the fragment.
 */
static int sharefs_z_read_fragment(struct sharefs_zcall *c,
				   const struct sharefs_zmap *map, u64 pos,
				   u64 len, u8 *out)
{
	struct super_block *sb = c->inode->i_sb;
	struct inode *packed;
	int err;

	packed = sharefs_iget(sb, SHAREFS_SB(sb)->packed_nid);
	if (IS_ERR(packed))
		return PTR_ERR(packed);
	/* a packed inode with fragments of its own would recurse: zmap.c */
	if (!S_ISREG(packed->i_mode)) {
		sharefs_err(sb, "packed inode %llu is not a file",
			    SHAREFS_SB(sb)->packed_nid);
		err = -EFSCORRUPTED;
	} else {
		sharefs_z_packed_ra(packed, map->pa + (pos - map->la), len);
		/* bounds: inside the packed inode's i_size (sharefs_copy_data) */
		err = sharefs_copy_data(packed, map->pa + (pos - map->la),
					out, len);
	}
	iput(packed);
	return err;
}

/* PLAIN pclusters: output byte i is pcluster byte i, or rotated. */
static int sharefs_z_plain(struct super_block *sb, const struct sharefs_zmap *map,
			   const u8 *in, u8 *out, u32 need)
{
	u32 cur, rot;

	/* an uncompressed extent fits in its pcluster */
	if (need > map->plen) {
		sharefs_err(sb, "plain extent of %u bytes in a %u-byte pcluster",
			    need, map->plen);
		return -EFSCORRUPTED;
	}
	if (map->alg == SHAREFS_ZALG_SHIFTED) {
		memcpy(out, in, need);
		return 0;
	}
	/* the first blksz - la % blksz bytes sit at the pcluster's end */
	cur = sb->s_blocksize - sharefs_blkoff(sb, map->la);
	cur = min(cur, map->plen);
	rot = map->plen - cur;
	memcpy(out, in + rot, min(need, cur));
	if (need > cur)
		memcpy(out + cur, in, need - cur);
	return 0;
}

/* The first e->need output bytes of @e's pcluster into @out. */
static int sharefs_z_decode_pcluster(struct sharefs_zcall *c,
				     struct sharefs_zext *e, u8 *out)
{
	struct super_block *sb = c->inode->i_sb;
	const struct sharefs_zmap *map = &e->map;
	struct sharefs_zreq rq;
	int err;

	if (map->flags & SHAREFS_ZMAP_INLINE)
		err = sharefs_copy_meta(sb, map->pa, e->in, map->plen);
	else
		err = sharefs_z_wait(e);
	if (err)
		return err;
	if (map->alg >= SHAREFS_Z_ALG_MAX)
		return sharefs_z_plain(sb, map, e->in, out, e->need);
	rq = (struct sharefs_zreq) {
		.in = e->in,
		.inlen = map->plen,
		.padscan = min_t(u32, map->plen,
				 sb->s_blocksize - sharefs_blkoff(sb, map->pa)),
		.out = out,
		.outlen = e->need,
		.alg = map->alg,
	};
	return sharefs_z_decompress(sb, &c->zs, &rq);
}

/* The batch's extent holding @pos, after a new batch if need be. */
static struct sharefs_zext *sharefs_z_get(struct sharefs_zcall *c, u64 pos)
{
	struct sharefs_zext *e = sharefs_z_find(c, pos);
	int err;

	if (e)
		return e;
	err = sharefs_z_batch(c, pos);
	if (err)
		return ERR_PTR(err);
	e = sharefs_z_find(c, pos);
	/* zmap.c maps @pos into the extent it returns: never met */
	if (!e) {
		sharefs_err(c->inode->i_sb, "no extent at %llu of nid %llu",
			    pos, SHAREFS_I(c->inode)->nid);
		return ERR_PTR(-EFSCORRUPTED);
	}
	return e;
}

/* @e's output [e->from, +e->need) into @out. */
static int sharefs_z_decode_to(struct sharefs_zcall *c, struct sharefs_zext *e,
			       u8 *out)
{
	if (e->map.flags & SHAREFS_ZMAP_FRAGMENT)
		return sharefs_z_read_fragment(c, &e->map, e->from, e->need,
					       out);
	return sharefs_z_decode_pcluster(c, e, out);
}

/* Decode the extent holding @pos into c->out, up to the call's limit. */
static int sharefs_z_decode(struct sharefs_zcall *c, u64 pos)
{
	struct sharefs_zext *e = sharefs_z_get(c, pos);
	int err;

	c->len = 0;
	if (IS_ERR(e))
		return PTR_ERR(e);
	err = sharefs_z_reserve(&c->out, &c->outcap, e->need);
	if (!err)
		err = sharefs_z_decode_to(c, e, c->out);
	if (err)
		return err;
	c->la = e->from;
	c->len = e->need;
	return 0;
}

static void sharefs_z_copy_to_folio(struct folio *folio, size_t off,
				    const u8 *src, size_t len)
{
	while (len) {
		size_t n = min_t(size_t, len, PAGE_SIZE - offset_in_page(off));
		void *dst = kmap_local_folio(folio, off);

		memcpy(dst, src, n);
		kunmap_local(dst);
		off += n;
		src += n;
		len -= n;
	}
}

/* Fill @folio from decoded extents; bytes past EOF are zeroed. */
static int sharefs_z_fill_folio(struct sharefs_zcall *c, struct folio *folio)
{
	u64 isize = i_size_read(c->inode);
	u64 start = folio_pos(folio), pos = start;
	u64 end = start + folio_size(folio);
	u64 n;
	int err;

	if (test_bit(SHAREFS_SBF_SHUTDOWN, &SHAREFS_SB(c->inode->i_sb)->flags))
		return -EIO;
	c->limit = max(c->limit, end);
	while (pos < end) {
		if (pos >= isize) {
			folio_zero_segment(folio, pos - start, end - start);
			break;
		}
		if (pos < c->la || pos >= c->la + c->len) {
			err = sharefs_z_decode(c, pos);
			if (err)
				return err;
		}
		n = min3(end, isize, c->la + c->len) - pos;
		sharefs_z_copy_to_folio(folio, pos - start,
					c->out + (pos - c->la), n);
		pos += n;
	}
	return 0;
}

/* Checked content is checked before its folio becomes uptodate. */
static int sharefs_z_folio_done(const struct sharefs_rsrc *src,
				struct folio *folio)
{
	struct sharefs_verity_src vsrc = {
		.sb = src->inode->i_sb,
		.tree_pos = src->tree_pos,
	};
	int err = 0;

	if (src->verity)
		err = sharefs_verity_check_folio(&vsrc, src->verity, folio);
	if (!err)
		folio_mark_uptodate(folio);
	return err;
}

/*
 * Grow the readahead window to whole extents where that costs no decoding,
 * as erofs's "readmore" does.  Fragments are copies, read as they are
 * asked for.  Best effort: a failed map leaves the window as it is.
 *
 * A sequential window (SHAREFS_Z_SEQ_WINDOW or more) grows forward to the
 * end of its last extent, and further while that ends inside a page (the
 * next extent starts there and is read whole too, a few times at most):
 * the next window then starts on an extent boundary and each extent is
 * decoded once, rather than once per window it straddles.  Not backward:
 * readahead_expand() gives up entirely at a cached page, and the page
 * before a sequential window always is.
 *
 * A small window is a random read.  It does not grow forward, since every
 * byte decoded past it is cached for nobody (growing it made a random
 * 4 KiB read of lz4hc's one-block pclusters read and decode five
 * pclusters, where erofs reads one or two).  It grows backward to the
 * first whole page of its first extent: the decoder produces those bytes
 * anyway, and a reader going backwards through a file then finds them
 * cached rather than decoding the extent again for each page (7.9 s
 * against erofs's 0.6 s for such a read of a 64 KiB-pcluster file).
 *
 * True for a sequential window.
 */
#define SHAREFS_Z_SEQ_WINDOW	(64 * 1024)

static bool sharefs_z_expand(struct inode *inode, struct readahead_control *rac)
{
	u64 start = readahead_pos(rac), end = start + readahead_length(rac);
	u64 isize = i_size_read(inode), nend = end, nstart;
	struct sharefs_zmap m;
	int i;

	if (end - start < SHAREFS_Z_SEQ_WINDOW) {
		if (!start || sharefs_z_map(inode, start, end, &m) ||
		    (m.flags & SHAREFS_ZMAP_FRAGMENT))
			return false;
		nstart = round_up(m.la, PAGE_SIZE);
		if (nstart < start)
			readahead_expand(rac, nstart, end - nstart);
		return false;
	}
	for (i = 0; i < 4 && nend < isize; i++) {
		if (sharefs_z_map(inode, nend - 1, U64_MAX, &m) ||
		    (m.flags & SHAREFS_ZMAP_FRAGMENT) ||
		    m.la + m.llen <= nend - 1)
			break;
		nend = round_up(min(m.la + m.llen, isize), PAGE_SIZE);
		if (m.la + m.llen == nend || nend >= isize)
			break;
	}
	if (nend > end)
		readahead_expand(rac, start, nend - start);
	return true;
}

/*
 * The folios of one readahead call, read after it returns (a sequential
 * window) or within it (a small one).  PINNING RULE: a job read after the
 * call holds its own references on the source, taken while the call
 * still holds the caller's: for a shared inode (src.pin set) one on the
 * member inode and one on its superblock's pin, as share.c's rule asks of
 * a read call, dropped when the job ends.  Without src.pin the folios are
 * the member's own page cache, and the member cannot be evicted (nor its
 * superblock killed) while a folio of the job is locked: the job settles
 * all its bios before it unlocks its last folio, and touches neither
 * afterwards.  Module exit flushes the workqueue.
 */
struct sharefs_zjob {
	struct work_struct work;
	struct sharefs_rsrc src;
	u64 start, limit;		/* the window */
	unsigned int nr;		/* folios, contiguous from start */
	unsigned int done;		/* folios unlocked so far */
	struct sharefs_zslot {
		struct folio *folio;
		int err;
	} slot[];
};

static struct workqueue_struct *sharefs_z_wq;

/* Every folio of @j with bytes in [@from, @to) failed with @err. */
static void sharefs_z_job_fail(struct sharefs_zjob *j, u64 from, u64 to,
			       int err)
{
	unsigned int i;

	for (i = j->done; i < j->nr; i++) {
		struct folio *folio = j->slot[i].folio;

		if (folio_pos(folio) >= to)
			break;
		if (folio_pos(folio) + folio_size(folio) > from &&
		    !j->slot[i].err)
			j->slot[i].err = err;
	}
}

/*
 * Unlock, in order, every folio that ends at or before @upto: checked and
 * uptodate unless it failed (read_folio tries those again).  The call's
 * bios are settled before the last unlock (the pinning rule above).
 */
static void sharefs_z_job_finish(struct sharefs_zjob *j,
				 struct sharefs_zcall *c, u64 upto)
{
	u64 isize = i_size_read(j->src.inode);

	while (j->done < j->nr) {
		struct sharefs_zslot *sl = &j->slot[j->done];
		struct folio *folio = sl->folio;
		u64 pos = folio_pos(folio), end = pos + folio_size(folio);

		if (end > upto)
			break;
		if (end > isize && !sl->err)
			folio_zero_segment(folio, max(isize, pos) - pos,
					   end - pos);
		if (!sl->err) {
			flush_dcache_folio(folio);
			sharefs_z_folio_done(&j->src, folio);
		}
		if (c && j->done == j->nr - 1)
			sharefs_z_settle(c);
		folio_unlock(folio);
		j->done++;
	}
}

/* Copy file bytes [@from, @to) from c->out into the job's folios. */
static void sharefs_z_job_copy(struct sharefs_zjob *j, struct sharefs_zcall *c,
			       u64 from, u64 to)
{
	unsigned int i;

	for (i = j->done; i < j->nr && from < to; i++) {
		struct folio *folio = j->slot[i].folio;
		u64 pos = folio_pos(folio), end = pos + folio_size(folio);
		u64 n;

		if (end <= from)
			continue;
		n = min(end, to) - from;
		sharefs_z_copy_to_folio(folio, from - pos,
					c->out + (from - c->la), n);
		from += n;
	}
}

/*
 * Map the job's pages holding [@from, +@len) into one virtual range, so
 * that the decoder writes the page cache itself, as erofs's does, rather
 * than a buffer copied afterwards (in TCG a copy costs about as much as an
 * LZ4 decode).  The extent's first page may lie just before the window
 * (an extent that starts inside the page before it): a scratch page takes
 * its bytes.  NULL when the pages are not all the job's and still locked,
 * or when vm_map_ram() fails: the caller then decodes into its buffer.
 */
static void *sharefs_z_job_vmap(struct sharefs_zjob *j, struct sharefs_zcall *c,
				u64 from, u64 len, unsigned int *npages)
{
	pgoff_t first = from >> PAGE_SHIFT;
	unsigned int n = DIV_ROUND_UP(offset_in_page(from) + len, PAGE_SIZE);
	unsigned int i = j->done, k = 0;
	void *base;

	if (n > ARRAY_SIZE(c->pages))
		return NULL;
	if (!j->done && first + 1 == j->slot[0].folio->index) {
		if (!c->scratch)
			c->scratch = alloc_page(GFP_NOFS);
		if (!c->scratch)
			return NULL;
		c->pages[k++] = c->scratch;
	}
	for (; k < n; k++) {
		pgoff_t idx = first + k;

		while (i < j->nr && folio_next_index(j->slot[i].folio) <= idx)
			i++;
		if (i == j->nr || j->slot[i].folio->index > idx)
			return NULL;
		c->pages[k] = folio_page(j->slot[i].folio,
					 idx - j->slot[i].folio->index);
	}
	base = vm_map_ram(c->pages, n, NUMA_NO_NODE);
	if (!base)
		return NULL;
	*npages = n;
	return base + offset_in_page(from);
}

/*
 * One extent of the job, from *@pos (where the last one ended): decoded
 * straight into the page cache when the job holds all its pages (or all
 * but a first one just before the window), else into c->out and copied
 * from *@pos on (its start may lie further before the window, or in a
 * folio already unlocked after an error).
 */
static void sharefs_z_job_extent(struct sharefs_zjob *j,
				 struct sharefs_zcall *c, u64 *pos)
{
	struct sharefs_zext *e = sharefs_z_get(c, *pos);
	unsigned int npages;
	u8 *out = NULL;
	u64 end;
	int err;

	if (IS_ERR(e)) {
		/* the folio holding *pos fails; the next one tries again */
		end = round_up(*pos + 1, PAGE_SIZE);
		sharefs_z_job_fail(j, *pos, end, PTR_ERR(e));
		*pos = end;
		return;
	}
	end = e->from + e->need;
	/*
	 * Bytes before *pos are this extent's too (extents do not overlap):
	 * in the scratch page, or in a folio that failed and stays locked.
	 */
	if (e->need > PAGE_SIZE && !(e->map.flags & SHAREFS_ZMAP_FRAGMENT))
		out = sharefs_z_job_vmap(j, c, e->from, e->need, &npages);
	if (out) {
		err = sharefs_z_decode_to(c, e, out);
		vm_unmap_ram((void *)((unsigned long)out & PAGE_MASK), npages);
	} else {
		err = sharefs_z_reserve(&c->out, &c->outcap, e->need);
		if (!err)
			err = sharefs_z_decode_to(c, e, c->out);
		if (!err) {
			c->la = e->from;
			sharefs_z_job_copy(j, c, *pos, end);
		}
	}
	if (err)
		sharefs_z_job_fail(j, *pos, end, err);
	*pos = end;
}

/* Fill, check and unlock the job's folios, in file order. */
static void sharefs_z_job_run(struct sharefs_zjob *j)
{
	struct sharefs_zcall *c = sharefs_z_call_alloc(&j->src);
	struct super_block *sb = j->src.inode->i_sb;
	u64 end = min_t(u64, j->limit, i_size_read(j->src.inode));
	u64 pos = j->start;

	if (!c) {
		sharefs_z_job_fail(j, pos, j->limit, -ENOMEM);
		sharefs_z_job_finish(j, NULL, U64_MAX);
		return;
	}
	c->limit = j->limit;
	while (pos < end) {
		if (test_bit(SHAREFS_SBF_SHUTDOWN, &SHAREFS_SB(sb)->flags)) {
			sharefs_z_job_fail(j, pos, end, -EIO);
			break;
		}
		sharefs_z_job_extent(j, c, &pos);
		sharefs_z_job_finish(j, c, pos);
	}
	sharefs_z_job_finish(j, c, U64_MAX);
	sharefs_z_call_free(c);
}

static void sharefs_z_work(struct work_struct *work)
{
	struct sharefs_zjob *j = container_of(work, struct sharefs_zjob, work);
	struct sharefs_rsrc src = j->src;

	sharefs_z_job_run(j);
	kvfree(j);
	if (src.pin) {
		iput(src.inode);
		percpu_ref_put(&src.pin->pin);
	}
}

/*
 * Readahead.  A sequential window is read in the workqueue: the reader
 * goes on with the pages it has while the next window is read and decoded
 * on another CPU, as erofs's decompression workers do; the job decodes in
 * file order, so the reader's first folio comes first.  A small window (a
 * random read, whose reader waits for it anyway) is read here.  A folio
 * that fails is unlocked !uptodate and read_folio tries it again (through
 * another member too).
 */
void sharefs_z_read_ahead(const struct sharefs_rsrc *src,
			  struct readahead_control *rac)
{
	struct sharefs_zjob *j;
	struct folio *folio;
	bool seq;
	u64 len;

	seq = sharefs_z_expand(src->inode, rac);
	len = readahead_length(rac);	/* before the folios are taken */
	/* no memory: the folios stay !uptodate, read_folio tries again */
	j = kvmalloc(struct_size(j, slot, readahead_count(rac)), GFP_NOFS);
	if (!j)
		return;
	j->src = *src;
	j->start = readahead_pos(rac);
	j->limit = j->start + len;
	j->nr = 0;
	j->done = 0;
	while ((folio = readahead_folio(rac)))
		j->slot[j->nr++] = (struct sharefs_zslot) { .folio = folio };
	if (!seq || !j->nr) {
		sharefs_z_job_run(j);
		kvfree(j);
		return;
	}
	/* the pinning rule above: the caller holds both, so these hold */
	if (src->pin) {
		ihold(src->inode);
		percpu_ref_get(&src->pin->pin);
	}
	INIT_WORK(&j->work, sharefs_z_work);
	queue_work(sharefs_z_wq, &j->work);
}

/* read_folio: 0 and @folio uptodate, or an error; it stays locked. */
int sharefs_z_read_folio(const struct sharefs_rsrc *src, struct folio *folio)
{
	struct sharefs_zcall *c = sharefs_z_call_alloc(src);
	int err;

	if (!c)
		return -ENOMEM;
	err = sharefs_z_fill_folio(c, folio);
	sharefs_z_call_free(c);
	return err ? err : sharefs_z_folio_done(src, folio);
}

int sharefs_zread_init(void)
{
	/* as sharefs_read (read.c): reclaim may wait for these folios */
	sharefs_z_wq = alloc_workqueue("sharefs_zread",
				       WQ_UNBOUND | WQ_MEM_RECLAIM | WQ_HIGHPRI,
				       0);
	return sharefs_z_wq ? 0 : -ENOMEM;
}

/* After every mount is gone; waits for the jobs still finishing. */
void sharefs_zread_exit(void)
{
	destroy_workqueue(sharefs_z_wq);
}
