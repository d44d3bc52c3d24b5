// SPDX-License-Identifier: GPL-2.0-only
/*
 * export.c - file handles: NFS export, open_by_handle_at(), and what
 * overlayfs needs from a lower layer for index=on, nfs_export=on and a
 * persistent xino.
 *
 * A handle is the inode's nid, the byte offset of its on-disk inode divided
 * by 32, which is also its inode number; a connectable handle adds the
 * parent directory's nid.  Images are read-only, so a nid names the same
 * inode for as long as the image exists, across remounts: there is no
 * generation to check, and the generation word is always 0.  The layouts
 * are those of the kernel's FILEID_INO64_GEN(_PARENT): a 64-bit inode
 * number and a 32-bit generation, then the parent's.
 *
 * Handles come from outside (NFS clients, open_by_handle_at() with
 * CAP_DAC_READ_SEARCH), so a nid in a handle is not trusted: it is read as
 * any nid from a directory is, with every bound checked, and a nid that
 * does not lead to a valid inode gives -ESTALE, the error for a handle that
 * names nothing, never a crash.
 */
#include <linux/exportfs.h>
#include "internal.h"

#define SHAREFS_FILEID_NID		0x81	/* nid, gen */
#define SHAREFS_FILEID_NID_PARENT	0x82	/* nid, gen, parent nid, gen */
#define SHAREFS_FH_LEN			3	/* u32 words */

static void sharefs_fh_put(u32 *fh, u64 nid)
{
	fh[0] = lower_32_bits(nid);
	fh[1] = upper_32_bits(nid);
	fh[2] = 0;
}

static u64 sharefs_fh_nid(const u32 *fh)
{
	return fh[0] | (u64)fh[1] << 32;
}

static int sharefs_encode_fh(struct inode *inode, u32 *fh, int *max_len,
			     struct inode *parent)
{
	int len = parent ? 2 * SHAREFS_FH_LEN : SHAREFS_FH_LEN;

	if (*max_len < len) {
		*max_len = len;
		return FILEID_INVALID;
	}
	sharefs_fh_put(fh, SHAREFS_I(inode)->nid);
	if (parent)
		sharefs_fh_put(fh + SHAREFS_FH_LEN, SHAREFS_I(parent)->nid);
	*max_len = len;
	return parent ? SHAREFS_FILEID_NID_PARENT : SHAREFS_FILEID_NID;
}

/* the inode a handle names; -ESTALE when it names none */
static struct dentry *sharefs_nid_to_dentry(struct super_block *sb, u64 nid)
{
	struct inode *inode = sharefs_iget(sb, nid);

	if (IS_ERR(inode))
		return ERR_PTR(PTR_ERR(inode) == -ENOMEM ? -ENOMEM : -ESTALE);
	return d_obtain_alias(inode);
}

static struct dentry *sharefs_fh_to_dentry(struct super_block *sb,
					   struct fid *fid, int fh_len,
					   int fh_type)
{
	if ((fh_type != SHAREFS_FILEID_NID &&
	     fh_type != SHAREFS_FILEID_NID_PARENT) || fh_len < SHAREFS_FH_LEN)
		return NULL;
	return sharefs_nid_to_dentry(sb, sharefs_fh_nid(fid->raw));
}

static struct dentry *sharefs_fh_to_parent(struct super_block *sb,
					   struct fid *fid, int fh_len,
					   int fh_type)
{
	if (fh_type != SHAREFS_FILEID_NID_PARENT || fh_len < 2 * SHAREFS_FH_LEN)
		return NULL;
	return sharefs_nid_to_dentry(sb, sharefs_fh_nid(fid->raw + SHAREFS_FH_LEN));
}

static struct dentry *sharefs_get_parent(struct dentry *child)
{
	static const struct qstr dotdot = QSTR_INIT("..", 2);
	u64 nid;
	int err;

	err = sharefs_find_dirent(d_inode(child), &dotdot, &nid);
	if (err)
		return ERR_PTR(err == -ENOENT ? -EFSCORRUPTED : err);
	return sharefs_nid_to_dentry(child->d_sb, nid);
}

const struct export_operations sharefs_export_ops = {
	.encode_fh	= sharefs_encode_fh,
	.fh_to_dentry	= sharefs_fh_to_dentry,
	.fh_to_parent	= sharefs_fh_to_parent,
	.get_parent	= sharefs_get_parent,
};
