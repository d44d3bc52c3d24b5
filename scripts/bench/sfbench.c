// SPDX-License-Identifier: GPL-2.0-only
/*
 * sfbench - the timing and set-up helper of the demo and the benchmarks.
 *
 * Runs inside the test VM (built static, copied into its /bin).  Every
 * timed subcommand prints one line of key=value pairs, times in
 * nanoseconds from CLOCK_MONOTONIC around the measured work only:
 *
 *   sfbench readall DIR...        read every regular file under DIR
 *   sfbench seq FILE              read FILE front to back, 1 MiB reads
 *   sfbench rand FILE COUNT       COUNT 4 KiB preads at random offsets
 *   sfbench back FILE COUNT       COUNT 4 KiB preads from FILE's end
 *                                 backwards (a reader walking back)
 *   sfbench mmap FILE             fault in every page of a mapping of FILE
 *   sfbench walk DIR              lstat every entry under DIR
 *   sfbench mount TYPE DEV DIR OPTS   time mount(2) (read-only)
 *   sfbench evict                 time dropping page cache, dentries and
 *                                 inodes (after a sync, not timed)
 *   sfbench time CMD [ARG...]     time running CMD to its end (fork, exec,
 *                                 wait): a command as a user runs it, such
 *                                 as mount.sharefs; prints ns= and rc=,
 *                                 exits with CMD's status
 *
 * and the set-up helpers, which print no timing:
 *
 *   sfbench loop FILE OFFSET SIZE attach a read-only loop device over that
 *                                 byte range, direct I/O when the kernel
 *                                 takes it (no second copy in the backing
 *                                 device's cache); prints /dev/loopN
 *   sfbench loopmount TYPE FILE DIR OPTS
 *                                 mount image FILE on a fresh direct-I/O
 *                                 loop device that goes away at umount
 *   sfbench mem                   Cached and Buffers of /proc/meminfo, bytes
 *   sfbench drop                  sync, drop page cache, dentries, inodes
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/loop.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE	(1 << 20)

static char *buf;
static unsigned long long nfiles, nbytes, nerrors;

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void fail(const char *what, const char *arg)
{
	fprintf(stderr, "sfbench: %s %s: %s\n", what, arg, strerror(errno));
	exit(1);
}

/* read all of @fd; the byte count, or -1 */
static long long read_fd(int fd)
{
	long long total = 0;
	ssize_t n;

	while ((n = read(fd, buf, BUF_SIZE)) > 0)
		total += n;
	return n < 0 ? -1 : total;
}

static int readall_one(const char *path, const struct stat *st, int type,
		       struct FTW *ftw)
{
	long long n;
	int fd;

	(void)ftw;
	if (type != FTW_F || !S_ISREG(st->st_mode))
		return 0;
	fd = open(path, O_RDONLY | O_NOFOLLOW);
	if (fd < 0) {
		nerrors++;
		return 0;
	}
	n = read_fd(fd);
	close(fd);
	if (n < 0) {
		nerrors++;
		return 0;
	}
	nfiles++;
	nbytes += n;
	return 0;
}

static int walk_one(const char *path, const struct stat *st, int type,
		    struct FTW *ftw)
{
	(void)path; (void)st; (void)type; (void)ftw;
	nfiles++;		/* nftw has lstat()ed it already (FTW_PHYS) */
	return 0;
}

static int cmd_tree(int argc, char **argv, int walk)
{
	unsigned long long t0 = now_ns();
	int i;

	for (i = 0; i < argc; i++)
		if (nftw(argv[i], walk ? walk_one : readall_one, 64, FTW_PHYS))
			fail("nftw", argv[i]);
	printf("ns=%llu files=%llu bytes=%llu errors=%llu\n",
	       now_ns() - t0, nfiles, nbytes, nerrors);
	return nerrors ? 1 : 0;
}

static int cmd_seq(const char *file)
{
	unsigned long long t0 = now_ns();
	int fd = open(file, O_RDONLY);
	long long n;

	if (fd < 0)
		fail("open", file);
	n = read_fd(fd);
	if (n < 0)
		fail("read", file);
	close(fd);
	printf("ns=%llu bytes=%lld\n", now_ns() - t0, n);
	return 0;
}

/* Open @file for 4 KiB preads: its whole pages, at least @need. */
static long open_pages(const char *file, long need, int *fd)
{
	struct stat st;

	*fd = open(file, O_RDONLY);
	if (*fd < 0 || fstat(*fd, &st))
		fail("open", file);
	if (st.st_size / 4096 < need)
		fail("too small:", file);
	return st.st_size / 4096;
}

static int cmd_rand(const char *file, long count)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;	/* fixed seed: same offsets */
	unsigned long long t0;
	long i, pages;
	int fd;

	pages = open_pages(file, 1, &fd);
	t0 = now_ns();
	for (i = 0; i < count; i++) {
		/* xorshift64 */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (pread(fd, buf, 4096, (off_t)(x % pages) * 4096) != 4096)
			fail("pread", file);
	}
	printf("ns=%llu reads=%ld\n", now_ns() - t0, count);
	close(fd);
	return 0;
}

static int cmd_back(const char *file, long count)
{
	unsigned long long t0;
	long i, pages;
	int fd;

	pages = open_pages(file, count, &fd);
	t0 = now_ns();
	for (i = 1; i <= count; i++)
		if (pread(fd, buf, 4096, (off_t)(pages - i) * 4096) != 4096)
			fail("pread", file);
	printf("ns=%llu reads=%ld\n", now_ns() - t0, count);
	close(fd);
	return 0;
}

static int cmd_mmap(const char *file)
{
	unsigned long long t0 = now_ns();
	volatile unsigned char sum = 0;
	const unsigned char *p;
	struct stat st;
	off_t off;
	int fd;

	fd = open(file, O_RDONLY);
	if (fd < 0 || fstat(fd, &st))
		fail("open", file);
	p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		fail("mmap", file);
	for (off = 0; off < st.st_size; off += 4096)
		sum += p[off];
	munmap((void *)p, st.st_size);
	close(fd);
	printf("ns=%llu bytes=%lld\n", now_ns() - t0, (long long)st.st_size);
	return 0;
}

static int cmd_mount(char **argv)
{
	unsigned long long t0 = now_ns();

	if (mount(argv[1], argv[2], argv[0], MS_RDONLY, argv[3]))
		fail("mount", argv[1]);
	printf("ns=%llu\n", now_ns() - t0);
	return 0;
}

/*
 * A fresh read-only loop device over a byte range of @file, in @dev; direct
 * I/O when the kernel takes it (no second copy in the backing file's
 * cache).  Returns the device's open fd; *@dio says whether it got direct
 * I/O.
 */
static int attach_loop(const char *file, long long off, long long size,
		       unsigned int flags, char *dev, size_t len, int *dio)
{
	struct loop_config cfg;
	int ctl, lfd, bfd, nr;

	bfd = open(file, O_RDONLY | O_CLOEXEC);
	if (bfd < 0)
		fail("open", file);
	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		fail("open", "/dev/loop-control");
	nr = ioctl(ctl, LOOP_CTL_GET_FREE);
	if (nr < 0)
		fail("LOOP_CTL_GET_FREE", file);
	close(ctl);
	snprintf(dev, len, "/dev/loop%d", nr);
	lfd = open(dev, O_RDONLY | O_CLOEXEC);
	if (lfd < 0)
		fail("open", dev);
	memset(&cfg, 0, sizeof(cfg));
	cfg.fd = bfd;
	cfg.info.lo_offset = off;
	cfg.info.lo_sizelimit = size;
	cfg.info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_DIRECT_IO | flags;
	*dio = 1;
	if (ioctl(lfd, LOOP_CONFIGURE, &cfg)) {
		/* buffered I/O still works, at the price of a double cache */
		cfg.info.lo_flags &= ~LO_FLAGS_DIRECT_IO;
		*dio = 0;
		if (ioctl(lfd, LOOP_CONFIGURE, &cfg))
			fail("LOOP_CONFIGURE", dev);
	}
	close(bfd);
	return lfd;
}

static int cmd_loop(const char *file, long long off, long long size)
{
	char dev[32];
	int dio;

	attach_loop(file, off, size, 0, dev, sizeof(dev), &dio);
	printf("%s\n", dev);
	return 0;
}

/*
 * Mount image file @argv[1] with type @argv[0] on @argv[2] the way
 * mount.sharefs does for sharefs: a fresh direct-I/O loop device that
 * clears itself at umount, then mount(2) read-only.  For the stock driver
 * in the scale benchmark, timed from outside (sfbench time) like
 * mount.sharefs.
 */
static int cmd_loopmount(char **argv)
{
	struct stat st;
	char dev[32];
	int lfd, dio;

	if (stat(argv[1], &st))
		fail("stat", argv[1]);
	lfd = attach_loop(argv[1], 0, st.st_size, LO_FLAGS_AUTOCLEAR,
			  dev, sizeof(dev), &dio);
	if (mount(dev, argv[2], argv[0], MS_RDONLY, argv[3]))
		fail("mount", argv[1]);
	close(lfd);		/* the mount holds the device now */
	printf("dev=%s dio=%d\n", dev, dio);
	return 0;
}

static int cmd_mem(void)
{
	char line[256];
	unsigned long long cached = 0, buffers = 0, v;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		fail("open", "/proc/meminfo");
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Cached: %llu", &v) == 1)
			cached = v * 1024;
		else if (sscanf(line, "Buffers: %llu", &v) == 1)
			buffers = v * 1024;
	}
	fclose(f);
	printf("cached=%llu buffers=%llu\n", cached, buffers);
	return 0;
}

static int cmd_time(char **argv)
{
	unsigned long long t0 = now_ns();
	int status, rc;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		fail("fork", argv[0]);
	if (!pid) {
		execvp(argv[0], argv);
		fprintf(stderr, "sfbench: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		fail("waitpid", argv[0]);
	rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	printf("ns=%llu rc=%d\n", now_ns() - t0, rc);
	return rc;
}

/* Drop the caches; with @timed, print how long the write took. */
static int cmd_drop(int timed)
{
	unsigned long long t0;
	int fd;

	sync();
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	t0 = now_ns();
	if (fd < 0 || write(fd, "3", 1) != 1)
		fail("write", "/proc/sys/vm/drop_caches");
	if (timed)
		printf("ns=%llu\n", now_ns() - t0);
	close(fd);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: sfbench readall|walk DIR... | seq|mmap FILE | "
		"rand FILE COUNT | back FILE COUNT | mount TYPE DEV DIR OPTS | "
		"loop FILE OFFSET SIZE | loopmount TYPE FILE DIR OPTS | "
		"mem | drop | evict | time CMD...\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	buf = aligned_alloc(4096, BUF_SIZE);
	if (!buf)
		return 1;
	if (!strcmp(cmd, "readall") && argc > 2)
		return cmd_tree(argc - 2, argv + 2, 0);
	if (!strcmp(cmd, "walk") && argc > 2)
		return cmd_tree(argc - 2, argv + 2, 1);
	if (!strcmp(cmd, "seq") && argc == 3)
		return cmd_seq(argv[2]);
	if (!strcmp(cmd, "rand") && argc == 4)
		return cmd_rand(argv[2], atol(argv[3]));
	if (!strcmp(cmd, "back") && argc == 4)
		return cmd_back(argv[2], atol(argv[3]));
	if (!strcmp(cmd, "mmap") && argc == 3)
		return cmd_mmap(argv[2]);
	if (!strcmp(cmd, "mount") && argc == 6)
		return cmd_mount(argv + 2);
	if (!strcmp(cmd, "loopmount") && argc == 6)
		return cmd_loopmount(argv + 2);
	if (!strcmp(cmd, "loop") && argc == 5)
		return cmd_loop(argv[2], atoll(argv[3]), atoll(argv[4]));
	if (!strcmp(cmd, "mem"))
		return cmd_mem();
	if (!strcmp(cmd, "drop"))
		return cmd_drop(0);
	if (!strcmp(cmd, "evict"))
		return cmd_drop(1);
	if (!strcmp(cmd, "time") && argc > 2)
		return cmd_time(argv + 2);
	return usage();
}
