// SPDX-License-Identifier: GPL-2.0-only
/*
 * super.c - mounting, the superblock, mount options and module init/exit.
 *
 * sharefs mounts an EROFS image from a block device (a loop device for an
 * image file) with get_tree_bdev().  The superblock at byte 1024 is checked
 * before anything else is read: magic, block size (512 bytes up to the page
 * size), optional crc32c, feature bits, and that the image fits the device.
 * Afterwards every metadata read is bounded by the image size recorded here.
 *
 * The filesystem is always read-only.  The mount options domain= (which
 * files may share a page cache), noshare (none) and verity (files with
 * verity metadata share across domains, checked page by page: verity.c)
 * are parsed, validated,
 * stored and shown here and used by share.c.  A device that is already
 * mounted is mounted again (get_tree_bdev() reuses its superblock) only
 * with the same options: anything else is -EBUSY.
 */
#include <linux/module.h>
#include <linux/fs_context.h>
#include <linux/fs_parser.h>
#include <linux/seq_file.h>
#include <linux/statfs.h>
#include "internal.h"

static struct kmem_cache *sharefs_inode_cachep;

/* options being parsed, before they reach the sb_info */
struct sharefs_fs_context {
	char *domain;
	bool noshare;
	bool verity;
	bool filled;		/* fill_super ran: a new superblock */
};

/* incompat features a reader must understand to read the image at all */
#define SHAREFS_INCOMPAT_KNOWN	(SHAREFS_FEATURE_INCOMPAT_ZERO_PADDING |   \
				 SHAREFS_FEATURE_INCOMPAT_COMPR_CFGS |	   \
				 SHAREFS_FEATURE_INCOMPAT_CHUNKED_FILE |   \
				 SHAREFS_FEATURE_INCOMPAT_DEVICE_TABLE |   \
				 SHAREFS_FEATURE_INCOMPAT_ZTAILPACKING |   \
				 SHAREFS_FEATURE_INCOMPAT_FRAGMENTS |	   \
				 SHAREFS_FEATURE_INCOMPAT_XATTR_PREFIXES | \
				 SHAREFS_FEATURE_INCOMPAT_48BIT |	   \
				 SHAREFS_FEATURE_INCOMPAT_METABOX)

/*
 * crc32c (seed ~0, no final inversion) of the superblock's block from byte
 * 1024, or of one block when blocks are 1024 bytes or smaller, with the
 * checksum field taken as zero.  The caller checked the range is readable.
 */
static u32 sharefs_sb_crc(const struct sharefs_super_block *dsb,
			  unsigned int len)
{
	static const __le32 zero;
	const u8 *p = (const u8 *)dsb;
	unsigned int skip = offsetof(struct sharefs_super_block, checksum);
	u32 crc;

	crc = crc32c(~0U, p, skip);
	crc = crc32c(crc, &zero, sizeof(zero));
	skip += sizeof(zero);
	return crc32c(crc, p + skip, len - skip);
}

static int sharefs_check_features(struct super_block *sb,
				  const struct sharefs_super_block *dsb)
{
	struct sharefs_sb_info *sbi = SHAREFS_SB(sb);
	u32 unknown = sbi->feature_incompat & ~SHAREFS_INCOMPAT_KNOWN;

	if (unknown) {
		sharefs_err(sb, "unknown incompatible features 0x%x", unknown);
		return -EOPNOTSUPP;
	}
	if (sharefs_sb_has_48bit(sbi)) {
		sharefs_err(sb, "48-bit layout (incompat 0x%x) not supported",
			    SHAREFS_FEATURE_INCOMPAT_48BIT);
		return -EOPNOTSUPP;
	}
	if (sharefs_sb_has_metabox(sbi)) {
		sharefs_err(sb, "metadata box (incompat 0x%x) not supported",
			    SHAREFS_FEATURE_INCOMPAT_METABOX);
		return -EOPNOTSUPP;
	}
	/* bit 0x8 is also COMPR_HEAD2: only extra devices are a problem */
	if (le16_to_cpu(dsb->extra_devices)) {
		sharefs_err(sb, "device table (%u extra devices) not supported",
			    le16_to_cpu(dsb->extra_devices));
		return -EOPNOTSUPP;
	}
	if (dsb->dirblkbits) {
		sharefs_err(sb, "directory blocks of 2^%u blocks not supported",
			    dsb->dirblkbits);
		return -EOPNOTSUPP;
	}
	return 0;
}

/* Magic, block size and checksum of the superblock in page 0. */
static int sharefs_check_sb_block(struct super_block *sb,
				  const struct sharefs_super_block *dsb,
				  u64 devsize)
{
	unsigned int blksz, crclen;

	if (le32_to_cpu(dsb->magic) != SHAREFS_MAGIC) {
		sharefs_err(sb, "no EROFS superblock (bad magic 0x%08x)",
			    le32_to_cpu(dsb->magic));
		return -EINVAL;
	}
	if (dsb->blkszbits < SHAREFS_MIN_BLKSZBITS) {
		sharefs_err(sb, "bogus block size 2^%u", dsb->blkszbits);
		return -EFSCORRUPTED;
	}
	if (dsb->blkszbits > PAGE_SHIFT) {
		sharefs_err(sb, "block size 2^%u larger than the page size",
			    dsb->blkszbits);
		return -EOPNOTSUPP;
	}
	if (!(le32_to_cpu(dsb->feature_compat) & SHAREFS_FEATURE_COMPAT_SB_CHKSUM))
		return 0;
	blksz = 1U << dsb->blkszbits;
	crclen = blksz > SHAREFS_SUPER_OFFSET ? blksz - SHAREFS_SUPER_OFFSET : blksz;
	/* the checksummed range is inside the device and page 0 */
	if (SHAREFS_SUPER_OFFSET + crclen > devsize ||
	    SHAREFS_SUPER_OFFSET + crclen > PAGE_SIZE) {
		sharefs_err(sb, "superblock block past the device end");
		return -EFSCORRUPTED;
	}
	if (sharefs_sb_crc(dsb, crclen) != le32_to_cpu(dsb->checksum)) {
		sharefs_err(sb, "bad superblock checksum 0x%08x, computed 0x%08x",
			    le32_to_cpu(dsb->checksum), sharefs_sb_crc(dsb, crclen));
		return -EBADMSG;
	}
	return 0;
}

/* Copy the superblock's fields into the sb_info. */
static void sharefs_load_sb_fields(struct sharefs_sb_info *sbi,
				   const struct sharefs_super_block *dsb)
{
	sbi->blkszbits = dsb->blkszbits;
	sbi->feature_compat = le32_to_cpu(dsb->feature_compat);
	sbi->feature_incompat = le32_to_cpu(dsb->feature_incompat);
	sbi->blocks = le32_to_cpu(dsb->blocks);
	sbi->size = (u64)sbi->blocks << sbi->blkszbits;
	sbi->meta_blkaddr = le32_to_cpu(dsb->meta_blkaddr);
	sbi->xattr_blkaddr = le32_to_cpu(dsb->xattr_blkaddr);
	sbi->root_nid = le16_to_cpu(dsb->rootnid_2b);
	sbi->inos = le64_to_cpu(dsb->inos);
	sbi->epoch = le64_to_cpu(dsb->epoch);
	sbi->fixed_nsec = le32_to_cpu(dsb->fixed_nsec);
	sbi->packed_nid = le64_to_cpu(dsb->packed_nid);
	/* the prefix table exists only with its feature bit */
	if (sharefs_sb_has_xattr_prefixes(sbi))
		sbi->xattr_prefix_count = dsb->xattr_prefix_count;
	sbi->xattr_prefix_start = le32_to_cpu(dsb->xattr_prefix_start);
	sbi->ishare_xattr_prefix_id = dsb->ishare_xattr_prefix_id;
	memcpy(sbi->uuid, dsb->uuid, sizeof(sbi->uuid));
	sbi->sb_extslots = dsb->sb_extslots;
}

/* Check the on-disk superblock and fill the sb_info from it. */
static int sharefs_read_super(struct super_block *sb)
{
	struct sharefs_sb_info *sbi = SHAREFS_SB(sb);
	struct sharefs_buf buf = SHAREFS_BUF_INIT;
	const struct sharefs_super_block *dsb;
	u64 devsize = bdev_nr_bytes(sb->s_bdev);
	void *base;
	int err;

	/* the 128-byte superblock at 1024 lies inside the device */
	if (devsize < SHAREFS_SUPER_OFFSET + sizeof(*dsb)) {
		sharefs_err(sb, "device too small (%llu bytes) for an EROFS superblock",
			    devsize);
		return -EINVAL;
	}
	buf.mapping = sharefs_bdev_mapping(sb->s_bdev);
	/* page 0 holds [0, PAGE_SIZE), which covers the whole superblock block */
	base = sharefs_bread(&buf, 0);
	if (IS_ERR(base))
		return PTR_ERR(base);
	dsb = base + SHAREFS_SUPER_OFFSET;
	err = sharefs_check_sb_block(sb, dsb, devsize);
	if (err)
		goto out;
	sharefs_load_sb_fields(sbi, dsb);
	err = sharefs_check_features(sb, dsb);
	if (err)
		goto out;

	err = -EFSCORRUPTED;
	/* the image fits the device: nothing past its end is ever read */
	if (sbi->size > devsize) {
		sharefs_err(sb, "image truncated: %llu bytes, device has %llu",
			    sbi->size, devsize);
		goto out;
	}
	/* inodes start inside the image */
	if (sbi->meta_blkaddr >= sbi->blocks ||
	    sbi->xattr_blkaddr > sbi->blocks) {
		sharefs_err(sb, "bogus meta_blkaddr %u / xattr_blkaddr %u (%u blocks)",
			    sbi->meta_blkaddr, sbi->xattr_blkaddr, sbi->blocks);
		goto out;
	}
	/* decompress.c: which algorithms, and what each needs */
	err = sharefs_z_load_cfgs(sb, le16_to_cpu(dsb->u1));
out:
	sharefs_put_buf(&buf);
	return err;
}

static struct inode *sharefs_alloc_inode(struct super_block *sb)
{
	struct sharefs_inode *si;

	si = alloc_inode_sb(sb, sharefs_inode_cachep, GFP_KERNEL);
	if (!si)
		return NULL;
	memset(si, 0, offsetof(struct sharefs_inode, vfs_inode));
	return &si->vfs_inode;
}

static void sharefs_free_inode(struct inode *inode)
{
	kmem_cache_free(sharefs_inode_cachep, SHAREFS_I(inode));
}

/*
 * f_type is the EROFS magic, not a sharefs one: the image is an EROFS image
 * and tools that look at f_type (stat -f, findmnt) should say so.
 */
static void sharefs_evict_inode(struct inode *inode)
{
	/* the inode's own mapping; a shared one belongs to the shared inode */
	truncate_inode_pages_final(&inode->i_data);
	clear_inode(inode);
	sharefs_share_detach(inode);
}

static int sharefs_statfs(struct dentry *dentry, struct kstatfs *buf)
{
	struct super_block *sb = dentry->d_sb;
	struct sharefs_sb_info *sbi = SHAREFS_SB(sb);

	buf->f_type = SHAREFS_MAGIC;
	buf->f_bsize = sb->s_blocksize;
	buf->f_blocks = sbi->blocks;
	buf->f_bfree = 0;
	buf->f_bavail = 0;
	buf->f_files = sbi->inos;
	buf->f_ffree = 0;
	buf->f_fsid = u64_to_fsid(huge_encode_dev(sb->s_dev));
	buf->f_namelen = SHAREFS_NAME_LEN;
	return 0;
}

static int sharefs_show_options(struct seq_file *seq, struct dentry *root)
{
	struct sharefs_sb_info *sbi = SHAREFS_SB(root->d_sb);

	if (sbi->domain)
		seq_show_option(seq, "domain", sbi->domain);
	if (sbi->noshare)
		seq_puts(seq, ",noshare");
	if (sbi->verity)
		seq_puts(seq, ",verity");
	return 0;
}

static const struct super_operations sharefs_sops = {
	.alloc_inode	= sharefs_alloc_inode,
	.free_inode	= sharefs_free_inode,
	.evict_inode	= sharefs_evict_inode,
	.statfs		= sharefs_statfs,
	.show_options	= sharefs_show_options,
	SHAREFS_SOP_SHUTDOWN
};

static int sharefs_fill_super(struct super_block *sb, struct fs_context *fc)
{
	struct sharefs_fs_context *ctx = fc->fs_private;
	struct sharefs_sb_info *sbi;
	struct inode *root;
	int err;

	sbi = kzalloc(sizeof(*sbi), GFP_KERNEL);
	if (!sbi)
		return -ENOMEM;
	err = sharefs_share_init_sbi(sbi);
	if (err) {
		kfree(sbi);
		return err;
	}
	sb->s_fs_info = sbi;		/* freed by kill_sb, even on failure */
	ctx->filled = true;
	sbi->domain = ctx->domain;
	ctx->domain = NULL;
	sbi->noshare = ctx->noshare;
	sbi->verity = ctx->verity;
	if (sbi->verity && !sharefs_verity_available()) {
		sharefs_err(sb, "verity: the kernel has no sha256 in its crypto API");
		return -EOPNOTSUPP;
	}

	sb->s_magic = SHAREFS_MAGIC;
	sb->s_flags |= SB_RDONLY | SB_NOATIME;	/* as stock erofs */
#ifdef CONFIG_FS_POSIX_ACL
	sb->s_flags |= SB_POSIXACL;
#endif
	sb->s_maxbytes = MAX_LFS_FILESIZE;
	sb->s_time_gran = 1;
	sb->s_op = &sharefs_sops;
	sb->s_xattr = sharefs_xattr_handlers;
	sb->s_export_op = &sharefs_export_ops;

	err = sharefs_read_super(sb);
	if (err)
		return err;
	/* the image's volume uuid, as stock erofs gives it (overlayfs uses it) */
	sharefs_set_uuid(sb, sbi->uuid);
	if (!sb_set_blocksize(sb, 1U << sbi->blkszbits)) {
		errorfc(fc, "block size %u not supported by the device",
			1U << sbi->blkszbits);
		return -EINVAL;
	}
	err = sharefs_xattr_prefixes_init(sb);
	if (err)
		return err;
	sharefs_share_fill_super(sb);

	root = sharefs_iget(sb, sbi->root_nid);
	if (IS_ERR(root))
		return PTR_ERR(root);
	if (!S_ISDIR(root->i_mode)) {
		sharefs_err(sb, "root nid %llu is not a directory (mode %o)",
			    sbi->root_nid, root->i_mode);
		iput(root);
		return -EFSCORRUPTED;
	}
	sb->s_root = d_make_root(root);
	if (!sb->s_root)
		return -ENOMEM;
	return sharefs_sysfs_register(sb);
}

enum { Opt_domain, Opt_noshare, Opt_verity };

static const struct fs_parameter_spec sharefs_fs_parameters[] = {
	fsparam_string("domain", Opt_domain),
	fsparam_flag("noshare", Opt_noshare),
	fsparam_flag("verity", Opt_verity),
	{}
};

/* 1..64 characters of [A-Za-z0-9._-] */
static bool sharefs_domain_valid(const char *s)
{
	size_t i, len = strlen(s);

	if (!len || len > SHAREFS_DOMAIN_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!isalnum(s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

static int sharefs_parse_param(struct fs_context *fc,
			       struct fs_parameter *param)
{
	struct sharefs_fs_context *ctx = fc->fs_private;
	struct fs_parse_result result;
	int opt;

	/* an unknown key returns -ENOPARAM: the VFS reports it by name */
	opt = fs_parse(fc, sharefs_fs_parameters, param, &result);
	if (opt < 0)
		return opt;
	switch (opt) {
	case Opt_domain:
		if (!sharefs_domain_valid(param->string))
			return invalfc(fc, "invalid domain '%s' (want 1..%d of [A-Za-z0-9._-])",
				       param->string, SHAREFS_DOMAIN_MAX);
		kfree(ctx->domain);
		ctx->domain = param->string;
		param->string = NULL;
		break;
	case Opt_verity:
		ctx->verity = true;
		break;
	case Opt_noshare:
		ctx->noshare = true;
		break;
	}
	return 0;
}

/* Does the mounted @sbi have exactly the options this mount asks for? */
static bool sharefs_same_options(const struct sharefs_sb_info *sbi,
				 const struct sharefs_fs_context *ctx)
{
	if (sbi->noshare != ctx->noshare || sbi->verity != ctx->verity)
		return false;
	if (!sbi->domain || !ctx->domain)
		return !sbi->domain && !ctx->domain;
	return !strcmp(sbi->domain, ctx->domain);
}

static int sharefs_get_tree(struct fs_context *fc)
{
	struct sharefs_fs_context *ctx = fc->fs_private;
	struct super_block *sb;
	int err;

	/* open the device read-only whatever "rw" said */
	fc->sb_flags |= SB_RDONLY;
	err = get_tree_bdev(fc, sharefs_fill_super);
	if (err || ctx->filled)
		return err;
	/*
	 * get_tree_bdev() handed back the superblock already mounted from
	 * this device, with the options of its first mount.  mount(8) reuses
	 * a read-only loop device for the same file and offset, so taking it
	 * silently would put this mount in another domain than it asked for
	 * (or make noshare share).  Refuse unless the options are the same.
	 * The superblock comes locked, with an active reference and a root
	 * reference for this mount: give both back.
	 */
	sb = fc->root->d_sb;
	if (sharefs_same_options(SHAREFS_SB(sb), ctx))
		return 0;
	sharefs_err(sb, "already mounted with domain=%s%s%s; refusing a mount of the same device with domain=%s%s%s",
		    SHAREFS_SB(sb)->domain ?: "(default)",
		    SHAREFS_SB(sb)->noshare ? ",noshare" : "",
		    SHAREFS_SB(sb)->verity ? ",verity" : "",
		    ctx->domain ?: "(default)", ctx->noshare ? ",noshare" : "",
		    ctx->verity ? ",verity" : "");
	dput(fc->root);
	fc->root = NULL;
	deactivate_locked_super(sb);
	return -EBUSY;
}

static int sharefs_reconfigure(struct fs_context *fc)
{
	struct sharefs_sb_info *sbi = SHAREFS_SB(fc->root->d_sb);
	struct sharefs_fs_context *ctx = fc->fs_private;

	if (!(fc->sb_flags & SB_RDONLY)) {
		errorfc(fc, "read-only filesystem, cannot remount read-write");
		return -EROFS;
	}
	/* options left out keep their value; changing one is refused */
	if (ctx->domain && (!sbi->domain || strcmp(ctx->domain, sbi->domain)))
		return invalfc(fc, "cannot change domain on remount");
	if (ctx->noshare && !sbi->noshare)
		return invalfc(fc, "cannot set noshare on remount");
	if (ctx->verity && !sbi->verity)
		return invalfc(fc, "cannot set verity on remount");
	return 0;
}

static void sharefs_fc_free(struct fs_context *fc)
{
	struct sharefs_fs_context *ctx = fc->fs_private;

	if (ctx)
		kfree(ctx->domain);
	kfree(ctx);
}

static const struct fs_context_operations sharefs_context_ops = {
	.parse_param	= sharefs_parse_param,
	.get_tree	= sharefs_get_tree,
	.reconfigure	= sharefs_reconfigure,
	.free		= sharefs_fc_free,
};

static int sharefs_init_fs_context(struct fs_context *fc)
{
	struct sharefs_fs_context *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	fc->fs_private = ctx;
	fc->ops = &sharefs_context_ops;
	return 0;
}

static void sharefs_kill_sb(struct super_block *sb)
{
	struct sharefs_sb_info *sbi = SHAREFS_SB(sb);

	/* counters first: they walk this superblock's members */
	sharefs_sysfs_unregister(sb);
	/*
	 * Members leave their shared inodes before eviction, and the reads
	 * through them are drained before the device is closed.
	 */
	sharefs_share_kill_sb(sb);
	kill_block_super(sb);
	sharefs_z_streams_drain();	/* decompress.c's spare */
	if (!sbi)
		return;
	sharefs_share_exit_sbi(sbi);
	sharefs_xattr_prefixes_exit(sbi);
	kfree(sbi->domain);
	kfree(sbi);
}

static struct file_system_type sharefs_fs_type = {
	.owner			= THIS_MODULE,
	.name			= SHAREFS_FS_NAME,
	.init_fs_context	= sharefs_init_fs_context,
	.parameters		= sharefs_fs_parameters,
	.kill_sb		= sharefs_kill_sb,
	.fs_flags		= FS_REQUIRES_DEV,
};
MODULE_ALIAS_FS(SHAREFS_FS_NAME);

static void sharefs_inode_init_once(void *ptr)
{
	struct sharefs_inode *si = ptr;

	inode_init_once(&si->vfs_inode);
}

#define sharefs_ondisk_assert(cond)	BUILD_BUG_ON(!(cond))

static int __init sharefs_init(void)
{
	int err;

	SHAREFS_CHECK_ONDISK_SIZES(sharefs_ondisk_assert);

	sharefs_inode_cachep = kmem_cache_create("sharefs_inode",
						 sizeof(struct sharefs_inode), 0,
						 SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT,
						 sharefs_inode_init_once);
	if (!sharefs_inode_cachep)
		return -ENOMEM;
	err = sharefs_read_init();
	if (err)
		goto err_read;
	err = sharefs_zread_init();
	if (err)
		goto err_z;
	err = sharefs_verity_init();
	if (err)
		goto err_verity;
	err = sharefs_share_init();
	if (err)
		goto err_share;
	err = sharefs_sysfs_init();
	if (err)
		goto err_sysfs;
	err = register_filesystem(&sharefs_fs_type);
	if (err)
		goto err_register;
	return 0;

err_register:
	sharefs_sysfs_exit();
err_sysfs:
	sharefs_share_exit();
err_share:
	sharefs_verity_exit();
err_verity:
	sharefs_zread_exit();
err_z:
	sharefs_read_exit();
err_read:
	kmem_cache_destroy(sharefs_inode_cachep);
	return err;
}

/* Runs only once every sharefs mount is gone: each one pins the module. */
static void __exit sharefs_exit(void)
{
	unregister_filesystem(&sharefs_fs_type);
	sharefs_sysfs_exit();
	/* waits for the inodes' RCU frees too */
	sharefs_share_exit();
	sharefs_verity_exit();
	sharefs_zread_exit();	/* its last jobs may give back decoder states */
	sharefs_read_exit();
	sharefs_z_streams_drain();
	kmem_cache_destroy(sharefs_inode_cachep);
}

module_init(sharefs_init);
module_exit(sharefs_exit);

MODULE_DESCRIPTION("sharefs: read-only EROFS-format filesystem");
MODULE_LICENSE("GPL");
