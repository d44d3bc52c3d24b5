// SPDX-License-Identifier: GPL-2.0-only
/*
 * share.c - one page cache for every file with the same content.
 *
 * Every regular file whose image gives it a content fingerprint (the xattr
 * trusted.fingerprint, or the one the superblock's ishare pointer names)
 * becomes, at its first open, a *member* of a *shared inode*: an anonymous
 * inode on an internal pseudo-mount, one per (domain, SHA-256 digest).
 * The member's i_mapping points at the shared inode's address_space, so
 * read(), mmap faults, splice, readahead, fadvise and mincore all work on
 * the one page cache with no per-call cost, while the user's file stays
 * the one in /proc/PID/maps and lsof.  O_DIRECT, fiemap and
 * SEEK_DATA/SEEK_HOLE go to the member itself (file_inode()), so they
 * describe its own layout.
 *
 * The shared inode has no blocks of its own.  When its page cache needs
 * data, sharefs_shared_aops picks a live member, its *source*, and reads
 * the range through that member's layout and device (read.c).  Members
 * come and go as inodes are evicted and images unmounted:
 *
 *   PINNING RULE.  A read call picks its source under shared->lock, among
 *   the members on the list, and takes two references there: one on the
 *   member inode (igrab(), which fails once its eviction has begun) and
 *   one on its superblock's pin (sbi->pin, a percpu_ref that fails once
 *   kill_sb has begun).  The call holds both until it returns.  Each bio
 *   it submits takes one more pin of the superblock, dropped when the bio
 *   completes (read.c).  kill_sb first takes all the superblock's members
 *   off their lists, under each shared->lock, so that no pick can find
 *   them any more; then it kills the pin and waits for it to drain: for
 *   the read calls under way through its members and every bio they
 *   issued.  It waits for nothing else, so a hung device holds up its own
 *   umount and nobody else's, and a bio-based device stack (dm-verity,
 *   dm-crypt, md) is drained as surely as a request queue.  A lone
 *   eviction (reclaim, drop_caches) cannot meet a read call using the
 *   member: the call's inode reference keeps it from being evicted.
 *
 *   ONE SOURCE PER CALL.  Each read_folio or readahead call picks its
 *   source once and reads every extent of the call through it.  Bios of
 *   one call only grow while sectors follow on, and never across devices;
 *   another member's sector numbers must never extend a bio of this one.
 *
 *   FAILING MEMBERS.  readahead reads through one source and leaves what
 *   failed !uptodate.  read_folio (every reader that needs a folio ends
 *   there) waits for its read, and on failure takes the source off the
 *   list, logs it once per mount, and tries the next member: a member on a
 *   failing device or a corrupt image costs one failed read, not the
 *   content, as long as a healthy member exists.  When the block layer
 *   reports the device dead (->shutdown, 6.6 on), all its members leave
 *   at once.
 *
 * Read calls allocate memory (bios, folios, metadata pages) and may enter
 * reclaim, which may evict members: that is safe because eviction never
 * waits for a read call (it only takes shared->lock, briefly), and reclaim
 * never blocks on a superblock being torn down (it trylocks s_umount).
 *
 * Lifetime.  Each member holds a reference on its shared inode; open files
 * and mappings pin their member, so they pin the shared inode too.  After
 * its last member the shared inode stays cached with its pages, like any
 * closed file's inode: the VFS keeps an inode with page cache off the
 * inode shrinker's list until page reclaim has emptied it.  Members
 * themselves have no pages of their own, so the inode shrinker takes them
 * early; were the shared inode evicted with them, its pages would go
 * earlier than a plain file's.  A member that joins again finds the pages.
 * Shared pages are ordinary page cache on the LRU: reclaim and drop_caches
 * free them as usual, and the empty shared inode after them.
 *
 * Safety.  The digest picks a hash bucket through xxh64; equality compares
 * the full digest and the domain.  A member whose size differs from its
 * shared inode's (a lying or colliding fingerprint) gets a warning and its
 * own private page cache.  Domains never mix: a tenant whose image lies
 * about a fingerprint can poison only its own domain.
 */
#include <linux/backing-dev.h>
#include <linux/mount.h>
#include <linux/fs_context.h>
#include <linux/xxhash.h>
#include "internal.h"

#define SHAREFS_PSEUDO_MAGIC	0x53484653	/* "SHFS" */

static struct vfsmount *sharefs_pseudo_mnt;
static struct kmem_cache *sharefs_shared_cachep;

/* every live shared inode, for the counters; protected by the lock */
static LIST_HEAD(sharefs_shared_list);
static DEFINE_SPINLOCK(sharefs_shared_list_lock);

static inline struct sharefs_shared *SHAREFS_SHARED(struct inode *inode)
{
	return container_of(inode, struct sharefs_shared, vfs_inode);
}

/* ---- the pseudo filesystem ------------------------------------------- */

static struct inode *sharefs_shared_alloc_inode(struct super_block *sb)
{
	struct sharefs_shared *sh;

	sh = alloc_inode_sb(sb, sharefs_shared_cachep, GFP_KERNEL);
	if (!sh)
		return NULL;
	spin_lock_init(&sh->lock);
	INIT_LIST_HEAD(&sh->members);
	sh->verity = NULL;
	INIT_LIST_HEAD(&sh->all);
	sh->nr_members = 0;
	return &sh->vfs_inode;
}

static void sharefs_shared_free_inode(struct inode *inode)
{
	kmem_cache_free(sharefs_shared_cachep, SHAREFS_SHARED(inode));
}

static void sharefs_shared_evict_inode(struct inode *inode)
{
	struct sharefs_shared *sh = SHAREFS_SHARED(inode);

	/* no member, pages reclaimed, or the module is going away */
	truncate_inode_pages_final(&inode->i_data);
	clear_inode(inode);
	sharefs_verity_free(sh->verity);
	sh->verity = NULL;
	spin_lock(&sharefs_shared_list_lock);
	list_del_init(&sh->all);
	spin_unlock(&sharefs_shared_list_lock);
}

static const struct super_operations sharefs_pseudo_sops = {
	.alloc_inode	= sharefs_shared_alloc_inode,
	.free_inode	= sharefs_shared_free_inode,
	.evict_inode	= sharefs_shared_evict_inode,
	/* default drop_inode: cached after the last iput, see "Lifetime" */
	.statfs		= simple_statfs,
};

static int sharefs_pseudo_fill_super(struct super_block *sb,
				     struct fs_context *fc)
{
	struct inode *root;
	int err;

	sb->s_magic = SHAREFS_PSEUDO_MAGIC;
	sb->s_op = &sharefs_pseudo_sops;
	sb->s_flags |= SB_RDONLY | SB_NOUSER;
	sb->s_maxbytes = MAX_LFS_FILESIZE;
	sb->s_blocksize = PAGE_SIZE;
	sb->s_blocksize_bits = PAGE_SHIFT;
	sb->s_time_gran = 1;
	/*
	 * A real backing_dev_info, so that readahead and fadvise see normal
	 * ra_pages: files opened on members take their readahead window from
	 * mapping->host, which is a shared inode of this superblock.
	 */
	err = super_setup_bdi(sb);
	if (err)
		return err;
	root = new_inode(sb);
	if (!root)
		return -ENOMEM;
	root->i_ino = 1;
	root->i_mode = S_IFDIR | 0500;
	sb->s_root = d_make_root(root);
	return sb->s_root ? 0 : -ENOMEM;
}

static int sharefs_pseudo_get_tree(struct fs_context *fc)
{
	return get_tree_nodev(fc, sharefs_pseudo_fill_super);
}

static const struct fs_context_operations sharefs_pseudo_context_ops = {
	.get_tree	= sharefs_pseudo_get_tree,
};

static int sharefs_pseudo_init_fs_context(struct fs_context *fc)
{
	fc->ops = &sharefs_pseudo_context_ops;
	return 0;
}

/*
 * Never registered, so never mountable from userspace.  No .owner: the
 * internal mount must not pin the module, or rmmod could never succeed;
 * sharefs_share_exit() unmounts it.
 */
static struct file_system_type sharefs_pseudo_fs_type = {
	.name			= "sharefs_shared",
	.init_fs_context	= sharefs_pseudo_init_fs_context,
	.kill_sb		= kill_anon_super,
};

/* ---- the shared inodes' read path -------------------------------------- */

/* Tries of one read_folio: each failed try takes its member off. */
#define SHAREFS_READ_TRIES	16

/*
 * Make member @si of @sh the source @src of a read call, if its superblock
 * is alive and its inode is not being evicted.  Under sh->lock.  See the
 * pinning rule above.
 */
static bool sharefs_share_take(struct sharefs_shared *sh,
			       struct sharefs_inode *si,
			       struct sharefs_rsrc *src)
{
	struct sharefs_sb_info *sbi = SHAREFS_SB(si->vfs_inode.i_sb);

	lockdep_assert_held(&sh->lock);
	if (test_bit(SHAREFS_SBF_SHUTDOWN, &sbi->flags) ||
	    !percpu_ref_tryget_live(&sbi->pin))
		return false;
	if (!igrab(&si->vfs_inode)) {
		percpu_ref_put(&sbi->pin);
		return false;
	}
	src->inode = &si->vfs_inode;
	src->pin = sbi;
	src->verity = sh->verity;
	src->tree_pos = si->verity_tree_pos;
	return true;
}

/*
 * Pick the source of a read call on @sh: the first member on the list
 * that can be taken.  False when there is none.
 */
static bool sharefs_share_pick(struct sharefs_shared *sh,
			       struct sharefs_rsrc *src)
{
	struct sharefs_inode *si;
	bool found = false;

	spin_lock(&sh->lock);
	list_for_each_entry(si, &sh->members, share_link) {
		found = sharefs_share_take(sh, si, src);
		if (found)
			break;
	}
	spin_unlock(&sh->lock);
	return found;
}

/* Pick the reader's own member, @si, when it is still on @sh's list. */
static bool sharefs_share_pick_own(struct sharefs_shared *sh,
				   struct sharefs_inode *si,
				   struct sharefs_rsrc *src)
{
	bool found;

	spin_lock(&sh->lock);
	found = si->share == sh && si->share_linked &&
		sharefs_share_take(sh, si, src);
	spin_unlock(&sh->lock);
	return found;
}

static void sharefs_share_unpick(struct sharefs_rsrc *src)
{
	iput(src->inode);
	percpu_ref_put(&src->pin->pin);
}

/* Take @si off its shared inode's member list; true if it was on it. */
static bool sharefs_share_unlink(struct sharefs_inode *si)
{
	struct sharefs_shared *sh = si->share;
	bool linked;

	spin_lock(&sh->lock);
	linked = si->share_linked;
	if (linked) {
		list_del(&si->share_link);
		si->share_linked = false;
		sh->nr_members--;
	}
	spin_unlock(&sh->lock);
	return linked;
}

/*
 * Errors that say nothing about the member: no memory, or the reader was
 * killed while it waited for a metadata page.  The read is not retried.
 */
static bool sharefs_error_is_transient(int err)
{
	return err == -ENOMEM || err == -EINTR || err == -ERESTARTSYS ||
	       err == -EAGAIN;
}

/*
 * Reading through @src failed with @err: take the member off, so that the
 * content is read through the others from now on.
 */
static void sharefs_share_fail(const struct sharefs_rsrc *src, int err)
{
	struct sharefs_inode *si = SHAREFS_I(src->inode);
	struct super_block *sb = src->inode->i_sb;

	if (sharefs_error_is_transient(err))
		return;
	/* bytes that fail their hashes: this file reads nothing any more */
	if (err == -EBADMSG)
		WRITE_ONCE(si->share_bad, true);
	if (!sharefs_share_unlink(si))
		return;
	if (!test_and_set_bit(SHAREFS_SBF_WARNED_READERR, &src->pin->flags))
		sharefs_warn(sb, "nid %llu: read error %d; other images serve its content from now on",
			     si->nid, err);
}

/* One try of a shared read_folio: through @src, then let @src go. */
static int sharefs_shared_try(struct sharefs_rsrc *src, struct folio *folio)
{
	int err = sharefs_read_folio_sync(src, folio);

	if (err)
		sharefs_share_fail(src, err);
	sharefs_share_unpick(src);
	return err;
}

/*
 * Read @folio through one member after the other until one gives it:
 * every reader of a shared folio that readahead did not fill ends here.
 * At most SHAREFS_READ_TRIES members from the head of the list, so that a
 * read does not wait on every failing device of a host; then the reader's
 * own member (@file's inode), so that images ahead of it on the list,
 * lying or failing, however many, cannot make its read fail.  EIO when no
 * member gave the folio.
 */
static int sharefs_shared_read_folio(struct file *file, struct folio *folio)
{
	struct sharefs_shared *sh = SHAREFS_SHARED(folio->mapping->host);
	struct sharefs_rsrc src;
	int tries, err = -EIO;

	for (tries = 0; tries < SHAREFS_READ_TRIES; tries++) {
		if (!sharefs_share_pick(sh, &src))
			break;
		err = sharefs_shared_try(&src, folio);
		if (!err || sharefs_error_is_transient(err))
			break;
	}
	if (err && !sharefs_error_is_transient(err) && file &&
	    file_inode(file)->i_sb->s_magic == SHAREFS_MAGIC &&
	    sharefs_share_pick_own(sh, SHAREFS_I(file_inode(file)), &src))
		err = sharefs_shared_try(&src, folio);
	folio_unlock(folio);
	/* no member gave bytes that match the content's hashes */
	return err == -EBADMSG ? -EIO : err;
}

/* Readahead through one member; what fails is left to read_folio. */
static void sharefs_shared_readahead(struct readahead_control *rac)
{
	struct sharefs_shared *sh = SHAREFS_SHARED(rac->mapping->host);
	struct sharefs_rsrc src;

	if (!sharefs_share_pick(sh, &src))
		return;
	sharefs_read_ahead(&src, rac);
	sharefs_share_unpick(&src);
}

static const struct address_space_operations sharefs_shared_aops = {
	.read_folio		= sharefs_shared_read_folio,
	.readahead		= sharefs_shared_readahead,
};

/* ---- finding a member's shared inode ------------------------------------ */

struct sharefs_share_key {
	const u8 *digest;
	const char *domain;	/* "" for verified content: no domains */
	u8 blkbits;		/* the members' block size */
	bool verified;		/* @digest is the fs-verity file digest */
};

static int sharefs_shared_test(struct inode *inode, void *data)
{
	const struct sharefs_share_key *key = data;
	struct sharefs_shared *sh = SHAREFS_SHARED(inode);

	/* the hash only picked the bucket: compare everything */
	return !memcmp(sh->digest, key->digest, SHAREFS_FP_DIGEST_LEN) &&
	       sh->blkbits == key->blkbits && sh->verified == key->verified &&
	       !strcmp(sh->domain, key->domain);
}

static int sharefs_shared_set(struct inode *inode, void *data)
{
	const struct sharefs_share_key *key = data;
	struct sharefs_shared *sh = SHAREFS_SHARED(inode);

	memcpy(sh->digest, key->digest, SHAREFS_FP_DIGEST_LEN);
	strscpy(sh->domain, key->domain, sizeof(sh->domain));
	sh->blkbits = key->blkbits;
	sh->verified = key->verified;
	return 0;
}

static unsigned long sharefs_share_hash(const struct sharefs_share_key *key)
{
	u64 seed = xxh64(key->domain, strlen(key->domain),
			 key->blkbits | (key->verified << 8));

	return (unsigned long)xxh64(key->digest, SHAREFS_FP_DIGEST_LEN, seed);
}

/* Set up a shared inode that iget5_locked() just created. */
static void sharefs_shared_init(struct inode *inode, loff_t size)
{
	struct sharefs_shared *sh = SHAREFS_SHARED(inode);

	inode->i_ino = get_next_ino();
	inode->i_mode = S_IFREG | 0444;
	inode->i_size = size;
	/*
	 * The members' block size: iomap tracks uptodate ranges in blocks of
	 * the mapping's host and reads whole blocks, so a host block must
	 * never be bigger than a member's (an inline tail or EOF inside it
	 * would be read from the member's device past the file's own data),
	 * and it is cheapest when it is exactly the member's: with 4 KiB
	 * blocks a 4 KiB folio needs no per-block state at all.
	 */
	inode->i_blkbits = sh->blkbits;
	inode->i_mapping->a_ops = &sharefs_shared_aops;
	mapping_set_large_folios(inode->i_mapping);
	spin_lock(&sharefs_shared_list_lock);
	list_add_tail(&sh->all, &sharefs_shared_list);
	spin_unlock(&sharefs_shared_list_lock);
	unlock_new_inode(inode);
}

/*
 * The shared inode for (domain, digest, block size), with a reference, or
 * NULL when a shared inode exists whose size disagrees with @size (no
 * sharing then).  The block size is part of the key for speed and safety
 * (see sharefs_shared_init()): images with the default 4 KiB blocks share
 * with each other, images with smaller blocks among themselves.
 */
static struct inode *sharefs_shared_get(struct inode *member, const u8 *digest,
					struct sharefs_verity **vp)
{
	struct sharefs_sb_info *sbi = SHAREFS_SB(member->i_sb);
	struct sharefs_share_key key = {
		.digest = digest,
		.domain = sbi->domain && !*vp ? sbi->domain : "",
		.blkbits = member->i_blkbits,
		.verified = *vp,
	};
	loff_t size = i_size_read(member);
	struct inode *inode;

	inode = iget5_locked(sharefs_pseudo_mnt->mnt_sb,
			     sharefs_share_hash(&key), sharefs_shared_test,
			     sharefs_shared_set, &key);
	if (!inode)
		return ERR_PTR(-ENOMEM);
	if (sharefs_inode_is_new(inode)) {
		/* verified: the first member's tree shape, for every member */
		SHAREFS_SHARED(inode)->verity = *vp;
		*vp = NULL;
		sharefs_shared_init(inode, size);
		return inode;
	}
	if (i_size_read(inode) != size) {
		if (!test_and_set_bit(SHAREFS_SBF_WARNED_FPSIZE, &sbi->flags))
			sharefs_warn(member->i_sb,
				     "nid %llu: fingerprint shared by a file of %lld bytes, this one has %lld; not sharing it",
				     SHAREFS_I(member)->nid, i_size_read(inode), size);
		atomic_long_inc(&sbi->share_mismatches);
		iput(inode);
		return NULL;
	}
	return inode;
}

/* ---- fingerprints --------------------------------------------------------- */

/*
 * Decode a fingerprint value: "sha256:" and the 32 raw digest bytes (what
 * mkfs.sharefs and erofs-utils 1.9 write), or "sha256:" and 64 hex digits
 * (the form the upstream format document describes).  -EINVAL otherwise.
 */
static int sharefs_decode_fingerprint(const u8 *val, int len, u8 *digest)
{
	if (len < SHAREFS_FP_TAG_LEN ||
	    memcmp(val, SHAREFS_FP_TAG, SHAREFS_FP_TAG_LEN))
		return -EINVAL;
	val += SHAREFS_FP_TAG_LEN;
	len -= SHAREFS_FP_TAG_LEN;
	if (len == SHAREFS_FP_DIGEST_LEN) {
		memcpy(digest, val, SHAREFS_FP_DIGEST_LEN);
		return 0;
	}
	if (len != 2 * SHAREFS_FP_DIGEST_LEN)
		return -EINVAL;
	return hex2bin(digest, (const char *)val, SHAREFS_FP_DIGEST_LEN);
}

/*
 * 0 and the digest, or -ENODATA: no fingerprint that can be used.  A
 * fingerprint that cannot be read (a corrupt xattr area, an I/O error)
 * means no sharing, not a failed open: stock erofs and noshare open such a
 * file, and a private page cache is always safe.  Each kind of trouble is
 * logged once per mount.  A transient error (a killed reader, no memory)
 * is returned as it is: the caller must not decide on it.
 */
static int sharefs_read_fingerprint(struct inode *inode, u8 *digest)
{
	struct sharefs_sb_info *sbi = SHAREFS_SB(inode->i_sb);
	u8 val[SHAREFS_FP_TAG_LEN + 2 * SHAREFS_FP_DIGEST_LEN];
	int len;

	len = sharefs_getxattr(inode, sbi->fp_index, sbi->fp_name, val,
			       sizeof(val));
	if (len == -ENODATA)
		return len;
	if (len == -ERANGE)	/* longer than any fingerprint we read */
		len = -EINVAL;
	if (len >= 0)
		len = sharefs_decode_fingerprint(val, len, digest);
	/*
	 * A reader killed while it waited for the metadata block, or no
	 * memory: nothing is known about the fingerprint.  Fail this open
	 * (its process is going away) and leave the decision to the next.
	 */
	if (sharefs_error_is_transient(len))
		return len;
	if (len == -EINVAL) {
		if (!test_and_set_bit(SHAREFS_SBF_WARNED_FPBAD, &sbi->flags))
			sharefs_warn(inode->i_sb,
				     "nid %llu: malformed content fingerprint; not sharing it",
				     SHAREFS_I(inode)->nid);
		return -ENODATA;
	}
	if (len < 0) {
		if (!test_and_set_bit(SHAREFS_SBF_WARNED_FPREAD, &sbi->flags))
			sharefs_warn(inode->i_sb,
				     "nid %llu: cannot read the content fingerprint (error %d); not sharing it",
				     SHAREFS_I(inode)->nid, len);
		return -ENODATA;
	}
	return 0;
}

/*
 * Which xattr holds the fingerprints of this image: the long prefix that
 * the superblock's ishare pointer names (erofs-utils >= 1.9, mkfs.sharefs
 * --ishare-xattr), else trusted.fingerprint.
 */
void sharefs_share_fill_super(struct super_block *sb)
{
	struct sharefs_sb_info *sbi = SHAREFS_SB(sb);
	unsigned int id = sbi->ishare_xattr_prefix_id &
			  SHAREFS_XATTR_LONG_PREFIX_MASK;

	sbi->fp_index = SHAREFS_XATTR_INDEX_TRUSTED;
	sbi->fp_name = SHAREFS_FP_SUFFIX;
	if (sharefs_sb_has_ishare_xattrs(sbi) &&
	    sharefs_sb_has_xattr_prefixes(sbi) && sbi->xattr_prefixes &&
	    id < sbi->xattr_prefix_count) {
		/* the fingerprint's name is the whole prefix: empty suffix */
		sbi->fp_index = sbi->xattr_prefixes[id].base_index;
		sbi->fp_name = sbi->xattr_prefixes[id].infix;
	}
}

/* ---- members ---------------------------------------------------------- */

/*
 * Readahead on a shared mapping takes its limits from the pseudo
 * superblock's bdi (mapping->host), not from the device it reads: raise
 * them to the largest a member's device allows, or large sequential reads
 * would go out in 128 KiB pieces however much the device takes at once.
 */
static void sharefs_share_adopt_ra(struct super_block *pseudo,
				   struct super_block *sb)
{
	struct backing_dev_info *to = pseudo->s_bdi, *from = sb->s_bdi;

	if (from->io_pages > READ_ONCE(to->io_pages))
		WRITE_ONCE(to->io_pages, from->io_pages);
	if (from->ra_pages > READ_ONCE(to->ra_pages))
		WRITE_ONCE(to->ra_pages, from->ra_pages);
}

static void sharefs_pin_release(struct percpu_ref *ref)
{
	complete(&container_of(ref, struct sharefs_sb_info, pin)->pin_drained);
}

/*
 * At sb_info allocation, before the superblock points at it, so that
 * kill_sb works on a half-built mount.
 */
int sharefs_share_init_sbi(struct sharefs_sb_info *sbi)
{
	spin_lock_init(&sbi->share_lock);
	INIT_LIST_HEAD(&sbi->share_members);
	atomic_long_set(&sbi->share_mismatches, 0);
	init_completion(&sbi->pin_drained);
	return percpu_ref_init(&sbi->pin, sharefs_pin_release, 0, GFP_KERNEL);
}

/* After kill_sb drained the pin (sharefs_share_kill_sb()). */
void sharefs_share_exit_sbi(struct sharefs_sb_info *sbi)
{
	percpu_ref_exit(&sbi->pin);
}

/*
 * The share key's digest of @inode: on a verity mount the fs-verity digest
 * of its verity metadata, if it has usable metadata (*@vp then set: its
 * content is checked page by page and shares across domains); else its
 * fingerprint.  -ENODATA: neither, a private page cache.
 */
static int sharefs_share_digest(struct inode *inode, u8 *digest,
				struct sharefs_verity **vp)
{
	struct sharefs_sb_info *sbi = SHAREFS_SB(inode->i_sb);
	struct sharefs_inode *si = SHAREFS_I(inode);
	int err;

	*vp = NULL;
	if (sbi->verity) {
		err = sharefs_verity_load(inode, digest, &si->verity_tree_pos,
					  vp);
		if (!err || sharefs_error_is_transient(err))
			return err;
		if (err != -ENODATA &&
		    !test_and_set_bit(SHAREFS_SBF_WARNED_VERITY, &sbi->flags))
			sharefs_warn(inode->i_sb,
				     "nid %llu: unusable verity metadata (error %d); sharing it by fingerprint, within its domain",
				     si->nid, err);
	}
	return sharefs_read_fingerprint(inode, digest);
}

/* Make @inode a member of its shared inode if it has a fingerprint. */
static int sharefs_share_attach(struct inode *inode)
{
	struct sharefs_sb_info *sbi = SHAREFS_SB(inode->i_sb);
	struct sharefs_inode *si = SHAREFS_I(inode);
	struct sharefs_verity *v;
	struct sharefs_shared *sh;
	u8 digest[SHAREFS_FP_DIGEST_LEN];
	struct inode *shared;
	int err;

	if (sbi->noshare || !S_ISREG(inode->i_mode) || !i_size_read(inode) ||
	    test_bit(SHAREFS_SBF_SHUTDOWN, &sbi->flags))
		return 0;
	err = sharefs_share_digest(inode, digest, &v);
	if (err == -ENODATA)
		return 0;	/* no usable fingerprint: a private page cache */
	if (err)
		return err;	/* transient: the next opener decides */
	shared = sharefs_shared_get(inode, digest, &v);
	/* a member that joins an existing shared inode drops its copy */
	sharefs_verity_free(v);
	if (IS_ERR_OR_NULL(shared))
		return PTR_ERR_OR_ZERO(shared);

	sharefs_share_adopt_ra(shared->i_sb, inode->i_sb);
	sh = SHAREFS_SHARED(shared);
	si->share = sh;
	/*
	 * Nothing has read through i_data: this is the first open, and open
	 * is the only way to a regular file's pages.  Openers that already
	 * have their f_mapping take the new one in sharefs_share_join().
	 */
	WRITE_ONCE(inode->i_mapping, shared->i_mapping);
	spin_lock(&sh->lock);
	list_add_tail(&si->share_link, &sh->members);
	si->share_linked = true;
	sh->nr_members++;
	spin_unlock(&sh->lock);
	spin_lock(&sbi->share_lock);
	list_add_tail(&si->sb_link, &sbi->share_members);
	spin_unlock(&sbi->share_lock);
	/* other mounts may now read through this one: unlink at umount */
	WRITE_ONCE(sbi->share_ever, true);
	return 0;
}

/* A member is being evicted: leave the group, drop the shared inode. */
void sharefs_share_detach(struct inode *inode)
{
	struct sharefs_sb_info *sbi = SHAREFS_SB(inode->i_sb);
	struct sharefs_inode *si = SHAREFS_I(inode);
	struct sharefs_shared *sh = si->share;

	if (!sh)
		return;
	/*
	 * No read call uses it as its source: a call holds an inode
	 * reference, and this inode is being evicted.  Unlinked already if
	 * its superblock is going away or its reads failed.
	 */
	sharefs_share_unlink(si);
	spin_lock(&sbi->share_lock);
	list_del(&si->sb_link);
	spin_unlock(&sbi->share_lock);
	inode->i_mapping = &inode->i_data;
	si->share = NULL;
	iput(&sh->vfs_inode);
}

/*
 * A regular file is being opened: on its first open, join its shared inode
 * (if it has a fingerprint and its mount shares), then read through
 * whichever page cache it ended up with.
 *
 * Joining waits for the first open, not lookup, so that walks which only
 * stat files (find, ls -l, du, a container runtime unpacking layers) never
 * read fingerprints, and files that are never read never join and never
 * count in the counters.
 *
 * do_dentry_open() set file->f_mapping from i_mapping before calling us,
 * so set it again.  The decision is taken once, under the inode lock; a
 * failure (no memory for the shared inode) leaves it open for the next
 * opener.  A fingerprint that cannot be read is no failure: the file then
 * reads through its own page cache.
 */
int sharefs_share_join(struct inode *inode, struct file *file)
{
	struct sharefs_inode *si = SHAREFS_I(inode);
	int err = 0;

	if (!smp_load_acquire(&si->share_decided)) {
		inode_lock(inode);
		if (!si->share_decided) {
			err = sharefs_share_attach(inode);
			if (!err)
				smp_store_release(&si->share_decided, true);
		}
		inode_unlock(inode);
	}
	file->f_mapping = READ_ONCE(inode->i_mapping);
	return err;
}

/* Take all members of @sbi off their shared inodes. */
static void sharefs_share_leave_all(struct sharefs_sb_info *sbi)
{
	struct sharefs_inode *si;

	spin_lock(&sbi->share_lock);
	list_for_each_entry(si, &sbi->share_members, sb_link)
		sharefs_share_unlink(si);
	spin_unlock(&sbi->share_lock);
}

/*
 * The superblock is going away.  Its members leave their shared inodes
 * before eviction tears them down; other mounts' readers move on to other
 * members (or get EIO if none is left; but then no file of theirs
 * references that content any more).
 *
 * Then wait for the read calls through its members and for their bios
 * (the pinning rule above).  A filesystem normally gets the latter for
 * free: eviction waits for its inodes' locked folios.  Shared folios
 * belong to the shared inodes, so nothing would wait for them, and the
 * device may be closed right after us; a loop device, for one, takes its
 * last close to mean that no I/O is left and tears its backing file down.
 */
void sharefs_share_kill_sb(struct super_block *sb)
{
	struct sharefs_sb_info *sbi = SHAREFS_SB(sb);

	if (!sbi)
		return;
	if (sbi->share_ever)
		sharefs_share_leave_all(sbi);
	percpu_ref_kill(&sbi->pin);
	wait_for_completion(&sbi->pin_drained);
}

/*
 * The device is gone (->shutdown, from 6.6): reads of this mount fail with
 * EIO from now on, as on other filesystems, and its members stop serving
 * other mounts at once, rather than one failed read per content.  On
 * older kernels the failed reads do it (sharefs_share_fail()).
 */
void sharefs_share_shutdown(struct super_block *sb)
{
	struct sharefs_sb_info *sbi = SHAREFS_SB(sb);

	if (test_and_set_bit(SHAREFS_SBF_SHUTDOWN, &sbi->flags))
		return;
	sharefs_share_leave_all(sbi);
	sharefs_warn(sb, "device is gone: reads fail, other images serve the shared content");
}

/* ---- counters ------------------------------------------------------------ */

static void sharefs_shared_account(struct sharefs_shared *sh,
				   struct sharefs_share_stats *st)
{
	unsigned long pages = READ_ONCE(sh->vfs_inode.i_data.nrpages);
	unsigned int members = READ_ONCE(sh->nr_members);

	st->shared_inodes++;
	st->members += members;
	st->resident_bytes += (u64)pages << PAGE_SHIFT;
	/* every member after the first would have cached its own copy */
	if (members > 1)
		st->saved_bytes += ((u64)pages << PAGE_SHIFT) * (members - 1);
}

/* Counters over all shared inodes. */
void sharefs_share_stats_global(struct sharefs_share_stats *st)
{
	struct sharefs_shared *sh;

	memset(st, 0, sizeof(*st));
	spin_lock(&sharefs_shared_list_lock);
	list_for_each_entry(sh, &sharefs_shared_list, all)
		sharefs_shared_account(sh, st);
	spin_unlock(&sharefs_shared_list_lock);
}

/*
 * Counters of one mount.  A shared inode's saving is split evenly between
 * its members, so the mounts' saved_bytes add up to the global figure.
 */
void sharefs_share_stats_sb(struct super_block *sb,
			    struct sharefs_share_stats *st)
{
	struct sharefs_sb_info *sbi = SHAREFS_SB(sb);
	struct sharefs_inode *si;

	memset(st, 0, sizeof(*st));
	st->mismatches = atomic_long_read(&sbi->share_mismatches);
	spin_lock(&sbi->share_lock);
	list_for_each_entry(si, &sbi->share_members, sb_link) {
		struct sharefs_shared *sh = si->share;
		u64 bytes = (u64)READ_ONCE(sh->vfs_inode.i_data.nrpages)
				<< PAGE_SHIFT;
		unsigned int members = READ_ONCE(sh->nr_members);

		st->members++;
		st->resident_bytes += bytes;
		if (members > 1)
			st->saved_bytes += div_u64(bytes * (members - 1), members);
	}
	spin_unlock(&sbi->share_lock);
}

/* ---- module init/exit ------------------------------------------------------ */

static void sharefs_shared_init_once(void *ptr)
{
	struct sharefs_shared *sh = ptr;

	inode_init_once(&sh->vfs_inode);
}

int __init sharefs_share_init(void)
{
	int err;

	sharefs_shared_cachep = kmem_cache_create("sharefs_shared",
			sizeof(struct sharefs_shared), 0,
			SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT,
			sharefs_shared_init_once);
	if (!sharefs_shared_cachep)
		return -ENOMEM;
	sharefs_pseudo_mnt = kern_mount(&sharefs_pseudo_fs_type);
	if (IS_ERR(sharefs_pseudo_mnt)) {
		err = PTR_ERR(sharefs_pseudo_mnt);
		sharefs_pseudo_mnt = NULL;
		goto err_mount;
	}
	return 0;

err_mount:
	kmem_cache_destroy(sharefs_shared_cachep);
	return err;
}

/* Only after every sharefs mount is gone (the module is pinned till then). */
void sharefs_share_exit(void)
{
	kern_unmount(sharefs_pseudo_mnt);
	sharefs_pseudo_mnt = NULL;
	/* free_inode runs after an RCU grace period: wait before the cache goes */
	rcu_barrier();
	kmem_cache_destroy(sharefs_shared_cachep);
}
