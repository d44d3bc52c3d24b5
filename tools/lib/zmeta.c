// SPDX-License-Identifier: GPL-2.0-only OR Apache-2.0
/*
 * zmeta.c - the metadata of compressed files (mkfs.sharefs -z): the map
 * header and compact lcluster indexes after each compressed inode, and the
 * COMPR_CFGS records after the superblock.
 *
 * compress.c leaves each compressed content as a list of extents; this
 * file turns the list into one logical index per lcluster (an lcluster is
 * one block here: h_clusterbits 0) and packs those as COMPRESSED_COMPACT
 * indexes (sharefs_fs.h has the layout): 4-byte entries up to the first
 * 32-byte boundary, then 2-byte entries in packs of 16 (COMPACTED_2B),
 * then 4-byte entries for the rest, about 2 bytes per block of the file
 * where full indexes take 8.
 *
 * A compact pack stores one block address; a reader finds a HEAD's block
 * by adding, to that base, the blocks of the pclusters whose entries come
 * before it in the pack (walking back over NONHEADs by their distances).
 * The base of each pack is therefore derived from its first HEAD, and
 * every other HEAD of the pack is checked to come out where compress.c put
 * its pcluster: a mismatch is an internal error, never a silent image.
 * With big pclusters the first NONHEAD after every HEAD carries CBLKCNT
 * (the walk counts blocks by it), and compact indexes need both
 * BIG_PCLUSTER advise bits or neither.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mkfs.h"

#define LZ4_WINDOW	65535		/* LZ4 match offsets are 16-bit */

/* One lcluster's index before packing. */
struct zent {
	uint8_t type;			/* SHAREFS_Z_LCLUSTER_* */
	uint16_t lo;			/* HEAD: clusterofs; NONHEAD: delta[0] (or CBLKCNT | n) */
	uint16_t d1;			/* NONHEAD: lclusters on to the next HEAD */
	uint32_t pblk;			/* HEAD: its pcluster's block */
};

static uint64_t lclusters(const struct sharefs_build *b, uint64_t size)
{
	return (size + b->blksz - 1) >> b->opts.blkszbits;
}

static bool big_pcluster(const struct sharefs_build *b)
{
	return sharefs_z_pcluster(&b->opts) > b->blksz;
}

/* The logical index of every lcluster of @c. */
static struct zent *logical_indexes(const struct sharefs_build *b,
				    const struct sharefs_content *c,
				    uint64_t nlc)
{
	unsigned int bits = b->opts.blkszbits;
	struct zent *v = sharefs_xcalloc((size_t)nlc, sizeof(*v));
	uint32_t i = 0;

	for (uint64_t lcn = 0; lcn < nlc; lcn++) {
		const struct sharefs_zext *e;
		uint64_t head, next;

		while (i + 1 < c->nzext && (c->zext[i + 1].lstart >> bits) <= lcn)
			i++;
		e = &c->zext[i];
		head = e->lstart >> bits;
		if (head == lcn) {
			v[lcn].type = e->plain ? SHAREFS_Z_LCLUSTER_PLAIN :
						 SHAREFS_Z_LCLUSTER_HEAD1;
			v[lcn].lo = (uint16_t)(e->lstart & (b->blksz - 1));
			v[lcn].pblk = (uint32_t)(c->blkaddr + e->pblk);
			continue;
		}
		next = i + 1 < c->nzext ? c->zext[i + 1].lstart >> bits : nlc;
		v[lcn].type = SHAREFS_Z_LCLUSTER_NONHEAD;
		v[lcn].lo = (uint16_t)(lcn - head);
		if (lcn - head == 1 && big_pcluster(b))
			v[lcn].lo = (uint16_t)(SHAREFS_Z_LI_D0_CBLKCNT | e->nblks);
		v[lcn].d1 = (uint16_t)(next - lcn);
	}
	return v;
}

/* ---- compact packing ---- */

struct compact_layout {
	uint64_t init4, n2b, tail4;	/* entries in each region */
	size_t ebase;			/* first pack, from the inode's start */
	size_t bytes;			/* all packs */
};

/* Pack sizes: vcnt entries, then a __le32 base block. */
static size_t packs_bytes(uint64_t n, unsigned int vcnt, size_t pack)
{
	return (size_t)((n + vcnt - 1) / vcnt) * pack;
}

/*
 * Where the regions lie for a file of @nlc lclusters whose inode and
 * xattrs take @ibody bytes from a 32-byte-aligned slot (so offsets from
 * the inode's start have the alignment of image offsets).
 */
static void compact_layout(size_t ibody, uint64_t nlc, struct compact_layout *l)
{
	l->ebase = (size_t)SHAREFS_Z_MAP_HEADER_END(ibody);
	l->init4 = ((SHAREFS_Z_COMPACT_ALIGN - l->ebase % SHAREFS_Z_COMPACT_ALIGN) / 4) & 7;
	if (l->init4 > nlc)
		l->init4 = nlc;
	l->n2b = (nlc - l->init4) / SHAREFS_Z_COMPACT_2B_VCNT * SHAREFS_Z_COMPACT_2B_VCNT;
	l->tail4 = nlc - l->init4 - l->n2b;
	l->bytes = packs_bytes(l->init4, SHAREFS_Z_COMPACT_4B_VCNT, SHAREFS_Z_COMPACT_4B_PACK) +
		   packs_bytes(l->n2b, SHAREFS_Z_COMPACT_2B_VCNT, SHAREFS_Z_COMPACT_2B_PACK) +
		   packs_bytes(l->tail4, SHAREFS_Z_COMPACT_4B_VCNT, SHAREFS_Z_COMPACT_4B_PACK);
}

/* Bytes after inode and xattrs (@ibody bytes). */
size_t sharefs_z_meta_size(const struct sharefs_build *b,
			   const struct sharefs_node *n, size_t ibody)
{
	struct compact_layout l;

	compact_layout(ibody, lclusters(b, n->size), &l);
	return l.ebase - ibody + l.bytes;
}

static unsigned int lobits(const struct sharefs_build *b)
{
	return b->opts.blkszbits > SHAREFS_Z_COMPACT_MIN_LOBITS ?
	       b->opts.blkszbits : SHAREFS_Z_COMPACT_MIN_LOBITS;
}

/* Set @nbits bits of @v at bit @pos of @p, little-endian. */
static void put_bits(uint8_t *p, unsigned int pos, unsigned int nbits,
		     uint32_t v)
{
	for (unsigned int k = 0; k < nbits; k++)
		if (v >> k & 1)
			p[(pos + k) / 8] |= (uint8_t)(1u << ((pos + k) % 8));
}

/* What entry @k of a pack of @vcnt stores in its low bits. */
static uint16_t entry_lo(const struct zent *e, unsigned int k, unsigned int vcnt)
{
	/* the last NONHEAD of a pack gives delta[1] (a reader derives its
	 * delta[0] from the entry before), unless it must carry CBLKCNT */
	if (e->type == SHAREFS_Z_LCLUSTER_NONHEAD && k == vcnt - 1 &&
	    !(e->lo & SHAREFS_Z_LI_D0_CBLKCNT))
		return e->d1;
	return e->lo;
}

/*
 * The blocks a reader adds to a pack's base for the HEAD at entry @k: the
 * pclusters that start before it in the pack, found walking back.
 */
static int64_t walk_blocks(const struct zent *e, int k, bool big)
{
	int64_t nblk = big ? 0 : 1;

	for (int i = k - 1; i >= 0; i--) {
		if (e[i].type != SHAREFS_Z_LCLUSTER_NONHEAD) {
			nblk++;
		} else if (big && (e[i].lo & SHAREFS_Z_LI_D0_CBLKCNT)) {
			nblk += e[i].lo & ~SHAREFS_Z_LI_D0_CBLKCNT;
			i--;		/* its HEAD is counted by this */
		} else if (big) {
			if (e[i].lo <= 1)
				return -1;	/* CBLKCNT was due here */
			i -= e[i].lo - 2;	/* to the CBLKCNT entry */
		} else {
			i -= e[i].lo;		/* to its HEAD, counted next */
			if (i >= 0)
				nblk++;
		}
	}
	return nblk;
}

/*
 * Pack @vcnt entries (fewer at the end: the rest stay zero, PLAIN with
 * offset 0, which a reader never maps) into @p with their base block.
 */
static int put_pack(const struct sharefs_build *b, const struct zent *e,
		    unsigned int n, unsigned int vcnt, size_t pack, uint8_t *p)
{
	unsigned int lb = lobits(b), ebits = (unsigned int)(pack - 4) * 8 / vcnt;
	bool big = big_pcluster(b);
	int64_t base = -1;
	__le32 v;

	for (unsigned int k = 0; k < n; k++) {
		int64_t w;

		put_bits(p, ebits * k, lb + 2,
			 entry_lo(&e[k], k, vcnt) | (uint32_t)e[k].type << lb);
		if (e[k].type == SHAREFS_Z_LCLUSTER_NONHEAD)
			continue;
		w = walk_blocks(e, (int)k, big);
		if (base < 0 && w >= 0)
			base = (int64_t)e[k].pblk - w;
		if (w < 0 || base + w != (int64_t)e[k].pblk) {
			sharefs_msg("internal error: compact index of block %u", e[k].pblk);
			return -EUCLEAN;
		}
	}
	v = cpu_to_le32((uint32_t)(base < 0 ? 0 : base));
	memcpy(p + pack - 4, &v, 4);
	return 0;
}

/* @n entries into packs of @vcnt from @p; returns the bytes written. */
static int put_region(const struct sharefs_build *b, const struct zent *e,
		      uint64_t n, unsigned int vcnt, size_t pack, uint8_t *p,
		      size_t *done)
{
	*done = 0;
	for (uint64_t i = 0; i < n; i += vcnt) {
		unsigned int cnt = n - i < vcnt ? (unsigned int)(n - i) : vcnt;
		int err = put_pack(b, e + i, cnt, vcnt, pack, p + *done);

		if (err)
			return err;
		*done += pack;
	}
	return 0;
}

/* Map header and compact indexes of compressed node @n, inode at @p. */
int sharefs_z_emit_meta(const struct sharefs_build *b,
			const struct sharefs_node *n, uint8_t *p, size_t ibody)
{
	const struct sharefs_content *c = n->content;
	uint64_t nlc = lclusters(b, c->size);
	struct zent *v = logical_indexes(b, c, nlc);
	struct sharefs_z_map_header h;
	struct compact_layout l;
	uint8_t *q;
	size_t done;
	uint16_t advise = SHAREFS_Z_ADVISE_COMPACTED_2B;
	int err;

	compact_layout(ibody, nlc, &l);
	if (big_pcluster(b))
		advise |= SHAREFS_Z_ADVISE_BIG_PCLUSTER_1 | SHAREFS_Z_ADVISE_BIG_PCLUSTER_2;
	memset(&h, 0, sizeof(h));
	h.h_advise = cpu_to_le16(advise);
	h.h_algorithmtype = (uint8_t)sharefs_z_alg(&b->opts);
	h.h_clusterbits = 0;		/* lcluster = block */
	memcpy(p + SHAREFS_Z_MAP_HEADER_POS(ibody), &h, sizeof(h));
	q = p + l.ebase;
	err = put_region(b, v, l.init4, SHAREFS_Z_COMPACT_4B_VCNT,
			 SHAREFS_Z_COMPACT_4B_PACK, q, &done);
	q += done;
	if (!err)
		err = put_region(b, v + l.init4, l.n2b, SHAREFS_Z_COMPACT_2B_VCNT,
				 SHAREFS_Z_COMPACT_2B_PACK, q, &done);
	q += done;
	if (!err)
		err = put_region(b, v + l.init4 + l.n2b, l.tail4,
				 SHAREFS_Z_COMPACT_4B_VCNT,
				 SHAREFS_Z_COMPACT_4B_PACK, q, &done);
	free(v);
	return err;
}

/*
 * The COMPR_CFGS records at @at (right after the superblock), if the image
 * needs them: zstd always, LZ4 with big pclusters (readers size their
 * buffers by max_pclusterblks).  Returns their bytes (a multiple of 4) and
 * in *algs the bitmap for the superblock's u1, 0 without records.
 */
size_t sharefs_z_write_cfgs(const struct sharefs_build *b, uint8_t *at,
			    uint16_t *algs)
{
	int alg = b->opts.zcodec ? sharefs_z_alg(&b->opts) : 0;
	__le16 size;

	*algs = 0;
	if (!b->zused || (alg == SHAREFS_Z_ALG_LZ4 && !big_pcluster(b)))
		return 0;
	*algs = (uint16_t)(1u << alg);
	if (alg == SHAREFS_Z_ALG_ZSTD) {
		struct sharefs_z_zstd_cfgs zc = {
			.windowlog = SHAREFS_Z_ZSTD_WLOG - SHAREFS_Z_ZSTD_WINDOWLOG_MIN,
		};

		size = cpu_to_le16(sizeof(zc));
		memcpy(at, &size, 2);
		memcpy(at + 2, &zc, sizeof(zc));
		return 8;
	} else {
		struct sharefs_z_lz4_cfgs lc = {
			.max_distance = cpu_to_le16(LZ4_WINDOW),
			.max_pclusterblks = cpu_to_le16((uint16_t)
				(sharefs_z_pcluster(&b->opts) >> b->opts.blkszbits)),
		};

		size = cpu_to_le16(sizeof(lc));
		memcpy(at, &size, 2);
		memcpy(at + 2, &lc, sizeof(lc));
		return 16;
	}
}
