// SPDX-License-Identifier: GPL-2.0-only
/*
 * corrupt_test - corrupted images fail cleanly.
 *
 * Each image (scripts/build-images.sh, "c-*": the 'basic' image with one
 * inconsistency made by scripts/imgtool.py) either fails to mount with the
 * error DESIGN.md gives for it, or mounts and then fails the one access
 * that touches the damage with EUCLEAN (-EFSCORRUPTED: inconsistent
 * metadata) or EIO (I/O past the device).  A full walk of the mount, with
 * its depth and entry count bounded, must end and see every failure as
 * one of those errors; the runner fails the run on any kernel warning.
 *
 * Where two errors are right the table says why: a block address past the
 * device is inconsistent metadata if the reader checks it against the
 * superblock (EUCLEAN) and an I/O error if it lets the block layer find
 * out (EIO); a directory that contains itself is refused by the VFS
 * (ELOOP, d_splice_alias) unless the reader spots it first (EUCLEAN).
 * read() of file data goes through the page cache, where iomap turns any
 * failure to map a folio into EIO: the reader's EUCLEAN reaches only the
 * kernel log there ("inline data crosses a block boundary").
 *
 * A damaged fingerprint is no failure at all: the file reads through a
 * private page cache (c-fpxattr, unreadable_fingerprint_reads_privately).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "manifest.h"
#include "sfs.h"

enum op { OP_NONE, OP_STAT, OP_READDIR, OP_READ, OP_LISTXATTR };
static const char *const op_name[] = {
	"none", "stat", "readdir", "read", "listxattr",
};

/* images that must not mount: the errno, and what the log says why */
FIXTURE(refused) {
};

FIXTURE_VARIANT(refused) {
	const char *image;
	int err;
	const char *log;
};

FIXTURE_VARIANT_ADD(refused, magic) {
	.image = "c-magic", .err = EINVAL, .log = "bad magic",
};
FIXTURE_VARIANT_ADD(refused, checksum) {
	.image = "c-csum", .err = EBADMSG, .log = "checksum",
};
FIXTURE_VARIANT_ADD(refused, root_nid_out_of_range) {
	.image = "c-rootnid", .err = EUCLEAN, .log = "nid 65535",
};
FIXTURE_VARIANT_ADD(refused, meta_blkaddr_past_end) {
	.image = "c-meta", .err = EUCLEAN, .log = "meta_blkaddr",
};

FIXTURE_SETUP(refused)
{
	if (getuid() != 0)
		SKIP(return, "needs root");
	if (!sfs_have_fs("sharefs"))
		SKIP(return, "sharefs is not registered");
}

FIXTURE_TEARDOWN(refused)
{
}

TEST_F(refused, mount_fails)
{
	char dir[256], log[2048];
	int ret;

	sfs_kmsg_mark();
	ret = sfs_mount_image(variant->image, "sharefs", NULL, dir, sizeof(dir));
	if (!ret)
		sfs_umount(dir);
	sfs_kmsg_since(log, sizeof(log));
	EXPECT_EQ(-variant->err, ret) {
		TH_LOG("%s: mount gave %s, expected %s\n%s", variant->image,
		       ret ? strerror(-ret) : "success",
		       strerror(variant->err), log);
	}
	EXPECT_TRUE(sfs_kmsg_has(variant->log)) {
		TH_LOG("%s: the log lacks \"%s\"; it has:\n%s", variant->image,
		       variant->log, log);
	}
}

/* images that mount, and fail the one access that touches the damage */
FIXTURE(bad) {
	char dir[256];
	int mounted;
};

FIXTURE_VARIANT(bad) {
	const char *image;
	enum op op;		/* this access of path fails */
	const char *path;
	int err[2];		/* with one of these (0: unused) */
};

FIXTURE_VARIANT_ADD(bad, dirent_nameoff_past_block) {
	.image = "c-nameoff", .op = OP_READDIR, .path = "",
	.err = { EUCLEAN },
};
FIXTURE_VARIANT_ADD(bad, dirent_nameoff_not_monotonic) {
	.image = "c-nameorder", .op = OP_READDIR, .path = "/dir",
	.err = { EUCLEAN },
};
FIXTURE_VARIANT_ADD(bad, directory_loop) {
	.image = "c-loop", .op = OP_STAT, .path = "/dir/sub",
	.err = { ELOOP, EUCLEAN },
};
FIXTURE_VARIANT_ADD(bad, huge_xattr_icount) {
	.image = "c-xattr", .op = OP_LISTXATTR, .path = "/small.txt",
	.err = { EUCLEAN },
};
FIXTURE_VARIANT_ADD(bad, xattr_name_without_suffix) {
	.image = "c-xattrname", .op = OP_LISTXATTR, .path = "/acl",
	.err = { EUCLEAN },
};
FIXTURE_VARIANT_ADD(bad, acl_value_malformed) {
	.image = "c-acl", .op = OP_LISTXATTR, .path = "/acl",
	.err = { EUCLEAN },
};
FIXTURE_VARIANT_ADD(bad, inline_tail_crosses_block) {
	.image = "c-inline", .op = OP_READ, .path = "/dir/sub/deep.txt",
	.err = { EUCLEAN, EIO },	/* EIO: through the page cache */
};
FIXTURE_VARIANT_ADD(bad, chunk_past_device) {
	.image = "c-chunk", .op = OP_READ, .path = "/dir/big",
	.err = { EUCLEAN, EIO },
};
FIXTURE_VARIANT_ADD(bad, truncated_data) {
	.image = "c-truncdata", .op = OP_READ, .path = "/dir/big",
	.err = { EUCLEAN, EIO },
};

/* compressed files: every damage reads as EUCLEAN (EIO via the page cache) */
#define ZBAD(name, img)							\
FIXTURE_VARIANT_ADD(bad, name) {					\
	.image = img, .op = OP_READ, .path = "/z/large",		\
	.err = { EUCLEAN, EIO },					\
}
ZBAD(z_head_past_device, "c-zhead");
ZBAD(z_nonhead_runs_past_pcluster, "c-zdelta");
ZBAD(z_clusterofs_past_lcluster, "c-zclusterofs");
ZBAD(z_garbage_pcluster, "c-zgarbage");
ZBAD(z_undeclared_algorithm, "c-zalg");
ZBAD(z_cblkcnt_too_large, "c-zcblk");
ZBAD(z_inline_pcluster_too_large, "c-zidata");

static int allowed(const FIXTURE_VARIANT(bad) *v, int e)
{
	return e && (e == v->err[0] || e == v->err[1]);
}

FIXTURE_SETUP(bad)
{
	char log[2048];
	int ret;

	if (getuid() != 0)
		SKIP(return, "needs root");
	if (!sfs_have_fs("sharefs"))
		SKIP(return, "sharefs is not registered");
	sfs_kmsg_mark();
	ret = sfs_mount_image(variant->image, "sharefs", NULL, self->dir,
			      sizeof(self->dir));
	ASSERT_EQ(0, ret) {
		sfs_kmsg_since(log, sizeof(log));
		TH_LOG("%s: mount failed: %s\n%s", variant->image,
		       strerror(-ret), log);
	}
	self->mounted = 1;
}

FIXTURE_TEARDOWN(bad)
{
	if (self->mounted)
		EXPECT_EQ(0, sfs_umount(self->dir));
}

/* the access: 0 if it worked, else errno */
static int access_path(enum op op, const char *path)
{
	static char buf[65536];
	struct stat st;
	int fd, err = 0;
	ssize_t n;
	DIR *dp;

	if (lstat(path, &st))
		return errno;
	switch (op) {
	case OP_NONE:
	case OP_STAT:
		break;
	case OP_READDIR:
		dp = opendir(path);
		if (!dp)
			return errno;
		/* a directory of the basic tree has < 20 entries: a readdir
		 * that goes on past 10000 never ends (ELOOP here) */
		for (long k = 0; k < 10000; k++) {
			errno = 0;
			if (!readdir(dp)) {
				err = errno;
				break;
			}
			if (k == 9999)
				err = ELOOP;
		}
		closedir(dp);
		break;
	case OP_READ:
		fd = open(path, O_RDONLY);
		if (fd < 0)
			return errno;
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			;
		err = n < 0 ? errno : 0;
		close(fd);
		break;
	case OP_LISTXATTR:
		n = llistxattr(path, buf, sizeof(buf));
		err = n < 0 ? errno : 0;
		/* the values too: the damage may be past the names */
		for (char *p = buf; !err && p < buf + n; p += strlen(p) + 1)
			if (lgetxattr(path, p, buf + n, sizeof(buf) - n) < 0)
				err = errno;
		break;
	}
	return err;
}

TEST_F_TIMEOUT(bad, access_fails_cleanly, 60)
{
	char path[512];
	int err;

	snprintf(path, sizeof(path), "%s%s", self->dir, variant->path);
	err = access_path(variant->op, path);
	if (variant->op == OP_READDIR && err == ELOOP)
		TH_LOG("%s: readdir of %s returned 10000 entries and no end",
		       variant->image, variant->path);
	EXPECT_TRUE(allowed(variant, err)) {
		TH_LOG("%s: %s of %s gave %s, expected %s%s%s", variant->image,
		       op_name[variant->op], variant->path,
		       err ? strerror(err) : "success", strerror(variant->err[0]),
		       variant->err[1] ? " or " : "",
		       variant->err[1] ? strerror(variant->err[1]) : "");
	}
	/* a second time: no state left behind that hides the damage */
	EXPECT_EQ(err, access_path(variant->op, path));
}

/* every entry, its content and xattrs: the walk ends, failures are clean */
TEST_F_TIMEOUT(bad, full_walk_ends, 60)
{
	struct sfs_mf_opts o = {
		.fields = MF_TYPE | MF_DATA | MF_XATTRS,
		.max_depth = 64, .max_entries = 5000,
	};
	struct sfs_mf m;
	int e;

	ASSERT_EQ(0, sfs_mf_build(self->dir, &o, &m));
	EXPECT_EQ(0, m.truncated) {
		TH_LOG("%s: walk hit its bound (%ld entries)", variant->image,
		       m.entries);
	}
	/* the damage is on the walk's way: it must see it */
	EXPECT_LT(0, m.nerrs);
	e = m.first_err;
	EXPECT_TRUE(e == EUCLEAN || e == EIO || e == ELOOP) {
		TH_LOG("%s: walk failed with %s at %s", variant->image,
		       strerror(e), m.err_where);
	}
	sfs_mf_free(&m);
}

/*
 * A fingerprint that cannot be read means no fingerprint (share.c): a
 * sharing mount reads it at the first open, and a damaged xattr area must
 * not fail that open, as it does not on stock erofs or with noshare.  The
 * file reads its own bytes through a private page cache, joins nothing,
 * and the mount warns once.  c-fpxattr is share-a with the xattr areas of
 * lib/big.so and lib/mid.so damaged; share-a, in the same domain, holds
 * the right bytes.
 */
TEST(unreadable_fingerprint_reads_privately)
{
	static const char *const files[] = { "lib/big.so", "lib/mid.so" };
	const char *warning = "cannot read the content fingerprint";
	char a[256], c[256], log[4096];

	SFS_REQUIRE_SHAREFS(_metadata);
	ASSERT_EQ(0, sfs_mount_image("share-a", "sharefs", "domain=fpread", a, sizeof(a)));
	ASSERT_EQ(0, sfs_mount_image("c-fpxattr", "sharefs", "domain=fpread", c, sizeof(c)));
	sfs_kmsg_mark();
	for (int i = 0; i < 2; i++) {
		size_t la = 0, lc = 0;
		char *ra, *rc;

		ra = sfs_slurp_at(a, files[i], &la);
		ASSERT_NE(NULL, ra);
		errno = 0;
		rc = sfs_slurp_at(c, files[i], &lc);
		EXPECT_NE(NULL, rc) {
			TH_LOG("%s: open or read failed: %s", files[i],
			       strerror(errno));
		}
		if (rc) {
			EXPECT_EQ(la, lc);
			EXPECT_EQ(0, memcmp(ra, rc, la < lc ? la : lc));
			free(rc);
		}
		/* the decision is taken once: a second open reads too */
		rc = sfs_slurp_at(c, files[i], &lc);
		EXPECT_NE(NULL, rc);
		free(rc);
		free(ra);
	}
	/* share-a's files joined, the damaged ones did not */
	EXPECT_EQ(2, sfs_mount_counter(a, "members"));
	EXPECT_EQ(0, sfs_mount_counter(c, "members"));
	EXPECT_EQ(1, sfs_kmsg_count(warning)) {
		sfs_kmsg_since(log, sizeof(log));
		TH_LOG("want one \"%s\" line; the log has:\n%s", warning, log);
	}
	EXPECT_EQ(0, sfs_umount(c));
	EXPECT_EQ(0, sfs_umount(a));
}

TEST_HARNESS_MAIN
