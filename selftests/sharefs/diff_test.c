// SPDX-License-Identifier: GPL-2.0-only
/*
 * diff_test - differential tests of the sharefs reader against oracles we
 * did not write.  For every image of /images/diff.list (written by
 * scripts/build-images.sh: "NAME FLAG..."), one test case:
 *
 *   stock        the manifest (manifest.h, every field incl. st_ino,
 *                st_blocks, xattrs, readdir d_type) of a sharefs mount equals
 *                that of a stock erofs mount of the same image, in the same
 *                boot.  Where stock erofs on this kernel is older than the
 *                image's format (flag needs=X.Y), its mount must fail with
 *                EOPNOTSUPP or EINVAL (or succeed, for an erofs that fails
 *                the inodes instead) and the oracle is NAME.fsck.manifest: the
 *                image as erofs-utils 1.9's fsck.erofs --extract wrote it.
 *   source       sharefs's manifest equals NAME.manifest, the host manifest
 *                of the source tree, for the fields the builder preserves;
 *                with flag same=A[:B...], the manifest of image A mounted
 *                with stock erofs instead (several: an overlayfs over their
 *                stock erofs mounts, A on top), for the fields both keep:
 *                mkfs.erofs --aufs images of OCI layers are the oracle of
 *                mkfs.sharefs --aufs, one layer and flattened.
 *   dots         every directory lists "." (its own inode) and ".." (its
 *                parent's; the root's own) exactly once: the manifests
 *                leave them out.
 *   (ksym=SYM)   the image needs kernel symbol SYM (a decompressor); on a
 *                kernel without it every read of a file must fail with
 *                EOPNOTSUPP (and some must) or give the source's bytes
 *                (files of another algorithm), the mount must say so in
 *                one log line, and the tests are skipped.
 *   fingerprint  with flag fp=XATTR, every non-empty regular file carries
 *                XATTR = "sha256:" + its content's raw SHA-256 and no other
 *                file does; without it, no file has trusted.fingerprint.
 *
 * The variants are registered at run time from diff.list, through the
 * harness's own registration call.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "manifest.h"
#include "sfs.h"

#define DIFF_LIST	SFS_IMAGES_DIR "/diff.list"
#define MAX_DEPTH	64
#define MAX_ENTRIES	100000
#define SHOW_LINES	12

FIXTURE(img) {
	char dir[256];
	int mounted;
};

FIXTURE_VARIANT(img) {
	const char *name;
	int needs_major, needs_minor;	/* 0: stock erofs always mounts it */
	char fp[64];			/* fingerprint xattr name, or "" */
	char same[256];			/* images to compare with, or "" */
	char ksym[64];			/* kernel symbol the image needs, or "" */
};

static void show_diff(struct __test_metadata *_metadata, const char *what,
		      const struct sfs_mf *a, const struct sfs_mf *b)
{
	static char buf[16384];
	int n = sfs_mf_diff(a, b, buf, sizeof(buf), SHOW_LINES);

	EXPECT_EQ(0, n) {
		TH_LOG("%s: %d differing entries, first ones (-%s):\n%s",
		       what, n, what, buf);
	}
}

/*
 * A kernel without the image's decompressor (ksym=): every read of a file
 * fails with EOPNOTSUPP, or succeeds with the source's bytes (a file in
 * another algorithm of the image, or stored plain).
 */
static struct {
	int eop, other, files, right, wrong;
	size_t root;			/* length of the mount point's path */
	struct sfs_mf mf;		/* the source tree's manifest */
	char first[512], first_wrong[512];
} unread;

/* the digest NAME.manifest gives the file at @rel ("/dir/file"), or NULL */
static const char *source_digest(const struct sfs_mf *mf, const char *rel)
{
	size_t n = strlen(rel);

	for (size_t i = 0; i < mf->n; i++) {
		const char *l = mf->lines[i], *d;

		if (!strncmp(l, rel, n) && l[n] == ' ' && (d = strstr(l, " data=")))
			return d + 6;
	}
	return NULL;
}

static void unread_check(const char *path)
{
	const char *want = source_digest(&unread.mf, path + unread.root);
	char hex[65];

	if (want && !sfs_sha256_file(path, hex) && !strncmp(want, hex, 64))
		unread.right++;
	else if (!unread.wrong++)
		snprintf(unread.first_wrong, sizeof(unread.first_wrong), "%s", path);
}

static int unread_one(const char *path, const struct stat *st, int type,
		      struct FTW *ftw)
{
	char buf[65536];
	ssize_t n;
	int fd;

	if (type != FTW_F || !S_ISREG(st->st_mode) || !st->st_size)
		return 0;
	unread.files++;
	fd = open(path, O_RDONLY);
	if (fd < 0)
		goto fail;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	close(fd);
	if (!n) {
		unread_check(path);
		return 0;
	}
fail:
	if (errno == EOPNOTSUPP)
		unread.eop++;
	else if (!unread.other++)
		snprintf(unread.first, sizeof(unread.first), "%s: %s", path,
			 strerror(errno));
	return 0;
}

/*
 * Read every file of a mount on a kernel without the decompressor: 1 if
 * all went as it should.  The mount says so in one log line naming the
 * missing config option; the first failed read adds one more today
 * (decompress.c's sharefs_z_unavailable(), once a mount), and no read
 * may add a line of its own.
 */
static int unread_all(struct __test_metadata *_metadata, const char *dir,
		      const char *name, const char *ksym)
{
	int at_mount, lines;
	char path[512];

	memset(&unread, 0, sizeof(unread));
	snprintf(path, sizeof(path), "%s/%s.manifest", SFS_IMAGES_DIR, name);
	if (sfs_mf_load(path, &unread.mf))
		return 0;
	unread.root = strlen(dir);
	if (nftw(dir, unread_one, 16, FTW_PHYS))
		unread.other++;
	sfs_mf_free(&unread.mf);
	EXPECT_EQ(0, unread.other) {
		TH_LOG("%d reads failed otherwise, first %s", unread.other,
		       unread.first);
	}
	EXPECT_LT(0, unread.eop);
	EXPECT_EQ(0, unread.wrong) {
		TH_LOG("%d files read other bytes than the source's, first %s",
		       unread.wrong, unread.first_wrong);
	}
	at_mount = sfs_kmsg_count("is not in this kernel (CONFIG_");
	lines = sfs_kmsg_count("is not in this kernel");
	/* one line per mount, naming the algorithm: none per read */
	EXPECT_EQ(1, at_mount);
	EXPECT_EQ(1, lines);
	ksft_print_msg("%s: no %s in this kernel: %d of %d files EOPNOTSUPP, "
		       "%d read right, %d log lines\n", name, ksym, unread.eop,
		       unread.files, unread.right, lines);
	return !unread.other && unread.eop && !unread.wrong && at_mount == 1 &&
	       lines == 1;
}

FIXTURE_SETUP(img)
{
	int ret;

	if (!variant)
		SKIP(return, "no %s", DIFF_LIST);
	if (getuid() != 0)
		SKIP(return, "needs root");
	if (!sfs_have_fs("sharefs"))
		SKIP(return, "sharefs is not registered");
	sfs_kmsg_mark();
	ret = sfs_mount_image(variant->name, "sharefs", NULL, self->dir,
			      sizeof(self->dir));
	ASSERT_EQ(0, ret) {
		char log[2048];

		sfs_kmsg_since(log, sizeof(log));
		TH_LOG("sharefs mount of %s: %s\n%s", variant->name,
		       strerror(-ret), log);
	}
	self->mounted = 1;
	if (variant->ksym[0] && !sfs_have_ksym(variant->ksym)) {
		if (!unread_all(_metadata, self->dir, variant->name,
				variant->ksym))
			return;	/* failed: not hidden behind a skip */
		SKIP(return, "this kernel has no %s", variant->ksym);
	}
}

FIXTURE_TEARDOWN(img)
{
	if (self->mounted)
		EXPECT_EQ(0, sfs_umount(self->dir));
}

static void build(struct __test_metadata *_metadata, const char *dir,
		  struct sfs_mf_opts *o, struct sfs_mf *m)
{
	o->max_depth = MAX_DEPTH;
	o->max_entries = MAX_ENTRIES;
	ASSERT_EQ(0, sfs_mf_build(dir, o, m));
	EXPECT_EQ(0, m->nerrs) {
		TH_LOG("%s: %d failed operations, first: %s: %s", dir,
		       m->nerrs, m->err_where, strerror(m->first_err));
	}
	EXPECT_EQ(0, m->truncated);
}

TEST_F_TIMEOUT(img, stock, 120)
{
	struct sfs_mf_opts o = { .fields = MF_ALL };
	struct sfs_mf ms, me;
	char edir[256], path[512];
	int ret, old;

	ret = sfs_mount_image(variant->name, "erofs", NULL, edir, sizeof(edir));
	old = variant->needs_major &&
	      !sfs_kernel_at_least(variant->needs_major, variant->needs_minor);
	if (old) {
		/*
		 * Documented condition: this kernel's erofs predates the
		 * image.  It refuses the mount, or (6.1 with sub-page blocks
		 * and compression) mounts it and fails the compressed
		 * inodes: the extraction is the oracle either way.
		 */
		if (!ret)
			EXPECT_EQ(0, sfs_umount(edir));
		EXPECT_TRUE(!ret || ret == -EOPNOTSUPP || ret == -EINVAL) {
			TH_LOG("stock erofs refused %s with %s", variant->name,
			       strerror(-ret));
		}
		ksft_print_msg("%s: stock erofs of this kernel predates Linux %d.%d "
			       "(%s); oracle: fsck.erofs 1.9 extraction\n",
			       variant->name, variant->needs_major,
			       variant->needs_minor, strerror(-ret));
		snprintf(path, sizeof(path), "%s/%s.fsck.manifest", SFS_IMAGES_DIR,
			 variant->name);
		ASSERT_EQ(0, sfs_mf_load(path, &me));
		sfs_mf_opts_from(&me, &o);
		build(_metadata, self->dir, &o, &ms);
		show_diff(_metadata, "fsck.erofs-extract", &me, &ms);
		ksft_print_msg("%s: %zu entries compared with the extraction\n",
			       variant->name, ms.n);
		sfs_mf_free(&ms);
		sfs_mf_free(&me);
		return;
	}
	ASSERT_EQ(0, ret) {
		TH_LOG("stock erofs mount of %s: %s", variant->name,
		       strerror(-ret));
	}
	build(_metadata, edir, &o, &me);
	build(_metadata, self->dir, &o, &ms);
	/* paths in the manifests are relative to the mount point */
	show_diff(_metadata, "erofs", &me, &ms);
	ksft_print_msg("%s: %zu entries compared with stock erofs\n",
		       variant->name, ms.n);
	EXPECT_EQ(0, sfs_umount(edir));
	sfs_mf_free(&ms);
	sfs_mf_free(&me);
}

/*
 * The oracle of flag same=: the images of SPEC ("A:B:C", top first)
 * mounted with stock erofs, and when there are several an overlayfs over
 * them, at @dir.  Returns how many mounts it made (for same_down), or -1.
 */
static int same_up(const char *spec, char dirs[][256], char *top, size_t len)
{
	char names[256], *save, *n, lower[2400] = "";
	int k = 0;

	snprintf(names, sizeof(names), "%s", spec);
	for (n = strtok_r(names, ":", &save); n && k < 7;
	     n = strtok_r(NULL, ":", &save), k++) {
		if (sfs_mount_image(n, "erofs", NULL, dirs[k], sizeof(dirs[k])))
			return -1 - k;
		snprintf(lower + strlen(lower), sizeof(lower) - strlen(lower),
			 "%s%.255s", k ? ":" : "lowerdir=", dirs[k]);
	}
	if (k == 1) {
		snprintf(top, len, "%.255s", dirs[0]);
		return 1;
	}
	snprintf(top, len, "%.240s-overlay", dirs[0]);
	mkdir(top, 0755);
	if (mount("overlay", top, "overlay", MS_RDONLY, lower))
		return -1 - k;
	snprintf(dirs[k], sizeof(dirs[k]), "%.255s", top);
	return k + 1;
}

static void same_down(char dirs[][256], int n)
{
	while (n-- > 0)
		sfs_umount(dirs[n]);
}

static void compare_same(struct __test_metadata *_metadata, const char *dir,
			 const char *spec)
{
	/* overlayfs reports merged directories' own nlink and no hard
	 * links across layers; one image is compared whole */
	struct sfs_mf_opts o = {
		.fields = MF_TYPE | MF_MODE | MF_UID | MF_GID | MF_SIZE |
			  MF_MTIME | MF_RDEV | MF_DATA | MF_XATTRS | MF_DTYPE,
		.ignore_xattr = { "trusted.fingerprint" },
	};
	char dirs[8][256], top[300];
	struct sfs_mf mo, ms;
	int n = same_up(spec, dirs, top, sizeof(top));

	if (n < 0)
		same_down(dirs, -n - 1);
	ASSERT_LT(0, n) {
		TH_LOG("cannot mount the oracle %s", spec);
	}
	if (n == 1)
		o.fields |= MF_NLINK | MF_HL;
	build(_metadata, top, &o, &mo);
	build(_metadata, dir, &o, &ms);
	show_diff(_metadata, n == 1 ? "mkfs.erofs" : "overlayfs over mkfs.erofs",
		  &mo, &ms);
	ksft_print_msg("%zu entries compared with %s\n", ms.n, spec);
	EXPECT_LT(3, (long)ms.n);
	same_down(dirs, n);
	sfs_mf_free(&ms);
	sfs_mf_free(&mo);
}

TEST_F_TIMEOUT(img, source, 120)
{
	struct sfs_mf_opts o;
	struct sfs_mf mh, ms;
	char path[512];

	if (variant->same[0]) {
		compare_same(_metadata, self->dir, variant->same);
		return;
	}

	snprintf(path, sizeof(path), "%s/%s.manifest", SFS_IMAGES_DIR,
		 variant->name);
	ASSERT_EQ(0, sfs_mf_load(path, &mh));
	ASSERT_LT(0, (long)mh.n);
	sfs_mf_opts_from(&mh, &o);
	build(_metadata, self->dir, &o, &ms);
	show_diff(_metadata, "source", &mh, &ms);
	ksft_print_msg("%s: %zu entries compared with the source tree\n",
		       variant->name, ms.n);
	sfs_mf_free(&ms);
	sfs_mf_free(&mh);
}

static struct {
	int bad, dirs;
	char first[600];
} dots;

static int dots_one(const char *path, const struct stat *st, int type,
		    struct FTW *ftw)
{
	int dot = 0, dotdot = 0, ok;
	struct stat parent;
	char pp[PATH_MAX];
	struct dirent *d;
	DIR *dp;

	if (type != FTW_D)
		return 0;
	snprintf(pp, sizeof(pp), "%s/..", path);
	if (stat(pp, &parent) || !(dp = opendir(path)))
		return -1;
	while ((d = readdir(dp))) {
		if (!strcmp(d->d_name, "."))
			dot += 1 + (d->d_ino != st->st_ino) * 100;
		if (!strcmp(d->d_name, ".."))
			dotdot += 1 + (ftw->level && d->d_ino != parent.st_ino) * 100;
	}
	closedir(dp);
	ok = dot == 1 && dotdot == 1;
	dots.dirs++;
	if (!ok && !dots.bad++)
		snprintf(dots.first, sizeof(dots.first),
			 "%s: \".\" %s, \"..\" %s", path,
			 dot == 1 ? "ok" : dot ? "wrong or repeated" : "missing",
			 dotdot == 1 ? "ok" : dotdot ? "wrong or repeated" : "missing");
	return 0;
}

TEST_F_TIMEOUT(img, dots, 120)
{
	memset(&dots, 0, sizeof(dots));
	ASSERT_EQ(0, nftw(self->dir, dots_one, 16, FTW_PHYS));
	ASSERT_LT(0, dots.dirs);
	EXPECT_EQ(0, dots.bad) {
		TH_LOG("%s: %d of %d directories with bad dot entries, first: %s",
		       variant->name, dots.bad, dots.dirs, dots.first);
	}
}

/* the fingerprint check walks with nftw: state for the callback */
static struct {
	const char *xattr;
	int bad, checked;
	char first[512];
} fpw;

static int fp_one(const char *path, const struct stat *st, int type,
		  struct FTW *ftw)
{
	unsigned char val[128], want[39];
	char hex[65];
	ssize_t n;
	int ok;

	if (type == FTW_SL || !S_ISREG(st->st_mode))
		return 0;
	n = lgetxattr(path, fpw.xattr, val, sizeof(val));
	if (st->st_size == 0) {
		ok = n < 0 && errno == ENODATA;
	} else if (n < 0 || sfs_sha256_file(path, hex)) {
		ok = 0;
	} else {
		memcpy(want, "sha256:", 7);
		for (int i = 0; i < 32; i++)
			sscanf(hex + 2 * i, "%2hhx", &want[7 + i]);
		ok = n == 39 && !memcmp(val, want, 39);
	}
	fpw.checked++;
	if (!ok && !fpw.bad++)
		snprintf(fpw.first, sizeof(fpw.first), "%s (size %lld, xattr %zd bytes)",
			 path, (long long)st->st_size, n);
	return 0;
}

static int nofp_one(const char *path, const struct stat *st, int type,
		    struct FTW *ftw)
{
	if (lgetxattr(path, "trusted.fingerprint", NULL, 0) >= 0 &&
	    !fpw.bad++)
		snprintf(fpw.first, sizeof(fpw.first), "%s", path);
	fpw.checked++;
	return 0;
}

TEST_F_TIMEOUT(img, fingerprint, 120)
{
	memset(&fpw, 0, sizeof(fpw));
	fpw.xattr = variant->fp;
	ASSERT_EQ(0, nftw(self->dir, variant->fp[0] ? fp_one : nofp_one, 16,
			  FTW_PHYS));
	ASSERT_LT(0, fpw.checked);
	EXPECT_EQ(0, fpw.bad) {
		TH_LOG("%d files with a wrong %s, first: %s", fpw.bad,
		       variant->fp[0] ? variant->fp : "(unexpected) trusted.fingerprint",
		       fpw.first);
	}
}

static void register_images(void)
{
	char line[512];
	FILE *f = fopen(DIFF_LIST, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		struct __fixture_variant_metadata *v = calloc(1, sizeof(*v));
		FIXTURE_VARIANT(img) *d = calloc(1, sizeof(*d));
		char *save, *t = strtok_r(line, " \n", &save);

		if (!t)
			continue;
		d->name = strdup(t);
		while ((t = strtok_r(NULL, " \n", &save))) {
			if (!strncmp(t, "needs=", 6))
				sscanf(t + 6, "%d.%d", &d->needs_major,
				       &d->needs_minor);
			else if (!strncmp(t, "fp=", 3))
				snprintf(d->fp, sizeof(d->fp), "%s", t + 3);
			else if (!strncmp(t, "same=", 5))
				snprintf(d->same, sizeof(d->same), "%s", t + 5);
			else if (!strncmp(t, "ksym=", 5))
				snprintf(d->ksym, sizeof(d->ksym), "%s", t + 5);
		}
		v->name = d->name;
		v->data = d;
		__register_fixture_variant(&_img_fixture_object, v);
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	register_images();
	return test_harness_run(argc, argv);
}
