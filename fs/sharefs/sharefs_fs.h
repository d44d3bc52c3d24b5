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
#define SHAREFS_FEATURE_INCOMPAT_ZERO_PADDING		0x00000001	/* see the compressed part */
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
	__le16 u1;			/* COMPR_CFGS: bitmap of SHAREFS_Z_ALG_*; else lz4 max distance */
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

/*
 * Compressed files (data layouts COMPRESSED_FULL and COMPRESSED_COMPACT).
 *
 * A compressed file is cut into logical clusters (lclusters) of
 * 1 << lclusterbits bytes.  Each lcluster has an index entry telling
 * whether a compressed extent starts in it (a HEAD lcluster: HEAD1, HEAD2,
 * or PLAIN for an uncompressed extent) and where, or how far it lies from
 * the HEAD it belongs to (NONHEAD).  An extent runs from the decompressed
 * offset clusterofs of its HEAD lcluster to the clusterofs of the next HEAD
 * (or to i_size); its bytes are the decompression of one physical cluster
 * (pcluster): 1 block, or cblkcnt blocks with big pclusters.
 *
 * Where things lie, counting from the end of the inode and its xattrs
 * (iend = inode position + inode size + xattr size):
 *   map header     at SHAREFS_Z_MAP_HEADER_POS(iend), 8 bytes;
 *   full indexes   at SHAREFS_Z_FULL_INDEX_POS(iend), 8 bytes per lcluster;
 *   compact packs  at SHAREFS_Z_MAP_HEADER_END(iend), see below;
 *   an inline (ztailpacking) pcluster of h_idata_size bytes right after the
 *   pack (compact) or index (full) of the last lcluster, in the same block.
 * The number of lclusters is DIV_ROUND_UP(i_size, 1 << lclusterbits).
 */

#define SHAREFS_SB_EXTSLOT_SIZE		16	/* sb_extslots unit */

/*
 * Without COMPR_CFGS an image may use LZ4 only, with 1-block pclusters.
 * ZERO_PADDING: compressed bytes end at the end of their pcluster and the
 * space before them is zero; readers skip those zeros (within the first
 * block) to find where the compressed stream starts.  Without it only LZ4
 * is valid and its stream starts at the pcluster's first byte.
 */

/* algorithm ids: h_algorithmtype nibbles and bits of available_compr_algs */
#define SHAREFS_Z_ALG_LZ4		0	/* LZ4 block format (also lz4hc output) */
#define SHAREFS_Z_ALG_LZMA		1	/* MicroLZMA (xz-embedded's microlzma) */
#define SHAREFS_Z_ALG_DEFLATE		2	/* raw DEFLATE, no zlib header */
#define SHAREFS_Z_ALG_ZSTD		3	/* Zstandard frames */
#define SHAREFS_Z_ALG_MAX		4
#define SHAREFS_Z_ALL_ALGS		((1u << SHAREFS_Z_ALG_MAX) - 1)

/*
 * Encoded sizes the format allows: a pcluster is at most 1 MiB on disk and
 * an extent decodes to at most 12 MiB (stock erofs refuses more).
 */
#define SHAREFS_Z_PCLUSTER_MAX_SIZE	(1024 * 1024)
#define SHAREFS_Z_PCLUSTER_MAX_DSIZE	(12 * 1024 * 1024)

/*
 * COMPR_CFGS: after the superblock (at 1024 + 128 + 16 * sb_extslots) comes
 * one record per bit set in u1, lowest bit first.  Each record starts on a
 * 4-byte boundary with a __le16 payload size (0 means 65536), then that
 * many payload bytes (the struct below, possibly longer); a record may
 * cross block boundaries.
 */
struct sharefs_z_lz4_cfgs {
	__le16 max_distance;		/* LZ4 window; informational */
	__le16 max_pclusterblks;	/* largest pcluster, blocks; 0 = 1 */
	__u8 reserved[10];
} __attribute__((__packed__));

struct sharefs_z_lzma_cfgs {
	__le32 dict_size;		/* <= SHAREFS_Z_LZMA_MAX_DICT_SIZE */
	__le16 format;			/* 0: MicroLZMA */
	__u8 reserved[8];
} __attribute__((__packed__));
#define SHAREFS_Z_LZMA_MAX_DICT_SIZE	(8 * SHAREFS_Z_PCLUSTER_MAX_SIZE)

struct sharefs_z_deflate_cfgs {
	__u8 windowbits;		/* 8..15 */
	__u8 reserved[5];
} __attribute__((__packed__));

struct sharefs_z_zstd_cfgs {
	__u8 format;			/* 0: zstd frames */
	__u8 windowlog;			/* window log - 10 */
	__u8 reserved[4];
} __attribute__((__packed__));
#define SHAREFS_Z_ZSTD_WINDOWLOG_MIN	10	/* windowlog is relative to this */
#define SHAREFS_Z_ZSTD_MAX_DICT_SIZE	SHAREFS_Z_PCLUSTER_MAX_SIZE

/* h_advise bits */
#define SHAREFS_Z_ADVISE_COMPACTED_2B		0x0001	/* COMPACT: 2-byte packs in the middle */
#define SHAREFS_Z_ADVISE_EXTENTS		0x0001	/* FULL (48BIT): extent records, not lclusters */
#define SHAREFS_Z_ADVISE_BIG_PCLUSTER_1		0x0002	/* HEAD1 pclusters may span blocks */
#define SHAREFS_Z_ADVISE_BIG_PCLUSTER_2		0x0004	/* HEAD2 and PLAIN pclusters may span blocks */
#define SHAREFS_Z_ADVISE_INLINE_PCLUSTER	0x0008	/* ztailpacking: last pcluster inline */
#define SHAREFS_Z_ADVISE_INTERLACED_PCLUSTER	0x0010	/* PLAIN pclusters are rotated, see below */
#define SHAREFS_Z_ADVISE_FRAGMENT_PCLUSTER	0x0020	/* the tail lies in the packed inode */
#define SHAREFS_Z_ADVISE_EXTRECSZ_BIT		1	/* EXTENTS: record size 4 << ((advise >> 1) & 3) */
#define SHAREFS_Z_ADVISE_EXTRECSZ_MASK		0x3

/*
 * h_clusterbits: bits 0-3 lclusterbits - blkszbits (readers up to 6.12
 * honour bits 0-2 only; mkfs writes <= 7), bits 4-6 reserved, bit 7 set:
 * the whole file lies in the packed inode, and the 8 header bytes read as a
 * __le64 with bit 63 cleared are its byte offset there.
 */
#define SHAREFS_Z_CLUSTERBITS_MASK	0x0f
#define SHAREFS_Z_FRAGMENT_INODE_BIT	7

/* The map header, 8 bytes at ALIGN(iend, 8). */
struct sharefs_z_map_header {
	union {
		__le32 h_fragmentoff;	/* FRAGMENT_PCLUSTER: tail's offset in the packed inode (low 32 bits) */
		struct {
			__le16 h_reserved1;
			__le16 h_idata_size;	/* INLINE_PCLUSTER: inline pcluster bytes */
		};
		__le32 h_extents_lo;	/* EXTENTS: extent count, low bits */
	};
	__le16 h_advise;		/* SHAREFS_Z_ADVISE_* */
	union {
		struct {
			__u8 h_algorithmtype;	/* bits 0-3: HEAD1 alg, 4-7: HEAD2 alg */
			__u8 h_clusterbits;	/* see SHAREFS_Z_CLUSTERBITS_MASK */
		};
		__le16 h_extents_hi;	/* EXTENTS: extent count, high bits */
	};
};

#define SHAREFS_Z_MAP_HEADER_POS(iend)	(((iend) + 7) & ~7ull)
#define SHAREFS_Z_MAP_HEADER_END(iend)	\
	(SHAREFS_Z_MAP_HEADER_POS(iend) + sizeof(struct sharefs_z_map_header))
/* full indexes skip 8 reserved bytes after the header */
#define SHAREFS_Z_FULL_INDEX_POS(iend)	(SHAREFS_Z_MAP_HEADER_END(iend) + 8)

/*
 * lcluster types.  PLAIN: an uncompressed extent starts here, at
 * clusterofs, whose bytes are its pcluster's (SHIFTED: from the pcluster's
 * first byte; INTERLACED: rotated so that output byte i comes from pcluster
 * byte (plen - cur + i) % plen, cur = blksz - la % blksz).  HEAD1/HEAD2: a
 * compressed extent starts at clusterofs, with the header's HEAD1/HEAD2
 * algorithm.  NONHEAD: inside the extent of an earlier HEAD.
 */
#define SHAREFS_Z_LCLUSTER_PLAIN	0
#define SHAREFS_Z_LCLUSTER_HEAD1	1
#define SHAREFS_Z_LCLUSTER_NONHEAD	2
#define SHAREFS_Z_LCLUSTER_HEAD2	3
#define SHAREFS_Z_LCLUSTER_TYPE_MASK	0x0003

/* di_advise of a full index HEAD: the extent is a part of its pcluster's
 * output (dedupe), so the pcluster decodes to more than the extent */
#define SHAREFS_Z_LI_PARTIAL_REF	0x8000
/*
 * delta[0] of the first NONHEAD after a big-pcluster HEAD (full and
 * compact): the low bits are the pcluster's block count, not a distance
 * (which is 1 there anyway).
 */
#define SHAREFS_Z_LI_D0_CBLKCNT		0x0800

/* A full (COMPRESSED_FULL) lcluster index, 8 bytes. */
struct sharefs_z_lcluster_index {
	__le16 di_advise;		/* bits 0-1 type; PARTIAL_REF */
	__le16 di_clusterofs;		/* HEAD: where the extent starts in this lcluster */
	union {
		__le32 blkaddr;		/* HEAD: first block of the pcluster */
		__le16 delta[2];	/* NONHEAD: [0] lclusters back to the HEAD (or CBLKCNT),
					 *          [1] lclusters on to the next HEAD */
	} di_u;
};

/*
 * Compact (COMPRESSED_COMPACT) indexes come in packs that hold vcnt
 * entries of encodebits bits each, little-endian bit packed, followed by a
 * __le32 blkaddr (the pack's base block):
 *   4-byte entries: packs of 8 bytes, vcnt 2, encodebits 16;
 *   2-byte entries: packs of 32 bytes, vcnt 16, encodebits 14 (only when
 *     lclusterbits <= 12).
 * Order: ((32 - start % 32) / 4) & 7 lclusters in 4-byte entries (to align
 * the 2-byte packs to 32 bytes), then, with COMPACTED_2B, the largest
 * multiple of 16 of the rest in 2-byte entries, then the rest in 4-byte
 * entries.  An entry is lo | type << lobits, lobits = max(lclusterbits, 12):
 * HEAD/PLAIN: lo = clusterofs; NONHEAD: lo = delta[0] (or CBLKCNT | count),
 * except the last entry of a pack, whose lo is delta[1].  A HEAD's block is
 * the pack's blkaddr plus the blocks of the pclusters that start earlier in
 * the pack (1 each, or CBLKCNT counts with big pclusters).
 */
#define SHAREFS_Z_COMPACT_4B_PACK	8
#define SHAREFS_Z_COMPACT_4B_VCNT	2
#define SHAREFS_Z_COMPACT_2B_PACK	32
#define SHAREFS_Z_COMPACT_2B_VCNT	16
#define SHAREFS_Z_COMPACT_2B_MAX_LCLUSTERBITS	12
#define SHAREFS_Z_COMPACT_ALIGN		32	/* 2-byte packs start on this */
#define SHAREFS_Z_COMPACT_MIN_LOBITS	12

/* 48BIT + EXTENTS: one record per extent (recsize 4, 8, 16 or 32 bytes;
 * the shorter ones keep only the leading fields) */
#define SHAREFS_Z_EXTENT_PLEN_PARTIAL	(1u << 27)
#define SHAREFS_Z_EXTENT_PLEN_FMT_BIT	28
#define SHAREFS_Z_EXTENT_PLEN_MASK	((SHAREFS_Z_PCLUSTER_MAX_SIZE << 1) - 1)
struct sharefs_z_extent {
	__le32 plen;			/* encoded length, PARTIAL, alg << FMT_BIT */
	__le32 pstart_lo;		/* physical byte offset */
	__le32 pstart_hi;
	__le32 lstart_lo;		/* logical byte offset */
	__le32 lstart_hi;
	__u8 reserved[12];
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
		assert(sizeof(struct sharefs_z_lz4_cfgs) == 14);	\
		assert(sizeof(struct sharefs_z_lzma_cfgs) == 14);	\
		assert(sizeof(struct sharefs_z_deflate_cfgs) == 6);	\
		assert(sizeof(struct sharefs_z_zstd_cfgs) == 6);	\
		assert(sizeof(struct sharefs_z_map_header) == 8);	\
		assert(sizeof(struct sharefs_z_lcluster_index) == 8);	\
		assert(sizeof(struct sharefs_z_extent) == 32);		\
		assert(sizeof(struct sharefs_verity_descriptor) == 256); \
	} while (0)

#endif /* _SHAREFS_FS_H */
