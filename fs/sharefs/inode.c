// SPDX-License-Identifier: GPL-2.0-only
/*
 * inode.c - reading on-disk inodes into VFS inodes.
 *
 * An inode is found by its nid: the 32-byte slot number counted from
 * meta_blkaddr.  It is compact (32 bytes) or extended (64 bytes) and may
 * straddle a block boundary, so it is copied out of the block device's page
 * cache rather than used in place.  The nid is also the inode number, as the
 * stock erofs driver reports it on 64-bit kernels, so that both drivers show
 * the same st_ino and d_ino for one image.
 */
#include <linux/fiemap.h>
#include "internal.h"

/* Copy out the inode at @nid; *@ext tells which of the two forms it is. */
static int sharefs_read_raw_inode(struct inode *inode,
				  struct sharefs_inode_extended *die,
				  bool *ext)
{
	struct super_block *sb = inode->i_sb;
	struct sharefs_sb_info *sbi = SHAREFS_SB(sb);
	struct sharefs_inode *si = SHAREFS_I(inode);
	u64 pos;
	int err;

	/* the slot lies inside the image: iloc + 32 <= size, no overflow */
	if (si->nid > (sbi->size >> SHAREFS_ISLOTBITS)) {
		sharefs_err(sb, "nid %llu out of image", si->nid);
		return -EFSCORRUPTED;
	}
	pos = sharefs_iloc(sb, si->nid);
	err = sharefs_copy_meta(sb, pos, die, sizeof(struct sharefs_inode_compact));
	if (err)
		return err;
	*ext = (le16_to_cpu(die->i_format) & SHAREFS_I_VERSION_MASK) ==
		SHAREFS_I_VERSION_EXTENDED;
	if (!*ext)
		return 0;
	return sharefs_copy_meta(sb, pos + sizeof(struct sharefs_inode_compact),
				 (u8 *)die + sizeof(struct sharefs_inode_compact),
				 sizeof(*die) - sizeof(struct sharefs_inode_compact));
}

static int sharefs_check_chunkformat(struct inode *inode, u16 format)
{
	struct super_block *sb = inode->i_sb;
	struct sharefs_inode *si = SHAREFS_I(inode);
	unsigned int bits = sb->s_blocksize_bits +
			    (format & SHAREFS_CHUNK_FORMAT_BLKBITS_MASK);

	if (format & ~SHAREFS_CHUNK_FORMAT_ALL) {
		sharefs_err(sb, "unknown chunk format %x @ nid %llu",
			    format, si->nid);
		return -EFSCORRUPTED;
	}
	if (format & SHAREFS_CHUNK_FORMAT_48BIT) {
		sharefs_err(sb, "48-bit chunk indexes not supported @ nid %llu",
			    si->nid);
		return -EOPNOTSUPP;
	}
	/* chunk offsets and lengths are computed in 64 bits */
	if (bits > 62) {
		sharefs_err(sb, "chunk size 2^%u too large @ nid %llu",
			    bits, si->nid);
		return -EFSCORRUPTED;
	}
	si->chunkformat = format;
	si->chunkbits = bits;
	return 0;
}

/* What compact and extended inodes store differently. */
struct sharefs_inode_fields {
	u64 isize;
	u64 nlink;
	struct timespec64 ts;
};

static void sharefs_decode_fields(struct inode *inode,
				  const struct sharefs_inode_extended *die,
				  bool ext, struct sharefs_inode_fields *f)
{
	const struct sharefs_inode_compact *dic = (const void *)die;
	struct sharefs_sb_info *sbi = SHAREFS_SB(inode->i_sb);
	struct sharefs_inode *si = SHAREFS_I(inode);
	unsigned int format = le16_to_cpu(die->i_format);

	if (ext) {
		si->inode_isize = sizeof(struct sharefs_inode_extended);
		f->isize = le64_to_cpu(die->i_size);
		i_uid_write(inode, le32_to_cpu(die->i_uid));
		i_gid_write(inode, le32_to_cpu(die->i_gid));
		f->nlink = le32_to_cpu(die->i_nlink);
		f->ts.tv_sec = le64_to_cpu(die->i_mtime);
		f->ts.tv_nsec = le32_to_cpu(die->i_mtime_nsec);
		return;
	}
	si->inode_isize = sizeof(struct sharefs_inode_compact);
	f->isize = le32_to_cpu(dic->i_size);
	i_uid_write(inode, le16_to_cpu(dic->i_uid));
	i_gid_write(inode, le16_to_cpu(dic->i_gid));
	if (!S_ISDIR(inode->i_mode) && (format & SHAREFS_I_NLINK_1_BIT))
		f->nlink = 1;
	else
		f->nlink = le16_to_cpu(dic->i_nb.nlink);
	f->ts.tv_sec = sbi->epoch + le32_to_cpu(dic->i_mtime);
	f->ts.tv_nsec = sbi->fixed_nsec;
}

/* i_format: the data layout; the mode and xattr size come along */
static int sharefs_decode_format(struct inode *inode,
				 const struct sharefs_inode_extended *die)
{
	struct sharefs_inode *si = SHAREFS_I(inode);
	unsigned int format = le16_to_cpu(die->i_format);
	unsigned int icount = le16_to_cpu(die->i_xattr_icount);

	if (format & ~SHAREFS_I_ALL_BITS) {
		sharefs_err(inode->i_sb, "unknown i_format %x @ nid %llu",
			    format, si->nid);
		return -EFSCORRUPTED;
	}
	si->datalayout = (format >> SHAREFS_I_DATALAYOUT_SHIFT) &
			 SHAREFS_I_DATALAYOUT_MASK;
	if (si->datalayout > SHAREFS_INODE_CHUNK_BASED) {
		sharefs_err(inode->i_sb, "unknown data layout %u @ nid %llu",
			    si->datalayout, si->nid);
		return -EFSCORRUPTED;
	}
	inode->i_mode = le16_to_cpu(die->i_mode);
	si->xattr_isize = icount ? sizeof(struct sharefs_xattr_ibody_header) +
				   (icount - 1) * sizeof(__le32) : 0;
	return 0;
}

/* Operations by file type: 1 for a special file (nothing more to read). */
static int sharefs_set_ops(struct inode *inode, u32 rdev)
{
	struct sharefs_inode *si = SHAREFS_I(inode);
	loff_t isize = inode->i_size;

	switch (inode->i_mode & S_IFMT) {
	case S_IFREG:
		inode->i_op = &sharefs_generic_iops;
		inode->i_fop = &sharefs_file_fops;
		return 0;
	case S_IFDIR:
		inode->i_op = &sharefs_dir_iops;
		inode->i_fop = &sharefs_dir_fops;
		return 0;
	case S_IFLNK:
		/* page_get_link() needs the target and its NUL in one page */
		if (!isize || isize >= PAGE_SIZE) {
			sharefs_err(inode->i_sb, "bogus symlink size %lld @ nid %llu",
				    isize, si->nid);
			return -EFSCORRUPTED;
		}
		inode->i_op = &sharefs_symlink_iops;
		inode_nohighmem(inode);
		return 0;
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
	case S_IFSOCK:
		inode->i_op = &sharefs_special_iops;
		init_special_inode(inode, inode->i_mode, new_decode_dev(rdev));
		inode->i_blocks = 0;
		return 1;
	default:
		sharefs_err(inode->i_sb, "bogus i_mode %o @ nid %llu",
			    inode->i_mode, si->nid);
		return -EFSCORRUPTED;
	}
}

/*
 * The data of a file, directory or symlink: its layout's own checks, its
 * block count, its page cache.  @end: where its xattrs end in the image.
 */
static int sharefs_set_data(struct inode *inode,
			    const struct sharefs_inode_extended *die, u64 end)
{
	struct super_block *sb = inode->i_sb;
	struct sharefs_inode *si = SHAREFS_I(inode);
	u64 isize = inode->i_size;
	int err;

	if (si->datalayout == SHAREFS_INODE_FLAT_INLINE && isize) {
		u64 tail = isize - ((isize - 1) & ~((u64)sb->s_blocksize - 1));

		/* the inline tail stays in the block it starts in */
		if (sharefs_blkoff(sb, end) + tail > sb->s_blocksize) {
			sharefs_err(sb, "inline data crosses a block boundary @ nid %llu",
				    si->nid);
			return -EFSCORRUPTED;
		}
	}
	if (si->datalayout == SHAREFS_INODE_CHUNK_BASED) {
		err = sharefs_check_chunkformat(inode,
						le16_to_cpu(die->i_u.c.format));
		if (err)
			return err;
	}
	/*
	 * Compressed: the blocks the file takes on disk (i_nb is nlink or
	 * startblk_hi here, not block bits, without 48BIT); 0 is counted as
	 * the kernel's own erofs counts it (compat.h).
	 */
	if (sharefs_layout_is_compressed(si->datalayout) &&
	    (le32_to_cpu(die->i_u.blocks_lo) || SHAREFS_Z_ZERO_BLOCKS_AS_ZERO)) {
		u64 nblks = le32_to_cpu(die->i_u.blocks_lo);

		inode->i_blocks = nblks << (sb->s_blocksize_bits - 9);
	} else {
		inode->i_blocks = round_up(isize, sb->s_blocksize) >> 9;
	}
	inode->i_mapping->a_ops = &sharefs_aops;
	/* the read path (read.c) fills folios of any order */
	if (S_ISREG(inode->i_mode))
		mapping_set_large_folios(inode->i_mapping);
	return 0;
}

static int sharefs_fill_inode(struct inode *inode)
{
	struct super_block *sb = inode->i_sb;
	struct sharefs_inode *si = SHAREFS_I(inode);
	struct sharefs_inode_extended die;
	struct sharefs_inode_fields f;
	u64 end;
	bool ext;
	int err;

	err = sharefs_read_raw_inode(inode, &die, &ext);
	if (!err)
		err = sharefs_decode_format(inode, &die);
	if (err)
		return err;
	sharefs_decode_fields(inode, &die, ext, &f);
	/* the inode and its xattrs lie inside the image */
	end = sharefs_iloc(sb, si->nid) + si->inode_isize + si->xattr_isize;
	if (end > SHAREFS_SB(sb)->size) {
		sharefs_err(sb, "xattrs (%u bytes) run past the image @ nid %llu",
			    si->xattr_isize, si->nid);
		return -EFSCORRUPTED;
	}
	/* sizes are loff_t in the VFS */
	if (f.isize > MAX_LFS_FILESIZE) {
		sharefs_err(sb, "bogus i_size %llu @ nid %llu", f.isize, si->nid);
		return -EFSCORRUPTED;
	}
	if (f.ts.tv_nsec >= NSEC_PER_SEC)
		f.ts.tv_nsec = 0;
	set_nlink(inode, f.nlink);
	sharefs_set_inode_times(inode, f.ts);
	inode->i_size = f.isize;
	si->startblk = le32_to_cpu(die.i_u.startblk_lo);

	err = sharefs_set_ops(inode, le32_to_cpu(die.i_u.rdev));
	if (err)
		return err < 0 ? err : 0;
	return sharefs_set_data(inode, &die, end);
}

static int sharefs_iget_test(struct inode *inode, void *opaque)
{
	return SHAREFS_I(inode)->nid == *(u64 *)opaque;
}

static int sharefs_iget_set(struct inode *inode, void *opaque)
{
	u64 nid = *(u64 *)opaque;

	SHAREFS_I(inode)->nid = nid;
	inode->i_ino = nid;
	return 0;
}

struct inode *sharefs_iget(struct super_block *sb, u64 nid)
{
	struct inode *inode;
	int err;

	inode = iget5_locked(sb, (unsigned long)(nid ^ (nid >> 32)),
			     sharefs_iget_test, sharefs_iget_set, &nid);
	if (!inode)
		return ERR_PTR(-ENOMEM);
	if (!sharefs_inode_is_new(inode))
		return inode;

	err = sharefs_fill_inode(inode);
	if (err) {
		iget_failed(inode);
		return ERR_PTR(err);
	}
	unlock_new_inode(inode);
	return inode;
}

int sharefs_getattr(sharefs_idmap_t *idmap, const struct path *path,
		    struct kstat *stat, u32 request_mask, unsigned int flags)
{
	struct inode *inode = d_inode(path->dentry);

	if (sharefs_layout_is_compressed(SHAREFS_I(inode)->datalayout))
		stat->attributes |= STATX_ATTR_COMPRESSED;
	stat->attributes |= STATX_ATTR_IMMUTABLE;
	stat->attributes_mask |= STATX_ATTR_COMPRESSED | STATX_ATTR_IMMUTABLE;
	sharefs_fillattr(idmap, request_mask, inode, stat);
	return 0;
}

const struct inode_operations sharefs_generic_iops = {
	.getattr		= sharefs_getattr,
	.listxattr		= sharefs_listxattr,
	.SHAREFS_IOP_GET_ACL	= sharefs_get_acl,
	.fiemap			= sharefs_fiemap,
};

static const char *sharefs_get_link(struct dentry *dentry, struct inode *inode,
				    struct delayed_call *done)
{
	int err = sharefs_check_readable(inode);

	return err ? ERR_PTR(err) : page_get_link(dentry, inode, done);
}

const struct inode_operations sharefs_symlink_iops = {
	.get_link		= sharefs_get_link,
	.getattr		= sharefs_getattr,
	.listxattr		= sharefs_listxattr,
	.SHAREFS_IOP_GET_ACL	= sharefs_get_acl,
};

const struct inode_operations sharefs_special_iops = {
	.getattr		= sharefs_getattr,
	.listxattr		= sharefs_listxattr,
	.SHAREFS_IOP_GET_ACL	= sharefs_get_acl,
};
