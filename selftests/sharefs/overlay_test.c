// SPDX-License-Identifier: GPL-2.0-only
/*
 * overlay_test - sharefs under overlayfs, as container hosts stack it.
 *
 * Each "container" is an overlayfs whose lower layer is a sharefs mount of
 * an image file (mount.sharefs, /dev/disk/by-id/hostfs) and whose upper
 * layer is on tmpfs.  What must hold:
 *   - file handles: name_to_handle_at()/open_by_handle_at() round-trip on
 *     sharefs; a handle naming no inode fails with ESTALE;
 *   - overlayfs takes sharefs as a lower layer with index=on, nfs_export=on
 *     and xino=on, without falling back;
 *   - a program exec'd from two containers' merged views runs from one page
 *     cache: equal page-frame numbers behind the two processes' text, and
 *     /proc/PID/maps names the merged path;
 *   - copy-up and whiteouts in the upper layer work over sharefs;
 *   - a stack of three sharefs layer images written by mkfs.sharefs --aufs
 *     (whiteouts, opaque directories) shows the tree of the same three
 *     layers flattened into one image;
 *   - a container keeps running, its files and its mappings intact, while
 *     another container's overlay and image are unmounted under it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "kselftest_harness.h"
#include "manifest.h"
#include "sfs.h"

#define HOSTFS_DEV	"/dev/disk/by-id/hostfs"
#define HOSTFS		"/hostfs"
#define HELPER		"/bin/mount.sharefs"

static int run(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* the image FILE (under /hostfs) mounted at DIR with mount.sharefs */
static int mount_file(const char *file, const char *dir)
{
	char cmd[512];

	mkdir(dir, 0755);
	snprintf(cmd, sizeof(cmd), HELPER " " HOSTFS "/%s %s -o domain=ovl", file, dir);
	return run(cmd);
}

/* an overlayfs at MERGED over LOWER, upper and work in a fresh tmpfs */
static int container_up(const char *lower, const char *merged, const char *extra)
{
	char t[256], opts[1024];

	snprintf(t, sizeof(t), "%s.t", merged);
	mkdir(t, 0755);
	if (mount("tmpfs", t, "tmpfs", 0, NULL))
		return -errno;
	snprintf(opts, sizeof(opts), "%s/u", t);
	mkdir(opts, 0755);
	snprintf(opts, sizeof(opts), "%s/w", t);
	mkdir(opts, 0755);
	mkdir(merged, 0755);
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s/u,workdir=%s/w%s%s",
		 lower, t, t, extra ? "," : "", extra ? extra : "");
	return mount("overlay", merged, "overlay", 0, opts) ? -errno : 0;
}

static void container_down(const char *merged)
{
	char t[256];

	snprintf(t, sizeof(t), "%s.t", merged);
	umount(merged);
	umount(t);
	rmdir(merged);
	rmdir(t);
}

/* is option OPT in the mount options of DIR (/proc/mounts)? */
static int mount_has_opt(const char *dir, const char *opt)
{
	char line[2048], src[256], mnt[256], type[64], opts[1536];
	int found = 0;
	FILE *f = fopen("/proc/mounts", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%255s %255s %63s %1535s", src, mnt, type, opts) == 4 &&
		    !strcmp(mnt, dir)) {
			char *o, *save = NULL;

			found = 0;
			for (o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save))
				if (!strcmp(o, opt))
					found = 1;
		}
	fclose(f);
	return found;
}

/* PFN of the page at file offset 0 of PATH's first mapping in process PID */
static uint64_t text_pfn(pid_t pid, const char *path)
{
	char fn[64], line[1024], p[512];
	unsigned long start = 0, off;
	uint64_t ent = 0;
	int fd, found = 0;
	FILE *f;

	snprintf(fn, sizeof(fn), "/proc/%d/maps", pid);
	f = fopen(fn, "r");
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%*x %*s %lx %*s %*d %511s", &start, &off, p) == 3 &&
		    !strcmp(p, path) && off == 0)
			found = 1;
	fclose(f);
	if (!found)
		return 0;
	snprintf(fn, sizeof(fn), "/proc/%d/pagemap", pid);
	fd = open(fn, O_RDONLY);
	if (fd < 0)
		return 0;
	if (pread(fd, &ent, 8, start / sysconf(_SC_PAGESIZE) * 8) != 8)
		ent = 0;
	close(fd);
	return ent >> 63 ? ent & ((1ULL << 55) - 1) : 0;
}

/* a child that execs PATH ("busybox sleep 30") from a merged view */
static pid_t spawn_sleep(const char *path)
{
	pid_t pid = fork();

	if (pid == 0) {
		execl(path, "busybox", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	return pid;
}

FIXTURE(ovl) {
	char la[64], lb[64], ca[64], cb[64];
};

FIXTURE_SETUP(ovl)
{
	SFS_REQUIRE_SHAREFS(_metadata);
	if (!sfs_have_fs("overlay"))
		SKIP(return, "no overlayfs");
	if (access(HOSTFS_DEV, F_OK) || access(HELPER, X_OK))
		SKIP(return, "no hostfs disk or no mount helper");
	mkdir(HOSTFS, 0755);
	if (mount(HOSTFS_DEV, HOSTFS, "ext4", MS_RDONLY, "noload") && errno != EBUSY)
		SKIP(return, "cannot mount the ext4 disk: %s", strerror(errno));
	snprintf(self->la, sizeof(self->la), "/mnt/ovl-la-%d", getpid());
	snprintf(self->lb, sizeof(self->lb), "/mnt/ovl-lb-%d", getpid());
	snprintf(self->ca, sizeof(self->ca), "/mnt/ovl-ca-%d", getpid());
	snprintf(self->cb, sizeof(self->cb), "/mnt/ovl-cb-%d", getpid());
	ASSERT_EQ(0, mount_file("tools-a.sharefs", self->la));
	ASSERT_EQ(0, mount_file("tools-b.sharefs", self->lb));
}

FIXTURE_TEARDOWN(ovl)
{
	container_down(self->ca);
	container_down(self->cb);
	umount(self->la);
	umount(self->lb);
	rmdir(self->la);
	rmdir(self->lb);
}

TEST_F(ovl, file_handles_round_trip)
{
	char path[128], a[64], b[64];
	struct file_handle *fh = malloc(sizeof(*fh) + MAX_HANDLE_SZ);
	struct stat st1, st2;
	int mid, mfd, fd;

	snprintf(path, sizeof(path), "%s/etc/d/lower", self->la);
	fh->handle_bytes = MAX_HANDLE_SZ;
	ASSERT_EQ(0, name_to_handle_at(AT_FDCWD, path, fh, &mid, 0));
	mfd = open(self->la, O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, mfd);
	fd = open_by_handle_at(mfd, fh, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fstat(fd, &st1));
	ASSERT_EQ(0, stat(path, &st2));
	EXPECT_EQ(st2.st_ino, st1.st_ino);
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	EXPECT_LT(0, read(fd, a, sizeof(a) - 1));
	close(fd);
	fd = open(path, O_RDONLY);
	EXPECT_LT(0, read(fd, b, sizeof(b) - 1));
	close(fd);
	EXPECT_STREQ(b, a);

	/* a directory, decoded without its dentry in the cache */
	snprintf(path, sizeof(path), "%s/etc/d", self->la);
	fh->handle_bytes = MAX_HANDLE_SZ;
	ASSERT_EQ(0, name_to_handle_at(AT_FDCWD, path, fh, &mid, 0));
	sfs_drop_caches("2");
	fd = open_by_handle_at(mfd, fh, O_RDONLY | O_DIRECTORY);
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);

	/* handles that name no inode: past the image, and in its data */
	for (uint32_t bogus = 0x7ffffff0; bogus; bogus = bogus == 0x7ffffff0 ? 3000 : 0) {
		((uint32_t *)fh->f_handle)[0] = bogus;
		((uint32_t *)fh->f_handle)[1] = 0;
		fd = open_by_handle_at(mfd, fh, O_RDONLY);
		if (fd >= 0)
			close(fd);
		else
			EXPECT_EQ(ESTALE, errno);
	}
	close(mfd);
	free(fh);
}

/* overlayfs's index, NFS export and xino need file handles from the lower
 * layer; without them it falls back (and says so in the kernel log) */
TEST_F(ovl, overlay_index_nfs_export_xino)
{
	char f[128];

	sfs_kmsg_mark();
	ASSERT_EQ(0, container_up(self->la, self->ca, "index=on,nfs_export=on,xino=on"));
	EXPECT_EQ(1, mount_has_opt(self->ca, "index=on"));
	EXPECT_EQ(1, mount_has_opt(self->ca, "nfs_export=on"));
	EXPECT_EQ(1, mount_has_opt(self->ca, "xino=on"));
	EXPECT_EQ(0, sfs_kmsg_has("falling back"));
	snprintf(f, sizeof(f), "%s/etc/d/lower", self->ca);
	EXPECT_EQ(15, sfs_read_all(f));
}

/* two containers exec the same binary from their merged views */
TEST_F(ovl, exec_from_merged_views_shares_text)
{
	char pa[128], pb[128];
	uint64_t fa, fb;
	pid_t a, b;

	ASSERT_EQ(0, container_up(self->la, self->ca, NULL));
	ASSERT_EQ(0, container_up(self->lb, self->cb, NULL));
	snprintf(pa, sizeof(pa), "%s/bin/busybox", self->ca);
	snprintf(pb, sizeof(pb), "%s/bin/busybox", self->cb);
	a = spawn_sleep(pa);
	b = spawn_sleep(pb);
	ASSERT_LT(0, a);
	ASSERT_LT(0, b);
	/* give both time to exec and fault in their first text page */
	for (int i = 0; i < 100 && (!text_pfn(a, pa) || !text_pfn(b, pb)); i++)
		usleep(50000);
	fa = text_pfn(a, pa);
	fb = text_pfn(b, pb);
	kill(a, SIGKILL);
	kill(b, SIGKILL);
	waitpid(a, NULL, 0);
	waitpid(b, NULL, 0);
	/* maps names the merged path (text_pfn found it there), and one page */
	EXPECT_NE(0ULL, (unsigned long long)fa);
	EXPECT_EQ((unsigned long long)fa, (unsigned long long)fb);
}

/* the upper layer works over sharefs: copy-up, whiteout, opaque dir */
TEST_F(ovl, copy_up_and_whiteout)
{
	char f[128], buf[64] = "";
	struct stat st;
	int fd;

	ASSERT_EQ(0, container_up(self->la, self->ca, NULL));
	snprintf(f, sizeof(f), "%s/etc/d/lower", self->ca);
	fd = open(f, O_WRONLY | O_APPEND);
	ASSERT_LE(0, fd);
	EXPECT_EQ(3, write(fd, "up\n", 3));
	close(fd);
	fd = open(f, O_RDONLY);
	EXPECT_EQ(18, read(fd, buf, sizeof(buf)));
	close(fd);
	snprintf(f, sizeof(f), "%s/etc/d/lower", self->la);
	EXPECT_EQ(15, sfs_read_all(f));		/* the image is untouched */
	snprintf(f, sizeof(f), "%s/etc/gone", self->ca);
	EXPECT_EQ(0, unlink(f));
	EXPECT_NE(0, stat(f, &st));
	snprintf(f, sizeof(f), "%s/etc/gone", self->la);
	EXPECT_EQ(0, stat(f, &st));
}

/* overlayfs over three sharefs --aufs layers == the layers flattened */
TEST(aufs_layers_stack_like_flattened)
{
	struct sfs_mf_opts o = {
		.fields = MF_TYPE | MF_MODE | MF_UID | MF_GID | MF_SIZE |
			  MF_MTIME | MF_RDEV | MF_DATA | MF_XATTRS | MF_DTYPE,
		.max_depth = 32, .max_entries = 10000,
		.ignore_xattr = { "trusted.fingerprint" },
	};
	char l[3][256], flat[256], merged[300], lower[900], buf[8192];
	struct sfs_mf mo, mf;

	if (getuid() != 0 || !sfs_have_fs("sharefs") || !sfs_have_fs("overlay"))
		SKIP(return, "needs root, sharefs and overlayfs");
	for (int i = 0; i < 3; i++) {
		char name[16];

		snprintf(name, sizeof(name), "aufs-l%d", i + 1);
		ASSERT_EQ(0, sfs_mount_image(name, "sharefs", "domain=ovl", l[i], sizeof(l[i])));
	}
	ASSERT_EQ(0, sfs_mount_image("aufs-flat", "sharefs", "domain=ovl", flat, sizeof(flat)));
	snprintf(merged, sizeof(merged), "%.200s-stack", l[0]);
	mkdir(merged, 0755);
	snprintf(lower, sizeof(lower), "lowerdir=%s:%s:%s", l[2], l[1], l[0]);
	ASSERT_EQ(0, mount("overlay", merged, "overlay", MS_RDONLY, lower));
	ASSERT_EQ(0, sfs_mf_build(merged, &o, &mo));
	ASSERT_EQ(0, sfs_mf_build(flat, &o, &mf));
	EXPECT_EQ(0, mo.nerrs);
	EXPECT_LT(3, (long)mf.n);
	EXPECT_EQ(0, sfs_mf_diff(&mf, &mo, buf, sizeof(buf), 12)) {
		TH_LOG("overlayfs over the layers vs the flattened image:\n%s", buf);
	}
	sfs_mf_free(&mo);
	sfs_mf_free(&mf);
	EXPECT_EQ(0, umount(merged));
	rmdir(merged);
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(0, sfs_umount(l[i]));
	EXPECT_EQ(0, sfs_umount(flat));
}

/* one container goes, with its image, while the other runs on */
TEST_F(ovl, container_outlives_the_other_image)
{
	char pb[128], fb[128], fa[128];
	long pages = 0;
	pid_t b;

	ASSERT_EQ(0, container_up(self->la, self->ca, NULL));
	ASSERT_EQ(0, container_up(self->lb, self->cb, NULL));
	snprintf(fa, sizeof(fa), "%s/bin/busybox", self->ca);
	snprintf(fb, sizeof(fb), "%s/bin/busybox", self->cb);
	/* equal files in the two merged views: one set of pages */
	EXPECT_EQ(sfs_same_pfns(fa, fb, &pages), pages);
	ASSERT_LT(0, pages);
	snprintf(pb, sizeof(pb), "%s/bin/busybox", self->cb);
	b = spawn_sleep(pb);
	ASSERT_LT(0, b);
	for (int i = 0; i < 100 && !text_pfn(b, pb); i++)
		usleep(50000);
	/* container a and its image go away, a's source member with them */
	container_down(self->ca);
	EXPECT_EQ(0, umount(self->la));
	sfs_drop_caches("3");
	/* b runs on, and reads its files, whole, through its merged view */
	EXPECT_EQ(0, kill(b, 0));
	EXPECT_EQ(sfs_read_all(fb) > 0, 1);
	snprintf(fb, sizeof(fb), "%s/etc/d/lower", self->cb);
	EXPECT_EQ(15, sfs_read_all(fb));
	EXPECT_NE(0ULL, (unsigned long long)text_pfn(b, pb));
	kill(b, SIGKILL);
	waitpid(b, NULL, 0);
}

TEST_HARNESS_MAIN
