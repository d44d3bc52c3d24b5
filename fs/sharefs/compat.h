/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * compat.h - every kernel-version difference sharefs depends on, in one place.
 *
 * sharefs builds against Debian 12's 6.1 and 6.12 kernels and the newest
 * Debian unstable kernel (7.x).  Each difference is probed once here (a
 * header probe with __has_include where the difference is a header, or a
 * narrow version check naming the release that changed the API) and hidden
 * behind a sharefs_/SHAREFS_ wrapper.  The .c files never test
 * LINUX_VERSION_CODE themselves.
 */
#ifndef _SHAREFS_COMPAT_H
#define _SHAREFS_COMPAT_H

#include <linux/version.h>
#include <linux/fs.h>
#include <linux/blkdev.h>
#include <linux/bio.h>
#include <linux/iomap.h>
#include <linux/posix_acl.h>
#include <linux/posix_acl_xattr.h>

/* crc32c(): <linux/crc32c.h> until the CRC library rework, then crc32.h */
#if __has_include(<linux/crc32c.h>)
#include <linux/crc32c.h>
#else
#include <linux/crc32.h>
#endif

/* hex2bin(): <linux/kernel.h> until it moved to its own header */
#if __has_include(<linux/hex.h>)
#include <linux/hex.h>
#endif

/* generic_setlease(): <linux/filelock.h> from 6.3, <linux/fs.h> before */
#if __has_include(<linux/filelock.h>)
#include <linux/filelock.h>
#endif
#include <linux/huge_mm.h>	/* thp_get_unmapped_area() */

/* get_unaligned_le32(): <asm/unaligned.h> until 6.12 moved it to linux/ */
#if __has_include(<linux/unaligned.h>)
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

/*
 * st_blocks of a compressed file that records 0 blocks (all of it in the
 * packed inode): erofs up to 6.12 counts i_size rounded up to blocks, as
 * for any file; Debian unstable's 7.2 counts 0.  The release in between
 * that changed it was not pinned down (the kernels we test are 6.12 and
 * 7.2); 6.13 is the first it can be.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#define SHAREFS_Z_ZERO_BLOCKS_AS_ZERO	1
#else
#define SHAREFS_Z_ZERO_BLOCKS_AS_ZERO	0
#endif

/*
 * MicroLZMA: lib/xz carries it only with CONFIG_XZ_DEC_MICROLZMA, which
 * Debian's 6.1 does not set (its erofs reads no LZMA); the declarations
 * are in <linux/xz.h> either way, the symbols are not.
 */
#if IS_ENABLED(CONFIG_XZ_DEC_MICROLZMA)
#define SHAREFS_HAVE_MICROLZMA	1
#else
#define SHAREFS_HAVE_MICROLZMA	0
#endif

#ifndef EFSCORRUPTED
#define EFSCORRUPTED	EUCLEAN		/* filesystem metadata is corrupt */
#endif

/* 6.10 gave struct block_device its own bd_mapping and retired bd_inode */
static inline struct address_space *sharefs_bdev_mapping(struct block_device *bdev)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
	return bdev->bd_mapping;
#else
	return bdev->bd_inode->i_mapping;
#endif
}

/* 6.19 made i_state private to accessors */
static inline bool sharefs_inode_is_new(struct inode *inode)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 19, 0)
	return inode_state_read_once(inode) & I_NEW;
#else
	return inode->i_state & I_NEW;
#endif
}

/* 6.3 replaced the user_namespace of idmapped mounts by struct mnt_idmap */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#define sharefs_idmap_t		struct mnt_idmap
#else
#define sharefs_idmap_t		struct user_namespace
#endif

/* 6.6 added request_mask to generic_fillattr() */
static inline void sharefs_fillattr(sharefs_idmap_t *idmap, u32 request_mask,
				    struct inode *inode, struct kstat *stat)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
	generic_fillattr(idmap, request_mask, inode, stat);
#else
	generic_fillattr(idmap, inode, stat);
#endif
}

/*
 * Timestamps: 6.6 hid i_ctime behind accessors, 6.7 did the same for
 * i_atime and i_mtime.  sharefs gives all three the same value.
 */
static inline void sharefs_set_inode_times(struct inode *inode,
					   struct timespec64 ts)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
	inode_set_mtime_to_ts(inode, ts);
	inode_set_atime_to_ts(inode, ts);
	inode_set_ctime_to_ts(inode, ts);
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
	inode->i_mtime = ts;
	inode->i_atime = ts;
	inode_set_ctime_to_ts(inode, ts);
#else
	inode->i_mtime = ts;
	inode->i_atime = ts;
	inode->i_ctime = ts;
#endif
}

/* 6.5 removed generic_file_splice_read() in favour of filemap_splice_read() */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
#define sharefs_splice_read	filemap_splice_read
#else
#define sharefs_splice_read	generic_file_splice_read
#endif

/*
 * POSIX ACLs: until 6.2 the VFS reached them through the
 * posix_acl_*_xattr_handler entries of s_xattr and inode_operations.get_acl;
 * from 6.2 the VFS handles the system.posix_acl_* names itself and calls
 * inode_operations.get_inode_acl.  The callback has the same shape in both.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define SHAREFS_IOP_GET_ACL	get_inode_acl
#define SHAREFS_ACL_XATTR_HANDLERS
#else
#define SHAREFS_IOP_GET_ACL	get_acl
#define SHAREFS_ACL_XATTR_HANDLERS	\
	&posix_acl_access_xattr_handler, &posix_acl_default_xattr_handler,
#endif

/*
 * Folio ranges into bios.  6.1 does not export bio_add_folio(), which is
 * bio_add_page() on the folio's first page there (a bio vector may span
 * the pages of a folio); 6.5 added bio_add_folio_nofail() for a bio known
 * to have room (a new one), which was __bio_add_page() before.
 */
static inline bool sharefs_bio_add_folio(struct bio *bio, struct folio *folio,
					 size_t len, size_t off)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	return bio_add_folio(bio, folio, len, off);
#else
	return bio_add_page(bio, &folio->page, len, off) > 0;
#endif
}

static inline void sharefs_bio_add_folio_nofail(struct bio *bio,
						struct folio *folio,
						size_t len, size_t off)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	bio_add_folio_nofail(bio, folio, len, off);
#else
	__bio_add_page(bio, &folio->page, len, off);
#endif
}

/*
 * 6.6 gave super_operations a ->shutdown that the block layer calls when
 * the device goes away (a removed disk, a deleted loop or dm device); a
 * super_operations initializer, empty before.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
#define SHAREFS_SOP_SHUTDOWN	.shutdown = sharefs_share_shutdown,
#else
#define SHAREFS_SOP_SHUTDOWN
#endif

/*
 * 6.8 gave the superblock s_uuid_len, set by super_set_uuid(), and the
 * generic FS_IOC_GETFSUUID that answers from it; before, s_uuid alone.
 */
static inline void sharefs_set_uuid(struct super_block *sb, const u8 *uuid)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
	super_set_uuid(sb, uuid, sizeof(sb->s_uuid));
#else
	memcpy(&sb->s_uuid, uuid, sizeof(sb->s_uuid));
#endif
}

/*
 * 6.17 made the generic read-only mmap an ->mmap_prepare hook (which 6.16
 * introduced to replace ->mmap); a file_operations initializer.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 17, 0)
#define SHAREFS_FOP_MMAP	.mmap_prepare = generic_file_readonly_mmap_prepare
#else
#define SHAREFS_FOP_MMAP	.mmap = generic_file_readonly_mmap
#endif

#endif /* _SHAREFS_COMPAT_H */
