// SPDX-License-Identifier: GPL-2.0-only OR Apache-2.0
/*
 * image.c - lay out and write inodes, xattrs, directories and the superblock.
 *
 * Runs after the file data is in place (content.c).  Nodes are numbered in
 * tree order (depth first, sorted names) with the root first, so the root
 * gets nid 1 and always fits the 16-bit rootnid.  Slot 0 stays empty:
 * readers derive inode numbers from nids, and userspace takes inode number
 * 0 for "no entry" (glibc's readdir skips d_ino 0, hiding "." and "..").  An inode never crosses a
 * block boundary unless inode plus xattrs are larger than a block, and an
 * inline tail always sits in the same block as its inode.
 *
 * Timestamps: readers before Linux 6.15 / erofs-utils 1.8 give every compact
 * inode the superblock time (epoch, fixed_nsec) and ignore its i_mtime.  By
 * default a compact inode is therefore used only for the most common mtime,
 * which becomes the epoch; with --mtime-offsets compact inodes carry
 * seconds after the epoch, which only newer readers honour.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include "mkfs.h"

/* after the superblock: COMPR_CFGS records (-z), then the prefix table */
#define SB_END	(SHAREFS_SUPER_OFFSET + sizeof(struct sharefs_super_block))

void sharefs_build_init(struct sharefs_build *b, const struct sharefs_opts *o)
{
	memset(b, 0, sizeof(*b));
	b->opts = *o;
	b->blksz = 1u << o->blkszbits;
	b->fd = -1;
	b->ishare_prefix_id = 0;
	b->data_start = sharefs_first_data_block(b);
	b->data_next = b->data_start;
}

/* The superblock (and the prefix table after it) own everything below this. */
uint64_t sharefs_first_data_block(const struct sharefs_build *b)
{
	uint64_t end = SHAREFS_SUPER_OFFSET + (b->blksz > SHAREFS_SUPER_OFFSET ?
			b->blksz - SHAREFS_SUPER_OFFSET : b->blksz);

	return (end + b->blksz - 1) >> b->opts.blkszbits;
}

/*
 * The checksum covers the superblock's block from byte 1024 to its end (a
 * whole block when blocks are 1 KiB or smaller), with the field as zero.
 */
uint32_t sharefs_super_checksum(const void *img, unsigned int blksz)
{
	size_t len = blksz > SHAREFS_SUPER_OFFSET ? blksz - SHAREFS_SUPER_OFFSET :
						    blksz;
	uint8_t *tmp = sharefs_xmalloc(len);
	uint32_t crc;

	memcpy(tmp, (const uint8_t *)img + SHAREFS_SUPER_OFFSET, len);
	memset(tmp + offsetof(struct sharefs_super_block, checksum), 0, 4);
	crc = sharefs_crc32c(~0u, tmp, len);
	free(tmp);
	return crc;
}

/* ---- directories ---- */

static int dentry_cmp(const void *pa, const void *pb)
{
	const struct sharefs_dentry *a = pa, *b = pb;

	return sharefs_name_cmp(a->name, a->len, b->name, b->len);
}

/*
 * Sort the entries with "." and ".." among them (byte order puts names
 * such as "-x" before "."), then fill blocks greedily.  Returns the
 * directory size: full blocks plus the used part of the last one.
 */
size_t sharefs_dir_pack(struct sharefs_node *dir, unsigned int blksz,
			struct sharefs_dentry **sortedp, size_t *nsorted)
{
	size_t n = dir->nchild + 2, used = 0, size;
	struct sharefs_dentry *s = sharefs_xmalloc(n * sizeof(*s));

	s[0] = (struct sharefs_dentry){ ".", 1, dir };
	s[1] = (struct sharefs_dentry){ "..", 2, dir->parent ? dir->parent : dir };
	if (dir->nchild)	/* an empty dir may have no array at all */
		memcpy(s + 2, dir->children, dir->nchild * sizeof(*s));
	qsort(s, n, sizeof(*s), dentry_cmp);

	free(dir->dirblk_first);
	dir->dirblk_first = sharefs_xmalloc((n + 1) * sizeof(uint32_t));
	dir->ndirblk = 0;
	for (size_t i = 0; i < n; i++) {
		size_t need = SHAREFS_DIRENT_SIZE + s[i].len;

		if (!dir->ndirblk || used + need > blksz) {
			dir->dirblk_first[dir->ndirblk++] = (uint32_t)i;
			used = 0;
		}
		used += need;
	}
	dir->dirblk_first[dir->ndirblk] = (uint32_t)n;
	size = (dir->ndirblk - 1) * (size_t)blksz + used;
	*sortedp = s;
	*nsorted = n;
	return size;
}

static void dir_fill(struct sharefs_node *dir, unsigned int blksz)
{
	struct sharefs_dentry *s;
	size_t n;

	dir->size = sharefs_dir_pack(dir, blksz, &s, &n);
	dir->mem = sharefs_xcalloc(1, dir->ndirblk * (size_t)blksz);
	for (size_t blk = 0; blk < dir->ndirblk; blk++) {
		uint8_t *base = dir->mem + blk * blksz;
		uint32_t first = dir->dirblk_first[blk];
		uint32_t last = dir->dirblk_first[blk + 1];
		size_t nameoff = (last - first) * SHAREFS_DIRENT_SIZE;

		for (uint32_t i = first; i < last; i++) {
			uint8_t *de = base + (i - first) * SHAREFS_DIRENT_SIZE;
			__le64 nid = cpu_to_le64(s[i].node->nid);
			__le16 off = cpu_to_le16((uint16_t)nameoff);

			/* field by field: struct sharefs_dirent is not packed */
			memcpy(de, &nid, 8);
			memcpy(de + 8, &off, 2);
			de[10] = (uint8_t)sharefs_mode_to_ftype(s[i].node->mode);
			de[11] = 0;
			memcpy(base + nameoff, s[i].name, s[i].len);
			nameoff += s[i].len;
		}
	}
	free(s);
}

/* ---- layout ---- */

struct order {
	struct sharefs_node **v;
	size_t n, cap;
};

static void order_add(struct order *o, struct sharefs_node *n)
{
	if (o->n == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 1024;
		o->v = sharefs_xrealloc(o->v, o->cap * sizeof(*o->v));
	}
	o->v[o->n++] = n;
}

static void order_walk(struct order *o, struct sharefs_node *dir)
{
	for (size_t i = 0; i < dir->nchild; i++) {
		struct sharefs_node *n = dir->children[i].node;

		if (n->placed)
			continue;
		n->placed = true;
		order_add(o, n);
		if (S_ISDIR(n->mode))
			order_walk(o, n);
	}
}

struct tstamp {
	int64_t sec;
	uint32_t nsec;
};

static int tstamp_cmp(const void *pa, const void *pb)
{
	const struct tstamp *a = pa, *b = pb;

	if (a->sec != b->sec)
		return a->sec < b->sec ? -1 : 1;
	return a->nsec < b->nsec ? -1 : a->nsec > b->nsec;
}

/* Most common mtime (ties: the earliest), or with offsets the earliest. */
static void choose_epoch(struct sharefs_build *b, struct order *o)
{
	struct tstamp *t = sharefs_xmalloc(o->n * sizeof(*t));
	size_t best = 0, bestrun = 0;

	for (size_t i = 0; i < o->n; i++) {
		t[i].sec = o->v[i]->mtime;
		t[i].nsec = b->opts.mtime_offsets ? 0 : o->v[i]->mtime_nsec;
	}
	qsort(t, o->n, sizeof(*t), tstamp_cmp);
	if (b->opts.mtime_offsets) {
		/* earliest second; the most common nsec value */
		uint32_t *ns = sharefs_xmalloc(o->n * sizeof(*ns));

		b->epoch = t[0].sec;
		for (size_t i = 0; i < o->n; i++)
			ns[i] = o->v[i]->mtime_nsec;
		for (size_t i = 0; i < o->n; i++) {
			t[i].sec = ns[i];
			t[i].nsec = 0;
		}
		qsort(t, o->n, sizeof(*t), tstamp_cmp);
		free(ns);
	}
	for (size_t i = 0; i < o->n;) {
		size_t j = i;

		while (j < o->n && !tstamp_cmp(&t[i], &t[j]))
			j++;
		if (j - i > bestrun) {
			bestrun = j - i;
			best = i;
		}
		i = j;
	}
	if (b->opts.mtime_offsets) {
		b->fixed_nsec = (uint32_t)t[best].sec;
	} else {
		b->epoch = t[best].sec;
		b->fixed_nsec = t[best].nsec;
	}
	free(t);
}

static bool fits_compact(const struct sharefs_build *b,
			 const struct sharefs_node *n)
{
	if (n->uid > 0xffff || n->gid > 0xffff || n->nlink > 0xffff ||
	    n->size > 0xffffffffull || n->mtime_nsec != b->fixed_nsec)
		return false;
	if (!b->opts.mtime_offsets)
		return n->mtime == b->epoch;
	return n->mtime >= b->epoch && n->mtime - b->epoch <= 0xffffffffll;
}

static bool has_data(const struct sharefs_node *n)
{
	return (S_ISREG(n->mode) || S_ISDIR(n->mode) || S_ISLNK(n->mode)) &&
	       n->size;
}

/* Bytes after inode and xattrs that belong to the inode's slot run. */
static size_t inode_extra(const struct sharefs_build *b,
			  const struct sharefs_node *n, size_t ibody)
{
	if (n->datalayout == SHAREFS_INODE_COMPRESSED_COMPACT)
		return sharefs_z_meta_size(b, n, ibody);
	if (n->datalayout == SHAREFS_INODE_CHUNK_BASED)
		return (size_t)n->content->nchunks * SHAREFS_BLOCK_MAP_ENTRY_SIZE;
	if (n->inl)
		return n->size % b->blksz;
	return 0;
}

/*
 * i_xattr_icount is a u16 count of 4-byte units after the 12-byte header
 * (the header counts as one): inline xattrs beyond this would wrap it.
 */
#define XATTR_IBODY_MAX	(sizeof(struct sharefs_xattr_ibody_header) + \
			 4 * (size_t)(UINT16_MAX - 1))

/* What encode_dev() can store: the kernel's own 12-bit major, 20-bit minor. */
#define RDEV_MAJOR_MAX	0xfffu
#define RDEV_MINOR_MAX	0xfffffu

static int layout_node(struct sharefs_build *b, struct sharefs_node *n)
{
	sharefs_xattrs_sort(n);
	n->xattr_size = sharefs_xattr_ibody_size(n);
	if (n->xattr_size > XATTR_IBODY_MAX) {
		sharefs_msg("%s: %u bytes of xattrs, more than the %zu an inode can hold",
			    n->path ? n->path : "?", n->xattr_size,
			    XATTR_IBODY_MAX);
		return -E2BIG;
	}
	if ((S_ISCHR(n->mode) || S_ISBLK(n->mode)) &&
	    (n->rdev_major > RDEV_MAJOR_MAX || n->rdev_minor > RDEV_MINOR_MAX)) {
		sharefs_msg("%s: device %llu:%llu does not fit the format's %u-bit major and %u-bit minor",
			    n->path ? n->path : "?",
			    (unsigned long long)n->rdev_major,
			    (unsigned long long)n->rdev_minor, 12, 20);
		return -ERANGE;
	}
	n->compact = fits_compact(b, n);
	n->datalayout = SHAREFS_INODE_FLAT_PLAIN;
	n->inl = false;
	if (!has_data(n))
		return 0;
	if (S_ISREG(n->mode) && n->content->compressed) {
		/* indexes after the inode; no inline tail (no ztailpacking) */
		n->datalayout = SHAREFS_INODE_COMPRESSED_COMPACT;
		b->zused = true;
		return 0;
	}
	if (S_ISREG(n->mode) && n->content->sparse) {
		n->datalayout = SHAREFS_INODE_CHUNK_BASED;
		b->feature_incompat |= SHAREFS_FEATURE_INCOMPAT_CHUNKED_FILE;
		return 0;
	}
	/* same rule and same worst-case inode size as content.c used */
	n->inl = sharefs_want_inline(b->blksz, sizeof(struct sharefs_inode_extended) +
				     n->xattr_size, n->size);
	if (n->inl)
		n->datalayout = SHAREFS_INODE_FLAT_INLINE;
	return 0;
}

static uint64_t place_inodes(struct sharefs_build *b, struct order *o)
{
	uint64_t pos = 1 << SHAREFS_ISLOTBITS;	/* nid 0 is never used */

	for (size_t i = 0; i < o->n; i++) {
		struct sharefs_node *n = o->v[i];
		size_t ibody = (n->compact ? sizeof(struct sharefs_inode_compact) :
				sizeof(struct sharefs_inode_extended)) + n->xattr_size;
		size_t extra = inode_extra(b, n, ibody);
		uint64_t inblk;

		pos = (pos + 31) & ~31ull;
		inblk = pos % b->blksz;
		if (n->inl) {
			if (inblk + ibody + extra > b->blksz)
				pos += b->blksz - inblk;
		} else if (ibody <= b->blksz && inblk + ibody > b->blksz) {
			pos += b->blksz - inblk;
		}
		n->nid = pos >> SHAREFS_ISLOTBITS;
		n->ino = (uint32_t)(i + 1);
		pos += ibody + extra;
	}
	return pos;
}

/* Linux's new_encode_dev(); layout_node() refused what does not fit. */
static uint32_t encode_dev(uint64_t major, uint64_t minor)
{
	return (uint32_t)((minor & 0xff) | (major << 8) | ((minor & ~0xffull) << 12));
}

static uint32_t node_startblk(const struct sharefs_node *n)
{
	if (S_ISREG(n->mode))
		return (uint32_t)n->content->blkaddr;
	return (uint32_t)n->blkaddr;
}

/*
 * Write inode, xattrs and inline tail / chunk map / compressed indexes at
 * meta + nid * 32.
 */
static int emit_inode(struct sharefs_build *b, struct sharefs_node *n,
		       uint8_t *meta)
{
	uint8_t *p = meta + (n->nid << SHAREFS_ISLOTBITS), *inode = p;
	uint16_t icount = n->xattr_size ?
		(uint16_t)((n->xattr_size - sizeof(struct sharefs_xattr_ibody_header)) / 4 + 1) : 0;
	uint16_t fmt = (uint16_t)((n->compact ? SHAREFS_I_VERSION_COMPACT :
				   SHAREFS_I_VERSION_EXTENDED) |
				  (n->datalayout << SHAREFS_I_DATALAYOUT_SHIFT));
	union sharefs_inode_i_u iu;

	memset(&iu, 0, sizeof(iu));
	if (S_ISCHR(n->mode) || S_ISBLK(n->mode))
		iu.rdev = cpu_to_le32(encode_dev(n->rdev_major, n->rdev_minor));
	else if (n->datalayout == SHAREFS_INODE_CHUNK_BASED)
		iu.c.format = cpu_to_le16((uint16_t)n->content->chunkbits);
	else if (n->datalayout == SHAREFS_INODE_COMPRESSED_COMPACT)
		iu.blocks_lo = cpu_to_le32((uint32_t)n->content->zblocks);
	else if (has_data(n))
		iu.startblk_lo = cpu_to_le32(node_startblk(n));

	if (n->compact) {
		struct sharefs_inode_compact di;

		memset(&di, 0, sizeof(di));
		di.i_format = cpu_to_le16(fmt);
		di.i_xattr_icount = cpu_to_le16(icount);
		di.i_mode = cpu_to_le16((uint16_t)n->mode);
		di.i_nb.nlink = cpu_to_le16((uint16_t)n->nlink);
		di.i_size = cpu_to_le32((uint32_t)n->size);
		di.i_mtime = cpu_to_le32((uint32_t)(n->mtime - b->epoch));
		di.i_u = iu;
		di.i_ino = cpu_to_le32(n->ino);
		di.i_uid = cpu_to_le16((uint16_t)n->uid);
		di.i_gid = cpu_to_le16((uint16_t)n->gid);
		memcpy(p, &di, sizeof(di));
		p += sizeof(di);
	} else {
		struct sharefs_inode_extended di;

		memset(&di, 0, sizeof(di));
		di.i_format = cpu_to_le16(fmt);
		di.i_xattr_icount = cpu_to_le16(icount);
		di.i_mode = cpu_to_le16((uint16_t)n->mode);
		di.i_size = cpu_to_le64(n->size);
		di.i_u = iu;
		di.i_ino = cpu_to_le32(n->ino);
		di.i_uid = cpu_to_le32(n->uid);
		di.i_gid = cpu_to_le32(n->gid);
		di.i_mtime = cpu_to_le64((uint64_t)n->mtime);
		di.i_mtime_nsec = cpu_to_le32(n->mtime_nsec);
		di.i_nlink = cpu_to_le32(n->nlink);
		memcpy(p, &di, sizeof(di));
		p += sizeof(di);
	}
	if (n->xattr_size) {
		struct sharefs_xattr_ibody_header h;

		memset(&h, 0, sizeof(h));
		memcpy(p, &h, sizeof(h));
		p += sizeof(h);
		for (unsigned int i = 0; i < n->nxattrs; i++) {
			const struct sharefs_xattr *x = &n->xattrs[i];
			struct sharefs_xattr_entry e = {
				.e_name_len = x->name_len,
				.e_name_index = x->index,
				.e_value_size = cpu_to_le16(x->value_len),
			};

			memcpy(p, &e, sizeof(e));
			memcpy(p + sizeof(e), x->name, x->name_len);
			memcpy(p + sizeof(e) + x->name_len, x->value, x->value_len);
			p += SHAREFS_XATTR_ALIGN(sizeof(e) + x->name_len + x->value_len);
		}
	}
	if (n->datalayout == SHAREFS_INODE_COMPRESSED_COMPACT) {
		return sharefs_z_emit_meta(b, n, inode, (size_t)(p - inode));
	} else if (n->datalayout == SHAREFS_INODE_CHUNK_BASED) {
		for (uint32_t i = 0; i < n->content->nchunks; i++) {
			__le32 v = cpu_to_le32(n->content->chunkmap[i]);

			memcpy(p + 4 * i, &v, 4);
		}
	} else if (n->inl) {
		size_t tail = n->size % b->blksz;
		const uint8_t *src = S_ISREG(n->mode) ? n->content->tail :
				     n->mem + (n->size - tail);

		memcpy(p, src, tail);
	}
	return 0;
}

static void write_super(struct sharefs_build *b, uint8_t *head,
			uint64_t meta_blkaddr, uint64_t root_nid)
{
	struct sharefs_super_block dsb;
	uint32_t compat = SHAREFS_FEATURE_COMPAT_SB_CHKSUM |
			  SHAREFS_FEATURE_COMPAT_MTIME;
	int64_t bt = b->opts.have_timestamp ? b->opts.timestamp : b->epoch;
	uint16_t algs;
	size_t table = SB_END + sharefs_z_write_cfgs(b, head + SB_END, &algs);

	memset(&dsb, 0, sizeof(dsb));
	dsb.magic = cpu_to_le32(SHAREFS_MAGIC);
	dsb.blkszbits = (uint8_t)b->opts.blkszbits;
	dsb.rootnid_2b = cpu_to_le16((uint16_t)root_nid);
	dsb.inos = cpu_to_le64(b->inodes);
	dsb.epoch = cpu_to_le64((uint64_t)b->epoch);
	dsb.fixed_nsec = cpu_to_le32(b->fixed_nsec);
	dsb.blocks = cpu_to_le32((uint32_t)b->total_blocks);
	dsb.meta_blkaddr = cpu_to_le32((uint32_t)meta_blkaddr);
	dsb.xattr_blkaddr = 0;
	memcpy(dsb.uuid, b->opts.uuid, 16);
	memcpy(dsb.volume_name, b->opts.label, 16);
	if (bt >= b->epoch && bt - b->epoch <= 0xffffffffll)
		dsb.build_time = cpu_to_le32((uint32_t)(bt - b->epoch));
	if (b->opts.ishare) {
		/* long prefix table right after the superblock: one entry */
		static const char infix[] = SHAREFS_FP_SUFFIX;
		uint8_t *t = head + table;
		__le16 sz = cpu_to_le16((uint16_t)(1 + sizeof(infix) - 1));

		memcpy(t, &sz, 2);
		t[2] = SHAREFS_XATTR_INDEX_TRUSTED;
		memcpy(t + 3, infix, sizeof(infix) - 1);
		b->feature_incompat |= SHAREFS_FEATURE_INCOMPAT_XATTR_PREFIXES;
		compat |= SHAREFS_FEATURE_COMPAT_ISHARE_XATTRS |
			  SHAREFS_FEATURE_COMPAT_PLAIN_XATTR_PFX;
		dsb.xattr_prefix_count = 1;
		dsb.xattr_prefix_start = cpu_to_le32((uint32_t)(table / 4));
		dsb.ishare_xattr_prefix_id = b->ishare_prefix_id;
	}
	if (b->zused)	/* -z: compressed bytes end their pcluster */
		b->feature_incompat |= SHAREFS_FEATURE_INCOMPAT_ZERO_PADDING;
	if (algs) {	/* the same bit says BIG_PCLUSTER */
		b->feature_incompat |= SHAREFS_FEATURE_INCOMPAT_COMPR_CFGS;
		dsb.u1 = cpu_to_le16(algs);
	}
	dsb.feature_compat = cpu_to_le32(compat);
	dsb.feature_incompat = cpu_to_le32(b->feature_incompat);
	memcpy(head + SHAREFS_SUPER_OFFSET, &dsb, sizeof(dsb));
	dsb.checksum = cpu_to_le32(sharefs_super_checksum(head, b->blksz));
	memcpy(head + SHAREFS_SUPER_OFFSET, &dsb, sizeof(dsb));
}

int sharefs_write_image(struct sharefs_build *b)
{
	struct order o = { 0 };
	unsigned int bits = b->opts.blkszbits;
	uint64_t meta_blkaddr, meta_bytes, post, headsz;
	uint8_t *meta, *head;
	int err;

	/* root first, then depth-first tree order */
	b->root->placed = true;
	order_add(&o, b->root);
	order_walk(&o, b->root);
	b->inodes = o.n;

	choose_epoch(b, &o);
	for (size_t i = 0; i < o.n; i++) {
		if (S_ISDIR(o.v[i]->mode)) {
			struct sharefs_dentry *s;
			size_t ns;

			o.v[i]->size = sharefs_dir_pack(o.v[i], b->blksz, &s, &ns);
			free(s);
		}
		err = layout_node(b, o.v[i]);
		if (err) {
			free(o.v);
			return err;
		}
	}
	meta_blkaddr = b->data_next;
	meta_bytes = place_inodes(b, &o);
	if (o.v[0]->nid > 0xffff) {
		sharefs_msg("internal error: root nid %llu does not fit",
			    (unsigned long long)o.v[0]->nid);
		free(o.v);
		return -EFBIG;
	}
	post = meta_blkaddr + ((meta_bytes + b->blksz - 1) >> bits);
	/* directory and symlink blocks that are not inline go after inodes */
	for (size_t i = 0; i < o.n; i++) {
		struct sharefs_node *n = o.v[i];

		if (S_ISREG(n->mode) || !has_data(n))
			continue;
		n->blkaddr = post;
		post += n->size >> bits;
		if (!n->inl && n->size % b->blksz)
			post++;
	}
	b->total_blocks = post;
	if (post > 0xffffffffull) {
		sharefs_msg("image too large for 32-bit block addresses");
		free(o.v);
		return -EFBIG;
	}
	for (size_t i = 0; i < o.n; i++)
		if (S_ISDIR(o.v[i]->mode))
			dir_fill(o.v[i], b->blksz);

	meta = sharefs_xcalloc(1, (size_t)(((meta_bytes + b->blksz - 1) >> bits) << bits));
	for (size_t i = 0; i < o.n && !err; i++)
		err = emit_inode(b, o.v[i], meta);
	if (!err)
		err = sharefs_pwrite_all(b->fd, meta,
				 (size_t)(((meta_bytes + b->blksz - 1) >> bits) << bits),
				 meta_blkaddr << bits);
	free(meta);
	for (size_t i = 0; i < o.n && !err; i++) {
		struct sharefs_node *n = o.v[i];
		uint64_t len;

		if (S_ISREG(n->mode) || !has_data(n))
			continue;
		len = n->inl ? n->size - n->size % b->blksz : n->size;
		if (len)
			err = sharefs_pwrite_all(b->fd, n->mem, (size_t)len,
						 n->blkaddr << bits);
	}
	if (err)
		goto out;

	headsz = b->data_start << bits;
	head = sharefs_xcalloc(1, (size_t)headsz);
	write_super(b, head, meta_blkaddr, o.v[0]->nid);
	err = sharefs_pwrite_all(b->fd, head, (size_t)headsz, 0);
	free(head);
	if (!err && ftruncate(b->fd, (off_t)(post << bits)))
		err = -errno;
out:
	if (err)
		sharefs_msg("%s: writing image: %s", b->image, strerror(-err));
	free(o.v);
	return err;
}
