// SPDX-License-Identifier: GPL-2.0-only
/*
 * data.c - metadata buffers, block mapping and the iomap read path.
 *
 * Metadata (superblock, inodes, xattrs, chunk maps) is read through the
 * block device's page cache with a small "buf" helper that maps one page and
 * holds its folio.  Directory and symlink data go through the inode's own
 * page cache, which is filled by the same iomap read path as regular files.
 *
 * File data is mapped by sharefs_map_blocks(), for the read path (read.c)
 * and for iomap (O_DIRECT, fiemap, SEEK_DATA/SEEK_HOLE):
 *  - FLAT_PLAIN: the data is contiguous from startblk;
 *  - FLAT_INLINE: as FLAT_PLAIN except for the last block, whose bytes
 *    follow the inode and its xattrs in the metadata block (IOMAP_INLINE);
 *  - CHUNK_BASED: a table after the inode gives one block address per chunk,
 *    SHAREFS_NULL_ADDR being a hole (IOMAP_HOLE).
 *
 * Built for page-cache sharing: all mapping is "map this file offset through
 * inode M", and the page cache being filled may belong to another inode (a
 * shared inode, share.c).
 */
#include <linux/fiemap.h>
#include <linux/uio.h>
#include "internal.h"

/* Map the page of @buf->mapping holding byte @pos; valid to the page end. */
void *sharefs_bread(struct sharefs_buf *buf, loff_t pos)
{
	pgoff_t index = pos >> PAGE_SHIFT;
	struct folio *folio = buf->folio;

	if (buf->page_base && buf->index == index)
		return buf->page_base + offset_in_page(pos);
	if (buf->page_base) {
		kunmap_local(buf->page_base);
		buf->page_base = NULL;
	}
	if (!folio || index < folio->index ||
	    index >= folio->index + folio_nr_pages(folio)) {
		if (folio)
			folio_put(folio);
		buf->folio = NULL;
		folio = read_mapping_folio(buf->mapping, index, NULL);
		if (IS_ERR(folio))
			return ERR_CAST(folio);
		buf->folio = folio;
	}
	buf->page_base = kmap_local_folio(folio,
			(size_t)(index - folio->index) << PAGE_SHIFT);
	buf->index = index;
	return buf->page_base + offset_in_page(pos);
}

void sharefs_put_buf(struct sharefs_buf *buf)
{
	if (buf->page_base)
		kunmap_local(buf->page_base);
	if (buf->folio)
		folio_put(buf->folio);
	buf->page_base = NULL;
	buf->folio = NULL;
}

/*
 * Map @len bytes of metadata at image byte @pos.  The caller promises that
 * they do not cross a block boundary; the image bounds are checked here.
 */
/*
 * Metadata [@pos, +@len) must lie inside the image, and the image inside
 * the device: -EFSCORRUPTED, or -EIO when the device has shrunk under the
 * mount.  That is what a removed disk does on 6.1, where no ->shutdown
 * tells us: its capacity drops to 0, and the block device's page cache
 * then reads as zeroes, without an error.
 */
int sharefs_check_meta(struct super_block *sb, u64 pos, u64 len)
{
	u64 size = SHAREFS_SB(sb)->size;

	/* pos + len <= size, without overflow */
	if (len > size || pos > size - len) {
		sharefs_err(sb, "metadata [%llu, +%llu) out of image (%llu bytes)",
			    pos, len, size);
		return -EFSCORRUPTED;
	}
	if (pos + len > bdev_nr_bytes(sb->s_bdev)) {
		sharefs_err(sb, "metadata [%llu, +%llu) past the end of the device (%llu bytes): device gone?",
			    pos, len, bdev_nr_bytes(sb->s_bdev));
		return -EIO;
	}
	return 0;
}

void *sharefs_read_meta(struct super_block *sb, struct sharefs_buf *buf,
			u64 pos, unsigned int len)
{
	int err;

	if (sharefs_blkoff(sb, pos) + len > sb->s_blocksize) {
		sharefs_err(sb, "metadata [%llu, +%u) crosses a block boundary",
			    pos, len);
		return ERR_PTR(-EFSCORRUPTED);
	}
	err = sharefs_check_meta(sb, pos, len);
	if (err)
		return ERR_PTR(err);
	if (!buf->mapping)
		buf->mapping = sharefs_bdev_mapping(sb->s_bdev);
	return sharefs_bread(buf, pos);
}

static int sharefs_copy_mapping(struct address_space *mapping, u64 pos,
				void *dst, size_t len)
{
	struct sharefs_buf buf = SHAREFS_BUF_INIT;
	int err = 0;

	buf.mapping = mapping;
	while (len) {
		size_t n = min_t(size_t, len, PAGE_SIZE - offset_in_page(pos));
		void *src = sharefs_bread(&buf, pos);

		if (IS_ERR(src)) {
			err = PTR_ERR(src);
			break;
		}
		memcpy(dst, src, n);
		dst += n;
		pos += n;
		len -= n;
	}
	sharefs_put_buf(&buf);
	return err;
}

/* Copy @len bytes of metadata at image byte @pos; may cross blocks. */
int sharefs_copy_meta(struct super_block *sb, u64 pos, void *dst, size_t len)
{
	int err = sharefs_check_meta(sb, pos, len);

	if (err)
		return err;
	return sharefs_copy_mapping(sharefs_bdev_mapping(sb->s_bdev), pos,
				    dst, len);
}

/* Copy @len bytes of @inode's data at @pos, through its page cache. */
int sharefs_copy_data(struct inode *inode, loff_t pos, void *dst, size_t len)
{
	u64 size = i_size_read(inode);

	/* file data is read inside the file: pos + len <= i_size */
	if (pos < 0 || len > size || pos > size - len) {
		sharefs_err(inode->i_sb, "read [%lld, +%zu) past i_size %llu @ nid %llu",
			    pos, len, size, SHAREFS_I(inode)->nid);
		return -EFSCORRUPTED;
	}
	return sharefs_copy_mapping(inode->i_mapping, pos, dst, len);
}

static int sharefs_map_flat(struct inode *inode, loff_t pos,
			    struct sharefs_map *map)
{
	struct super_block *sb = inode->i_sb;
	struct sharefs_sb_info *sbi = SHAREFS_SB(sb);
	struct sharefs_inode *si = SHAREFS_I(inode);
	u64 isize = i_size_read(inode);
	u64 nblocks = DIV_ROUND_UP(isize, sb->s_blocksize);
	u64 plain = nblocks;
	u64 plain_end, tailpos, taillen;

	if (si->datalayout == SHAREFS_INODE_FLAT_INLINE)
		plain--;		/* the last block is packed inline */
	plain_end = plain << sbi->blkszbits;

	if (pos < plain_end) {
		/* the plain blocks lie inside the image */
		if (si->startblk > sbi->blocks ||
		    plain > sbi->blocks - si->startblk) {
			sharefs_err(sb, "data blocks [%llu, +%llu) out of image @ nid %llu",
				    si->startblk, plain, si->nid);
			return -EFSCORRUPTED;
		}
		map->type = SHAREFS_MAP_MAPPED;
		map->la = pos;
		map->llen = plain_end - pos;
		map->pa = sharefs_pos(sb, si->startblk) + pos;
		return 0;
	}

	/* only FLAT_INLINE gets here: pos < isize <= plain_end otherwise */
	tailpos = sharefs_iloc(sb, si->nid) + si->inode_isize + si->xattr_isize;
	taillen = isize - plain_end;
	/* the inline tail stays in the block it starts in, inside the image */
	if (sharefs_blkoff(sb, tailpos) + taillen > sb->s_blocksize ||
	    tailpos + taillen > sbi->size) {
		sharefs_err(sb, "inline data crosses a block boundary @ nid %llu",
			    si->nid);
		return -EFSCORRUPTED;
	}
	map->type = SHAREFS_MAP_INLINE;
	map->la = plain_end;
	map->llen = taillen;
	map->pa = tailpos;
	return 0;
}

/* Block address of the chunk map entry at @ptr; U64_MAX: not ours to read */
static u64 sharefs_chunk_entry(const void *ptr, unsigned int unit)
{
	const struct sharefs_inode_chunk_index *idx = ptr;

	if (unit == SHAREFS_BLOCK_MAP_ENTRY_SIZE)
		return le32_to_cpu(*(const __le32 *)ptr);
	if (idx->device_id)
		return U64_MAX;
	return le32_to_cpu(idx->startblk_lo);
}

static int sharefs_map_chunk(struct inode *inode, loff_t pos,
			     struct sharefs_map *map)
{
	struct super_block *sb = inode->i_sb;
	struct sharefs_sb_info *sbi = SHAREFS_SB(sb);
	struct sharefs_inode *si = SHAREFS_I(inode);
	struct sharefs_buf buf = SHAREFS_BUF_INIT;
	u64 isize = i_size_read(inode);
	u64 chunknr = (u64)pos >> si->chunkbits;
	u64 nchunks = DIV_ROUND_UP(isize, 1ULL << si->chunkbits);
	u64 chunkblks = 1ULL << (si->chunkbits - sbi->blkszbits);
	unsigned int unit, n, avail;
	u64 epos, blk, next;
	void *ptr;

	unit = (si->chunkformat & SHAREFS_CHUNK_FORMAT_INDEXES) ?
		sizeof(struct sharefs_inode_chunk_index) :
		SHAREFS_BLOCK_MAP_ENTRY_SIZE;
	/* the table starts after the inode and its xattrs, aligned to unit */
	epos = ALIGN(sharefs_iloc(sb, si->nid) + si->inode_isize +
		     si->xattr_isize, unit) + chunknr * unit;
	/* entries are unit-aligned, so one never crosses a block */
	ptr = sharefs_read_meta(sb, &buf, epos, unit);
	if (IS_ERR(ptr))
		return PTR_ERR(ptr);
	blk = sharefs_chunk_entry(ptr, unit);
	if (blk == U64_MAX) {
		sharefs_put_buf(&buf);
		sharefs_err(sb, "chunk %llu on an extra device @ nid %llu not supported",
			    chunknr, si->nid);
		return -EOPNOTSUPP;
	}
	/*
	 * Merge the following chunks that continue this extent (holes after
	 * a hole, or the next blocks), as far as this metadata block goes
	 * and as far as the image holds entries: fewer, larger I/Os.
	 */
	avail = min_t(u64, (sb->s_blocksize - sharefs_blkoff(sb, epos)) / unit,
		      nchunks - chunknr);
	if (epos + (u64)avail * unit > sbi->size)
		avail = 1;
	for (n = 1; n < avail; n++) {
		next = sharefs_chunk_entry(ptr + n * unit, unit);
		if (blk == SHAREFS_NULL_ADDR ? next != SHAREFS_NULL_ADDR :
		    next != blk + n * chunkblks)
			break;
	}
	sharefs_put_buf(&buf);

	map->la = chunknr << si->chunkbits;
	/* block-aligned length, the last chunk ending at the block of EOF */
	map->llen = min_t(u64, (u64)n << si->chunkbits,
			  round_up(isize - map->la, sb->s_blocksize));
	if (blk == SHAREFS_NULL_ADDR) {
		map->type = SHAREFS_MAP_HOLE;
		map->pa = 0;
		return 0;
	}
	/* the merged chunks' blocks lie inside the image */
	if (blk > sbi->blocks ||
	    (map->llen >> sbi->blkszbits) > sbi->blocks - blk) {
		sharefs_err(sb, "chunk %llu at block %llu out of image @ nid %llu",
			    chunknr, blk, si->nid);
		return -EFSCORRUPTED;
	}
	map->type = SHAREFS_MAP_MAPPED;
	map->pa = sharefs_pos(sb, blk);
	return 0;
}

/* Map file offset @pos (< i_size) of @inode through its own layout. */
int sharefs_map_blocks(struct inode *inode, loff_t pos, struct sharefs_map *map)
{
	switch (SHAREFS_I(inode)->datalayout) {
	case SHAREFS_INODE_FLAT_PLAIN:
	case SHAREFS_INODE_FLAT_INLINE:
		return sharefs_map_flat(inode, pos, map);
	case SHAREFS_INODE_CHUNK_BASED:
		return sharefs_map_chunk(inode, pos, map);
	default:
		/* compressed files are mapped by zmap.c, never through here */
		return -EOPNOTSUPP;
	}
}

/*
 * iomap works on a file's own blocks only (O_DIRECT, fiemap, SEEK_DATA and
 * SEEK_HOLE): @inode is the file itself, never a shared inode.
 */
static int sharefs_iomap_begin(struct inode *inode, loff_t pos, loff_t length,
			       unsigned int flags, struct iomap *iomap,
			       struct iomap *srcmap)
{
	struct super_block *sb = inode->i_sb;
	struct sharefs_buf buf = SHAREFS_BUF_INIT;
	struct sharefs_map map;
	void *ptr;
	int err;

	if (test_bit(SHAREFS_SBF_SHUTDOWN, &SHAREFS_SB(sb)->flags))
		return -EIO;
	iomap->flags = 0;
	iomap->private = NULL;
	iomap->bdev = sb->s_bdev;
	iomap->addr = IOMAP_NULL_ADDR;
	if (pos >= i_size_read(inode)) {
		iomap->type = IOMAP_HOLE;
		iomap->offset = pos;
		iomap->length = length;
		return 0;
	}
	err = sharefs_map_blocks(inode, pos, &map);
	if (err)
		return err;
	iomap->offset = map.la;
	iomap->length = map.llen;
	switch (map.type) {
	case SHAREFS_MAP_HOLE:
		iomap->type = IOMAP_HOLE;
		break;
	case SHAREFS_MAP_MAPPED:
		iomap->type = IOMAP_MAPPED;
		iomap->addr = map.pa;
		break;
	case SHAREFS_MAP_INLINE:
		/* the folio stays pinned and mapped until iomap_end */
		ptr = sharefs_read_meta(sb, &buf, map.pa, map.llen);
		if (IS_ERR(ptr))
			return PTR_ERR(ptr);
		iomap->type = IOMAP_INLINE;
		iomap->addr = map.pa;	/* fiemap reports where the tail is */
		iomap->inline_data = ptr;
		iomap->private = buf.folio;
		break;
	}
	return 0;
}

static int sharefs_iomap_end(struct inode *inode, loff_t pos, loff_t length,
			     ssize_t written, unsigned int flags,
			     struct iomap *iomap)
{
	struct folio *folio = iomap->private;

	if (iomap->type == IOMAP_INLINE && folio) {
		kunmap_local(iomap->inline_data);
		folio_put(folio);
		iomap->private = NULL;
	}
	return written;
}

const struct iomap_ops sharefs_iomap_ops = {
	.iomap_begin	= sharefs_iomap_begin,
	.iomap_end	= sharefs_iomap_end,
};

int sharefs_fiemap(struct inode *inode, struct fiemap_extent_info *fieinfo,
		   u64 start, u64 len)
{
	if (sharefs_z_inode(inode))
		return sharefs_z_fiemap(inode, fieinfo, start, len);
	return iomap_fiemap(inode, fieinfo, start, len, &sharefs_iomap_ops);
}

/*
 * A member whose own bytes failed their hashes (verity.c) left its shared
 * inode: its file must not read the content it failed to present, through
 * opens old or new.  Mappings made before keep what they map.
 */
static bool sharefs_file_refused(struct inode *inode)
{
	return READ_ONCE(SHAREFS_I(inode)->share_bad);
}

static int sharefs_file_open(struct inode *inode, struct file *file)
{
	int err = sharefs_check_readable(inode);

	if (!err && sharefs_file_refused(inode))
		err = -EIO;
	if (err)
		return err;
	file->f_mode |= FMODE_CAN_ODIRECT;
	err = sharefs_share_join(inode, file);
	if (err)
		return err;
	return generic_file_open(inode, file);
}

static ssize_t sharefs_file_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	if (sharefs_file_refused(file_inode(iocb->ki_filp)))
		return -EIO;
	/*
	 * O_DIRECT reads the file's own blocks, never a shared page cache;
	 * a compressed file has no blocks to give it and reads buffered.
	 */
	if (sharefs_z_inode(file_inode(iocb->ki_filp)))
		iocb->ki_flags &= ~IOCB_DIRECT;
	if (iocb->ki_flags & IOCB_DIRECT) {
		if (!iov_iter_count(to))
			return 0;
		return iomap_dio_rw(iocb, to, &sharefs_iomap_ops, NULL, 0,
				    NULL, 0);
	}
	return generic_file_read_iter(iocb, to);
}

static loff_t sharefs_file_llseek(struct file *file, loff_t offset, int whence)
{
	struct inode *inode = file_inode(file);

	/* a compressed file is data from 0 to EOF: generic answers */
	if (sharefs_z_inode(inode))
		return generic_file_llseek(file, offset, whence);
	switch (whence) {
	case SEEK_DATA:
		offset = iomap_seek_data(inode, offset, &sharefs_iomap_ops);
		break;
	case SEEK_HOLE:
		offset = iomap_seek_hole(inode, offset, &sharefs_iomap_ops);
		break;
	default:
		return generic_file_llseek(file, offset, whence);
	}
	if (offset < 0)
		return offset;
	return vfs_setpos(file, offset, inode->i_sb->s_maxbytes);
}

/*
 * setlease: from 7.x a file_operations without it refuses every lease
 * (EINVAL), where older kernels fell back to generic_setlease().
 * get_unmapped_area: PMD-aligned mappings of large files, so that large
 * folios of the page cache can be mapped whole.
 */
static ssize_t sharefs_file_splice_read(struct file *in, loff_t *ppos,
					struct pipe_inode_info *pipe,
					size_t len, unsigned int flags)
{
	if (sharefs_file_refused(file_inode(in)))
		return -EIO;
	return sharefs_splice_read(in, ppos, pipe, len, flags);
}

const struct file_operations sharefs_file_fops = {
	.open		= sharefs_file_open,
	.llseek		= sharefs_file_llseek,
	.read_iter	= sharefs_file_read_iter,
	SHAREFS_FOP_MMAP,
	.get_unmapped_area = thp_get_unmapped_area,
	.splice_read	= sharefs_file_splice_read,
	.setlease	= generic_setlease,
};
