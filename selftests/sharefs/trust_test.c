// SPDX-License-Identifier: GPL-2.0-only
/*
 * trust_test - who may mount sharefs, and who sees trusted.* xattrs.
 *
 * DESIGN.md: only a privileged mounter in the initial user namespace may
 * mount (sharefs has no FS_USERNS_MOUNT), and trusted.* (the fingerprints
 * live there) is visible only with CAP_SYS_ADMIN.  Each check runs in a
 * child that drops to uid/gid 65534 (nobody) and reports its errno
 * through its exit status.  'basic' (mkfs.erofs 1.5) has trusted.note on
 * small.txt.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "sfs.h"

#define NOBODY	65534
#define TRUSTED_FILE	"small.txt"
#define TRUSTED_NAME	"trusted.note"

/* run fn as nobody in a child; its result (an errno, or 0) */
static int as_nobody(int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY))
			_exit(250);
		_exit(fn(arg));
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 251;
	return WEXITSTATUS(status);
}

struct mount_arg {
	const char *dev;
	const char *dir;
	int userns;		/* in a new user + mount namespace */
};

static int try_mount(void *p)
{
	struct mount_arg *m = p;

	if (m->userns && unshare(CLONE_NEWUSER | CLONE_NEWNS))
		return 200 + (errno & 31);	/* see userns_unavailable() */
	if (!mount(m->dev, m->dir, "sharefs", MS_RDONLY, NULL)) {
		umount(m->dir);
		return 0;
	}
	return errno;
}

static int userns_unavailable(int r)
{
	return r >= 200 && r < 232;
}

FIXTURE(trust) {
	char dev[64];
	char dir[256];
	int lfd;
	int mounted;
};

FIXTURE_SETUP(trust)
{
	if (getuid() != 0)
		SKIP(return, "needs root");
	if (!sfs_have_fs("sharefs"))
		SKIP(return, "sharefs is not registered");
	self->lfd = sfs_loop_attach("basic", self->dev, sizeof(self->dev));
	ASSERT_LE(0, self->lfd);
	/* nobody may open the device: only the mount must refuse */
	chmod(self->dev, 0666);
	snprintf(self->dir, sizeof(self->dir), "/mnt/trust-%d", getpid());
	ASSERT_EQ(0, mkdir(self->dir, 0777));
	chmod(self->dir, 0777);
}

FIXTURE_TEARDOWN(trust)
{
	if (self->mounted)
		umount(self->dir);
	if (self->lfd >= 0)
		close(self->lfd);
	rmdir(self->dir);
}

TEST_F(trust, unprivileged_mount_fails)
{
	struct mount_arg m = { self->dev, self->dir, 0 };

	EXPECT_EQ(EPERM, as_nobody(try_mount, &m));
}

TEST_F(trust, userns_mount_fails)
{
	struct mount_arg m = { self->dev, self->dir, 1 };
	int r = as_nobody(try_mount, &m);

	if (userns_unavailable(r))
		SKIP(return, "unprivileged user namespaces are not allowed here (unshare: %s)",
		     strerror(r - 200));
	/* no FS_USERNS_MOUNT: the VFS refuses before sharefs sees it */
	EXPECT_EQ(EPERM, r);
}

/* for listxattr/getxattr as nobody: the path */
static int list_has_trusted(void *p)
{
	char list[4096];
	ssize_t n = llistxattr(p, list, sizeof(list));

	if (n < 0)
		return 100 + (errno & 63);
	for (char *q = list; q < list + n; q += strlen(q) + 1)
		if (!strncmp(q, "trusted.", 8))
			return 1;
	return 0;
}

static int get_trusted(void *p)
{
	char val[256];

	if (lgetxattr(p, TRUSTED_NAME, val, sizeof(val)) >= 0)
		return 0;
	return errno;
}

TEST_F(trust, trusted_xattrs_hidden_from_unprivileged)
{
	char path[512];
	int r;

	ASSERT_EQ(0, mount(self->dev, self->dir, "sharefs", MS_RDONLY, NULL));
	self->mounted = 1;
	chmod(self->dir, 0755);
	snprintf(path, sizeof(path), "%s/%s", self->dir, TRUSTED_FILE);
	/* root sees it */
	ASSERT_EQ(1, list_has_trusted(path));
	ASSERT_EQ(0, get_trusted(path));
	/* nobody does not */
	r = as_nobody(list_has_trusted, path);
	EXPECT_EQ(0, r) TH_LOG("listxattr as nobody: %s", r == 1 ?
			       "lists trusted.*" : strerror(r - 100));
	r = as_nobody(get_trusted, path);
	EXPECT_TRUE(r == EPERM || r == ENODATA) {
		TH_LOG("getxattr %s as nobody gave %s", TRUSTED_NAME,
		       r ? strerror(r) : "the value");
	}
}

TEST_HARNESS_MAIN
