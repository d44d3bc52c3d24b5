// SPDX-License-Identifier: GPL-2.0-only
/*
 * read.c - the buffered read path: sharefs builds, submits and completes
 * its own bios.
 *
 * iomap's buffered read path, which sharefs used before, allocates and
 * completes its bios out of the filesystem's sight (until 6.19, which has a
 * submit hook, and that is newer than two of our three kernels).  The shared
 * page cache needs its bios in sight (share.c):
 *  - every bio of a shared read pins the superblock it reads from, so that
 *    umount waits for exactly its own reads to complete, rather than
 *    freezing the device's queue (which on a partition stops the whole
 *    disk, and on a bio-based stack such as dm-verity waits only for the
 *    submitters, not for the completions);
 *  - a read that fails through one member is tried again through another
 *    before the reader sees an error;
 *  - content with verity metadata is checked page by page before its
 *    folio is marked uptodate (verity.c); hashing is not for softirq
 *    context, so those bios complete in a workqueue.
 * iomap stays for O_DIRECT, fiemap and SEEK_DATA/SEEK_HOLE, which work on a
 * file's own blocks.  Compressed files read through zread.c instead.
 *
 * A folio is filled piece by piece, a piece being the part of the folio
 * that one extent of sharefs_map_blocks() covers.  Holes and bytes past EOF
 * are zeroed and inline tails copied at once; mapped pieces go into bios, a
 * bio growing while each piece continues the previous one on the device.
 * The bytes of EOF's block past EOF are read with the block, then zeroed.
 *
 * Two ways to complete:
 *  - readahead is asynchronous: bio completion marks the folios uptodate
 *    and unlocks them.  A folio whose mapped bytes are one piece needs no
 *    state.  A folio with several pieces, or whose bio had to go out before
 *    the folio was built, gets a sharefs_rfolio as folio->private, which
 *    counts its bytes in flight plus one while it is being built.  Nothing
 *    else sees folio->private: it is attached and detached under the folio
 *    lock, which release and invalidation also need.
 *  - read_folio is synchronous: it waits for its bios before it unlocks,
 *    so that a failed read of a shared folio can be tried again through
 *    another member.  A readahead folio that failed is just left !uptodate;
 *    whoever needs it comes back through read_folio.
 */
#include <linux/bio.h>
#include "internal.h"

/* What checks the folios of a read before they are uptodate. */
struct sharefs_check {
	struct sharefs_verity *verity;	/* or NULL: nothing to check */
	struct sharefs_verity_src vsrc;	/* the tree to check against */
};

/*
 * Every bio of the read path, from sharefs_bioset, whose front padding
 * holds the rest: what its completion checks, and where it runs.
 */
struct sharefs_bio {
	struct work_struct work;	/* completion, for checked content */
	struct sharefs_check check;
	struct bio bio;			/* last */
};

static struct bio_set sharefs_bioset;
static struct workqueue_struct *sharefs_read_wq;

static inline struct sharefs_bio *SHAREFS_BIO(struct bio *bio)
{
	return container_of(bio, struct sharefs_bio, bio);
}

/* A folio whose mapped bytes went into more than one bio, while read. */
struct sharefs_rfolio {
	atomic_t pending;	/* bytes in flight, + 1 while being built */
	int err;		/* the first error, or 0 */
};

/* A synchronous read call: its bios in flight and their first error. */
struct sharefs_rwait {
	atomic_t bios;		/* + 1 until the call has submitted them all */
	int err;
	struct completion done;
};

/* One read_folio or readahead call. */
struct sharefs_rcall {
	const struct sharefs_rsrc *src;
	struct bio *bio;	/* being filled, not submitted yet */
	sector_t next;		/* the sector that would continue it */
	blk_opf_t opf;
	gfp_t gfp;
	struct sharefs_rwait *wait;	/* synchronous calls only */
	/* asynchronous calls: the folio being built */
	struct folio *folio;
	unsigned int pieces;	/* its mapped pieces so far */
	size_t unsent;		/* its bytes in @bio, not counted in an rfolio */
	unsigned long pages;	/* pages of the call not built yet */
	struct sharefs_check check;	/* for the call's folios */
};

static void sharefs_check_init(struct sharefs_check *check,
			       const struct sharefs_rsrc *src)
{
	check->verity = src->verity;
	check->vsrc.sb = src->inode->i_sb;
	check->vsrc.tree_pos = src->tree_pos;
}

/* Zero what lies past EOF in the block that EOF is in. */
static void sharefs_zero_eof(struct folio *folio)
{
	loff_t isize = i_size_read(folio->mapping->host);
	loff_t pos = folio_pos(folio);

	if (isize > pos && isize < pos + (loff_t)folio_size(folio))
		folio_zero_segment(folio, isize - pos, folio_size(folio));
}

/*
 * Every piece of @folio is in: make it uptodate unless one failed or, for
 * checked content (@check->verity), its blocks do not match their hashes.
 */
static void sharefs_folio_done(struct folio *folio, int err,
			       const struct sharefs_check *check)
{
	kfree(folio_detach_private(folio));
	if (!err) {
		sharefs_zero_eof(folio);
		if (check->verity)
			err = sharefs_verity_check_folio(&check->vsrc,
							 check->verity, folio);
		if (!err)
			folio_mark_uptodate(folio);
	}
	folio_unlock(folio);
}

/* @len bytes of @folio arrived (or failed with @err). */
static void sharefs_piece_done(struct folio *folio, size_t len, int err,
			       const struct sharefs_check *check)
{
	struct sharefs_rfolio *rf = folio_get_private(folio);

	if (!rf) {			/* its only piece */
		sharefs_folio_done(folio, err, check);
		return;
	}
	if (err)
		cmpxchg(&rf->err, 0, err);
	if (atomic_sub_and_test(len, &rf->pending))
		sharefs_folio_done(folio, READ_ONCE(rf->err), check);
}

static void sharefs_read_complete(struct bio *bio)
{
	struct sharefs_sb_info *pin = bio->bi_private;
	int err = blk_status_to_errno(bio->bi_status);
	struct folio_iter fi;

	bio_for_each_folio_all(fi, bio)
		sharefs_piece_done(fi.folio, fi.length, err,
				   &SHAREFS_BIO(bio)->check);
	bio_put(bio);
	/* last: the superblock's umount may close the device right after */
	if (pin)
		percpu_ref_put(&pin->pin);
}

static void sharefs_read_work(struct work_struct *work)
{
	sharefs_read_complete(&container_of(work, struct sharefs_bio,
					    work)->bio);
}

/* softirq context: checked content completes in the workqueue */
static void sharefs_read_end_io(struct bio *bio)
{
	struct sharefs_bio *sbio = SHAREFS_BIO(bio);

	if (sbio->check.verity && !bio->bi_status) {
		INIT_WORK(&sbio->work, sharefs_read_work);
		queue_work(sharefs_read_wq, &sbio->work);
		return;
	}
	sharefs_read_complete(bio);
}

static void sharefs_read_end_io_sync(struct bio *bio)
{
	struct sharefs_rwait *wait = bio->bi_private;

	if (bio->bi_status)
		cmpxchg(&wait->err, 0, blk_status_to_errno(bio->bi_status));
	bio_put(bio);
	if (atomic_dec_and_test(&wait->bios))
		complete(&wait->done);
}

/*
 * The state of the folio being built, attached now if it has none.  What
 * it already has in the unsubmitted bio is counted now.
 */
static struct sharefs_rfolio *sharefs_rfolio(struct sharefs_rcall *c)
{
	struct sharefs_rfolio *rf = folio_get_private(c->folio);

	if (rf)
		return rf;
	/* a few bytes, as iomap's per-folio state: not worth failing a read */
	rf = kmalloc(sizeof(*rf), GFP_NOFS | __GFP_NOFAIL);
	atomic_set(&rf->pending, 1 + c->unsent);
	rf->err = 0;
	c->unsent = 0;
	folio_attach_private(c->folio, rf);
	return rf;
}

static void sharefs_submit(struct sharefs_rcall *c)
{
	struct bio *bio = c->bio;

	if (!bio)
		return;
	c->bio = NULL;
	if (c->wait) {
		atomic_inc(&c->wait->bios);
		bio->bi_end_io = sharefs_read_end_io_sync;
		bio->bi_private = c->wait;
	} else {
		/* the folio being built is not done when this bio is */
		if (c->folio && c->unsent)
			sharefs_rfolio(c);
		/* see the pinning rule in share.c */
		if (c->src->pin)
			percpu_ref_get(&c->src->pin->pin);
		bio->bi_end_io = sharefs_read_end_io;
		bio->bi_private = c->src->pin;
	}
	submit_bio(bio);
}

static void sharefs_new_bio(struct sharefs_rcall *c, sector_t sector)
{
	struct block_device *bdev = c->src->inode->i_sb->s_bdev;
	unsigned int vecs = bio_max_segs(max(c->pages, 1UL));

	/* with direct reclaim allowed, the allocation waits, never fails */
	c->bio = bio_alloc_bioset(bdev, vecs, c->opf, c->gfp, &sharefs_bioset);
	c->bio->bi_iter.bi_sector = sector;
	SHAREFS_BIO(c->bio)->check = c->check;
}

/* Read @len bytes at device byte @pa into @folio at @off. */
static void sharefs_add_piece(struct sharefs_rcall *c, struct folio *folio,
			      size_t off, size_t len, u64 pa)
{
	sector_t sector = pa >> SECTOR_SHIFT;
	struct sharefs_rfolio *rf = NULL;

	/* a second piece: the folio ends when its last piece does */
	if (!c->wait && c->pieces)
		rf = sharefs_rfolio(c);
	if (c->bio && (sector != c->next ||
		       !sharefs_bio_add_folio(c->bio, folio, len, off)))
		sharefs_submit(c);
	if (!c->bio) {
		sharefs_new_bio(c, sector);
		sharefs_bio_add_folio_nofail(c->bio, folio, len, off);
	}
	c->next = sector + (len >> SECTOR_SHIFT);
	c->pieces++;
	if (rf)
		atomic_add(len, &rf->pending);
	else if (!c->wait)
		c->unsent += len;
}

/* Copy an inline tail from the metadata block it is packed in. */
static int sharefs_copy_tail(struct super_block *sb, u64 pa,
			     struct folio *folio, size_t off, size_t len)
{
	struct sharefs_buf buf = SHAREFS_BUF_INIT;
	void *src = sharefs_read_meta(sb, &buf, pa, len);
	void *dst;

	if (IS_ERR(src))
		return PTR_ERR(src);
	/* a tail is shorter than a block and starts on one: in one page */
	dst = kmap_local_folio(folio, off);
	memcpy(dst, src, len);
	kunmap_local(dst);
	sharefs_put_buf(&buf);
	return 0;
}

/* Fill @folio through the call's source; mapped pieces go into bios. */
static int sharefs_build_folio(struct sharefs_rcall *c, struct folio *folio)
{
	struct inode *inode = c->src->inode;
	struct super_block *sb = inode->i_sb;
	loff_t isize = i_size_read(inode);
	loff_t start = folio_pos(folio), pos = start;
	loff_t end = start + folio_size(folio);
	struct sharefs_map map;
	size_t len;
	int err;

	if (test_bit(SHAREFS_SBF_SHUTDOWN, &SHAREFS_SB(sb)->flags))
		return -EIO;
	while (pos < end) {
		if (pos >= isize) {
			folio_zero_segment(folio, pos - start, end - start);
			break;
		}
		err = sharefs_map_blocks(inode, pos, &map);
		if (err)
			return err;
		/* an extent that does not hold @pos would never end the loop */
		if (map.la > pos || map.la + map.llen <= pos)
			return -EFSCORRUPTED;
		len = min_t(u64, end, map.la + map.llen) - pos;
		switch (map.type) {
		case SHAREFS_MAP_HOLE:
			folio_zero_range(folio, pos - start, len);
			break;
		case SHAREFS_MAP_INLINE:
			err = sharefs_copy_tail(sb, map.pa + (pos - map.la),
						folio, pos - start, len);
			if (err)
				return err;
			break;
		case SHAREFS_MAP_MAPPED:
			sharefs_add_piece(c, folio, pos - start, len,
					  map.pa + (pos - map.la));
			break;
		}
		pos += len;
	}
	return 0;
}

/* The folio being built is done (or failed with @err) on our side. */
static void sharefs_folio_built(struct sharefs_rcall *c, int err)
{
	struct folio *folio = c->folio;
	struct sharefs_rfolio *rf;

	if (err || folio_get_private(folio)) {
		rf = sharefs_rfolio(c);
		if (err)
			cmpxchg(&rf->err, 0, err);
		if (atomic_dec_and_test(&rf->pending))
			sharefs_folio_done(folio, READ_ONCE(rf->err), &c->check);
	} else if (!c->pieces) {
		/* nothing in flight */
		sharefs_folio_done(folio, 0, &c->check);
	}
	/* else its one piece is in c->bio, whose completion ends it */
	c->folio = NULL;
	c->pieces = 0;
	c->unsent = 0;
}

/*
 * Read the folios of @rac through @src, asynchronously.  A folio that
 * cannot be read is unlocked !uptodate: read_folio tries it again.
 */
void sharefs_read_ahead(const struct sharefs_rsrc *src,
			struct readahead_control *rac)
{
	struct sharefs_rcall c = {
		.src = src,
		.opf = REQ_OP_READ | REQ_RAHEAD,
		.gfp = mapping_gfp_constraint(rac->mapping, GFP_KERNEL),
	};
	struct folio *folio;

	if (sharefs_z_inode(src->inode)) {
		sharefs_z_read_ahead(src, rac);	/* zread.c */
		return;
	}
	sharefs_check_init(&c.check, src);
	while ((folio = readahead_folio(rac))) {
		c.pages = readahead_count(rac) + folio_nr_pages(folio);
		c.folio = folio;
		sharefs_folio_built(&c, sharefs_build_folio(&c, folio));
	}
	sharefs_submit(&c);
}

/*
 * Read @folio through @src and wait for it: 0 and the folio uptodate, or
 * an error.  The folio stays locked either way: the caller may try again.
 */
int sharefs_read_folio_sync(const struct sharefs_rsrc *src,
			    struct folio *folio)
{
	struct sharefs_rwait wait = { .bios = ATOMIC_INIT(1) };
	struct sharefs_rcall c = {
		.src = src,
		.opf = REQ_OP_READ,
		.gfp = mapping_gfp_constraint(folio->mapping, GFP_KERNEL),
		.wait = &wait,
		.pages = folio_nr_pages(folio),
	};
	int err;

	if (sharefs_z_inode(src->inode))
		return sharefs_z_read_folio(src, folio);	/* zread.c */
	init_completion(&wait.done);
	err = sharefs_build_folio(&c, folio);
	sharefs_submit(&c);
	if (!atomic_dec_and_test(&wait.bios))
		wait_for_completion_io(&wait.done);
	if (!err)
		err = wait.err;
	if (err)
		return err;
	sharefs_zero_eof(folio);
	if (src->verity) {
		sharefs_check_init(&c.check, src);
		err = sharefs_verity_check_folio(&c.check.vsrc, src->verity,
						 folio);
		if (err)
			return err;
	}
	folio_mark_uptodate(folio);
	return 0;
}

/* ---- the address_space_operations of a file's own page cache ---------- */

static int sharefs_read_folio(struct file *file, struct folio *folio)
{
	struct sharefs_rsrc src = { .inode = folio->mapping->host };
	int err = sharefs_read_folio_sync(&src, folio);

	folio_unlock(folio);
	return err;
}

static void sharefs_readahead(struct readahead_control *rac)
{
	struct sharefs_rsrc src = { .inode = rac->mapping->host };

	sharefs_read_ahead(&src, rac);
}

/*
 * A file's own page cache: directories, symlinks, and regular files that
 * do not share (no fingerprint, noshare).  Eviction waits for its locked
 * folios, so its reads need no pin.  direct_IO: O_DIRECT opens are
 * checked against it on older kernels; the reads go to read_iter.
 */
const struct address_space_operations sharefs_aops = {
	.read_folio		= sharefs_read_folio,
	.readahead		= sharefs_readahead,
	.direct_IO		= noop_direct_IO,
};

/* Module init: the bios' pool and the workqueue that checks content. */
int __init sharefs_read_init(void)
{
	int err = bioset_init(&sharefs_bioset, BIO_POOL_SIZE,
			      offsetof(struct sharefs_bio, bio), BIOSET_NEED_BVECS);

	if (err)
		return err;
	/*
	 * Reclaim may wait for these reads: WQ_MEM_RECLAIM.  Unbound, so
	 * that hashing spreads over the CPUs rather than stay on the one the
	 * disk interrupts (7.x also warns about a workqueue that says neither
	 * WQ_UNBOUND nor WQ_PERCPU, which older kernels do not have).
	 */
	sharefs_read_wq = alloc_workqueue("sharefs_read",
					  WQ_UNBOUND | WQ_MEM_RECLAIM | WQ_HIGHPRI,
					  0);
	if (!sharefs_read_wq) {
		bioset_exit(&sharefs_bioset);
		return -ENOMEM;
	}
	return 0;
}

/* After every mount is gone: no bio of ours is left in flight. */
void sharefs_read_exit(void)
{
	destroy_workqueue(sharefs_read_wq);
	bioset_exit(&sharefs_bioset);
}
