/* SPDX-License-Identifier: GPL-2.0-only OR Apache-2.0 */
/*
 * mkfs.h - the image-writing library behind mkfs.sharefs.
 *
 * A build has four steps, each in its own file:
 *   walk.c / tar.c   read a source into an in-memory tree of nodes (tree.c);
 *   content.c        read each regular file once, fingerprinting the bytes
 *                    it stores, and store each distinct content once in
 *                    the data region (reader threads, ordered committer);
 *   verity.c         with --verity: an fs-verity Merkle tree and root hash
 *                    for each distinct content, computed from the bytes the
 *                    image stores (libfsverity), trees after the data;
 *   image.c          lay out inodes, xattrs, inline tails and directories
 *                    and write them with the superblock.
 * Everything that decides a byte of the image depends only on the input
 * (names are sorted, contents are placed in tree order), never on readdir
 * order or thread timing, so equal input gives an equal image.
 *
 * Image layout, in blocks:
 *   [superblock (+ long xattr prefix table)] [file data] [Merkle trees,
 *   --verity only] [inodes] [dir and symlink blocks].  File data comes
 *   first so a tar stream can be written straight into place; meta_blkaddr
 *   then points after it (and after the trees).
 */
#ifndef SHAREFS_TOOLS_MKFS_H
#define SHAREFS_TOOLS_MKFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "compat.h"
#include "verity_fs.h"

struct sharefs_opts {
	unsigned int blkszbits;		/* log2 block size, 9..12 */
	bool fingerprint;		/* write trusted.fingerprint */
	bool ishare;			/* also write the upstream ishare pointer */
	bool mtime_offsets;		/* compact inodes with i_mtime offsets */
	bool progress;			/* progress line on stderr */
	bool have_timestamp;
	int64_t timestamp;		/* build time (--timestamp, SOURCE_DATE_EPOCH) */
	bool have_uuid;
	uint8_t uuid[16];
	char label[16];
	int jobs;			/* worker threads */
	bool aufs;			/* OCI whiteouts in tar layers */
	bool verity;			/* write trusted.sharefs.verity and trees */
	unsigned int verity_salt_size;	/* 0: no salt (default) */
	uint8_t verity_salt[SHAREFS_VERITY_MAX_SALT];
	int zcodec;			/* -z: SHAREFS_ZC_*, NONE without -z */
	int zlevel;			/* the codec's level (lz4hc, zstd) */
	unsigned int pcluster;		/* -C: largest pcluster, bytes; 0: a block */
};

/* -z codecs (compress.c); lz4hc writes the LZ4 on-disk algorithm */
#define SHAREFS_ZC_NONE		0
#define SHAREFS_ZC_LZ4		1
#define SHAREFS_ZC_LZ4HC	2
#define SHAREFS_ZC_ZSTD		3

/*
 * One extent of a compressed content: uncompressed bytes [lstart, lstart +
 * llen) are the decompression of the pcluster of nblks blocks at block
 * pblk of the content (counted from its blkaddr), or, plain, its bytes.
 */
struct sharefs_zext {
	uint64_t lstart;
	uint32_t llen;
	uint32_t pblk;
	uint16_t nblks;
	bool plain;
};

struct sharefs_xattr {
	uint8_t index;			/* SHAREFS_XATTR_INDEX_* or LONG_PREFIX|id */
	uint8_t name_len;
	uint16_t value_len;
	char *name;			/* suffix after the prefix */
	uint8_t *value;
};

/* One stored byte stream; identical files share one (dedup). */
struct sharefs_content {
	uint64_t size;
	uint8_t digest[SHAREFS_FP_DIGEST_LEN];
	char *path;			/* directory input: read from here */
	uint8_t *tail;			/* the last size % blksz bytes */
	uint64_t blkaddr;		/* first block in the data region */
	bool tail_block;		/* tail stored in a block too (plain) */
	/* CHUNK_BASED (sparse) */
	bool sparse;
	unsigned int chunkbits;		/* chunk = block << chunkbits */
	uint32_t nchunks;
	uint32_t *chunkmap;		/* block of each chunk, or NULL_ADDR */
	struct sharefs_content *same;	/* the first content with these bytes */
	/* -z (compress.c): stored as extents at blkaddr, zblocks blocks */
	bool compressed;
	struct sharefs_zext *zext;
	uint32_t nzext, capzext;
	uint64_t zblocks;
	uint8_t *zmem;			/* a reader's pclusters, not yet written */
	/* --verity (verity.c): the xattr value (48 bytes + salt), tree_pos set */
	struct sharefs_verity_xattr *verity;
	uint8_t *tree;			/* packed tree, computed, until placed */
	bool tree_placed;
	struct sharefs_content *hnext;	/* dedup hash chain */
	/* directory input, from a reader thread to the committer (content.c) */
	uint8_t *buf;			/* the whole content, read and hashed */
	int fd;				/* or the file, still open, to stream */
	int err;			/* the reader's result */
	bool ready;			/* the reader is done with it */
};

struct sharefs_node;

struct sharefs_dentry {
	char *name;
	unsigned int len;
	struct sharefs_node *node;
};

struct sharefs_node {
	uint32_t mode, uid, gid;
	uint64_t rdev_major, rdev_minor;	/* checked against the format in image.c */
	int64_t mtime;
	uint32_t mtime_nsec;
	uint32_t nlink;			/* links inside the image */
	uint64_t size;
	struct sharefs_xattr *xattrs;
	unsigned int nxattrs;
	/* directories */
	struct sharefs_dentry *children;
	size_t nchild, capchild;
	struct sharefs_node *parent;
	/* data */
	struct sharefs_content *content;	/* regular files */
	uint8_t *mem;			/* symlink target or dirent blocks */
	/* layout */
	bool placed;			/* nid assigned (hard links: once) */
	bool compact, inl;
	unsigned int datalayout;
	unsigned int xattr_size;
	uint64_t nid;
	uint32_t ino;
	uint64_t blkaddr;		/* dir/symlink blocks after the inodes */
	uint32_t *dirblk_first;		/* dirs: first entry index per block */
	size_t ndirblk;
	char *path;			/* source path, for messages */
	unsigned int layer;		/* tar layer that last defined it */
};

struct sharefs_build {
	struct sharefs_opts opts;
	unsigned int blksz;
	struct sharefs_node *root;
	int fd;				/* the image being written */
	const char *image;		/* its final name, for messages */
	uint64_t data_start;		/* first block of the data region */
	uint64_t data_next;		/* next free block of the data region */
	struct sharefs_content **hash;	/* dedup table */
	size_t hashsize;
	struct sharefs_content **contents;	/* in tree order */
	size_t ncontents, capcontents;
	uint64_t dedup_bytes;
	struct sharefs_verity_pipe *verity_pipe;	/* --verity (verity.c) */
	uint32_t feature_incompat;
	int64_t epoch;
	uint32_t fixed_nsec;
	uint8_t ishare_prefix_id;
	uint64_t total_blocks, inodes;
	struct sharefs_zstream *z;	/* -z: the committer's compressor */
	bool zused;			/* a compressed inode is in the image */
};

/* util.c */
void sharefs_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *sharefs_xmalloc(size_t n);
void *sharefs_xcalloc(size_t n, size_t m);
void *sharefs_xrealloc(void *p, size_t n);
char *sharefs_xstrdup(const char *s);
int sharefs_pwrite_all(int fd, const void *buf, size_t len, uint64_t off);
int sharefs_pread_all(int fd, void *buf, size_t len, uint64_t off);
int sharefs_parse_uuid(const char *s, uint8_t uuid[16]);
bool sharefs_progress_due(void);

/* crc32c.c */
uint32_t sharefs_crc32c(uint32_t crc, const void *buf, size_t len);

/* tree.c */
struct sharefs_node *sharefs_node_new(uint32_t mode);
int sharefs_node_add_child(struct sharefs_node *dir, const char *name,
			   struct sharefs_node *child);
void sharefs_node_sort_children(struct sharefs_node *dir);
int sharefs_xattr_set(struct sharefs_node *n, const char *fullname,
		      const void *value, size_t len);
void sharefs_xattr_set_raw(struct sharefs_node *n, uint8_t index,
			   const char *name, const void *value, size_t len);
void sharefs_xattr_drop_computed(struct sharefs_node *n);
void sharefs_xattrs_sort(struct sharefs_node *n);
unsigned int sharefs_xattr_ibody_size(const struct sharefs_node *n);
int sharefs_name_cmp(const char *a, unsigned int alen,
		     const char *b, unsigned int blen);
unsigned int sharefs_mode_to_ftype(uint32_t mode);

/* walk.c */
int sharefs_read_dir(struct sharefs_build *b, const char *path);

/* tar.c */
int sharefs_read_tar(struct sharefs_build *b, const char *const *layers,
		     int nlayers);

/* content.c */
void sharefs_content_register(struct sharefs_build *b,
			      struct sharefs_content *c);
int sharefs_content_store_all(struct sharefs_build *b);
void sharefs_content_plan_chunks(struct sharefs_build *b,
				 struct sharefs_content *c);
void sharefs_content_mark_data(struct sharefs_build *b,
			       struct sharefs_content *c,
			       uint64_t off, uint64_t len);
uint64_t sharefs_content_place(struct sharefs_build *b,
			       struct sharefs_content *c);
int sharefs_content_write(struct sharefs_build *b, struct sharefs_content *c,
			  const uint8_t *p, size_t len, uint64_t off);
int sharefs_content_finish(struct sharefs_build *b, struct sharefs_content *c,
			   uint64_t start);
int sharefs_content_read(struct sharefs_build *b, struct sharefs_content *c,
			 uint8_t *p, size_t len, uint64_t off);
struct sharefs_content *sharefs_content_dedup(struct sharefs_build *b,
					      struct sharefs_content *c);
bool sharefs_want_inline(unsigned int blksz, unsigned int ibody_max,
			 uint64_t size);
void sharefs_add_content_xattrs(struct sharefs_build *b, struct sharefs_node *n);

/* compress.c */
struct sharefs_zc;
#define SHAREFS_Z_SMALL_MAX	(1u << 20)	/* compressed in memory, may stay flat */
#define SHAREFS_Z_ZSTD_WLOG	20		/* zstd window log: covers an extent */
const char *sharefs_z_parse(const char *spec, struct sharefs_opts *o);
const char *sharefs_z_check_pcluster(const struct sharefs_opts *o);
struct sharefs_zc *sharefs_zc_new(const struct sharefs_build *b);
void sharefs_zc_free(struct sharefs_zc *zc);
int sharefs_z_init(struct sharefs_build *b);
void sharefs_z_exit(struct sharefs_build *b);
int sharefs_z_compress_mem(struct sharefs_zc *zc, const struct sharefs_build *b,
			   struct sharefs_content *c, const uint8_t *buf);
int sharefs_z_store_mem(struct sharefs_build *b, struct sharefs_content *c,
			const uint8_t *buf);
void sharefs_z_stream_begin(struct sharefs_build *b, struct sharefs_content *c);
int sharefs_z_stream_write(struct sharefs_build *b, struct sharefs_content *c,
			   const uint8_t *p, size_t len);
int sharefs_z_stream_end(struct sharefs_build *b, struct sharefs_content *c);
int sharefs_z_read(struct sharefs_build *b, struct sharefs_content *c,
		   uint8_t *p, size_t len, uint64_t off);
unsigned int sharefs_z_pcluster(const struct sharefs_opts *o);
int sharefs_z_alg(const struct sharefs_opts *o);

/* zmeta.c */
size_t sharefs_z_meta_size(const struct sharefs_build *b,
			   const struct sharefs_node *n, size_t ibody);
int sharefs_z_emit_meta(const struct sharefs_build *b,
			const struct sharefs_node *n, uint8_t *p, size_t ibody);
size_t sharefs_z_write_cfgs(const struct sharefs_build *b, uint8_t *at,
			    uint16_t *algs);

/* verity.c */
uint64_t sharefs_verity_tree_size(uint64_t size);
void sharefs_verity_set_xattr(struct sharefs_build *b, struct sharefs_node *n);
void sharefs_verity_start(struct sharefs_build *b);
void sharefs_verity_stored(struct sharefs_build *b, struct sharefs_content *c);
int sharefs_verity_stop(struct sharefs_build *b);
int sharefs_verity_all(struct sharefs_build *b);

/* image.c */
void sharefs_build_init(struct sharefs_build *b, const struct sharefs_opts *o);
uint64_t sharefs_first_data_block(const struct sharefs_build *b);
int sharefs_write_image(struct sharefs_build *b);
void sharefs_fill_super(const struct sharefs_build *b,
			struct sharefs_super_block *dsb);
uint32_t sharefs_super_checksum(const void *blk0, unsigned int blksz);
size_t sharefs_dir_pack(struct sharefs_node *dir, unsigned int blksz,
			struct sharefs_dentry **sorted, size_t *nsorted);

/* mkfs.c: the whole build, from options to a renamed image */
int sharefs_mkfs(const struct sharefs_opts *o, const char *image,
		 const char *const *sources, int nsources, bool tar);

#endif /* SHAREFS_TOOLS_MKFS_H */
