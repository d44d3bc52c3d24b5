// SPDX-License-Identifier: GPL-2.0-only
/*
 * sfs.c - fixtures shared by the sharefs selftests (see sfs.h).
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <linux/loop.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "sfs.h"

static int manifest_lookup(const char *name, unsigned long long *off,
			   unsigned long long *size)
{
	char n[256];
	FILE *f = fopen(SFS_MANIFEST, "r");

	if (!f)
		return -errno;
	while (fscanf(f, "%255s %llu %llu", n, off, size) == 3) {
		if (!strcmp(n, name)) {
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	return -ENOENT;
}

int sfs_loop_attach_fd(int fd, unsigned long long off,
		       unsigned long long size, const char *name,
		       char *dev, size_t len)
{
	struct loop_config cfg = { 0 };
	int ctl, nr, lfd = -1, ret = 0;

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -errno;
	/* another test may grab the same free device: retry on EBUSY */
	for (int tries = 0; tries < 16; tries++) {
		nr = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (nr < 0) {
			ret = -errno;
			break;
		}
		snprintf(dev, len, "/dev/loop%d", nr);
		lfd = open(dev, O_RDONLY | O_CLOEXEC);
		if (lfd < 0) {
			ret = -errno;
			break;
		}
		cfg.fd = fd;
		cfg.info.lo_offset = off;
		cfg.info.lo_sizelimit = size;
		cfg.info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;
		strncpy((char *)cfg.info.lo_file_name, name, LO_NAME_SIZE - 1);
		ret = ioctl(lfd, LOOP_CONFIGURE, &cfg) ? -errno : 0;
		if (!ret)
			break;
		close(lfd);
		lfd = -1;
		if (ret != -EBUSY)
			break;
	}
	close(ctl);
	/* the open fd keeps an autoclear device alive until it is mounted */
	return ret ? ret : lfd;
}

int sfs_image_extent(const char *name, unsigned long long *off,
		     unsigned long long *size)
{
	return manifest_lookup(name, off, size);
}

int sfs_loop_attach(const char *name, char *dev, size_t len)
{
	unsigned long long off, size;
	int fd, ret;

	ret = manifest_lookup(name, &off, &size);
	if (ret)
		return ret;
	fd = open(SFS_IMAGES_DISK, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = sfs_loop_attach_fd(fd, off, size, name, dev, len);
	close(fd);
	return ret;
}

int sfs_loop_detach(const char *dev)
{
	int fd = open(dev, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = ioctl(fd, LOOP_CLR_FD, 0) ? -errno : 0;
	close(fd);
	return ret;
}

int sfs_mount_image(const char *name, const char *fstype, const char *opts,
		    char *dir, size_t len)
{
	static int seq;
	char dev[64];
	int lfd, ret = 0;

	lfd = sfs_loop_attach(name, dev, sizeof(dev));
	if (lfd < 0)
		return lfd;
	snprintf(dir, len, "/mnt/%s-%s-%d-%d", name, fstype, getpid(), seq++);
	mkdir(dir, 0755);
	if (mount(dev, dir, fstype, MS_RDONLY, opts)) {
		ret = -errno;
		rmdir(dir);
	}
	/* the last close clears the device now, or after the umount */
	close(lfd);
	return ret;
}

/*
 * Linux 7.2 now and then reports EBUSY for a moment after the last file
 * of a mount is closed (seen on stock erofs's mounts as on ours): a mount
 * that stays busy for a second is a real failure, a moment is not.
 */
int sfs_umount_flags(const char *dir, int flags)
{
	int i;

	for (i = 0; umount2(dir, flags); i++) {
		if (errno != EBUSY || i == 50)
			return -errno;
		if (!i)
			fprintf(stderr, "# umount %s: EBUSY, trying again\n", dir);
		usleep(20000);
	}
	return 0;
}

int sfs_umount(const char *dir)
{
	int ret = sfs_umount_flags(dir, 0);

	if (!ret)
		rmdir(dir);
	return ret;
}

static unsigned long long kmsg_mark_seq;

/* /dev/kmsg records: "prio,seq,usec,flags;text" */
void sfs_kmsg_scan(void (*fn)(const char *text, void *arg), void *arg)
{
	char rec[8192];
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return;
	for (;;) {
		unsigned long long seq;
		char *text;

		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)	/* overwritten: keep going */
			continue;
		if (n <= 0)
			break;
		rec[n] = 0;
		text = strchr(rec, ';');
		if (!text || sscanf(rec, "%*u,%llu", &seq) != 1)
			continue;
		if (seq < kmsg_mark_seq)
			continue;
		*strchrnul(text, '\n') = 0;
		fn(text + 1, arg);
	}
	close(fd);
}

void sfs_kmsg_mark(void)
{
	char rec[8192];
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return;
	/* the next record to be written is one past the last one there */
	kmsg_mark_seq = 0;
	for (;;) {
		unsigned long long seq;

		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0)
			break;
		rec[n] = 0;
		if (sscanf(rec, "%*u,%llu", &seq) == 1)
			kmsg_mark_seq = seq + 1;
	}
	close(fd);
}

struct has_arg {
	const char *needle;
	int found;
};

static void has_one(const char *text, void *arg)
{
	struct has_arg *h = arg;

	if (strstr(text, h->needle))
		h->found++;
}

int sfs_kmsg_count(const char *needle)
{
	struct has_arg h = { needle, 0 };

	sfs_kmsg_scan(has_one, &h);
	return h.found;
}

int sfs_kmsg_has(const char *needle)
{
	return sfs_kmsg_count(needle) > 0;
}

const char *sfs_mount_source(const char *dir)
{
	static char dev[256];
	char mnt[256], line[1024];
	const char *found = NULL;
	FILE *f = fopen("/proc/mounts", "r");

	if (!f)
		return NULL;
	while (!found && fgets(line, sizeof(line), f))
		if (sscanf(line, "%255s %255s", dev, mnt) == 2 &&
		    !strcmp(mnt, dir))
			found = strrchr(dev, '/') ? strrchr(dev, '/') + 1 : dev;
	fclose(f);
	return found;
}

long sfs_mount_counter(const char *dir, const char *name)
{
	char p[512];
	const char *dev = sfs_mount_source(dir);

	if (!dev)
		return -1;
	snprintf(p, sizeof(p), "/sys/fs/sharefs/%s/%s", dev, name);
	return sfs_read_num(p);
}

long sfs_read_num(const char *path)
{
	char buf[64] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? atol(buf) : -1;
}

long sfs_read_key(const char *path, const char *key)
{
	char k[64];
	long long v, found = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld", k, &v) == 2)
		if (!strcmp(k, key))
			found = v;
	fclose(f);
	return (long)found;
}

int sfs_write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

struct since_arg {
	char *buf;
	size_t len, used;
};

static void since_one(const char *text, void *arg)
{
	struct since_arg *s = arg;
	int n = snprintf(s->buf + s->used, s->len - s->used, "%s\n", text);

	if (n > 0 && s->used + n < s->len)
		s->used += n;
}

void sfs_kmsg_since(char *buf, size_t len)
{
	struct since_arg s = { buf, len, 0 };

	buf[0] = 0;
	sfs_kmsg_scan(since_one, &s);
}

void sfs_drop_caches(const char *what)
{
	int fd;

	sync();
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (fd < 0 || write(fd, what, strlen(what)) != (ssize_t)strlen(what))
		perror("drop_caches");
	if (fd >= 0)
		close(fd);
}

int sfs_have_fs(const char *fstype)
{
	char line[256];
	FILE *f = fopen("/proc/filesystems", "r");
	int found = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *t = strrchr(line, '\t');

		t = t ? t + 1 : line;
		t[strcspn(t, "\n")] = 0;
		if (!strcmp(t, fstype))
			found = 1;
	}
	fclose(f);
	return found;
}

int sfs_kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		return 0;
	return ma > major || (ma == major && mi >= minor);
}

int sfs_have_ksym(const char *sym)
{
	char line[512], name[256];
	FILE *f = fopen("/proc/kallsyms", "r");
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%*s %*s %255s", name) == 1 &&
			!strcmp(name, sym);
	fclose(f);
	return found;
}

/* ---- page cache measurements ------------------------------------------ */

long sfs_meminfo_kb(const char *field)
{
	char line[256];
	long val = -1;
	size_t n = strlen(field);
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':')
			val = atol(line + n + 1);
	fclose(f);
	return val;
}

long sfs_read_all(const char *path)
{
	static char buf[1 << 16];
	long total = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += n;
	close(fd);
	return n < 0 ? -errno : total;
}

/* page-frame number behind a mapped address (root sees real PFNs) */
static uint64_t sfs_pfn_of(const void *addr)
{
	long psz = sysconf(_SC_PAGESIZE);
	uint64_t ent = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		return 0;
	if (pread(fd, &ent, sizeof(ent), (uintptr_t)addr / psz * sizeof(ent)) !=
	    sizeof(ent))
		ent = 0;
	close(fd);
	if (!(ent & (1ULL << 63)))	/* not present */
		return 0;
	return ent & ((1ULL << 55) - 1);
}

long sfs_same_pfns(const char *p1, const char *p2, long *pages)
{
	long psz = sysconf(_SC_PAGESIZE), same = 0;
	int fd1 = open(p1, O_RDONLY), fd2 = open(p2, O_RDONLY);
	volatile const char *m1, *m2;
	struct stat st;

	if (fd1 < 0 || fd2 < 0 || fstat(fd1, &st)) {
		if (fd1 >= 0)
			close(fd1);
		if (fd2 >= 0)
			close(fd2);
		return -1;
	}
	m1 = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, fd1, 0);
	m2 = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd2, 0);
	close(fd1);
	close(fd2);
	if (m1 == MAP_FAILED || m2 == MAP_FAILED)
		return -1;
	*pages = (st.st_size + psz - 1) / psz;
	for (long i = 0; i < *pages; i++) {
		uint64_t a, b;

		(void)m1[i * psz];
		(void)m2[i * psz];
		a = sfs_pfn_of((const void *)&m1[i * psz]);
		b = sfs_pfn_of((const void *)&m2[i * psz]);
		if (a && a == b)
			same++;
	}
	munmap((void *)m1, st.st_size);
	munmap((void *)m2, st.st_size);
	return same;
}

/* ---- device mapper, through its ioctls (no dmsetup in the VM) ---------- */

#define DM_BUF_SIZE	16384

/* One dm ioctl on device @name; @table: "START LEN TYPE PARAMS" or NULL. */
static int dm_call(unsigned long cmd, const char *name, const char *table,
		   unsigned int flags, struct dm_ioctl *out)
{
	static char buf[DM_BUF_SIZE] __attribute__((aligned(8)));
	struct dm_ioctl *io = (struct dm_ioctl *)buf;
	struct dm_target_spec *spec = (struct dm_target_spec *)(io + 1);
	unsigned long long start, len;
	char type[DM_MAX_TYPE_NAME];
	int ctl, n = 0, ret;

	memset(buf, 0, sizeof(buf));
	io->version[0] = DM_VERSION_MAJOR;
	io->data_size = sizeof(buf);
	io->data_start = sizeof(*io);
	io->flags = flags;
	snprintf(io->name, sizeof(io->name), "%s", name);
	if (table) {
		if (sscanf(table, "%llu %llu %31s %n", &start, &len, type, &n) < 3 ||
		    !n)
			return -EINVAL;
		spec->sector_start = start;
		spec->length = len;
		snprintf(spec->target_type, sizeof(spec->target_type), "%s", type);
		snprintf((char *)(spec + 1), sizeof(buf) - sizeof(*io) -
			 sizeof(*spec), "%s", table + n);
		io->target_count = 1;
	}
	ctl = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -errno;
	ret = ioctl(ctl, cmd, io) ? -errno : 0;
	close(ctl);
	if (!ret && out)
		*out = *io;
	return ret;
}

int sfs_dm_create(const char *name, const char *table, char *dev, size_t len)
{
	struct dm_ioctl io;
	unsigned int minor, major;
	int ret;

	ret = dm_call(DM_DEV_CREATE, name, NULL, 0, &io);
	if (ret)
		return ret;
	/* the kernel encodes dev as huge_encode_dev() does */
	major = (io.dev >> 8) & 0xfff;
	minor = (io.dev & 0xff) | ((io.dev >> 12) & 0xfff00);
	ret = sfs_dm_load(name, table);
	if (ret) {
		sfs_dm_remove(name);
		return ret;
	}
	/* our own node: devtmpfs names it dm-N, but not before the table */
	snprintf(dev, len, "/dev/sfs-%s", name);
	unlink(dev);
	if (mknod(dev, S_IFBLK | 0600, makedev(major, minor))) {
		ret = -errno;
		sfs_dm_remove(name);
		return ret;
	}
	return 0;
}

int sfs_dm_load(const char *name, const char *table)
{
	int ret = dm_call(DM_TABLE_LOAD, name, table, DM_READONLY_FLAG, NULL);

	/* resume swaps the loaded table in (suspending the old one first) */
	return ret ? ret : dm_call(DM_DEV_SUSPEND, name, NULL, 0, NULL);
}

int sfs_dm_remove(const char *name)
{
	char dev[80];

	snprintf(dev, sizeof(dev), "/dev/sfs-%s", name);
	unlink(dev);
	return dm_call(DM_DEV_REMOVE, name, NULL, 0, NULL);
}

/* Block device @dev's sysfs attribute @attr, opened for reading, or NULL. */
static FILE *dev_attr_open(const char *dev, const char *attr)
{
	char nums[32], path[128];

	if (sfs_dev_numbers(dev, nums, sizeof(nums)))
		return NULL;
	snprintf(path, sizeof(path), "/sys/dev/block/%s/%s", nums, attr);
	return fopen(path, "r");
}

long sfs_dev_stat(const char *dev, int field)
{
	FILE *f = dev_attr_open(dev, "stat");
	long val = -1;
	int i;

	if (!f)
		return -1;
	for (i = 0; i <= field; i++)
		if (fscanf(f, "%ld", &val) != 1) {
			val = -1;
			break;
		}
	fclose(f);
	return val;
}

long sfs_dev_reads(const char *dev)
{
	return sfs_dev_stat(dev, 0);
}

/*
 * Wait, up to 2 s, until block device @dev has no request in flight; 0,
 * -ENOENT (not a block device) or -ETIMEDOUT: a read that started I/O it does not wait for (readahead
 * in a workqueue) is counted whole.  The request count (field 0) can still
 * lag by a request: blk-mq ends a request's bios, waking the reader, and
 * takes it out of flight before it counts it done.  Sectors (field 2) are
 * counted before the bios end, so exact counts are taken in sectors.
 */
int sfs_dev_idle(const char *dev)
{
	long r, w;
	FILE *f;
	int i;

	for (i = 0; i < 200; i++) {
		f = dev_attr_open(dev, "inflight");
		if (!f)
			return -ENOENT;
		if (fscanf(f, "%ld %ld", &r, &w) != 2)
			r = w = -1;
		fclose(f);
		if (r == 0 && w == 0)
			return 0;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

/* Field @field of @dev's stat once it has nothing in flight, or -1. */
long sfs_dev_stat_idle(const char *dev, int field)
{
	return sfs_dev_idle(dev) ? -1 : sfs_dev_stat(dev, field);
}

int sfs_dev_numbers(const char *path, char *buf, size_t len)
{
	struct stat st;

	if (stat(path, &st))
		return -errno;
	if (!S_ISBLK(st.st_mode))
		return -ENOTBLK;
	snprintf(buf, len, "%u:%u", major(st.st_rdev), minor(st.st_rdev));
	return 0;
}

/* Read @rel under @dir whole: its bytes (malloc) or NULL with errno set. */
char *sfs_slurp_at(const char *dir, const char *rel, size_t *len)
{
	char path[PATH_MAX];
	struct stat st;
	char *buf;
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st)) {
		err = errno;
		close(fd);
		errno = err;
		return NULL;
	}
	buf = malloc(st.st_size + 1);
	errno = 0;
	if (pread(fd, buf, st.st_size, 0) != st.st_size) {
		err = errno ? errno : EIO;
		free(buf);
		close(fd);
		errno = err;
		return NULL;
	}
	close(fd);
	*len = st.st_size;
	return buf;
}

/* 0: @rel reads the oracle's bytes; -errno: it fails; 1: other bytes. */
int sfs_same_file(const char *dir, const char *oracle, const char *rel)
{
	size_t la, lo;
	char *a = sfs_slurp_at(dir, rel, &la);
	int err = errno, ret;
	char *o = sfs_slurp_at(oracle, rel, &lo);

	if (!a) {
		free(o);
		return -err;
	}
	ret = !o || la != lo || memcmp(a, o, la);
	free(a);
	free(o);
	return ret;
}
