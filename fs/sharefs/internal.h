/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * internal.h - in-memory types of sharefs and the prototypes shared between
 * its files, grouped by the file that defines them.
 *
 * On-disk types live in sharefs_fs.h ("dsb", "di" there); the in-memory
 * objects here are the superblock info ("sbi") and the inode info ("si").
 */
#ifndef _SHAREFS_INTERNAL_H
#define _SHAREFS_INTERNAL_H

#include <linux/fs.h>
#include <linux/pagemap.h>
#include <linux/highmem.h>
#include <linux/iomap.h>
#include <linux/xattr.h>
#include <linux/kobject.h>
#include <linux/completion.h>
#include <linux/percpu-refcount.h>
#include "compat.h"
#include "sharefs_fs.h"

#define SHAREFS_FS_NAME		"sharefs"
#define SHAREFS_DOMAIN_MAX	64

/*
 * Messages name the device and the function: "sharefs (vdb): func: msg".
 * Errors are ratelimited because a corrupt image can trigger them per read.
 */
#define sharefs_err(sb, fmt, ...)					\
	pr_err_ratelimited("sharefs (%s): %s: " fmt "\n", (sb)->s_id,	\
			   __func__, ##__VA_ARGS__)
#define sharefs_warn(sb, fmt, ...)					\
	pr_warn("sharefs (%s): " fmt "\n", (sb)->s_id, ##__VA_ARGS__)
#define sharefs_info(sb, fmt, ...)					\
	pr_info("sharefs (%s): " fmt "\n", (sb)->s_id, ##__VA_ARGS__)

/* one entry of the long xattr name prefix table, loaded at mount */
struct sharefs_xattr_prefix {
	u8 base_index;			/* SHAREFS_XATTR_INDEX_* it extends */
	u8 infix_len;			/* bytes in infix */
	char *infix;			/* not NUL-terminated on disk; is here */
};

/* sbi->flags bits */
enum {
	SHAREFS_SBF_WARNED_COMPR,	/* "compressed inodes" logged once */
	SHAREFS_SBF_WARNED_FPSIZE,	/* fingerprint size mismatch logged */
	SHAREFS_SBF_WARNED_FPBAD,	/* malformed fingerprint logged */
	SHAREFS_SBF_WARNED_FPREAD,	/* unreadable fingerprint logged */
	SHAREFS_SBF_WARNED_READERR,	/* a member's failed read logged */
	SHAREFS_SBF_SHUTDOWN,		/* device gone: reads fail, no sharing */
	SHAREFS_SBF_WARNED_VERITY,	/* unusable verity metadata logged */
	SHAREFS_SBF_WARNED_ZALG,	/* "algorithm not in this kernel" logged */
};

/* what each compression algorithm of the image needs (decompress.c) */
struct sharefs_z_cfg {
	u16 algs;			/* SHAREFS_Z_ALG_* bits the image may use */
	u16 lz4_max_pclusterblks;	/* largest LZ4 pcluster, blocks */
	u32 lzma_dict_size;		/* MicroLZMA dictionary bytes */
	u8 deflate_windowbits;		/* DEFLATE window, 8..15 */
	u8 zstd_windowlog;		/* zstd window, log2 bytes */
};

struct sharefs_sb_info {
	u64 size;			/* image bytes: blocks << blkszbits */
	u64 root_nid;
	u64 inos;			/* inode count, for statfs */
	u64 epoch;			/* compact inode mtime base, seconds */
	u64 packed_nid;
	u32 fixed_nsec;			/* compact inode mtime nanoseconds */
	u32 blocks;			/* image size in blocks */
	u32 meta_blkaddr;		/* block of nid 0 */
	u32 xattr_blkaddr;		/* block of shared xattr id 0 */
	u32 feature_compat;
	u32 feature_incompat;
	u32 xattr_prefix_start;		/* prefix table, in 4-byte units */
	u8 blkszbits;
	u8 xattr_prefix_count;
	u8 ishare_xattr_prefix_id;
	u8 uuid[16];
	u8 sb_extslots;			/* 16-byte slots after the superblock */
	struct sharefs_z_cfg zcfg;	/* compression configuration */
	struct sharefs_xattr_prefix *xattr_prefixes;	/* [xattr_prefix_count] */
	unsigned long flags;		/* SHAREFS_SBF_*, atomic bitops */

	/* mount options */
	char *domain;			/* domain=ID, NULL: default domain */
	bool noshare;			/* noshare: nothing is shared */
	bool verity;			/* verity: verified files share across domains */

	/* page-cache sharing (share.c) */
	u8 fp_index;			/* the fingerprint xattr: its index */
	const char *fp_name;		/* ... and name after the prefix */
	spinlock_t share_lock;		/* protects share_members */
	struct list_head share_members;	/* sharefs_inode.sb_link */
	atomic_long_t share_mismatches;	/* fingerprints with a wrong size */
	bool share_ever;		/* had members: unlink them at umount */
	/*
	 * Reads of shared inodes through this superblock's members: the
	 * read calls and their bios in flight.  The pinning rule is at the
	 * top of share.c; kill_sb kills it and waits for pin_drained.
	 */
	struct percpu_ref pin;
	struct completion pin_drained;

	/* sysfs (sysfs.c) */
	struct super_block *sb;
	struct kobject kobj;		/* /sys/fs/sharefs/<s_id> */
	struct completion kobj_unregister;
	bool kobj_added;
};

struct sharefs_inode {
	u64 nid;			/* inode slot, also st_ino */
	u64 startblk;			/* flat layouts: first data block */
	u32 xattr_isize;		/* bytes of xattr area after the inode */
	u16 chunkformat;		/* CHUNK_BASED: SHAREFS_CHUNK_FORMAT_* */
	u8 chunkbits;			/* CHUNK_BASED: log2 of the chunk size */
	u8 datalayout;			/* SHAREFS_INODE_* */
	u8 inode_isize;			/* 32 or 64 */

	/*
	 * Page-cache sharing (share.c): the shared inode this one is a
	 * member of, or NULL.  share_link and share_linked are protected by
	 * share->lock, sb_link by the sb_info's share_lock.
	 */
	struct sharefs_shared *share;
	struct list_head share_link;	/* in share->members, RCU */
	struct list_head sb_link;	/* in sbi->share_members */
	bool share_linked;		/* on share->members */
	bool share_decided;		/* first open done: i_mapping is final */
	bool share_bad;			/* failed its hashes: reads refused */
	u64 verity_tree_pos;		/* its Merkle tree, if verified */
	/*
	 * Compressed layouts (zmap.c): parsed from the map header on the
	 * first read, published once with smp_store_release(&z_inited)
	 * under i_lock, read-only after smp_load_acquire() saw it set.
	 */
	struct sharefs_zinfo {
		u64 fragmentoff;	/* FRAGMENT: tail's offset in the packed inode */
		u64 idataoff;		/* INLINE: image byte of the inline pcluster */
		u64 tailheadlcn;	/* the tail extent's HEAD lcluster */
		u16 advise;		/* SHAREFS_Z_ADVISE_* */
		u16 idata_size;		/* INLINE: bytes of the inline pcluster */
		u8 algs[2];		/* HEAD1 and HEAD2 algorithms */
		u8 lclusterbits;
		bool wholefrag;		/* the whole file is in the packed inode */
	} z;
	bool z_inited;
	struct inode vfs_inode;
};

static inline struct sharefs_sb_info *SHAREFS_SB(struct super_block *sb)
{
	return sb->s_fs_info;
}

static inline struct sharefs_inode *SHAREFS_I(struct inode *inode)
{
	return container_of(inode, struct sharefs_inode, vfs_inode);
}

/* sharefs_sb_has_<feature>(sbi), generated once per feature bit */
#define SHAREFS_FEATURE_FUNC(name, field, bit)				\
static inline bool sharefs_sb_has_##name(const struct sharefs_sb_info *sbi) \
{									\
	return sbi->field & SHAREFS_FEATURE_##bit;			\
}
SHAREFS_FEATURE_FUNC(sb_chksum, feature_compat, COMPAT_SB_CHKSUM)
SHAREFS_FEATURE_FUNC(plain_xattr_pfx, feature_compat, COMPAT_PLAIN_XATTR_PFX)
SHAREFS_FEATURE_FUNC(ishare_xattrs, feature_compat, COMPAT_ISHARE_XATTRS)
SHAREFS_FEATURE_FUNC(zero_padding, feature_incompat, INCOMPAT_ZERO_PADDING)
SHAREFS_FEATURE_FUNC(chunked_file, feature_incompat, INCOMPAT_CHUNKED_FILE)
SHAREFS_FEATURE_FUNC(device_table, feature_incompat, INCOMPAT_DEVICE_TABLE)
SHAREFS_FEATURE_FUNC(xattr_prefixes, feature_incompat, INCOMPAT_XATTR_PREFIXES)
SHAREFS_FEATURE_FUNC(48bit, feature_incompat, INCOMPAT_48BIT)
SHAREFS_FEATURE_FUNC(metabox, feature_incompat, INCOMPAT_METABOX)
#undef SHAREFS_FEATURE_FUNC

static inline u64 sharefs_pos(struct super_block *sb, u64 blkaddr)
{
	return blkaddr << SHAREFS_SB(sb)->blkszbits;
}

static inline unsigned int sharefs_blkoff(struct super_block *sb, u64 pos)
{
	return pos & (sb->s_blocksize - 1);
}

/* byte position of an inode slot; nids are bounded by the caller */
static inline u64 sharefs_iloc(struct super_block *sb, u64 nid)
{
	return sharefs_pos(sb, SHAREFS_SB(sb)->meta_blkaddr) +
	       (nid << SHAREFS_ISLOTBITS);
}

static inline bool sharefs_layout_is_compressed(unsigned int layout)
{
	return layout == SHAREFS_INODE_COMPRESSED_FULL ||
	       layout == SHAREFS_INODE_COMPRESSED_COMPACT;
}

/* every layout is readable now; kept as the one place to refuse one */
static inline int sharefs_check_readable(struct inode *inode)
{
	return 0;
}

/*
 * A mapped view of one page of an address_space (the block device's for
 * metadata, an inode's for directory and symlink data).  The folio reference
 * is held until sharefs_put_buf() or the next sharefs_bread() on the buffer;
 * kmap_local rules apply: release nested buffers in reverse order.
 */
struct sharefs_buf {
	struct address_space *mapping;
	struct folio *folio;
	void *page_base;		/* kmapped page, or NULL */
	pgoff_t index;			/* page index of page_base */
};

#define SHAREFS_BUF_INIT	((struct sharefs_buf){ NULL, NULL, NULL, 0 })

/* a block mapping: file range [la, la + llen) */
enum sharefs_map_type {
	SHAREFS_MAP_HOLE,		/* reads as zeroes */
	SHAREFS_MAP_MAPPED,		/* at device byte pa */
	SHAREFS_MAP_INLINE,		/* tail packed at metadata byte pa */
};

struct sharefs_map {
	u64 la;
	u64 llen;
	u64 pa;
	enum sharefs_map_type type;
};

/* data.c */
extern const struct address_space_operations sharefs_aops;
extern const struct file_operations sharefs_file_fops;
extern const struct iomap_ops sharefs_iomap_ops;
void *sharefs_bread(struct sharefs_buf *buf, loff_t pos);
void sharefs_put_buf(struct sharefs_buf *buf);
void *sharefs_read_meta(struct super_block *sb, struct sharefs_buf *buf,
			u64 pos, unsigned int len);
int sharefs_check_meta(struct super_block *sb, u64 pos, u64 len);
int sharefs_copy_meta(struct super_block *sb, u64 pos, void *dst, size_t len);
int sharefs_copy_data(struct inode *inode, loff_t pos, void *dst, size_t len);
int sharefs_map_blocks(struct inode *inode, loff_t pos, struct sharefs_map *map);
int sharefs_fiemap(struct inode *inode, struct fiemap_extent_info *fieinfo,
		   u64 start, u64 len);

/* verity.c */
struct sharefs_verity;
struct sharefs_verity_src {		/* where tree blocks are read from */
	struct super_block *sb;
	u64 tree_pos;
};
int sharefs_verity_load(struct inode *inode, u8 *digest, u64 *tree_pos,
			struct sharefs_verity **vp);
void sharefs_verity_free(struct sharefs_verity *v);
u64 sharefs_verity_tree_bytes(void);
int sharefs_verity_check_folio(const struct sharefs_verity_src *src,
			       struct sharefs_verity *v, struct folio *folio);
int sharefs_verity_init(void);
void sharefs_verity_exit(void);
bool sharefs_verity_available(void);

/* read.c: where a read call reads from */
struct sharefs_rsrc {
	struct inode *inode;		/* its layout, device and size */
	struct sharefs_sb_info *pin;	/* its superblock, pinned (shared) */
	struct sharefs_verity *verity;	/* check pages against it, or NULL */
	u64 tree_pos;			/* the source's tree, with verity */
};

int sharefs_read_init(void);
void sharefs_read_exit(void);
void sharefs_read_ahead(const struct sharefs_rsrc *src,
			struct readahead_control *rac);
int sharefs_read_folio_sync(const struct sharefs_rsrc *src,
			    struct folio *folio);

/* zmap.c: one extent of a compressed file */
enum {
	SHAREFS_ZALG_SHIFTED = SHAREFS_Z_ALG_MAX,	/* PLAIN, as stored */
	SHAREFS_ZALG_INTERLACED,			/* PLAIN, rotated */
};
#define SHAREFS_ZMAP_INLINE	0x01	/* pcluster inline in the metadata */
#define SHAREFS_ZMAP_FRAGMENT	0x02	/* bytes in the packed inode at pa */
#define SHAREFS_ZMAP_PARTIAL	0x04	/* a prefix of its pcluster's output */

struct sharefs_zmap {
	u64 la;			/* the extent starts here in the file */
	u64 llen;		/* bytes from la known to be in it (see zmap.c) */
	bool full;		/* la + llen is the extent's true end */
	u64 pa;			/* pcluster image byte, or packed inode offset */
	u32 plen;		/* pcluster bytes (0 for fragments) */
	u8 alg;			/* SHAREFS_Z_ALG_* or SHAREFS_ZALG_* */
	u8 flags;		/* SHAREFS_ZMAP_* */
};

int sharefs_z_map(struct inode *inode, u64 pos, u64 limit,
		  struct sharefs_zmap *map);
int sharefs_z_fiemap(struct inode *inode, struct fiemap_extent_info *fieinfo,
		     u64 start, u64 len);

/* decompress.c */
int sharefs_z_load_cfgs(struct super_block *sb, u16 algs);
struct sharefs_zstreams;
struct sharefs_zreq {
	const u8 *in;			/* the pcluster */
	unsigned int inlen;
	unsigned int padscan;		/* leading bytes that may be padding */
	u8 *out;			/* its output's first outlen bytes */
	unsigned int outlen;
	u8 alg;				/* SHAREFS_Z_ALG_* */
};
int sharefs_z_decompress(struct super_block *sb, struct sharefs_zstreams **zs,
			 struct sharefs_zreq *rq);
void sharefs_z_streams_put(struct sharefs_zstreams *zs);
void sharefs_z_streams_drain(void);

/* zread.c */
int sharefs_zread_init(void);
void sharefs_zread_exit(void);
bool sharefs_z_inode(struct inode *inode);
void sharefs_z_read_ahead(const struct sharefs_rsrc *src,
			  struct readahead_control *rac);
int sharefs_z_read_folio(const struct sharefs_rsrc *src, struct folio *folio);

/* inode.c */
extern const struct inode_operations sharefs_generic_iops;
extern const struct inode_operations sharefs_symlink_iops;
extern const struct inode_operations sharefs_special_iops;
struct inode *sharefs_iget(struct super_block *sb, u64 nid);
int sharefs_getattr(sharefs_idmap_t *idmap, const struct path *path,
		    struct kstat *stat, u32 request_mask, unsigned int flags);

/* dir.c */
extern const struct file_operations sharefs_dir_fops;
struct sharefs_dirblk {
	const struct sharefs_dirent *de;	/* the block's dirents */
	unsigned int len;		/* valid bytes of the block */
	unsigned int count;		/* number of dirents */
};
int sharefs_dirblk_init(struct inode *dir, struct sharefs_dirblk *blk,
			const void *data, unsigned int len);
int sharefs_dirblk_name(struct inode *dir, const struct sharefs_dirblk *blk,
			unsigned int i, const char **name, unsigned int *len);
void *sharefs_dir_bread(struct inode *dir, struct sharefs_buf *buf, u64 blknr,
			struct sharefs_dirblk *blk);

/* namei.c */
extern const struct inode_operations sharefs_dir_iops;
int sharefs_find_dirent(struct inode *dir, const struct qstr *q, u64 *nid);

/* export.c */
extern const struct export_operations sharefs_export_ops;

/* share.c */
struct sharefs_shared {
	struct inode vfs_inode;		/* on the internal pseudo-mount */
	u8 digest[SHAREFS_FP_DIGEST_LEN];	/* SHA-256 of the content */
	char domain[SHAREFS_DOMAIN_MAX + 1];	/* "" for the default one */
	u8 blkbits;			/* the members' block size */
	bool verified;			/* digest: fs-verity's, pages checked */
	struct sharefs_verity *verity;	/* when verified (verity.c) */
	spinlock_t lock;		/* protects members, nr_members */
	struct list_head members;	/* sharefs_inode.share_link */
	unsigned int nr_members;
	struct list_head all;		/* on the list of all shared inodes */
};

struct sharefs_share_stats {
	u64 shared_inodes;
	u64 members;
	u64 resident_bytes;		/* shared page cache */
	u64 saved_bytes;		/* page cache not duplicated */
	u64 mismatches;
};

int sharefs_share_init(void);
void sharefs_share_exit(void);
int sharefs_share_init_sbi(struct sharefs_sb_info *sbi);
void sharefs_share_exit_sbi(struct sharefs_sb_info *sbi);
void sharefs_share_shutdown(struct super_block *sb);
void sharefs_share_fill_super(struct super_block *sb);
void sharefs_share_kill_sb(struct super_block *sb);
void sharefs_share_detach(struct inode *inode);
int sharefs_share_join(struct inode *inode, struct file *file);
bool sharefs_is_shared_inode(const struct inode *inode);
void sharefs_share_stats_global(struct sharefs_share_stats *st);
void sharefs_share_stats_sb(struct super_block *sb,
			    struct sharefs_share_stats *st);

/* sysfs.c */
int sharefs_sysfs_init(void);
void sharefs_sysfs_exit(void);
int sharefs_sysfs_register(struct super_block *sb);
void sharefs_sysfs_unregister(struct super_block *sb);

/* xattr.c */
extern const struct xattr_handler *sharefs_xattr_handlers[];
int sharefs_getxattr(struct inode *inode, int index, const char *name,
		     void *buffer, size_t size);
ssize_t sharefs_listxattr(struct dentry *dentry, char *buffer, size_t size);
struct posix_acl *sharefs_get_acl(struct inode *inode, int type, bool rcu);
int sharefs_xattr_prefixes_init(struct super_block *sb);
void sharefs_xattr_prefixes_exit(struct sharefs_sb_info *sbi);

#endif /* _SHAREFS_INTERNAL_H */
