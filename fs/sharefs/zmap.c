// SPDX-License-Identifier: GPL-2.0-only
/*
 * zmap.c - map a file offset of a compressed inode to its extent.
 *
 * Written from the format description in sharefs_fs.h (the compressed
 * part).  A compressed file has one index entry per logical cluster
 * (lcluster), full (8 bytes each) or compact (bit-packed packs).  To map
 * offset @pos:
 *  1. load the lcluster of @pos; if a HEAD lies in it at or before @pos,
 *     that is the extent's head, else walk back (delta[0]) to the HEAD;
 *  2. walk forward lcluster by lcluster to the next HEAD to find where the
 *     extent ends, but only as far as the caller needs (@limit): the caller
 *     decodes a prefix of the extent and asks again for more;
 *  3. the pcluster: the HEAD's block, and with big pclusters the block
 *     count of the first NONHEAD (CBLKCNT); or the inline pcluster
 *     (ztailpacking) or the packed inode (fragments) for the tail extent.
 *
 * Every value read from the image is untrusted: lcluster numbers stay below
 * the lcluster count, walks move strictly one way (so they end), clusterofs
 * stays inside its lcluster, pclusters inside the image, and algorithms
 * among those the superblock declared.  Anything else is -EFSCORRUPTED.
 *
 * The header is parsed on the first map of an inode (as stock erofs does,
 * so that stat and ls work on a file whose index is damaged) into si->z;
 * the publication rule is next to si->z in internal.h.
 */
#include <linux/fiemap.h>
#include "internal.h"

/* Walks and index loads of one map call. */
struct sharefs_zrec {
	struct inode *inode;
	const struct sharefs_zinfo *zi;
	struct sharefs_buf buf;		/* the index block being read */
	u64 nlcl;			/* lclusters of the file */
	u64 lcn;			/* the lcluster loaded last */
	u64 nextpackoff;		/* image byte after its index (pack) */
	u64 pblk;			/* HEAD: pcluster block */
	u16 clusterofs;			/* HEAD: where its extent starts */
	u16 delta0;			/* NONHEAD: lclusters back to the HEAD */
	u16 cblks;			/* NONHEAD: CBLKCNT count, or 0 */
	u8 type;			/* SHAREFS_Z_LCLUSTER_* */
	bool partial;			/* HEAD: PARTIAL_REF */
};

static u64 sharefs_z_iend(struct inode *inode)
{
	struct sharefs_inode *si = SHAREFS_I(inode);

	return sharefs_iloc(inode->i_sb, si->nid) + si->inode_isize +
	       si->xattr_isize;
}

static int sharefs_z_bad(struct sharefs_zrec *r, const char *what)
{
	sharefs_err(r->inode->i_sb, "%s @ lcn %llu of nid %llu", what, r->lcn,
		    SHAREFS_I(r->inode)->nid);
	return -EFSCORRUPTED;
}

static bool sharefs_z_big(const struct sharefs_zinfo *zi)
{
	return zi->advise & (SHAREFS_Z_ADVISE_BIG_PCLUSTER_1 |
			     SHAREFS_Z_ADVISE_BIG_PCLUSTER_2);
}

static int sharefs_z_load_full(struct sharefs_zrec *r, u64 lcn)
{
	struct super_block *sb = r->inode->i_sb;
	const struct sharefs_z_lcluster_index *di;
	u64 pos = SHAREFS_Z_FULL_INDEX_POS(sharefs_z_iend(r->inode)) +
		  lcn * sizeof(*di);
	u16 advise, d0;

	/* 8-byte entries at 8-aligned positions never cross a block */
	di = sharefs_read_meta(sb, &r->buf, pos, sizeof(*di));
	if (IS_ERR(di))
		return PTR_ERR(di);
	r->nextpackoff = pos + sizeof(*di);
	advise = le16_to_cpu(di->di_advise);
	r->type = advise & SHAREFS_Z_LCLUSTER_TYPE_MASK;
	r->cblks = 0;
	if (r->type == SHAREFS_Z_LCLUSTER_NONHEAD) {
		d0 = le16_to_cpu(di->di_u.delta[0]);
		r->delta0 = d0;
		if (d0 & SHAREFS_Z_LI_D0_CBLKCNT) {
			if (!sharefs_z_big(r->zi))
				return sharefs_z_bad(r, "CBLKCNT without big pclusters");
			r->cblks = d0 & ~SHAREFS_Z_LI_D0_CBLKCNT;
			r->delta0 = 1;
		}
		return 0;
	}
	r->partial = advise & SHAREFS_Z_LI_PARTIAL_REF;
	r->clusterofs = le16_to_cpu(di->di_clusterofs);
	r->pblk = le32_to_cpu(di->di_u.blkaddr);
	return 0;
}

/* entry @i of a compact pack: its type, and its low bits returned */
static unsigned int sharefs_z_entry(const u8 *pack, unsigned int encodebits,
				    unsigned int lobits, unsigned int i, u8 *type)
{
	unsigned int bit = encodebits * i;
	/* packs hold at least 4 bytes past any entry's first byte */
	u32 v = get_unaligned_le32(pack + bit / 8) >> (bit & 7);

	*type = (v >> lobits) & SHAREFS_Z_LCLUSTER_TYPE_MASK;
	return v & ((1U << lobits) - 1);
}

/* geometry of the compact pack that holds an lcluster */
struct sharefs_zpack {
	u64 pos;			/* image byte of the pack */
	unsigned int size, vcnt, encodebits, i;
};

static int sharefs_z_compact_pack(struct sharefs_zrec *r, u64 lcn,
				  struct sharefs_zpack *p)
{
	u64 ebase = SHAREFS_Z_MAP_HEADER_END(sharefs_z_iend(r->inode));
	unsigned int init4 = ((SHAREFS_Z_COMPACT_ALIGN -
			       ebase % SHAREFS_Z_COMPACT_ALIGN) / 4) & 7;
	u64 n2 = 0, pos = ebase;
	unsigned int unit = 4;

	if ((r->zi->advise & SHAREFS_Z_ADVISE_COMPACTED_2B) && init4 < r->nlcl)
		n2 = round_down(r->nlcl - init4, SHAREFS_Z_COMPACT_2B_VCNT);
	if (lcn >= init4) {
		pos += init4 * 4;
		lcn -= init4;
		if (lcn < n2) {
			unit = 2;
		} else {
			pos += n2 * 2;
			lcn -= n2;
		}
	}
	pos += lcn * unit;
	if (unit == 4) {
		p->size = SHAREFS_Z_COMPACT_4B_PACK;
		p->vcnt = SHAREFS_Z_COMPACT_4B_VCNT;
	} else {
		if (r->zi->lclusterbits > SHAREFS_Z_COMPACT_2B_MAX_LCLUSTERBITS)
			return sharefs_z_bad(r, "2-byte compact indexes with large lclusters");
		p->size = SHAREFS_Z_COMPACT_2B_PACK;
		p->vcnt = SHAREFS_Z_COMPACT_2B_VCNT;
	}
	p->pos = round_down(pos, p->size);
	p->i = (pos - p->pos) / unit;
	p->encodebits = (p->size - sizeof(__le32)) * 8 / p->vcnt;
	return 0;
}

/*
 * The block of the HEAD at entry @i: the pack's base block plus the blocks
 * of the pclusters that the pack starts before it.
 */
static int sharefs_z_compact_pblk(struct sharefs_zrec *r, const u8 *pack,
				  const struct sharefs_zpack *p, int i,
				  unsigned int lobits)
{
	bool big = r->zi->advise & SHAREFS_Z_ADVISE_BIG_PCLUSTER_1;
	u64 nblk = big ? 0 : 1;
	unsigned int lo;
	u8 type;

	while (i > 0) {
		lo = sharefs_z_entry(pack, p->encodebits, lobits, --i, &type);
		if (type != SHAREFS_Z_LCLUSTER_NONHEAD) {
			nblk++;
			continue;
		}
		if (!big) {
			/* skip to its HEAD, counted if in this pack */
			i -= lo;
			if (i >= 0)
				nblk++;
			continue;
		}
		if (lo & SHAREFS_Z_LI_D0_CBLKCNT) {
			i--;		/* its HEAD precedes it */
			nblk += lo & ~SHAREFS_Z_LI_D0_CBLKCNT;
			continue;
		}
		/* with big pclusters a plain delta of 1 would be a CBLKCNT */
		if (lo <= 1)
			return sharefs_z_bad(r, "bogus compact delta");
		i -= lo - 2;	/* to the CBLKCNT entry after its HEAD */
	}
	r->pblk = get_unaligned_le32(pack + p->size - sizeof(__le32)) + nblk;
	return 0;
}

/* delta[0] of a NONHEAD that is the last of its pack, from the one before */
static u16 sharefs_z_last_delta0(const u8 *pack, const struct sharefs_zpack *p,
				 unsigned int lobits)
{
	u8 type;
	unsigned int lo = sharefs_z_entry(pack, p->encodebits, lobits,
					  p->i - 1, &type);

	if (type != SHAREFS_Z_LCLUSTER_NONHEAD)
		return 1;
	if (lo & SHAREFS_Z_LI_D0_CBLKCNT)
		return 2;
	return lo + 1;
}

static int sharefs_z_load_compact(struct sharefs_zrec *r, u64 lcn)
{
	unsigned int lobits = max_t(unsigned int, r->zi->lclusterbits,
				    SHAREFS_Z_COMPACT_MIN_LOBITS);
	struct sharefs_zpack p;
	unsigned int lo;
	const u8 *pack;
	int err;

	err = sharefs_z_compact_pack(r, lcn, &p);
	if (err)
		return err;
	/* packs are aligned to their size: one never crosses a block */
	pack = sharefs_read_meta(r->inode->i_sb, &r->buf, p.pos, p.size);
	if (IS_ERR(pack))
		return PTR_ERR(pack);
	r->nextpackoff = p.pos + p.size;
	lo = sharefs_z_entry(pack, p.encodebits, lobits, p.i, &r->type);
	r->cblks = 0;
	if (r->type != SHAREFS_Z_LCLUSTER_NONHEAD) {
		r->clusterofs = lo;
		r->partial = false;
		return sharefs_z_compact_pblk(r, pack, &p, p.i, lobits);
	}
	if (lo & SHAREFS_Z_LI_D0_CBLKCNT) {
		if (!(r->zi->advise & SHAREFS_Z_ADVISE_BIG_PCLUSTER_1))
			return sharefs_z_bad(r, "CBLKCNT without big pclusters");
		r->cblks = lo & ~SHAREFS_Z_LI_D0_CBLKCNT;
		r->delta0 = 1;
	} else if (p.i + 1 != p.vcnt) {
		r->delta0 = lo;
	} else {
		/* the last entry of a pack keeps delta[1] instead */
		r->delta0 = sharefs_z_last_delta0(pack, &p, lobits);
	}
	return 0;
}

static int sharefs_z_load(struct sharefs_zrec *r, u64 lcn)
{
	int err;

	/* lcn < the lcluster count: every index read lies in the index */
	if (lcn >= r->nlcl)
		return sharefs_z_bad(r, "lcluster past EOF");
	r->lcn = lcn;
	if (SHAREFS_I(r->inode)->datalayout == SHAREFS_INODE_COMPRESSED_COMPACT)
		err = sharefs_z_load_compact(r, lcn);
	else
		err = sharefs_z_load_full(r, lcn);
	if (err)
		return err;
	/* a HEAD's extent starts inside its own lcluster */
	if (r->type != SHAREFS_Z_LCLUSTER_NONHEAD &&
	    r->clusterofs >= (1U << r->zi->lclusterbits))
		return sharefs_z_bad(r, "clusterofs past its lcluster");
	return 0;
}

/* Walk back from the loaded lcluster, @dist at a time, to a HEAD. */
static int sharefs_z_lookback(struct sharefs_zrec *r, unsigned int dist)
{
	int err;

	for (;;) {
		/* each step moves strictly back, so the walk ends */
		if (!dist || dist > r->lcn)
			return sharefs_z_bad(r, "bogus lookback distance");
		err = sharefs_z_load(r, r->lcn - dist);
		if (err)
			return err;
		if (r->type != SHAREFS_Z_LCLUSTER_NONHEAD)
			return 0;
		dist = r->delta0;
		cond_resched();	/* bounded by the index, which may be long */
	}
}

/*
 * Load the HEAD of the extent holding @pos: r->lcn, type, clusterofs,
 * pblk and partial describe it afterwards.  @lastpack: the nextpackoff of
 * @pos's own lcluster, for the inline pcluster (which follows the indexes).
 */
static int sharefs_z_find_head(struct sharefs_zrec *r, u64 pos, u64 *lastpack)
{
	unsigned int lb = r->zi->lclusterbits;
	unsigned int endoff = pos & ((1ULL << lb) - 1);
	int err;

	err = sharefs_z_load(r, pos >> lb);
	if (err)
		return err;
	if (lastpack)
		*lastpack = r->nextpackoff;
	if (r->type != SHAREFS_Z_LCLUSTER_NONHEAD) {
		if (endoff >= r->clusterofs)
			return 0;
		/* @pos belongs to the extent before this HEAD */
		return sharefs_z_lookback(r, 1);
	}
	return sharefs_z_lookback(r, r->delta0);
}

/*
 * Where the extent of HEAD @headlcn ends: at the next HEAD, or EOF.  The
 * walk stops once it passes @limit, with map->full false.
 */
static int sharefs_z_extent_end(struct sharefs_zrec *r, u64 headlcn,
				u64 limit, struct sharefs_zmap *map)
{
	unsigned int lb = r->zi->lclusterbits;
	u64 isize = i_size_read(r->inode);
	u64 lcn = headlcn + 1, end;
	int err;

	for (;; lcn++) {
		end = lcn << lb;
		if (end >= isize) {
			end = isize;
			map->full = true;
			break;
		}
		/*
		 * Past what the caller needs, or past the 12 MiB an extent
		 * may decode to: stop, so that a damaged index (or a huge
		 * i_size) never makes a long walk; a caller that needs more
		 * fails on the 12 MiB bound (zread.c).
		 */
		if (end >= limit ||
		    end - map->la > SHAREFS_Z_PCLUSTER_MAX_DSIZE) {
			map->full = false;
			break;
		}
		err = sharefs_z_load(r, lcn);
		if (err)
			return err;
		if (r->type != SHAREFS_Z_LCLUSTER_NONHEAD) {
			end |= r->clusterofs;
			map->full = true;
			break;
		}
	}
	map->llen = end - map->la;
	return 0;
}

/* The pcluster's size in blocks: 1, or the CBLKCNT after a big HEAD. */
static int sharefs_z_cblks(struct sharefs_zrec *r, u64 headlcn, u8 headtype,
			   u32 *cblks)
{
	u16 adv = r->zi->advise;
	bool big = headtype == SHAREFS_Z_LCLUSTER_HEAD1 ?
		   adv & SHAREFS_Z_ADVISE_BIG_PCLUSTER_1 :
		   adv & SHAREFS_Z_ADVISE_BIG_PCLUSTER_2;
	int err;

	*cblks = 1;
	if (!big || headlcn + 1 >= r->nlcl)
		return 0;
	err = sharefs_z_load(r, headlcn + 1);
	if (err)
		return err;
	if (r->type != SHAREFS_Z_LCLUSTER_NONHEAD)
		return 0;
	if (!r->cblks && r->delta0 != 1)
		return sharefs_z_bad(r, "bogus CBLKCNT");
	if (r->cblks)
		*cblks = r->cblks;
	return 0;
}

/* The pcluster of a regular extent: inside the image, at most 1 MiB. */
static int sharefs_z_pcluster(struct sharefs_zrec *r, u64 headlcn,
			      u8 headtype, u64 pblk, struct sharefs_zmap *map)
{
	struct sharefs_sb_info *sbi = SHAREFS_SB(r->inode->i_sb);
	u32 cblks;
	int err;

	err = sharefs_z_cblks(r, headlcn, headtype, &cblks);
	if (err)
		return err;
	if (cblks > (SHAREFS_Z_PCLUSTER_MAX_SIZE >> sbi->blkszbits))
		return sharefs_z_bad(r, "pcluster larger than 1 MiB");
	/* pblk + cblks <= blocks, without overflow */
	if (pblk > sbi->blocks || cblks > sbi->blocks - pblk)
		return sharefs_z_bad(r, "pcluster out of image");
	map->pa = sharefs_pos(r->inode->i_sb, pblk);
	map->plen = cblks << sbi->blkszbits;
	return 0;
}

static int sharefs_z_algorithm(struct sharefs_zrec *r, u8 headtype,
			       struct sharefs_zmap *map)
{
	const struct sharefs_zinfo *zi = r->zi;
	u8 alg;

	if (headtype == SHAREFS_Z_LCLUSTER_PLAIN) {
		map->alg = (zi->advise & SHAREFS_Z_ADVISE_INTERLACED_PCLUSTER) &&
			   !(map->flags & SHAREFS_ZMAP_INLINE) ?
			   SHAREFS_ZALG_INTERLACED : SHAREFS_ZALG_SHIFTED;
		return 0;
	}
	alg = zi->algs[headtype == SHAREFS_Z_LCLUSTER_HEAD2];
	/* only algorithms the superblock configured (and we checked) */
	if (!(SHAREFS_SB(r->inode->i_sb)->zcfg.algs & BIT(alg)))
		return sharefs_z_bad(r, "algorithm not declared by the superblock");
	map->alg = alg;
	return 0;
}

/* Steps 1-3 of the file comment, with the inode's header parsed in @zi. */
static int sharefs_z_do_map(struct sharefs_zrec *r, u64 pos, u64 limit,
			    struct sharefs_zmap *map)
{
	const struct sharefs_zinfo *zi = r->zi;
	u64 headlcn, pblk;
	u8 headtype;
	bool tail;
	int err;

	err = sharefs_z_find_head(r, pos, NULL);
	if (err)
		return err;
	headlcn = r->lcn;
	headtype = r->type;
	pblk = r->pblk;
	map->la = (headlcn << zi->lclusterbits) | r->clusterofs;
	map->flags = r->partial ? SHAREFS_ZMAP_PARTIAL : 0;
	err = sharefs_z_extent_end(r, headlcn, limit, map);
	if (err)
		return err;
	/* the extent holds @pos: the caller's loop always advances */
	if (map->la > pos || map->la + map->llen <= pos)
		return sharefs_z_bad(r, "extent does not hold the offset");

	tail = headlcn == zi->tailheadlcn;
	if (tail && zi->idata_size) {
		map->flags |= SHAREFS_ZMAP_INLINE;
		map->pa = zi->idataoff;
		map->plen = zi->idata_size;
	} else if (tail && (zi->advise & SHAREFS_Z_ADVISE_FRAGMENT_PCLUSTER)) {
		map->flags = SHAREFS_ZMAP_FRAGMENT;
		map->pa = zi->fragmentoff;
		map->plen = 0;
		map->alg = SHAREFS_ZALG_SHIFTED;
		return 0;
	} else {
		err = sharefs_z_pcluster(r, headlcn, headtype, pblk, map);
		if (err)
			return err;
	}
	return sharefs_z_algorithm(r, headtype, map);
}

/* The tail extent (ztailpacking, fragments): its HEAD and inline data. */
static int sharefs_z_init_tail(struct sharefs_zrec *r, struct sharefs_zinfo *zi)
{
	struct super_block *sb = r->inode->i_sb;
	u64 isize = i_size_read(r->inode);
	u64 lastpack;
	int err;

	err = sharefs_z_find_head(r, isize - 1, &lastpack);
	if (err)
		return err;
	zi->tailheadlcn = r->lcn;
	if (zi->advise & SHAREFS_Z_ADVISE_INLINE_PCLUSTER) {
		/* the inline pcluster follows the indexes, in their block */
		zi->idataoff = lastpack;
		if (!zi->idata_size ||
		    sharefs_blkoff(sb, lastpack) + zi->idata_size > sb->s_blocksize ||
		    sharefs_check_meta(sb, lastpack, zi->idata_size))
			return sharefs_z_bad(r, "bogus inline pcluster");
	} else if (SHAREFS_I(r->inode)->datalayout ==
		   SHAREFS_INODE_COMPRESSED_FULL) {
		/* full indexes keep the high bits in the tail HEAD's blkaddr */
		zi->fragmentoff |= r->pblk << 32;
	}
	return 0;
}

/* Parse the 8-byte map header into @zi. */
static int sharefs_z_parse_header(struct inode *inode, struct sharefs_zinfo *zi)
{
	struct super_block *sb = inode->i_sb;
	struct sharefs_sb_info *sbi = SHAREFS_SB(sb);
	struct sharefs_inode *si = SHAREFS_I(inode);
	struct sharefs_buf buf = SHAREFS_BUF_INIT;
	const struct sharefs_z_map_header *h;
	int err = 0;

	/* 8 bytes at an 8-aligned position: inside one block */
	h = sharefs_read_meta(sb, &buf, SHAREFS_Z_MAP_HEADER_POS(
				sharefs_z_iend(inode)), sizeof(*h));
	if (IS_ERR(h))
		return PTR_ERR(h);
	memset(zi, 0, sizeof(*zi));
	if (h->h_clusterbits >> SHAREFS_Z_FRAGMENT_INODE_BIT) {
		zi->wholefrag = true;
		zi->advise = SHAREFS_Z_ADVISE_FRAGMENT_PCLUSTER;
		zi->fragmentoff = get_unaligned_le64(h) & ~(1ULL << 63);
		goto out;
	}
	zi->advise = le16_to_cpu(h->h_advise);
	zi->algs[0] = h->h_algorithmtype & 15;
	zi->algs[1] = h->h_algorithmtype >> 4;
	zi->lclusterbits = sbi->blkszbits + (h->h_clusterbits & 7);
	if (zi->algs[0] >= SHAREFS_Z_ALG_MAX || zi->algs[1] >= SHAREFS_Z_ALG_MAX) {
		sharefs_err(sb, "unknown algorithms 0x%x @ nid %llu",
			    h->h_algorithmtype, si->nid);
		err = -EOPNOTSUPP;
	} else if (si->datalayout == SHAREFS_INODE_COMPRESSED_FULL &&
		   (zi->advise & SHAREFS_Z_ADVISE_EXTENTS)) {
		sharefs_err(sb, "extent-record indexes @ nid %llu not supported",
			    si->nid);
		err = -EOPNOTSUPP;
	} else if (sharefs_z_big(zi) &&
		   !(sbi->feature_incompat & SHAREFS_FEATURE_INCOMPAT_BIG_PCLUSTER)) {
		sharefs_err(sb, "big pclusters without the feature @ nid %llu",
			    si->nid);
		err = -EFSCORRUPTED;
	} else if (si->datalayout == SHAREFS_INODE_COMPRESSED_COMPACT &&
		   (!(zi->advise & SHAREFS_Z_ADVISE_BIG_PCLUSTER_1) !=
		    !(zi->advise & SHAREFS_Z_ADVISE_BIG_PCLUSTER_2))) {
		sharefs_err(sb, "compact indexes with one big pcluster head @ nid %llu",
			    si->nid);
		err = -EFSCORRUPTED;
	} else if (si->datalayout == SHAREFS_INODE_COMPRESSED_COMPACT &&
		   zi->lclusterbits > 14) {
		/* 4-byte entries hold 14 bits of clusterofs */
		sharefs_err(sb, "compact indexes with 2^%u lclusters @ nid %llu",
			    zi->lclusterbits, si->nid);
		err = -EFSCORRUPTED;
	}
	if (zi->advise & SHAREFS_Z_ADVISE_INLINE_PCLUSTER)
		zi->idata_size = le16_to_cpu(h->h_idata_size);
	else if (zi->advise & SHAREFS_Z_ADVISE_FRAGMENT_PCLUSTER)
		zi->fragmentoff = le32_to_cpu(h->h_fragmentoff);
out:
	sharefs_put_buf(&buf);
	/* a fragment lives in the packed inode, which must exist */
	if (!err && (zi->advise & SHAREFS_Z_ADVISE_FRAGMENT_PCLUSTER) &&
	    (!sbi->packed_nid || sbi->packed_nid == si->nid)) {
		sharefs_err(sb, "fragment without a packed inode @ nid %llu",
			    si->nid);
		err = -EFSCORRUPTED;
	}
	return err;
}

static void sharefs_z_rec_init(struct sharefs_zrec *r, struct inode *inode,
			       const struct sharefs_zinfo *zi)
{
	memset(r, 0, sizeof(*r));
	r->inode = inode;
	r->zi = zi;
	r->buf = SHAREFS_BUF_INIT;
	r->nlcl = DIV_ROUND_UP((u64)i_size_read(inode), 1ULL << zi->lclusterbits);
}

/* Parse the header and find the tail extent, once per inode. */
static int sharefs_z_init(struct inode *inode)
{
	struct sharefs_inode *si = SHAREFS_I(inode);
	struct sharefs_zinfo zi;
	struct sharefs_zrec r;
	int err;

	if (smp_load_acquire(&si->z_inited))
		return 0;
	err = sharefs_z_parse_header(inode, &zi);
	if (err)
		return err;
	if (!zi.wholefrag && i_size_read(inode) &&
	    (zi.advise & (SHAREFS_Z_ADVISE_INLINE_PCLUSTER |
			  SHAREFS_Z_ADVISE_FRAGMENT_PCLUSTER))) {
		sharefs_z_rec_init(&r, inode, &zi);
		err = sharefs_z_init_tail(&r, &zi);
		sharefs_put_buf(&r.buf);
		if (err)
			return err;
	}
	spin_lock(&inode->i_lock);
	if (!si->z_inited) {
		si->z = zi;
		/* pairs with the smp_load_acquire() above */
		smp_store_release(&si->z_inited, true);
	}
	spin_unlock(&inode->i_lock);
	return 0;
}

/*
 * Map @pos (< i_size) of compressed @inode: the extent holding it, known
 * at least to min(its end, the lcluster end at or after @limit).
 */
int sharefs_z_map(struct inode *inode, u64 pos, u64 limit,
		  struct sharefs_zmap *map)
{
	struct sharefs_inode *si = SHAREFS_I(inode);
	struct sharefs_zrec r;
	int err;

	err = sharefs_z_init(inode);
	if (err)
		return err;
	/*
	 * The whole file in the packed inode; also a tail fragment whose
	 * extent starts at lcluster 0, as stock erofs reads it.
	 */
	if (si->z.wholefrag || ((si->z.advise & SHAREFS_Z_ADVISE_FRAGMENT_PCLUSTER) &&
				!si->z.idata_size && !si->z.tailheadlcn)) {
		map->la = 0;
		map->llen = i_size_read(inode);
		map->full = true;
		map->pa = si->z.fragmentoff;
		map->plen = 0;
		map->alg = SHAREFS_ZALG_SHIFTED;
		map->flags = SHAREFS_ZMAP_FRAGMENT;
		return 0;
	}
	sharefs_z_rec_init(&r, inode, &si->z);
	err = sharefs_z_do_map(&r, pos, limit, map);
	sharefs_put_buf(&r.buf);
	return err;
}

/* fiemap of a compressed file: one encoded extent per pcluster */
int sharefs_z_fiemap(struct inode *inode, struct fiemap_extent_info *fieinfo,
		     u64 start, u64 len)
{
	u64 isize = i_size_read(inode), pos = start;
	struct sharefs_zmap map;
	u32 flags;
	int err;

	err = fiemap_prep(inode, fieinfo, start, &len, 0);
	if (err)
		return err;
	while (pos < isize && pos - start < len) {
		err = sharefs_z_map(inode, pos, U64_MAX, &map);
		if (err)
			return err;
		flags = FIEMAP_EXTENT_ENCODED;
		if (map.flags & SHAREFS_ZMAP_INLINE)
			flags |= FIEMAP_EXTENT_DATA_INLINE |
				 FIEMAP_EXTENT_NOT_ALIGNED;
		if (map.flags & SHAREFS_ZMAP_FRAGMENT)
			flags = FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_ENCODED;
		if (map.la + map.llen >= isize)
			flags |= FIEMAP_EXTENT_LAST;
		err = fiemap_fill_next_extent(fieinfo, map.la,
				map.flags & SHAREFS_ZMAP_FRAGMENT ? 0 : map.pa,
				map.llen, flags);
		if (err)
			return err < 0 ? err : 0;
		pos = map.la + map.llen;
	}
	return 0;
}
