// SPDX-License-Identifier: GPL-2.0-only OR Apache-2.0
/*
 * mount.sharefs - mount(8)'s helper for sharefs images.
 *
 *   mount -t sharefs [-o OPTIONS] IMAGE-FILE|BLOCK-DEVICE DIR
 *   mount.sharefs IMAGE-FILE|BLOCK-DEVICE DIR [-sfnv] [-o OPTIONS]
 *
 * mount(8) runs /sbin/mount.sharefs for "-t sharefs" with the source as
 * given.  An image file is attached to a fresh direct-I/O loop device
 * (loop.c), so its bytes are cached once, not in the host filesystem's page
 * cache as well; the loop device goes away at umount.  A block device is
 * mounted as it is; a loop device that mount(8) set up for "-o loop" is
 * switched to direct I/O first.  "-o nodio" keeps a buffered loop device.
 *
 * The mount goes through fsopen()/fsconfig()/fsmount() rather than
 * mount(2): when the kernel refuses an option, its own message (the fs
 * context log) is printed instead of a bare "Invalid argument".
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "mount.h"

static int verbose;

static void usage(void)
{
	fprintf(stderr,
		"Usage: mount.sharefs IMAGE|DEVICE DIR [-sfnv] [-o OPTIONS]\n"
		"  OPTIONS: domain=ID, noshare (sharefs); loop, offset=, sizelimit=,\n"
		"  nodio (the loop device); ro, nosuid, nodev, noexec, noatime, ...\n");
	exit(MNT_EX_USAGE);
}

/* print the kernel's messages about this fs context ("e sharefs: ...");
 * returns how many there were */
static int print_fs_log(int fsfd)
{
	char buf[512];
	ssize_t n;
	int lines = 0;

	while ((n = read(fsfd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = 0;
		if (n > 2 && buf[1] == ' ') {
			fprintf(stderr, "mount.sharefs: kernel: %s%s", buf + 2,
				buf[n - 1] == '\n' ? "" : "\n");
			lines++;
		}
	}
	return lines;
}

/* fsconfig() one "key" or "key=value"; 0 or -errno */
static int set_fs_option(int fsfd, char *opt)
{
	char *eq = strchr(opt, '=');
	int ret;

	if (!eq)
		return fsconfig(fsfd, FSCONFIG_SET_FLAG, opt, NULL, 0) ? -errno : 0;
	*eq = 0;
	ret = fsconfig(fsfd, FSCONFIG_SET_STRING, opt, eq + 1, 0) ? -errno : 0;
	*eq = '=';
	return ret;
}

/* mount the sharefs on DEV (the image SRC) at DIR; 0, or a mount(8) exit
 * code */
static int do_mount(const char *src, const char *dev, const char *dir,
		    const struct sharefs_mount_opts *mo)
{
	int fsfd, mfd = -1, i, err = 0;
	const char *what = "creating the superblock";

	fsfd = fsopen("sharefs", FSOPEN_CLOEXEC);
	if (fsfd < 0) {
		fprintf(stderr, "mount.sharefs: %s%s\n", strerror(errno),
			errno == ENODEV ? ": the sharefs module is not loaded "
			"(modprobe sharefs)" : "");
		return MNT_EX_FAIL;
	}
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, "source", dev, 0)) {
		err = -errno;
		what = "setting the source";
	}
	for (i = 0; !err && i < mo->nr_fs; i++) {
		err = set_fs_option(fsfd, mo->fs[i]);
		what = mo->fs[i];
	}
	if (!err && fsconfig(fsfd, FSCONFIG_SET_FLAG, "ro", NULL, 0))
		err = -errno;
	if (!err && fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0))
		err = -errno;
	if (!err) {
		what = "mounting";
		mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, mo->attr);
		if (mfd < 0 || move_mount(mfd, "", AT_FDCWD, dir,
					  MOVE_MOUNT_F_EMPTY_PATH))
			err = -errno;
	}
	if (err) {
		int said = print_fs_log(fsfd);

		fprintf(stderr, "mount.sharefs: %s%s%s%s on %s: %s: %s\n", src,
			strcmp(src, dev) ? " (" : "", strcmp(src, dev) ? dev : "",
			strcmp(src, dev) ? ")" : "", dir, what, strerror(-err));
		/* superblock checks log to the kernel log, not the fs context */
		if (!said && (err == -EINVAL || err == -EUCLEAN ||
			      err == -EOPNOTSUPP || err == -EBADMSG))
			fprintf(stderr, "mount.sharefs: the kernel log says why (dmesg | tail)\n");
	}
	if (mfd >= 0)
		close(mfd);
	close(fsfd);
	return err ? MNT_EX_FAIL : 0;
}

/* a loop device that mount(8) made for "-o loop": make it direct I/O */
static void loop_dev_to_dio(const char *dev, const struct stat *st)
{
	int fd;

	if (major(st->st_rdev) != 7 || sharefs_loop_dio(dev) != 0)
		return;
	fd = open(dev, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (sharefs_loop_set_dio(fd) && verbose)
		fprintf(stderr, "mount.sharefs: %s stays buffered\n", dev);
	close(fd);
}

/* the source as a block device; a file gets a loop device of its own */
static int source_device(const char *src, const struct sharefs_mount_opts *mo,
			 char *dev, size_t len)
{
	struct stat st;
	int fd;

	if (stat(src, &st)) {
		fprintf(stderr, "mount.sharefs: %s: %s\n", src, strerror(errno));
		return MNT_EX_USAGE;
	}
	if (S_ISBLK(st.st_mode)) {
		snprintf(dev, len, "%s", src);
		if (!mo->nodio)
			loop_dev_to_dio(dev, &st);
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "mount.sharefs: %s: not an image file or a block device\n", src);
		return MNT_EX_USAGE;
	}
	fd = sharefs_loop_attach(src, mo->offset, mo->sizelimit, !mo->nodio,
				 dev, len);
	if (fd < 0) {
		fprintf(stderr, "mount.sharefs: %s: cannot set up a loop device: %s%s\n",
			src, strerror(-fd), fd == -ENOENT || fd == -ENODEV ?
			" (modprobe loop)" : "");
		return MNT_EX_FAIL;
	}
	if (verbose)
		fprintf(stderr, "mount.sharefs: %s on %s, direct I/O %s\n", src,
			dev, sharefs_loop_dio(dev) == 1 ? "on" : "off");
	/*
	 * Keep the device open until the mount holds it: autoclear detaches
	 * a loop device at its last close.  The fd is close-on-exec and dies
	 * with this process, after the mount (or its failure).
	 */
	return 0;
}

int main(int argc, char **argv)
{
	struct sharefs_mount_opts mo;
	char *opts = NULL, dev[64], err[256];
	int c, fake = 0, ret;

	/* mount(8) puts the source and the directory first */
	while ((c = getopt(argc, argv, "sfnvo:t:N:h")) != -1) {
		switch (c) {
		case 's': case 'n': break;	/* sloppy, no mtab: nothing to do */
		case 'f': fake = 1; break;
		case 'v': verbose = 1; break;
		case 'o': opts = optarg; break;
		case 't': break;
		case 'N':
			fprintf(stderr, "mount.sharefs: -N (mount namespace) is not supported\n");
			return MNT_EX_USAGE;
		default: usage();
		}
	}
	if (argc - optind != 2)
		usage();
	if (sharefs_parse_mount_opts(opts, &mo, err, sizeof(err))) {
		fprintf(stderr, "mount.sharefs: %s\n", err);
		return MNT_EX_USAGE;
	}
	if (fake)
		return 0;
	ret = source_device(argv[optind], &mo, dev, sizeof(dev));
	if (ret)
		return ret;
	return do_mount(argv[optind], dev, argv[optind + 1], &mo);
}
