// SPDX-License-Identifier: GPL-2.0-only
/*
 * dir.c - directory blocks and readdir.
 *
 * A directory's data is a sequence of blocks.  Each block starts with an
 * array of 12-byte dirents; the first dirent's nameoff tells where the names
 * begin, and so how many dirents there are.  Names are not NUL-terminated:
 * a name ends where the next one starts, the last one at the end of the
 * block's valid bytes or at its first NUL.  Names are sorted across the whole
 * directory, which namei.c relies on.
 *
 * Directory data is read through the directory's own page cache (the iomap
 * read path in data.c), so every layout works, inline tails included.
 * readdir positions are byte offsets of dirents, stable across calls.  The
 * on-disk "." and ".." entries are emitted as they are, as erofs does.
 */
#include "internal.h"

/* Validate the dirent array of one block of @len valid bytes at @data. */
int sharefs_dirblk_init(struct inode *dir, struct sharefs_dirblk *blk,
			const void *data, unsigned int len)
{
	const struct sharefs_dirent *de = data;
	unsigned int nameoff;

	/* the first dirent is inside the block and names follow the array */
	nameoff = len >= sizeof(*de) ? le16_to_cpu(de->nameoff) : 0;
	if (nameoff < sizeof(*de) || nameoff >= len ||
	    nameoff % sizeof(*de)) {
		sharefs_err(dir->i_sb, "bogus first nameoff %u (block of %u) @ nid %llu",
			    nameoff, len, SHAREFS_I(dir)->nid);
		return -EFSCORRUPTED;
	}
	blk->de = de;
	blk->len = len;
	blk->count = nameoff / sizeof(*de);
	return 0;
}

/* The name of dirent @i; checked against its neighbours and the block. */
int sharefs_dirblk_name(struct inode *dir, const struct sharefs_dirblk *blk,
			unsigned int i, const char **name, unsigned int *len)
{
	const char *base = (const char *)blk->de;
	unsigned int first = blk->count * sizeof(struct sharefs_dirent);
	unsigned int off = le16_to_cpu(blk->de[i].nameoff);
	unsigned int end;

	if (i + 1 < blk->count)
		end = le16_to_cpu(blk->de[i + 1].nameoff);
	else
		end = off < blk->len ?
		      off + strnlen(base + off, blk->len - off) : off;
	/* names are in the name area, in order, non-empty, at most 255 bytes */
	if (off < first || off >= end || end > blk->len ||
	    end - off > SHAREFS_NAME_LEN) {
		sharefs_err(dir->i_sb, "bogus nameoff %u..%u of dirent %u @ nid %llu",
			    off, end, i, SHAREFS_I(dir)->nid);
		return -EFSCORRUPTED;
	}
	if (blk->de[i].file_type >= SHAREFS_FT_MAX) {
		sharefs_err(dir->i_sb, "bogus file type %u of dirent %u @ nid %llu",
			    blk->de[i].file_type, i, SHAREFS_I(dir)->nid);
		return -EFSCORRUPTED;
	}
	*name = base + off;
	*len = end - off;
	return 0;
}

/* Point @buf at @mapping, dropping what it holds of another one. */
static void sharefs_buf_use(struct sharefs_buf *buf,
			    struct address_space *mapping)
{
	if (buf->mapping != mapping) {
		sharefs_put_buf(buf);
		buf->mapping = mapping;
	}
}

/*
 * Map directory block @blknr from where it lies.  An inline tail is read
 * where it is packed, in the metadata block that the block device's cache
 * holds anyway: copied into the directory's own page cache, as stock erofs
 * does, it would cost a page per small directory, and most directories of
 * a system are that small (785 of a Debian base image's; 9 MiB of the
 * demo's page cache went to them).
 */
static void *sharefs_dir_map(struct inode *dir, struct sharefs_buf *buf,
			     u64 pos)
{
	struct super_block *sb = dir->i_sb;
	struct sharefs_map map;
	int err;

	if (SHAREFS_I(dir)->datalayout == SHAREFS_INODE_FLAT_INLINE &&
	    pos >> sb->s_blocksize_bits ==
	    (i_size_read(dir) - 1) >> sb->s_blocksize_bits) {
		err = sharefs_map_blocks(dir, pos, &map);
		if (err)
			return ERR_PTR(err);
		if (map.type == SHAREFS_MAP_INLINE && map.la == pos) {
			sharefs_buf_use(buf, sharefs_bdev_mapping(sb->s_bdev));
			return sharefs_read_meta(sb, buf, map.pa, map.llen);
		}
	}
	sharefs_buf_use(buf, dir->i_mapping);
	return sharefs_bread(buf, pos);
}

/* Map directory block @blknr (which must exist) and validate its dirents. */
void *sharefs_dir_bread(struct inode *dir, struct sharefs_buf *buf, u64 blknr,
			struct sharefs_dirblk *blk)
{
	struct super_block *sb = dir->i_sb;
	u64 pos = blknr << sb->s_blocksize_bits;
	u64 size = i_size_read(dir);
	void *data;
	int err;

	data = sharefs_dir_map(dir, buf, pos);
	if (IS_ERR(data))
		return data;
	/* a block never crosses a page: blksz <= PAGE_SIZE, aligned */
	err = sharefs_dirblk_init(dir, blk, data,
				  min_t(u64, sb->s_blocksize, size - pos));
	return err ? ERR_PTR(err) : data;
}

static int sharefs_readdir(struct file *file, struct dir_context *ctx)
{
	struct inode *dir = file_inode(file);
	struct super_block *sb = dir->i_sb;
	struct sharefs_buf buf = SHAREFS_BUF_INIT;
	u64 size = i_size_read(dir);
	int err;

	err = sharefs_check_readable(dir);
	if (err)
		return err;
	while (ctx->pos >= 0 && ctx->pos < size) {
		u64 blknr = ctx->pos >> sb->s_blocksize_bits;
		unsigned int ofs = sharefs_blkoff(sb, ctx->pos);
		struct sharefs_dirblk blk;
		unsigned int i;
		void *data;

		data = sharefs_dir_bread(dir, &buf, blknr, &blk);
		if (IS_ERR(data)) {
			err = PTR_ERR(data);
			break;
		}
		for (i = DIV_ROUND_UP(ofs, sizeof(struct sharefs_dirent));
		     i < blk.count; i++) {
			const char *name;
			unsigned int len;

			err = sharefs_dirblk_name(dir, &blk, i, &name, &len);
			if (err)
				goto out;
			ctx->pos = (blknr << sb->s_blocksize_bits) +
				   i * sizeof(struct sharefs_dirent);
			if (!dir_emit(ctx, name, len, le64_to_cpu(blk.de[i].nid),
				      fs_ftype_to_dtype(blk.de[i].file_type)))
				goto out;
			/*
			 * Past the emitted entry: a corrupt next entry must
			 * fail the next call, not make it repeat this one.
			 */
			ctx->pos += sizeof(struct sharefs_dirent);
		}
		ctx->pos = (blknr + 1) << sb->s_blocksize_bits;
	}
out:
	sharefs_put_buf(&buf);
	return err;
}

const struct file_operations sharefs_dir_fops = {
	.llseek		= generic_file_llseek,
	.read		= generic_read_dir,
	.iterate_shared	= sharefs_readdir,
};
