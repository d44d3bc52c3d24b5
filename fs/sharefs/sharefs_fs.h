/* SPDX-License-Identifier: GPL-2.0-only OR Apache-2.0 */
/*
 * sharefs_fs.h - the EROFS on-disk format, as sharefs reads and writes it.
 *
 * On-disk types only: every field is little-endian and fixed-width, and every
 * structure has its size checked at compile time on both sides (kernel and
 * tools/).  Written from the published format description (the kernel's
 * Documentation/filesystems/erofs.rst and the erofs-utils format docs); the
 * names follow the documentation's field names so the two can be compared.
 *
 * Included from the kernel module and from userspace tools/.  Userspace must
 * provide __le16/__le32/__le64/__u8 (tools/lib/compat.h does).
 */
#ifndef _SHAREFS_FS_H
#define _SHAREFS_FS_H

#define SHAREFS_MAGIC			0xE0F5E1E2	/* EROFS_SUPER_MAGIC_V1 */
#define SHAREFS_SUPER_OFFSET		1024	/* room for boot sectors */
#define SHAREFS_MIN_BLKSZBITS		9
#define SHAREFS_ISLOTBITS		5	/* nids count 32-byte slots */
#define SHAREFS_NULL_ADDR		0xFFFFFFFFu	/* hole in a chunk map */

/* feature_compat: a reader may ignore bits it does not know */
#define SHAREFS_FEATURE_COMPAT_SB_CHKSUM		0x00000001
#define SHAREFS_FEATURE_COMPAT_MTIME			0x00000002
#define SHAREFS_FEATURE_COMPAT_XATTR_FILTER		0x00000004
#define SHAREFS_FEATURE_COMPAT_SHARED_EA_IN_METABOX	0x00000008
#define SHAREFS_FEATURE_COMPAT_PLAIN_XATTR_PFX		0x00000010
#define SHAREFS_FEATURE_COMPAT_ISHARE_XATTRS		0x00000020

/* feature_incompat: a reader must refuse bits it does not know */
#define SHAREFS_FEATURE_INCOMPAT_ZERO_PADDING		0x00000001
#define SHAREFS_FEATURE_INCOMPAT_COMPR_CFGS		0x00000002
#define SHAREFS_FEATURE_INCOMPAT_BIG_PCLUSTER		0x00000002
#define SHAREFS_FEATURE_INCOMPAT_CHUNKED_FILE		0x00000004
#define SHAREFS_FEATURE_INCOMPAT_DEVICE_TABLE		0x00000008
#define SHAREFS_FEATURE_INCOMPAT_COMPR_HEAD2		0x00000008
#define SHAREFS_FEATURE_INCOMPAT_ZTAILPACKING		0x00000010
#define SHAREFS_FEATURE_INCOMPAT_FRAGMENTS		0x00000020
#define SHAREFS_FEATURE_INCOMPAT_DEDUPE			0x00000020
#define SHAREFS_FEATURE_INCOMPAT_XATTR_PREFIXES		0x00000040
#define SHAREFS_FEATURE_INCOMPAT_48BIT			0x00000080
#define SHAREFS_FEATURE_INCOMPAT_METABOX		0x00000100

/* The superblock, 128 bytes at byte 1024 of the image. */
struct sharefs_super_block {
	__le32 magic;			/* SHAREFS_MAGIC */
	__le32 checksum;		/* crc32c(~0) of [1024, blksz) (blksz bytes if blksz <= 1024), this field 0 */
	__le32 feature_compat;		/* SHAREFS_FEATURE_COMPAT_* */
	__u8 blkszbits;			/* block size = 1 << blkszbits, >= 9 */
	__u8 sb_extslots;		/* extra 16-byte slots after these 128 bytes */
	__le16 rootnid_2b;		/* nid of the root directory */
	__le64 inos;			/* number of inodes */
	__le64 epoch;			/* base of all timestamps, seconds */
	__le32 fixed_nsec;		/* nanoseconds of every compact inode */
	__le32 blocks;			/* image size in blocks */
	__le32 meta_blkaddr;		/* block of nid 0 */
	__le32 xattr_blkaddr;		/* block of shared xattr id 0 */
	__u8 uuid[16];			/* volume uuid */
	__u8 volume_name[16];		/* label, not NUL-terminated when full */
	__le32 feature_incompat;	/* SHAREFS_FEATURE_INCOMPAT_* */
	__le16 u1;			/* compression: algorithms or lz4 distance */
	__le16 extra_devices;		/* number of external devices */
	__le16 devt_slotoff;		/* device table, in 128-byte slots */
	__u8 dirblkbits;		/* directory block = block << dirblkbits; 0 */
	__u8 xattr_prefix_count;	/* entries in the long xattr prefix table */
	__le32 xattr_prefix_start;	/* prefix table offset, in 4-byte units */
	__le64 packed_nid;		/* nid of the packed inode, 0 if none */
	__u8 xattr_filter_reserved;	/* non-zero disables the name filter */
	__u8 ishare_xattr_prefix_id;	/* long prefix naming the fingerprint */
	__u8 reserved[2];
	__le32 build_time;		/* creation time, seconds after epoch */
	__le64 rootnid_8b;		/* 48BIT: 64-bit root nid */
	__le64 reserved2;
};

/* i_format: bit 0 version, bits 1-3 data layout, bit 4 nlink-1 / dot-omitted */
#define SHAREFS_I_VERSION_MASK		0x0001
#define SHAREFS_I_VERSION_COMPACT	0
#define SHAREFS_I_VERSION_EXTENDED	1
#define SHAREFS_I_DATALAYOUT_SHIFT	1
#define SHAREFS_I_DATALAYOUT_MASK	0x0007
#define SHAREFS_I_NLINK_1_BIT		0x0010	/* compact non-dir: nlink is 1 */
#define SHAREFS_I_ALL_BITS		0x001f

/* data layouts */
#define SHAREFS_INODE_FLAT_PLAIN		0
#define SHAREFS_INODE_COMPRESSED_FULL		1
#define SHAREFS_INODE_FLAT_INLINE		2
#define SHAREFS_INODE_COMPRESSED_COMPACT	3
#define SHAREFS_INODE_CHUNK_BASED		4

/* i_u for CHUNK_BASED: chunk size = block << (format & BLKBITS_MASK) */
#define SHAREFS_CHUNK_FORMAT_BLKBITS_MASK	0x001f
#define SHAREFS_CHUNK_FORMAT_INDEXES		0x0020	/* 8-byte entries */
#define SHAREFS_CHUNK_FORMAT_48BIT		0x0040
#define SHAREFS_CHUNK_FORMAT_ALL		0x007f

struct sharefs_inode_chunk_info {
	__le16 format;			/* SHAREFS_CHUNK_FORMAT_* */
	__le16 reserved;
};

union sharefs_inode_i_u {
	__le32 startblk_lo;		/* flat layouts: first data block */
	__le32 blocks_lo;		/* compressed layouts */
	__le32 rdev;			/* devices: new_encode_dev() form */
	struct sharefs_inode_chunk_info c;	/* CHUNK_BASED */
};

union sharefs_inode_i_nb {
	__le16 nlink;			/* compact, NLINK_1_BIT clear */
	__le16 blocks_hi;		/* compressed layouts */
	__le16 startblk_hi;		/* flat layouts with NLINK_1_BIT or extended */
};

/* 32-byte compact inode */
struct sharefs_inode_compact {
	__le16 i_format;		/* version, layout; see above */
	__le16 i_xattr_icount;		/* 0, or xattr area = 12 + 4 * (n - 1) */
	__le16 i_mode;			/* type and permissions */
	union sharefs_inode_i_nb i_nb;	/* nlink or high block bits */
	__le32 i_size;			/* file size */
	__le32 i_mtime;			/* seconds after sb epoch */
	union sharefs_inode_i_u i_u;	/* layout specific */
	__le32 i_ino;			/* inode number for 32-bit stat */
	__le16 i_uid;
	__le16 i_gid;
	__le32 i_reserved;
};

/* 64-byte extended inode */
struct sharefs_inode_extended {
	__le16 i_format;		/* version, layout; see above */
	__le16 i_xattr_icount;		/* as in the compact inode */
	__le16 i_mode;			/* type and permissions */
	union sharefs_inode_i_nb i_nb;	/* high block bits (flat layouts) */
	__le64 i_size;			/* file size */
	union sharefs_inode_i_u i_u;	/* layout specific */
	__le32 i_ino;			/* inode number for 32-bit stat */
	__le32 i_uid;
	__le32 i_gid;
	__le64 i_mtime;			/* seconds since the Unix epoch */
	__le32 i_mtime_nsec;
	__le32 i_nlink;
	__u8 i_reserved2[16];
};

/* chunk map entries, placed after the inode and its xattrs, aligned to size */
struct sharefs_inode_chunk_index {
	__le16 startblk_hi;		/* 48BIT: high bits of the block */
	__le16 device_id;		/* 0: the primary device */
	__le32 startblk_lo;		/* SHAREFS_NULL_ADDR for a hole */
};
#define SHAREFS_BLOCK_MAP_ENTRY_SIZE	4	/* __le32 block, no INDEXES */

/* xattrs: header after the inode, then shared ids, then inline entries */
struct sharefs_xattr_ibody_header {
	__le32 h_name_filter;		/* inverted bloom filter (XATTR_FILTER) */
	__u8 h_shared_count;		/* __le32 shared ids that follow */
	__u8 h_reserved2[7];
};

struct sharefs_xattr_entry {
	__u8 e_name_len;		/* name suffix length */
	__u8 e_name_index;		/* SHAREFS_XATTR_INDEX_*, or LONG_PREFIX */
	__le16 e_value_size;		/* value length */
	/* name, then value; the entry is padded to 4 bytes */
};

#define SHAREFS_XATTR_INDEX_USER		1
#define SHAREFS_XATTR_INDEX_POSIX_ACL_ACCESS	2
#define SHAREFS_XATTR_INDEX_POSIX_ACL_DEFAULT	3
#define SHAREFS_XATTR_INDEX_TRUSTED		4
#define SHAREFS_XATTR_INDEX_LUSTRE		5
#define SHAREFS_XATTR_INDEX_SECURITY		6
#define SHAREFS_XATTR_LONG_PREFIX		0x80
#define SHAREFS_XATTR_LONG_PREFIX_MASK		0x7f

/* one entry of the long prefix table: __le16 size, then this, 4-aligned */
struct sharefs_xattr_long_prefix {
	__u8 base_index;		/* SHAREFS_XATTR_INDEX_* */
	char infix[];			/* size - 1 bytes, not NUL-terminated */
};

#define SHAREFS_XATTR_ALIGN(x)	(((x) + 3) & ~3u)

/* directories: blocks of dirents, then the names, each block sorted */
struct sharefs_dirent {
	__le64 nid;			/* target inode */
	__le16 nameoff;			/* name offset in this block */
	__u8 file_type;			/* SHAREFS_FT_* */
	__u8 reserved;
} __attribute__((__packed__));	/* 12 bytes: the __le64 would pad it to 16 */

#define SHAREFS_FT_UNKNOWN	0
#define SHAREFS_FT_REG_FILE	1
#define SHAREFS_FT_DIR		2
#define SHAREFS_FT_CHRDEV	3
#define SHAREFS_FT_BLKDEV	4
#define SHAREFS_FT_FIFO		5
#define SHAREFS_FT_SOCK		6
#define SHAREFS_FT_SYMLINK	7
#define SHAREFS_FT_MAX		8

#define SHAREFS_NAME_LEN	255

/* The content fingerprint: "sha256:" then 32 raw bytes of SHA-256. */
#define SHAREFS_FP_XATTR_NAME	"trusted.fingerprint"
#define SHAREFS_FP_SUFFIX	"fingerprint"	/* after the "trusted." index */
#define SHAREFS_FP_TAG		"sha256:"
#define SHAREFS_FP_TAG_LEN	7
#define SHAREFS_FP_DIGEST_LEN	32
#define SHAREFS_FP_VALUE_LEN	(SHAREFS_FP_TAG_LEN + SHAREFS_FP_DIGEST_LEN)

/*
 * Verity metadata (mkfs.sharefs --verity; sharefs's own, not EROFS's): the
 * xattr trusted.sharefs.verity of a regular file, 48 + salt_size bytes.
 * The fs-verity descriptor is not stored but rebuilt from it and i_size;
 * SHA-256 of the descriptor is the fs-verity file digest.  The Merkle tree
 * (fs-verity's: 4096-byte blocks of 32-byte SHA-256 hashes, the levels from
 * the top one down to the leaves) lies at byte tree_pos of the image with
 * its padding removed: each level as its hashes, back to back.  A file of
 * one block has no tree (tree_pos 0).
 */
#define SHAREFS_VERITY_SUFFIX	"sharefs.verity"	/* after "trusted." */
#define SHAREFS_VERITY_MAGIC	"SFV2"
#define SHAREFS_VERITY_LOG_BLOCKSIZE	12
#define SHAREFS_VERITY_HASH_SHA256	1
#define SHAREFS_VERITY_MAX_SALT	32

struct sharefs_verity_xattr {
	__u8 magic[4];		/* SHAREFS_VERITY_MAGIC */
	__u8 log_blocksize;	/* 12 */
	__u8 hash_algorithm;	/* 1: SHA-256 */
	__u8 salt_size;		/* 0..32 */
	__u8 reserved;
	__le64 tree_pos;	/* byte offset of the packed tree */
	__u8 root_hash[32];
	__u8 salt[];		/* salt_size bytes */
};

/* fs-verity's descriptor, as hashed into the file digest; never stored */
struct sharefs_verity_descriptor {
	__u8 version;		/* 1 */
	__u8 hash_algorithm;
	__u8 log_blocksize;
	__u8 salt_size;
	__le32 sig_size;	/* 0 */
	__le64 data_size;
	__u8 root_hash[64];
	__u8 salt[32];
	__u8 reserved[144];
};

/* Compile-time size checks; the caller supplies SHAREFS_STATIC_ASSERT. */
#define SHAREFS_CHECK_ONDISK_SIZES(assert)				\
	do {								\
		assert(sizeof(struct sharefs_super_block) == 128);	\
		assert(sizeof(struct sharefs_inode_compact) == 32);	\
		assert(sizeof(struct sharefs_inode_extended) == 64);	\
		assert(sizeof(struct sharefs_inode_chunk_index) == 8);	\
		assert(sizeof(struct sharefs_xattr_ibody_header) == 12);\
		assert(sizeof(struct sharefs_xattr_entry) == 4);	\
		assert(sizeof(struct sharefs_dirent) == 12);		\
		assert(sizeof(struct sharefs_verity_xattr) == 48);	\
		assert(sizeof(struct sharefs_verity_descriptor) == 256); \
	} while (0)

#endif /* _SHAREFS_FS_H */
