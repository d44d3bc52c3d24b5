// SPDX-License-Identifier: GPL-2.0-only OR Apache-2.0
/*
 * mkfs.c - one build from start to finish, and the no-partial-image rule.
 *
 * The image is written to IMAGE.tmp-XXXXXX in the same directory and renamed
 * over IMAGE only after everything succeeded.  Any failure, exit() from an
 * allocation failure, SIGINT, SIGTERM or SIGHUP unlinks the temporary file,
 * so a failed run leaves nothing behind.
 *
 * A crash must not leave IMAGE naming a file whose blocks never reached the
 * disk (after a rename, ext4 and xfs may write the new name first): the
 * image is fsynced, then its directory, before the rename; the directory
 * again after it, so that the new name itself is durable when mkfs exits.
 *
 * A rename replaces whatever IMAGE names, so IMAGE must be a regular file
 * or not exist: a device node (/dev/null, a disk) or a directory is refused,
 * and a symlink is followed, so that the file it points at is replaced, not
 * the link.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include "mkfs.h"

static char tmp_path[PATH_MAX];
static volatile sig_atomic_t tmp_live;

static void drop_tmp(void)
{
	if (tmp_live) {
		tmp_live = 0;
		unlink(tmp_path);
	}
}

static void on_signal(int sig)
{
	if (tmp_live)
		unlink(tmp_path);	/* async-signal-safe */
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * The path to write: @image, or the file a symlink @image points at.
 * -EEXIST (with a message) when it exists and is not a regular file.
 */
static int resolve_image(const char *image, char *path, size_t len)
{
	struct stat st;

	if (stat(image, &st)) {
		char target[PATH_MAX];
		const char *slash;
		ssize_t n;

		if (errno != ENOENT)
			return -errno;
		n = readlink(image, target, sizeof(target) - 1);
		if (n < 0) {	/* a new file: create it as named */
			if ((size_t)snprintf(path, len, "%s", image) >= len)
				return -ENAMETOOLONG;
			return 0;
		}
		/* a dangling symlink: create the file it points at */
		target[n] = 0;
		slash = strrchr(image, '/');
		if (target[0] == '/' || !slash)
			n = snprintf(path, len, "%s", target);
		else
			n = snprintf(path, len, "%.*s/%s", (int)(slash - image),
				     image, target);
		return (size_t)n >= len ? -ENAMETOOLONG : 0;
	}
	if (!S_ISREG(st.st_mode)) {
		sharefs_msg("%s: exists and is not a regular file; not replacing it",
			    image);
		return -EEXIST;
	}
	if (!realpath(image, path))
		return -errno;
	return 0;
}

/* fsync the directory that holds @path; a message names it on failure. */
static int sync_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, err = 0;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 :
			 (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd))
		err = -errno;
	if (fd >= 0)
		close(fd);
	if (err)
		sharefs_msg("%s: fsync of the directory: %s", dir, strerror(-err));
	return err;
}

static int open_tmp(const char *image)
{
	mode_t um = umask(0);
	int fd;

	umask(um);
	if (snprintf(tmp_path, sizeof(tmp_path), "%s.tmp-XXXXXX", image) >=
	    (int)sizeof(tmp_path))
		return -ENAMETOOLONG;
	fd = mkstemp(tmp_path);
	if (fd < 0)
		return -errno;
	tmp_live = 1;
	if (fchmod(fd, 0666 & ~um)) {
		int err = -errno;

		close(fd);
		drop_tmp();
		return err;
	}
	return fd;
}

int sharefs_mkfs(const struct sharefs_opts *o, const char *image,
		 const char *const *sources, int nsources, bool tar)
{
	static struct sharefs_build b;
	static char image_path[PATH_MAX];
	struct sigaction sa;
	int err;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	atexit(drop_tmp);

	err = resolve_image(image, image_path, sizeof(image_path));
	if (err) {
		if (err != -EEXIST)
			sharefs_msg("%s: %s", image, strerror(-err));
		return err;
	}
	image = image_path;
	sharefs_build_init(&b, o);
	sharefs_z_init(&b);
	b.image = image;
	if (!b.opts.have_uuid) {
		if (getrandom(b.opts.uuid, 16, 0) != 16) {
			sharefs_msg("getrandom: %s", strerror(errno));
			return -EIO;
		}
		b.opts.uuid[6] = (uint8_t)((b.opts.uuid[6] & 0x0f) | 0x40);
		b.opts.uuid[8] = (uint8_t)((b.opts.uuid[8] & 0x3f) | 0x80);
	}
	b.fd = open_tmp(image);
	if (b.fd < 0) {
		sharefs_msg("%s: cannot create temporary file: %s", image,
			    strerror(-b.fd));
		return b.fd;
	}
	sharefs_verity_start(&b);	/* trees computed as contents are stored */
	if (tar) {
		err = sharefs_read_tar(&b, sources, nsources);
	} else {
		err = sharefs_read_dir(&b, sources[0]);
		if (!err)
			err = sharefs_content_store_all(&b);
	}
	if (err)
		sharefs_verity_stop(&b);
	else if (b.opts.verity)
		err = sharefs_verity_all(&b);	/* says what failed */
	if (!err)
		err = sharefs_write_image(&b);	/* says what failed */
	sharefs_z_exit(&b);
	if (!err && fsync(b.fd)) {
		err = -errno;
		sharefs_msg("%s: fsync: %s", tmp_path, strerror(errno));
	}
	if (close(b.fd) && !err) {
		err = -errno;
		sharefs_msg("%s: %s", image, strerror(errno));
	}
	if (!err)
		err = sync_dir(tmp_path);
	if (!err && rename(tmp_path, image)) {
		err = -errno;
		sharefs_msg("%s: rename: %s", image, strerror(errno));
	}
	if (err) {
		drop_tmp();
		return err;
	}
	tmp_live = 0;
	err = sync_dir(image);
	if (err)
		return err;	/* the image is in place, maybe not yet durable */
	if (o->progress)
		fprintf(stderr, "%s: %llu blocks of %u bytes, %llu inodes, %llu MiB deduplicated\n",
			image, (unsigned long long)b.total_blocks, b.blksz,
			(unsigned long long)b.inodes,
			(unsigned long long)(b.dedup_bytes >> 20));
	return 0;
}
