/* SPDX-License-Identifier: GPL-2.0-only OR Apache-2.0 */
/*
 * verity_fs.h - fs-verity metadata in a sharefs image (mkfs.sharefs --verity).
 *
 * On-disk types only, little-endian, fixed-width, sizes checked at compile
 * time.  The kernel side will carry the same definitions in
 * fs/sharefs/sharefs_fs.h; until then this header is the format's one
 * definition, documented in Documentation/design.md ("Verity metadata").
 *
 * Every non-empty regular file of a --verity image carries the xattr
 * trusted.sharefs.verity (index TRUSTED, suffix "sharefs.verity", inline
 * with the inode): struct sharefs_verity_xattr.  Its descriptor is the one
 * fs-verity hashes (the kernel's Documentation/filesystems/fsverity.rst,
 * "File digest computation"): SHA-256 of those 256 bytes is the file's
 * fs-verity digest, what `fsverity digest` prints.  The Merkle tree, in
 * fs-verity's own layout (the root level first, each level's blocks in
 * order, the leaf level last; every block 4096 bytes, zero-padded), lies
 * in tree_size / block size image blocks from tree_blkaddr on, owned by no
 * inode.  Files with equal content share one tree.  A file of one data
 * block has no tree: the root hash is the hash of that block.
 */
#ifndef SHAREFS_TOOLS_VERITY_FS_H
#define SHAREFS_TOOLS_VERITY_FS_H

#define SHAREFS_VERITY_XATTR_NAME	"trusted.sharefs.verity"
#define SHAREFS_VERITY_SUFFIX		"sharefs.verity"	/* after "trusted." */
#define SHAREFS_VERITY_MAGIC		"SFV1"
#define SHAREFS_VERITY_MAGIC_LEN	4

#define SHAREFS_VERITY_VERSION		1	/* fsverity_descriptor.version */
#define SHAREFS_VERITY_HASH_SHA256	1	/* FS_VERITY_HASH_ALG_SHA256 */
#define SHAREFS_VERITY_LOG_BLOCKSIZE	12	/* data and tree blocks of 4096 */
#define SHAREFS_VERITY_BLOCK_SIZE	(1u << SHAREFS_VERITY_LOG_BLOCKSIZE)
#define SHAREFS_VERITY_DIGEST_SIZE	32	/* SHA-256 */
#define SHAREFS_VERITY_MAX_SALT		32

/*
 * fs-verity's struct fsverity_descriptor, as it is hashed into the file
 * digest: 256 bytes.  Offsets are within the descriptor.
 */
struct sharefs_verity_descriptor {
	__u8 version;			/* 0: SHAREFS_VERITY_VERSION */
	__u8 hash_algorithm;		/* 1: SHAREFS_VERITY_HASH_SHA256 */
	__u8 log_blocksize;		/* 2: SHAREFS_VERITY_LOG_BLOCKSIZE */
	__u8 salt_size;			/* 3: bytes of salt, 0 = none (default) */
	__le32 sig_size;		/* 4: 0, as the digest hashes it */
	__le64 data_size;		/* 8: the file's size in bytes */
	__u8 root_hash[64];		/* 16: tree root hash, zero-padded */
	__u8 salt[32];			/* 80: salt, zero-padded */
	__u8 reserved[144];		/* 112: zero */
};

/* The value of trusted.sharefs.verity: 272 bytes. */
struct sharefs_verity_xattr {
	__u8 magic[4];			/* 0: SHAREFS_VERITY_MAGIC, no NUL */
	__le32 tree_blkaddr;		/* 4: image block of the tree; 0 if tree_size is 0 */
	__le32 tree_size;		/* 8: tree bytes, a multiple of 4096; 0 for files <= 4096 bytes */
	__le32 reserved;		/* 12: zero */
	__u8 descriptor[256];		/* 16: struct sharefs_verity_descriptor */
};

_Static_assert(sizeof(struct sharefs_verity_descriptor) == 256,
	       "fsverity_descriptor is 256 bytes");
_Static_assert(sizeof(struct sharefs_verity_xattr) == 272,
	       "trusted.sharefs.verity is 272 bytes");

#endif /* SHAREFS_TOOLS_VERITY_FS_H */
