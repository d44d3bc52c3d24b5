// SPDX-License-Identifier: GPL-2.0-only
/*
 * xattr.c - extended attributes and POSIX ACLs.
 *
 * An inode's xattr area follows it: a 12-byte header, h_shared_count ids of
 * shared entries (each a 4-byte unit index from xattr_blkaddr), then inline
 * entries up to the end of the area.  An entry is a 4-byte header, the name
 * suffix and the value, padded to 4 bytes.  Its e_name_index is a standard
 * prefix, or with SHAREFS_XATTR_LONG_PREFIX set, an index into the long
 * prefix table loaded at mount, whose entries add an infix to a standard
 * prefix.  Entries may cross block boundaries, so they are copied out.
 *
 * Lookups and listings walk inline entries then shared ones; every entry is
 * checked to lie inside the xattr area (inline) or the image (shared).
 */
#include "internal.h"

struct sharefs_xattr_iter {
	struct inode *inode;
	int index;			/* SHAREFS_XATTR_INDEX_* looked up */
	const char *name;		/* name after the standard prefix */
	unsigned int name_len;
	char *buffer;			/* output, NULL: size query */
	size_t size;			/* bytes of buffer */
	size_t ret;			/* value size, or list bytes so far */
	char namebuf[SHAREFS_NAME_LEN + 1];
};

/* called on each entry: 0 to go on, 1 to stop, or an error */
typedef int (*sharefs_xattr_fn)(struct sharefs_xattr_iter *it,
				const struct sharefs_xattr_entry *e,
				u64 name_pos);

static int sharefs_xattr_walk(struct sharefs_xattr_iter *it,
			      sharefs_xattr_fn fn)
{
	struct inode *inode = it->inode;
	struct super_block *sb = inode->i_sb;
	struct sharefs_sb_info *sbi = SHAREFS_SB(sb);
	struct sharefs_inode *si = SHAREFS_I(inode);
	struct sharefs_xattr_ibody_header ih;
	struct sharefs_xattr_entry e;
	u64 base, end, pos;
	unsigned int i;
	int ret;

	if (!si->xattr_isize)
		return 0;
	/* fill_inode checked that [base, end) lies inside the image */
	base = sharefs_iloc(sb, si->nid) + si->inode_isize;
	end = base + si->xattr_isize;
	ret = sharefs_copy_meta(sb, base, &ih, sizeof(ih));
	if (ret)
		return ret;
	pos = base + sizeof(ih) + ih.h_shared_count * sizeof(__le32);
	/* the shared id array fits the xattr area */
	if (pos > end)
		goto corrupt;

	while (pos < end) {
		u64 esz;

		/* an entry header fits the rest of the xattr area */
		if (end - pos < sizeof(e))
			goto corrupt;
		ret = sharefs_copy_meta(sb, pos, &e, sizeof(e));
		if (ret)
			return ret;
		esz = SHAREFS_XATTR_ALIGN(sizeof(e) + e.e_name_len +
					  le16_to_cpu(e.e_value_size));
		/* its name and value fit the rest of the xattr area */
		if (esz > end - pos)
			goto corrupt;
		ret = fn(it, &e, pos + sizeof(e));
		if (ret)
			return ret;
		pos += esz;
	}

	for (i = 0; i < ih.h_shared_count; i++) {
		__le32 id;

		ret = sharefs_copy_meta(sb, base + sizeof(ih) + i * sizeof(id),
					&id, sizeof(id));
		if (ret)
			return ret;
		/* shared entries are read with image bounds checks */
		pos = sharefs_pos(sb, sbi->xattr_blkaddr) +
		      (u64)le32_to_cpu(id) * sizeof(__le32);
		ret = sharefs_copy_meta(sb, pos, &e, sizeof(e));
		if (ret)
			return ret;
		ret = fn(it, &e, pos + sizeof(e));
		if (ret)
			return ret;
	}
	return 0;

corrupt:
	sharefs_err(sb, "xattr entries run past the xattr area @ nid %llu",
		    si->nid);
	return -EFSCORRUPTED;
}

/* The standard prefix index and the infix of an entry's name index. */
static int sharefs_xattr_resolve(struct super_block *sb, u8 name_index,
				 u8 *base, const char **infix,
				 unsigned int *infix_len)
{
	struct sharefs_sb_info *sbi = SHAREFS_SB(sb);
	const struct sharefs_xattr_prefix *p;
	unsigned int idx;

	if (!(name_index & SHAREFS_XATTR_LONG_PREFIX)) {
		*base = name_index;
		*infix = "";
		*infix_len = 0;
		return 0;
	}
	idx = name_index & SHAREFS_XATTR_LONG_PREFIX_MASK;
	/* long prefixes index the table of the superblock's size */
	if (idx >= sbi->xattr_prefix_count) {
		sharefs_err(sb, "bogus long xattr prefix %u", idx);
		return -EFSCORRUPTED;
	}
	/* the table is in a compressed packed inode we cannot read */
	if (!sbi->xattr_prefixes)
		return -EOPNOTSUPP;
	p = &sbi->xattr_prefixes[idx];
	*base = p->base_index;
	*infix = p->infix;
	*infix_len = p->infix_len;
	return 0;
}

static int sharefs_xattr_match(struct sharefs_xattr_iter *it,
			       const struct sharefs_xattr_entry *e,
			       u64 name_pos)
{
	struct super_block *sb = it->inode->i_sb;
	unsigned int infix_len, vsize = le16_to_cpu(e->e_value_size);
	const char *infix;
	u8 base;
	int err;

	err = sharefs_xattr_resolve(sb, e->e_name_index, &base, &infix,
				    &infix_len);
	if (err)
		return err;
	if (base != it->index || infix_len + e->e_name_len != it->name_len ||
	    memcmp(it->name, infix, infix_len))
		return 0;
	err = sharefs_copy_meta(sb, name_pos, it->namebuf, e->e_name_len);
	if (err)
		return err;
	if (memcmp(it->name + infix_len, it->namebuf, e->e_name_len))
		return 0;
	if (it->buffer) {
		if (vsize > it->size)
			return -ERANGE;
		err = sharefs_copy_meta(sb, name_pos + e->e_name_len,
					it->buffer, vsize);
		if (err)
			return err;
	}
	it->ret = vsize;
	return 1;
}

int sharefs_getxattr(struct inode *inode, int index, const char *name,
			    void *buffer, size_t size)
{
	struct sharefs_xattr_iter *it;
	size_t len = strlen(name);
	int ret;

	if (len > SHAREFS_NAME_LEN)
		return -ERANGE;
	it = kmalloc(sizeof(*it), GFP_KERNEL);
	if (!it)
		return -ENOMEM;
	it->inode = inode;
	it->index = index;
	it->name = name;
	it->name_len = len;
	it->buffer = buffer;
	it->size = size;
	it->ret = 0;
	ret = sharefs_xattr_walk(it, sharefs_xattr_match);
	if (ret == 1)
		ret = it->ret;
	else if (!ret)
		ret = -ENODATA;
	kfree(it);
	return ret;
}

/* The full prefix of standard index @base, or NULL to hide the entry. */
static const char *sharefs_xattr_list_prefix(struct dentry *dentry, u8 base)
{
	switch (base) {
	case SHAREFS_XATTR_INDEX_USER:
		return XATTR_USER_PREFIX;
	case SHAREFS_XATTR_INDEX_TRUSTED:
		/* as the trusted handler's ->list of every filesystem */
		return capable(CAP_SYS_ADMIN) ? XATTR_TRUSTED_PREFIX : NULL;
	case SHAREFS_XATTR_INDEX_SECURITY:
		return XATTR_SECURITY_PREFIX;
	case SHAREFS_XATTR_INDEX_POSIX_ACL_ACCESS:
		return IS_POSIXACL(d_inode(dentry)) ?
			XATTR_NAME_POSIX_ACL_ACCESS : NULL;
	case SHAREFS_XATTR_INDEX_POSIX_ACL_DEFAULT:
		return IS_POSIXACL(d_inode(dentry)) ?
			XATTR_NAME_POSIX_ACL_DEFAULT : NULL;
	default:
		return NULL;
	}
}

struct sharefs_list_iter {
	struct sharefs_xattr_iter it;
	struct dentry *dentry;
};

static int sharefs_xattr_list_one(struct sharefs_xattr_iter *it,
				  const struct sharefs_xattr_entry *e,
				  u64 name_pos)
{
	struct sharefs_list_iter *li = container_of(it, struct sharefs_list_iter, it);
	struct super_block *sb = it->inode->i_sb;
	unsigned int infix_len, plen;
	const char *infix, *prefix;
	size_t total;
	char *out;
	bool acl;
	u8 base;
	int err;

	err = sharefs_xattr_resolve(sb, e->e_name_index, &base, &infix,
				    &infix_len);
	if (err)
		return err;
	/*
	 * The two ACL names are whole; user., trusted. and security. names
	 * need a suffix.  Anything else would list a name that getxattr()
	 * cannot take.
	 */
	acl = base == SHAREFS_XATTR_INDEX_POSIX_ACL_ACCESS ||
	      base == SHAREFS_XATTR_INDEX_POSIX_ACL_DEFAULT;
	if (acl != !(infix_len + e->e_name_len)) {
		sharefs_err(sb, "bogus xattr name (index %u, %u bytes) @ nid %llu",
			    e->e_name_index, infix_len + e->e_name_len,
			    SHAREFS_I(it->inode)->nid);
		return -EFSCORRUPTED;
	}
	prefix = sharefs_xattr_list_prefix(li->dentry, base);
	if (!prefix)
		return 0;
	plen = strlen(prefix);
	total = plen + infix_len + e->e_name_len + 1;
	if (it->buffer) {
		if (total > it->size - it->ret)
			return -ERANGE;
		out = it->buffer + it->ret;
		memcpy(out, prefix, plen);
		memcpy(out + plen, infix, infix_len);
		err = sharefs_copy_meta(sb, name_pos, out + plen + infix_len,
					e->e_name_len);
		if (err)
			return err;
		out[total - 1] = '\0';
	}
	it->ret += total;
	return 0;
}

ssize_t sharefs_listxattr(struct dentry *dentry, char *buffer, size_t size)
{
	struct sharefs_list_iter *li;
	ssize_t ret;

	li = kmalloc(sizeof(*li), GFP_KERNEL);
	if (!li)
		return -ENOMEM;
	li->dentry = dentry;
	li->it.inode = d_inode(dentry);
	li->it.buffer = buffer;
	li->it.size = size;
	li->it.ret = 0;
	ret = sharefs_xattr_walk(&li->it, sharefs_xattr_list_one);
	if (!ret)
		ret = li->it.ret;
	kfree(li);
	return ret;
}

static int sharefs_xattr_get(const struct xattr_handler *handler,
			     struct dentry *unused, struct inode *inode,
			     const char *name, void *buffer, size_t size)
{
	return sharefs_getxattr(inode, handler->flags, name, buffer, size);
}

static const struct xattr_handler sharefs_xattr_user_handler = {
	.prefix	= XATTR_USER_PREFIX,
	.flags	= SHAREFS_XATTR_INDEX_USER,
	.get	= sharefs_xattr_get,
};

static const struct xattr_handler sharefs_xattr_trusted_handler = {
	.prefix	= XATTR_TRUSTED_PREFIX,
	.flags	= SHAREFS_XATTR_INDEX_TRUSTED,
	.get	= sharefs_xattr_get,
};

static const struct xattr_handler sharefs_xattr_security_handler = {
	.prefix	= XATTR_SECURITY_PREFIX,
	.flags	= SHAREFS_XATTR_INDEX_SECURITY,
	.get	= sharefs_xattr_get,
};

const struct xattr_handler *sharefs_xattr_handlers[] = {
	&sharefs_xattr_user_handler,
	&sharefs_xattr_trusted_handler,
	&sharefs_xattr_security_handler,
	SHAREFS_ACL_XATTR_HANDLERS
	NULL,
};

struct posix_acl *sharefs_get_acl(struct inode *inode, int type, bool rcu)
{
	struct posix_acl *acl;
	int index, size;
	void *value;

	if (rcu)
		return ERR_PTR(-ECHILD);
	switch (type) {
	case ACL_TYPE_ACCESS:
		index = SHAREFS_XATTR_INDEX_POSIX_ACL_ACCESS;
		break;
	case ACL_TYPE_DEFAULT:
		index = SHAREFS_XATTR_INDEX_POSIX_ACL_DEFAULT;
		break;
	default:
		return ERR_PTR(-EINVAL);
	}
	size = sharefs_getxattr(inode, index, "", NULL, 0);
	if (size == -ENODATA)
		return NULL;
	if (size <= 0)
		return size ? ERR_PTR(size) : NULL;
	value = kmalloc(size, GFP_KERNEL);
	if (!value)
		return ERR_PTR(-ENOMEM);
	size = sharefs_getxattr(inode, index, "", value, size);
	if (size < 0)
		acl = ERR_PTR(size);
	else
		acl = posix_acl_from_xattr(&init_user_ns, value, size);
	kfree(value);
	/* the value is on disk: one that does not parse is corrupt metadata */
	if (acl == ERR_PTR(-EINVAL)) {
		sharefs_err(inode->i_sb, "malformed POSIX ACL @ nid %llu",
			    SHAREFS_I(inode)->nid);
		acl = ERR_PTR(-EFSCORRUPTED);
	}
	return acl;
}

/* Read @len bytes of the long prefix table, from @packed or the device. */
static int sharefs_read_prefix_bytes(struct super_block *sb,
				     struct inode *packed, u64 pos,
				     void *dst, size_t len)
{
	if (packed)
		return sharefs_copy_data(packed, pos, dst, len);
	return sharefs_copy_meta(sb, pos, dst, len);
}

/*
 * Load the long xattr name prefix table: xattr_prefix_count entries, each a
 * __le16 length, the base index and the infix, padded to 4 bytes, starting
 * at byte xattr_prefix_start * 4 of the packed inode (or of the image when
 * there is no packed inode or COMPAT_PLAIN_XATTR_PFX is set).
 */
int sharefs_xattr_prefixes_init(struct super_block *sb)
{
	struct sharefs_sb_info *sbi = SHAREFS_SB(sb);
	struct inode *packed = NULL;
	u8 raw[1 + SHAREFS_NAME_LEN];
	u64 pos = (u64)sbi->xattr_prefix_start * 4;
	unsigned int i, len;
	__le16 len16;
	int err = 0;

	if (!sbi->xattr_prefix_count)
		return 0;
	if (sbi->packed_nid && !sharefs_sb_has_plain_xattr_pfx(sbi)) {
		packed = sharefs_iget(sb, sbi->packed_nid);
		if (IS_ERR(packed))
			return PTR_ERR(packed);
		if (!S_ISREG(packed->i_mode)) {
			sharefs_err(sb, "packed inode %llu is not a file",
				    sbi->packed_nid);
			err = -EFSCORRUPTED;
			goto out;
		}
		/*
		 * A compressed packed inode comes with compressed files: mount
		 * anyway, and fail only the xattrs that use a long prefix.
		 */
		if (sharefs_check_readable(packed))
			goto out;
	}
	sbi->xattr_prefixes = kcalloc(sbi->xattr_prefix_count,
				      sizeof(*sbi->xattr_prefixes), GFP_KERNEL);
	if (!sbi->xattr_prefixes) {
		err = -ENOMEM;
		goto out;
	}

	for (i = 0; i < sbi->xattr_prefix_count; i++) {
		struct sharefs_xattr_prefix *p = &sbi->xattr_prefixes[i];

		err = sharefs_read_prefix_bytes(sb, packed, pos, &len16,
						sizeof(len16));
		if (err)
			goto out;
		len = le16_to_cpu(len16);
		/* an entry holds its base index and an infix that fits a name */
		if (len < 1 || len > sizeof(raw)) {
			sharefs_err(sb, "bogus long xattr prefix %u (%u bytes)",
				    i, len);
			err = -EFSCORRUPTED;
			goto out;
		}
		err = sharefs_read_prefix_bytes(sb, packed, pos + sizeof(len16),
						raw, len);
		if (err)
			goto out;
		p->base_index = raw[0];
		p->infix_len = len - 1;
		p->infix = kmemdup_nul((char *)raw + 1, len - 1, GFP_KERNEL);
		if (!p->infix) {
			err = -ENOMEM;
			goto out;
		}
		pos += SHAREFS_XATTR_ALIGN(sizeof(len16) + len);
	}
out:
	iput(packed);
	return err;
}

void sharefs_xattr_prefixes_exit(struct sharefs_sb_info *sbi)
{
	unsigned int i;

	if (!sbi->xattr_prefixes)
		return;
	for (i = 0; i < sbi->xattr_prefix_count; i++)
		kfree(sbi->xattr_prefixes[i].infix);
	kfree(sbi->xattr_prefixes);
	sbi->xattr_prefixes = NULL;
}
