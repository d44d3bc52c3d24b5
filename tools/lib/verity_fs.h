/* SPDX-License-Identifier: GPL-2.0-only OR Apache-2.0 */
/*
 * verity_fs.h - fs-verity metadata in a sharefs image (mkfs.sharefs --verity).
 *
 * The on-disk types are in fs/sharefs/sharefs_fs.h, shared with the
 * kernel; this header adds what only mkfs needs, and checks the field
 * offsets.  Documented in Documentation/design.md ("Verity metadata").
 *
 * Every non-empty regular file of a --verity image carries the xattr
 * trusted.sharefs.verity (index TRUSTED, suffix "sharefs.verity", inline
 * with the inode): struct sharefs_verity_xattr followed by salt_size bytes
 * of salt.  The fs-verity descriptor is not stored: a reader rebuilds it
 * (struct sharefs_verity_descriptor) from the xattr and i_size, and
 * SHA-256 of it is the file's fs-verity digest, what `fsverity digest`
 * prints (the kernel's Documentation/filesystems/fsverity.rst, "File
 * digest computation").
 *
 * The Merkle tree is stored packed at byte tree_pos of the image: fs-verity's
 * levels in fs-verity's order (the top level first, level 0, the hashes of
 * the data blocks, last), each level as its hashes back to back, without
 * the zero padding that fills fs-verity's 4096-byte tree blocks.  Level
 * k + 1 holds one hash per 128 hashes of level k; the top level is the
 * first of at most 128 hashes, and the hash of its block (zero-padded to
 * 4096 bytes) is root_hash.  Block b of a level, as fs-verity sees it, is
 * that level's hashes [128b, 128b + 128) zero-padded to 4096 bytes.  A
 * file of one data block has no tree (tree_pos 0): root_hash is the hash
 * of that block, zero-padded.  Trees lie back to back in a region of the
 * image owned by no inode; files with equal content share one tree.
 */
#ifndef SHAREFS_TOOLS_VERITY_FS_H
#define SHAREFS_TOOLS_VERITY_FS_H

#include <stddef.h>

#include "compat.h"	/* sharefs_fs.h: the structs and their constants */

#define SHAREFS_VERITY_XATTR_NAME	"trusted.sharefs.verity"
#define SHAREFS_VERITY_MAGIC_LEN	4
#define SHAREFS_VERITY_VERSION		1	/* fsverity_descriptor.version */
#define SHAREFS_VERITY_BLOCK_SIZE	(1u << SHAREFS_VERITY_LOG_BLOCKSIZE)
#define SHAREFS_VERITY_DIGEST_SIZE	32	/* SHA-256 */
#define SHAREFS_VERITY_HASHES_PER_BLOCK	(SHAREFS_VERITY_BLOCK_SIZE / SHAREFS_VERITY_DIGEST_SIZE)
#define SHAREFS_VERITY_TREE_ALIGN	32	/* tree_pos is a multiple of it */

/*
 * struct sharefs_verity_xattr (the value of trusted.sharefs.verity: 48
 * bytes, then salt_size bytes of salt) and struct
 * sharefs_verity_descriptor (fs-verity's descriptor as it is hashed into
 * the file digest, 256 bytes, never stored) are in sharefs_fs.h, shared
 * with the kernel; their field offsets are checked here.
 */
_Static_assert(sizeof(struct sharefs_verity_xattr) == 48,
	       "trusted.sharefs.verity is 48 bytes before the salt");
_Static_assert(offsetof(struct sharefs_verity_xattr, tree_pos) == 8 &&
	       offsetof(struct sharefs_verity_xattr, root_hash) == 16 &&
	       offsetof(struct sharefs_verity_xattr, salt) == 48,
	       "trusted.sharefs.verity field offsets");
_Static_assert(sizeof(struct sharefs_verity_descriptor) == 256,
	       "fsverity_descriptor is 256 bytes");
_Static_assert(offsetof(struct sharefs_verity_descriptor, data_size) == 8 &&
	       offsetof(struct sharefs_verity_descriptor, root_hash) == 16 &&
	       offsetof(struct sharefs_verity_descriptor, salt) == 80 &&
	       offsetof(struct sharefs_verity_descriptor, reserved) == 112,
	       "fsverity_descriptor field offsets");

#endif /* SHAREFS_TOOLS_VERITY_FS_H */
