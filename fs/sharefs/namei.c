// SPDX-License-Identifier: GPL-2.0-only
/*
 * namei.c - lookup by binary search.
 *
 * Directory names are sorted (bytewise, a prefix before its extensions)
 * across all blocks of a directory.  A lookup first finds, by binary search
 * over blocks, the last block whose first name is not after the wanted name,
 * then searches that block's dirents, also by bisection: O(log n) block reads.
 * A corrupt, unsorted directory can make a name unfindable but never makes
 * the search loop or read out of bounds.
 */
#include "internal.h"

static int sharefs_namecmp(const struct qstr *q, const char *name,
			   unsigned int len)
{
	int r = memcmp(q->name, name, min_t(unsigned int, q->len, len));

	if (r)
		return r;
	return (q->len > len) - (q->len < len);
}

/* Compare @q with dirent @i of @blk; errors are returned in *@err. */
static int sharefs_dirent_cmp(struct inode *dir, const struct sharefs_dirblk *blk,
			      unsigned int i, const struct qstr *q, int *err)
{
	const char *name;
	unsigned int len;

	*err = sharefs_dirblk_name(dir, blk, i, &name, &len);
	return *err ? 0 : sharefs_namecmp(q, name, len);
}

/* Find @q in @dir: 0 and *@nid, -ENOENT, or an error. */
int sharefs_find_dirent(struct inode *dir, const struct qstr *q, u64 *nid)
{
	struct sharefs_buf buf = SHAREFS_BUF_INIT;
	u64 nblocks = DIV_ROUND_UP(i_size_read(dir), dir->i_sb->s_blocksize);
	u64 lo = 0, hi = nblocks, cand = U64_MAX;
	struct sharefs_dirblk blk;
	unsigned int l, h;
	void *data;
	int cmp, err;

	/* the last block whose first name is <= q, in [lo, hi) */
	while (lo < hi) {
		u64 mid = lo + (hi - lo) / 2;

		data = sharefs_dir_bread(dir, &buf, mid, &blk);
		if (IS_ERR(data)) {
			err = PTR_ERR(data);
			goto out;
		}
		cmp = sharefs_dirent_cmp(dir, &blk, 0, q, &err);
		if (err)
			goto out;
		if (!cmp) {
			*nid = le64_to_cpu(blk.de[0].nid);
			goto out;
		}
		if (cmp > 0) {
			cand = mid;
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	err = -ENOENT;
	if (cand == U64_MAX)
		goto out;

	data = sharefs_dir_bread(dir, &buf, cand, &blk);
	if (IS_ERR(data)) {
		err = PTR_ERR(data);
		goto out;
	}
	/* dirent 0 is known to sort before q: search [1, count) */
	l = 1;
	h = blk.count;
	while (l < h) {
		unsigned int mid = l + (h - l) / 2;

		cmp = sharefs_dirent_cmp(dir, &blk, mid, q, &err);
		if (err)
			goto out;
		if (!cmp) {
			*nid = le64_to_cpu(blk.de[mid].nid);
			goto out;
		}
		if (cmp > 0)
			l = mid + 1;
		else
			h = mid;
	}
	err = -ENOENT;
out:
	sharefs_put_buf(&buf);
	return err;
}

static struct dentry *sharefs_lookup(struct inode *dir, struct dentry *dentry,
				     unsigned int flags)
{
	struct inode *inode = NULL;
	u64 nid;
	int err;

	if (dentry->d_name.len > SHAREFS_NAME_LEN)
		return ERR_PTR(-ENAMETOOLONG);
	err = sharefs_check_readable(dir);
	if (!err)
		err = sharefs_find_dirent(dir, &dentry->d_name, &nid);
	if (!err)
		inode = sharefs_iget(dir->i_sb, nid);
	else if (err != -ENOENT)
		return ERR_PTR(err);
	return d_splice_alias(inode, dentry);
}

const struct inode_operations sharefs_dir_iops = {
	.lookup			= sharefs_lookup,
	.getattr		= sharefs_getattr,
	.listxattr		= sharefs_listxattr,
	.SHAREFS_IOP_GET_ACL	= sharefs_get_acl,
};
