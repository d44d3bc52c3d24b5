// SPDX-License-Identifier: GPL-2.0-only
/*
 * sysfs.c - the counters of page-cache sharing, under /sys/fs/sharefs/.
 *
 *   /sys/fs/sharefs/{shared_inodes,members,resident_bytes,saved_bytes}
 *	over all mounts, and verity_tree_bytes: the checked fs-verity tree
 *	blocks that verified shared inodes keep (verity.c);
 *   /sys/fs/sharefs/<device>/{domain,members,resident_bytes,saved_bytes,
 *	size_mismatches}
 *	for one mount (<device> is the superblock's s_id, e.g. loop0).
 *
 * resident_bytes counts shared page cache; saved_bytes the page cache that
 * would have been duplicated without sharing: for each shared inode, its
 * resident pages once more for every member after the first (files join at
 * their first open, share.c).  A mount's saved_bytes is its even share of
 * that, so the mounts' figures add up to the global one.  Values are read
 * on demand from the page cache (mapping->nrpages), so they follow reclaim
 * and drop_caches.
 */
#include <linux/kobject.h>
#include <linux/sysfs.h>
#include "internal.h"

static struct kobject *sharefs_root_kobj;

/* ---- global ------------------------------------------------------------- */

#define SHAREFS_GLOBAL_ATTR(field)					\
static ssize_t field##_show(struct kobject *kobj,			\
			    struct kobj_attribute *attr, char *buf)	\
{									\
	struct sharefs_share_stats st;					\
									\
	sharefs_share_stats_global(&st);				\
	return sysfs_emit(buf, "%llu\n", (unsigned long long)st.field); \
}									\
static struct kobj_attribute sharefs_global_##field = __ATTR_RO(field)

SHAREFS_GLOBAL_ATTR(shared_inodes);
SHAREFS_GLOBAL_ATTR(members);
SHAREFS_GLOBAL_ATTR(resident_bytes);
SHAREFS_GLOBAL_ATTR(saved_bytes);

static ssize_t verity_tree_bytes_show(struct kobject *kobj,
				      struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n",
			  (unsigned long long)sharefs_verity_tree_bytes());
}
static struct kobj_attribute sharefs_global_verity_tree_bytes =
	__ATTR_RO(verity_tree_bytes);

static struct attribute *sharefs_global_attrs[] = {
	&sharefs_global_shared_inodes.attr,
	&sharefs_global_members.attr,
	&sharefs_global_resident_bytes.attr,
	&sharefs_global_saved_bytes.attr,
	&sharefs_global_verity_tree_bytes.attr,
	NULL,
};

static const struct attribute_group sharefs_global_group = {
	.attrs = sharefs_global_attrs,
};

/* ---- per mount ---------------------------------------------------------- */

static struct sharefs_sb_info *kobj_to_sbi(struct kobject *kobj)
{
	return container_of(kobj, struct sharefs_sb_info, kobj);
}

#define SHAREFS_SB_ATTR(field)						\
static ssize_t sb_##field##_show(struct kobject *kobj,			\
				 struct kobj_attribute *attr, char *buf) \
{									\
	struct sharefs_share_stats st;					\
									\
	sharefs_share_stats_sb(kobj_to_sbi(kobj)->sb, &st);		\
	return sysfs_emit(buf, "%llu\n", (unsigned long long)st.field); \
}									\
static struct kobj_attribute sharefs_sb_##field =			\
	__ATTR(field, 0444, sb_##field##_show, NULL)

SHAREFS_SB_ATTR(members);
SHAREFS_SB_ATTR(resident_bytes);
SHAREFS_SB_ATTR(saved_bytes);

static ssize_t sb_size_mismatches_show(struct kobject *kobj,
				       struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%ld\n",
			  atomic_long_read(&kobj_to_sbi(kobj)->share_mismatches));
}
static struct kobj_attribute sharefs_sb_size_mismatches =
	__ATTR(size_mismatches, 0444, sb_size_mismatches_show, NULL);

static ssize_t sb_domain_show(struct kobject *kobj,
			      struct kobj_attribute *attr, char *buf)
{
	struct sharefs_sb_info *sbi = kobj_to_sbi(kobj);

	if (sbi->noshare)
		return sysfs_emit(buf, "(noshare)\n");
	return sysfs_emit(buf, "%s\n", sbi->domain ? sbi->domain : "(default)");
}
static struct kobj_attribute sharefs_sb_domain =
	__ATTR(domain, 0444, sb_domain_show, NULL);

static struct attribute *sharefs_sb_attrs[] = {
	&sharefs_sb_domain.attr,
	&sharefs_sb_members.attr,
	&sharefs_sb_resident_bytes.attr,
	&sharefs_sb_saved_bytes.attr,
	&sharefs_sb_size_mismatches.attr,
	NULL,
};
ATTRIBUTE_GROUPS(sharefs_sb);

static void sharefs_sb_kobj_release(struct kobject *kobj)
{
	complete(&kobj_to_sbi(kobj)->kobj_unregister);
}

static const struct kobj_type sharefs_sb_ktype = {
	.default_groups	= sharefs_sb_groups,
	.sysfs_ops	= &kobj_sysfs_ops,
	.release	= sharefs_sb_kobj_release,
};

int sharefs_sysfs_register(struct super_block *sb)
{
	struct sharefs_sb_info *sbi = SHAREFS_SB(sb);
	int err;

	sbi->sb = sb;
	init_completion(&sbi->kobj_unregister);
	err = kobject_init_and_add(&sbi->kobj, &sharefs_sb_ktype,
				   sharefs_root_kobj, "%s", sb->s_id);
	if (err) {
		kobject_put(&sbi->kobj);
		wait_for_completion(&sbi->kobj_unregister);
		return err;
	}
	sbi->kobj_added = true;
	return 0;
}

/* Waits until no sysfs reader can reach @sb's counters any more. */
void sharefs_sysfs_unregister(struct super_block *sb)
{
	struct sharefs_sb_info *sbi = SHAREFS_SB(sb);

	if (!sbi || !sbi->kobj_added)
		return;
	kobject_del(&sbi->kobj);
	kobject_put(&sbi->kobj);
	wait_for_completion(&sbi->kobj_unregister);
	sbi->kobj_added = false;
}

int __init sharefs_sysfs_init(void)
{
	int err;

	sharefs_root_kobj = kobject_create_and_add("sharefs", fs_kobj);
	if (!sharefs_root_kobj)
		return -ENOMEM;
	err = sysfs_create_group(sharefs_root_kobj, &sharefs_global_group);
	if (err)
		kobject_put(sharefs_root_kobj);
	return err;
}

void sharefs_sysfs_exit(void)
{
	sysfs_remove_group(sharefs_root_kobj, &sharefs_global_group);
	kobject_put(sharefs_root_kobj);
}
