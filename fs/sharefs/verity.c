// SPDX-License-Identifier: GPL-2.0-only
/*
 * verity.c - verified sharing: every page checked against an fs-verity
 * Merkle tree before it enters a shared page cache.
 *
 * A fingerprint is a claim; a domain only confines a liar.  A file whose
 * image carries verity metadata (mkfs.sharefs --verity, sharefs_fs.h) has a
 * digest that can be checked page by page: the fs-verity file digest, the
 * SHA-256 of a descriptor that holds the root hash of a Merkle tree over
 * the file's 4096-byte blocks.  On a mount with the verity option such a
 * file shares by that digest (and its size) with every other verity mount,
 * whatever its domain (share.c), because nothing unchecked gets in:
 *  - the descriptor is rebuilt from the member's xattr and i_size, and the
 *    share key is its hash: a member cannot claim a digest without the
 *    root hash that goes with it;
 *  - a tree block read from a member is checked against its parent block,
 *    up to the root hash, before it is used; checked blocks are kept per
 *    shared inode, so that warm reads and most cold ones hash only data;
 *  - a data block is checked against its leaf hash before its folio is
 *    marked uptodate (read.c calls sharefs_verity_check_folio()).
 * A failure is -EBADMSG: read.c leaves the folio !uptodate and share.c
 * takes the member off and reads through another one.
 *
 * Hashing uses the crypto API's "sha256", which picks SHA-NI or AVX2 code
 * where the CPU has it.  Salts are hashed as fs-verity does: padded with
 * zeroes to the hash's 64-byte block and prepended to every block hashed.
 */
#include <crypto/hash.h>
#include <crypto/sha2.h>
#include "internal.h"

#define SHAREFS_VERITY_BLOCK	4096
#define SHAREFS_VERITY_HASHES	(SHAREFS_VERITY_BLOCK / SHA256_DIGEST_SIZE)
#define SHAREFS_VERITY_LEVELS	8	/* 128^8 blocks: past any loff_t */

/*
 * A verified content, one per shared inode.  Everything but the cache of
 * checked tree blocks is set once, before the shared inode is visible.
 */
struct sharefs_verity {
	u8 root_hash[SHA256_DIGEST_SIZE];
	u8 salt[SHA256_BLOCK_SIZE];	/* zero-padded, as fs-verity hashes it */
	unsigned int salt_size;		/* padded size: 0 or 64 */
	u64 data_size;
	unsigned int levels;		/* 0: one data block, no tree */
	u64 hashes[SHAREFS_VERITY_LEVELS];	/* hashes in each level */
	u64 start[SHAREFS_VERITY_LEVELS];	/* level's byte in the tree */
	u64 first[SHAREFS_VERITY_LEVELS];	/* its first block's cache index */
	u64 tree_bytes;			/* size of the packed tree */
	struct xarray blocks;		/* checked tree blocks, by index */
};

static struct crypto_shash *sharefs_sha256;

/*
 * Bytes of checked tree blocks kept by all shared inodes, for
 * /sys/fs/sharefs/verity_tree_bytes (sharefs-stat): what verified sharing
 * costs in memory beyond the page cache.
 */
static atomic_long_t sharefs_verity_cached = ATOMIC_LONG_INIT(0);

u64 sharefs_verity_tree_bytes(void)
{
	return atomic_long_read(&sharefs_verity_cached);
}

/* Hash one block as fs-verity does (salt first, if any). */
static int sharefs_verity_hash(const struct sharefs_verity *v,
			       const void *data, unsigned int len, u8 *out)
{
	SHASH_DESC_ON_STACK(desc, sharefs_sha256);
	int err;

	desc->tfm = sharefs_sha256;
	err = crypto_shash_init(desc);
	if (!err && v && v->salt_size)
		err = crypto_shash_update(desc, v->salt, v->salt_size);
	if (!err)
		err = crypto_shash_finup(desc, data, len, out);
	shash_desc_zero(desc);
	return err;
}

/* The tree's shape: hashes per level, where each level starts. */
static void sharefs_verity_shape(struct sharefs_verity *v)
{
	u64 n = DIV_ROUND_UP(v->data_size, SHAREFS_VERITY_BLOCK);
	u64 pos = 0, index = 0;
	int l;

	v->levels = 0;
	/* level 0 hashes the data blocks; the top level fits one block */
	while (n > 1 && v->levels < SHAREFS_VERITY_LEVELS) {
		v->hashes[v->levels++] = n;
		n = DIV_ROUND_UP(n, SHAREFS_VERITY_HASHES);
	}
	/* stored from the top level down, without padding */
	for (l = v->levels - 1; l >= 0; l--) {
		v->start[l] = pos;
		v->first[l] = index;
		pos += v->hashes[l] * SHA256_DIGEST_SIZE;
		index += DIV_ROUND_UP(v->hashes[l], SHAREFS_VERITY_HASHES);
	}
	v->tree_bytes = pos;
}

/*
 * Read @inode's verity metadata: 0 and the content's file digest in
 * @digest, its tree's position in @tree_pos and a new sharefs_verity in
 * @vp; -ENODATA when it has none; another error when it is unusable.
 */
int sharefs_verity_load(struct inode *inode, u8 *digest, u64 *tree_pos,
			struct sharefs_verity **vp)
{
	struct sharefs_sb_info *sbi = SHAREFS_SB(inode->i_sb);
	u8 buf[sizeof(struct sharefs_verity_xattr) + SHAREFS_VERITY_MAX_SALT];
	struct sharefs_verity_xattr *vx = (void *)buf;
	struct sharefs_verity_descriptor *desc;
	struct sharefs_verity *v;
	int len, err;

	if (!sharefs_sha256)
		return -EOPNOTSUPP;
	len = sharefs_getxattr(inode, SHAREFS_XATTR_INDEX_TRUSTED,
			       SHAREFS_VERITY_SUFFIX, buf, sizeof(buf));
	if (len < 0)
		return len == -ERANGE ? -EFSCORRUPTED : len;
	if (len < sizeof(*vx) || memcmp(vx->magic, SHAREFS_VERITY_MAGIC, 4) ||
	    vx->log_blocksize != SHAREFS_VERITY_LOG_BLOCKSIZE ||
	    vx->hash_algorithm != SHAREFS_VERITY_HASH_SHA256 ||
	    vx->salt_size > SHAREFS_VERITY_MAX_SALT ||
	    len != sizeof(*vx) + vx->salt_size)
		return -EFSCORRUPTED;

	v = kzalloc(sizeof(*v), GFP_KERNEL);
	desc = kzalloc(sizeof(*desc), GFP_KERNEL);
	err = -ENOMEM;
	if (!v || !desc)
		goto fail;
	memcpy(v->root_hash, vx->root_hash, sizeof(v->root_hash));
	memcpy(v->salt, vx->salt, vx->salt_size);
	v->salt_size = vx->salt_size ? SHA256_BLOCK_SIZE : 0;
	v->data_size = i_size_read(inode);
	xa_init(&v->blocks);
	sharefs_verity_shape(v);
	*tree_pos = le64_to_cpu(vx->tree_pos);
	err = -EFSCORRUPTED;
	/* the tree lies inside the image; a deeper tree than any file has */
	if (v->levels == SHAREFS_VERITY_LEVELS ||
	    (v->levels && (*tree_pos > sbi->size ||
			   v->tree_bytes > sbi->size - *tree_pos)))
		goto fail;

	desc->version = 1;
	desc->hash_algorithm = vx->hash_algorithm;
	desc->log_blocksize = vx->log_blocksize;
	desc->salt_size = vx->salt_size;
	desc->data_size = cpu_to_le64(v->data_size);
	memcpy(desc->root_hash, vx->root_hash, sizeof(vx->root_hash));
	memcpy(desc->salt, vx->salt, vx->salt_size);
	err = sharefs_verity_hash(NULL, desc, sizeof(*desc), digest);
	if (err)
		goto fail;
	kfree(desc);
	*vp = v;
	return 0;
fail:
	kfree(desc);
	kfree(v);
	return err;
}

void sharefs_verity_free(struct sharefs_verity *v)
{
	unsigned long index;
	void *block;

	if (!v)
		return;
	xa_for_each(&v->blocks, index, block) {
		kfree(block);
		atomic_long_sub(SHAREFS_VERITY_BLOCK, &sharefs_verity_cached);
	}
	xa_destroy(&v->blocks);
	kfree(v);
}

static const u8 *sharefs_verity_block(const struct sharefs_verity_src *src,
				      struct sharefs_verity *v,
				      unsigned int level, u64 block);

/*
 * Is @hash the entry @index of level @level's hashes (the root hash when
 * @level is past the top)?  Reads and checks the parent block on the way.
 */
static int sharefs_verity_expect(const struct sharefs_verity_src *src,
				 struct sharefs_verity *v, unsigned int level,
				 u64 index, const u8 *hash)
{
	const u8 *parent;

	if (level == v->levels)
		return memcmp(hash, v->root_hash, SHA256_DIGEST_SIZE) ?
			-EBADMSG : 0;
	parent = sharefs_verity_block(src, v, level,
				      index / SHAREFS_VERITY_HASHES);
	if (IS_ERR(parent))
		return PTR_ERR(parent);
	parent += (index % SHAREFS_VERITY_HASHES) * SHA256_DIGEST_SIZE;
	return memcmp(hash, parent, SHA256_DIGEST_SIZE) ? -EBADMSG : 0;
}

/*
 * Read ahead the packed tree from byte @pos of it on, when the device's
 * page there is not cached yet, up to SHAREFS_VERITY_RA_PAGES pages.  A
 * file's packed tree is contiguous and small (1/128 of its data: 256 KiB
 * for 32 MiB), and a cold read soon needs most of it: a sequential one all
 * of it, random ones any of it.  Without this every tree block costs a
 * synchronous read of its own, one per 512 KiB of data; with it, a file
 * costs one tree read per 128 MiB.  Tree bytes past @pos only: the top
 * levels come first and are read before the leaves anyway.
 */
#define SHAREFS_VERITY_RA_PAGES	256

static void sharefs_verity_readahead(const struct sharefs_verity_src *src,
				     const struct sharefs_verity *v, u64 pos)
{
	struct address_space *mapping = sharefs_bdev_mapping(src->sb->s_bdev);
	u64 start = src->tree_pos + pos, end = src->tree_pos + v->tree_bytes;
	struct file_ra_state ra;
	unsigned long pages;

	if (start >= end || filemap_range_has_page(mapping, start, start))
		return;
	pages = min_t(u64, SHAREFS_VERITY_RA_PAGES,
		      ((end - 1) >> PAGE_SHIFT) - (start >> PAGE_SHIFT) + 1);
	file_ra_state_init(&ra, mapping);
	ra.ra_pages = max_t(unsigned long, ra.ra_pages, pages);
	page_cache_sync_readahead(mapping, &ra, NULL, start >> PAGE_SHIFT,
				  pages);
}

/* Read block @block of level @level from the source's packed tree. */
static int sharefs_verity_read_block(const struct sharefs_verity_src *src,
				     struct sharefs_verity *v,
				     unsigned int level, u64 block, u8 *buf)
{
	u64 first = block * SHAREFS_VERITY_HASHES;
	u64 n = min_t(u64, SHAREFS_VERITY_HASHES, v->hashes[level] - first);
	u64 pos = v->start[level] + first * SHA256_DIGEST_SIZE;

	memset(buf, 0, SHAREFS_VERITY_BLOCK);
	/* the whole packed tree lies inside the image (sharefs_verity_load) */
	sharefs_verity_readahead(src, v, pos);
	return sharefs_copy_meta(src->sb, src->tree_pos + pos, buf,
				 n * SHA256_DIGEST_SIZE);
}

/*
 * Block @block of level @level, checked up to the root hash; cached once
 * checked.  Recursion depth: the tree's levels, at most 8.
 */
static const u8 *sharefs_verity_block(const struct sharefs_verity_src *src,
				      struct sharefs_verity *v,
				      unsigned int level, u64 block)
{
	unsigned long index = v->first[level] + block;
	u8 hash[SHA256_DIGEST_SIZE];
	u8 *buf, *old;
	int err;

	buf = xa_load(&v->blocks, index);
	if (buf)
		return buf;
	buf = kmalloc(SHAREFS_VERITY_BLOCK, GFP_NOFS);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	err = sharefs_verity_read_block(src, v, level, block, buf);
	if (!err)
		err = sharefs_verity_hash(v, buf, SHAREFS_VERITY_BLOCK, hash);
	if (!err)
		err = sharefs_verity_expect(src, v, level + 1, block, hash);
	if (err) {
		kfree(buf);
		return ERR_PTR(err);
	}
	/* another reader may have checked it meanwhile: keep one */
	old = xa_cmpxchg(&v->blocks, index, NULL, buf, GFP_NOFS);
	if (xa_is_err(old)) {
		kfree(buf);
		return ERR_PTR(xa_err(old));
	}
	if (old) {
		kfree(buf);
		return old;
	}
	atomic_long_add(SHAREFS_VERITY_BLOCK, &sharefs_verity_cached);
	return buf;
}

/*
 * Check every data block of @folio (bytes past EOF already zeroed) against
 * the tree of @v, reading tree blocks through @src: 0 or -EBADMSG (or the
 * error of a tree read).  Process context.
 */
int sharefs_verity_check_folio(const struct sharefs_verity_src *src,
			       struct sharefs_verity *v, struct folio *folio)
{
	u8 hash[SHA256_DIGEST_SIZE];
	loff_t pos = folio_pos(folio);
	size_t off;
	int err = 0;

	for (off = 0; off < folio_size(folio) && pos + off < v->data_size;
	     off += SHAREFS_VERITY_BLOCK) {
		void *data = kmap_local_folio(folio, off);

		err = sharefs_verity_hash(v, data, SHAREFS_VERITY_BLOCK, hash);
		kunmap_local(data);
		if (!err)
			err = sharefs_verity_expect(src, v, 0,
					(pos + off) / SHAREFS_VERITY_BLOCK, hash);
		if (err)
			break;
	}
	return err;
}

int __init sharefs_verity_init(void)
{
	struct crypto_shash *tfm = crypto_alloc_shash("sha256", 0, 0);

	/* without sha256 only the verity option is missing: say so at mount */
	if (IS_ERR(tfm))
		pr_warn("sharefs: no sha256 in the crypto API (%ld): the verity option will be refused\n",
			PTR_ERR(tfm));
	else
		sharefs_sha256 = tfm;
	return 0;
}

void sharefs_verity_exit(void)
{
	if (sharefs_sha256)
		crypto_free_shash(sharefs_sha256);
	sharefs_sha256 = NULL;
}

bool sharefs_verity_available(void)
{
	return sharefs_sha256;
}
