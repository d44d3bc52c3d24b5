// SPDX-License-Identifier: GPL-2.0-only
/*
 * zread.c - the read path of compressed files.
 *
 * A read call (readahead, or one read_folio) walks its folios in order.
 * For the first byte not yet decoded it maps the extent (zmap.c), reads
 * the extent's pcluster whole (one synchronous bio on the source member's
 * device, or the inline bytes from the metadata block, or the packed
 * inode's page cache for a fragment), decodes the extent's output from its
 * start up to the end of the call's range (decompress.c), and copies from
 * that buffer into every folio the extent covers.  The next folio in the
 * same extent is then a copy, not another decode.
 *
 * The folios are any page cache: the member's own, or its shared inode's
 * (share.c), where a compressed member and an uncompressed one of the same
 * content fill one page cache, each through its own layout.  The caller
 * holds the source superblock's pin for the whole call (share.c), and the
 * I/O here is synchronous inside the call, so the pinning rule holds.
 *
 * Memory per call: the pcluster (at most 1 MiB) and the decoded prefix of
 * one extent (at most the extent, which stock erofs also bounds at 12 MiB,
 * and at most the call's range from the extent's start), plus the decoder
 * state of each algorithm met (decompress.c).  All of it is freed when the
 * call returns: a cold read holds what stock erofs's bounce pages and
 * per-CPU buffers would, and an idle mount holds nothing.
 */
#include <linux/bio.h>
#include "internal.h"

struct sharefs_zcall {
	const struct sharefs_rsrc *src;
	struct inode *inode;		/* the source member: layout, device */
	u64 limit;			/* the call reads nothing past this */
	u64 la, len;			/* @out holds file bytes [la, la + len) */
	u8 *out;
	size_t outcap;
	u8 *in;				/* the pcluster being decoded */
	size_t incap;
	struct sharefs_zstreams *zs;
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

static void sharefs_z_call_free(struct sharefs_zcall *c)
{
	kvfree(c->out);
	kvfree(c->in);
	sharefs_z_streams_free(c->zs);
}

/* Read @len bytes at image byte @pa into @buf: one bio, waited for. */
static int sharefs_z_read_raw(struct super_block *sb, u64 pa, u32 len, u8 *buf)
{
	unsigned int nr = DIV_ROUND_UP(offset_in_page(buf) + len, PAGE_SIZE);
	bool vm = is_vmalloc_addr(buf);
	struct bio *bio;
	u8 *p = buf;
	int err;

	/* inside the image and the device: -EFSCORRUPTED or -EIO */
	err = sharefs_check_meta(sb, pa, len);
	if (err)
		return err;
	bio = bio_alloc(sb->s_bdev, nr, REQ_OP_READ, GFP_NOFS);
	bio->bi_iter.bi_sector = pa >> SECTOR_SHIFT;
	while (p < buf + len) {
		unsigned int off = offset_in_page(p);
		unsigned int n = min_t(size_t, buf + len - p, PAGE_SIZE - off);
		struct page *page = vm ? vmalloc_to_page(p) : virt_to_page(p);

		/* nr vecs cover every page of the buffer */
		__bio_add_page(bio, page, n, off);
		p += n;
	}
	err = submit_bio_wait(bio);
	bio_put(bio);
	if (vm)
		invalidate_kernel_vmap_range(buf, len);
	return err;
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
				   u64 len)
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
					c->out, len);
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

/* The pcluster of @map into c->in, then its first @need output bytes. */
static int sharefs_z_decode_pcluster(struct sharefs_zcall *c,
				     const struct sharefs_zmap *map, u32 need)
{
	struct super_block *sb = c->inode->i_sb;
	struct sharefs_zreq rq;
	int err;

	err = sharefs_z_reserve(&c->in, &c->incap, map->plen);
	if (err)
		return err;
	if (map->flags & SHAREFS_ZMAP_INLINE)
		err = sharefs_copy_meta(sb, map->pa, c->in, map->plen);
	else
		err = sharefs_z_read_raw(sb, map->pa, map->plen, c->in);
	if (err)
		return err;
	if (map->alg >= SHAREFS_Z_ALG_MAX)
		return sharefs_z_plain(sb, map, c->in, c->out, need);
	rq = (struct sharefs_zreq) {
		.in = c->in,
		.inlen = map->plen,
		.padscan = min_t(u32, map->plen,
				 sb->s_blocksize - sharefs_blkoff(sb, map->pa)),
		.out = c->out,
		.outlen = need,
		.alg = map->alg,
	};
	return sharefs_z_decompress(sb, &c->zs, &rq);
}

/* Decode the extent holding @pos, from its start up to the call's limit. */
static int sharefs_z_decode(struct sharefs_zcall *c, u64 pos)
{
	u64 limit = min_t(u64, c->limit, i_size_read(c->inode));
	struct sharefs_zmap map;
	u64 need;
	int err;

	c->len = 0;
	err = sharefs_z_map(c->inode, pos, limit, &map);
	if (err)
		return err;
	if (map.flags & SHAREFS_ZMAP_FRAGMENT) {
		/* from @pos on: a fragment may be as large as the file */
		need = min(map.la + map.llen, limit) - pos;
		need = min_t(u64, need, SHAREFS_Z_PCLUSTER_MAX_DSIZE);
		err = sharefs_z_reserve(&c->out, &c->outcap, need);
		if (!err)
			err = sharefs_z_read_fragment(c, &map, pos, need);
		if (err)
			return err;
		c->la = pos;
		c->len = need;
		return 0;
	}
	need = min(map.llen, limit - map.la);
	/* an extent decodes to at most 12 MiB: the buffer stays bounded */
	if (need > SHAREFS_Z_PCLUSTER_MAX_DSIZE) {
		sharefs_err(c->inode->i_sb, "extent of %llu bytes @ nid %llu",
			    need, SHAREFS_I(c->inode)->nid);
		return -EFSCORRUPTED;
	}
	err = sharefs_z_reserve(&c->out, &c->outcap, need);
	if (err)
		return err;
	err = sharefs_z_decode_pcluster(c, &map, need);
	if (err)
		return err;
	c->la = map.la;
	c->len = need;
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
 * Grow the readahead window forward to the end of its last extent (as
 * erofs's "readmore" does): the next window then starts on an extent
 * boundary and each extent is decoded once, rather than once per window
 * it straddles.  Not backward: readahead_expand() gives up entirely at a
 * cached page, and the page before a sequential window always is.
 * Fragments are copies, read as they are asked for.  Best effort: a failed
 * map leaves the window as it is.
 */
static void sharefs_z_expand(struct inode *inode, struct readahead_control *rac)
{
	u64 start = readahead_pos(rac), end = start + readahead_length(rac);
	u64 isize = i_size_read(inode), nend = end;
	struct sharefs_zmap m;
	int i;

	/*
	 * An extent that ends inside the last page: the next one starts
	 * there and is read whole too (a few times at most).
	 */
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
}

/*
 * Readahead: synchronous under the hood; a folio that fails is unlocked
 * !uptodate and read_folio tries it again (through another member too).
 */
void sharefs_z_read_ahead(const struct sharefs_rsrc *src,
			  struct readahead_control *rac)
{
	struct sharefs_zcall c = {
		.src = src,
		.inode = src->inode,
	};
	struct folio *folio;

	sharefs_z_expand(src->inode, rac);
	c.limit = readahead_pos(rac) + readahead_length(rac);
	while ((folio = readahead_folio(rac))) {
		if (!sharefs_z_fill_folio(&c, folio))
			sharefs_z_folio_done(src, folio);
		folio_unlock(folio);
	}
	sharefs_z_call_free(&c);
}

/* read_folio: 0 and @folio uptodate, or an error; it stays locked. */
int sharefs_z_read_folio(const struct sharefs_rsrc *src, struct folio *folio)
{
	struct sharefs_zcall c = {
		.src = src,
		.inode = src->inode,
	};
	int err;

	err = sharefs_z_fill_folio(&c, folio);
	sharefs_z_call_free(&c);
	return err ? err : sharefs_z_folio_done(src, folio);
}
