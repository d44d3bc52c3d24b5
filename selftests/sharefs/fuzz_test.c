// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz_test - mutated images mount and walk cleanly, or fail cleanly.
 *
 *   fuzz_test [-l LIST]... [-t SECONDS] [-v]
 *
 * Each LIST (default: /images/fuzz.list, then /images/zfuzz.list, the
 * mutants of compressed images, where build-images.sh wrote it; the ids of
 * the two overlap, the base names tell them apart) is written by
 * scripts/fuzz/mutate.py:
 * one mutant a line, "SEED:INDEX BASE SIZE PATCHES WHAT".  BASE is an
 * image of the image disk (/images/manifest); the mutant is BASE with
 * PATCHES ("OFF:HEX,...", "-" for none) applied, cut to SIZE bytes.  Each
 * base is copied once to tmpfs; a mutant patches the copy, is attached to
 * a loop device limited to SIZE, mounted with sharefs, walked and
 * unmounted, and the copy is patched back.
 *
 * The walk, in a child with a per-mutant alarm: every entry down to a
 * bounded depth and count; lstat, readdir, lookup of a missing name,
 * read (bounded bytes), mmap of the first pages (SIGBUS is an I/O error
 * there), readlink, listxattr and getxattr of every name.  Failures must
 * be errors a corrupt image can explain (EUCLEAN, EIO, ...); anything else
 * (EINVAL from a read, ENOMEM, ...) is an unexpected errno and fails the
 * test, as a mount refused with an errno outside that list and EINVAL does.
 * A mutant whose child does not end is a hang: the test stops there.
 * Kernel BUGs and WARNINGs fail the run through the runner's log check;
 * before each mutant its id goes to /dev/kmsg so the log names the
 * reproducer (scripts/fuzz.sh --repro SEED INDEX rebuilds it).
 *
 * Output: KTAP, one result; a summary line "# fuzz: N mutants, M mounted,
 * F refused (errno histogram), U unexpected".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "sfs.h"

#define MAX_BASES	64
#define MAX_DEPTH	8
#define MAX_ENTRIES	200	/* per mutant; scripts/fuzz/mutate.py
				 * aims at the first ones */
#define MAX_DIRENTS	300	/* per directory */
#define MAX_FILE_BYTES	(64 << 10)
#define MAX_BYTES	(512 << 10)	/* read per mutant */
#define MAP_BYTES	(16 << 10)

/* what a child found, in memory shared with the parent */
struct result {
	int mount_err;			/* 0: mounted */
	int walked;			/* the walk ended */
	long ops, errs;
	int hist[160];			/* errno -> failures */
	int unexpected;
	char first_unexpected[400];
	char where[256];		/* the operation under way */
};

static struct result *res;
static const char *mnt = "/mnt/fuzz";
static long entries, bytes;
static sigjmp_buf bus_jmp;
static int verbose;

/* errors that a corrupt or truncated image explains */
static int expected(int e)
{
	switch (e) {
	case EUCLEAN: case EIO: case ELOOP: case ENOENT: case ENODATA:
	case EOPNOTSUPP: case ENOTDIR: case ERANGE: case E2BIG:
	case EBADMSG: case ESTALE: case EFBIG: case EOVERFLOW:
	case ENAMETOOLONG:
		return 1;
	}
	return 0;
}

static void where(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->where, sizeof(res->where), fmt, ap);
	va_end(ap);
}

/* count one operation; ret < 0 means it failed with errno */
static void note(long ret)
{
	int e = errno;

	res->ops++;
	if (ret >= 0)
		return;
	res->errs++;
	if (e > 0 && e < 160)
		res->hist[e]++;
	if (!expected(e) && !res->unexpected++)
		snprintf(res->first_unexpected, sizeof(res->first_unexpected),
			 "%s: %s", res->where, strerror(e));
}

static void on_alarm(int sig)
{
}

static void on_bus(int sig)
{
	siglongjmp(bus_jmp, 1);
}

static void read_file(const char *path, const struct stat *st)
{
	static char buf[65536];
	volatile unsigned char sum = 0;
	long total = 0, len;
	ssize_t n;
	char *map;
	int fd;

	where("open %s", path);
	fd = open(path, O_RDONLY | O_NOFOLLOW);
	note(fd);
	if (fd < 0)
		return;
	where("read %s", path);
	while (bytes < MAX_BYTES && total < MAX_FILE_BYTES &&
	       (n = read(fd, buf, sizeof(buf))) != 0) {
		note(n);
		if (n < 0)
			break;
		total += n;
		bytes += n;
	}
	/* the last block: a tail, a chunk past the others */
	if (st->st_size > 0) {
		where("pread end %s", path);
		note(pread(fd, buf, 512, st->st_size - 1));
	}
	len = st->st_size < MAP_BYTES ? st->st_size : MAP_BYTES;
	if (len > 0) {
		where("mmap %s", path);
		map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
		note(map == MAP_FAILED ? -1 : 0);
		if (map != MAP_FAILED) {
			if (!sigsetjmp(bus_jmp, 1)) {
				for (long k = 0; k < len; k += 4096)
					sum += map[k];
			} else {
				/* a fault that could not read: an I/O error */
				errno = EIO;
				note(-1);
			}
			munmap(map, len);
		}
	}
	close(fd);
}

static void xattrs(const char *path)
{
	static char list[65536], val[65536];
	ssize_t n;
	int k = 0;

	where("listxattr %s", path);
	n = llistxattr(path, list, sizeof(list));
	note(n);
	for (char *p = list; n > 0 && p < list + n && k < 64;
	     p += strlen(p) + 1, k++) {
		where("getxattr %s %s", path, p);
		note(lgetxattr(path, p, val, sizeof(val)));
	}
	/* a name that is not there, by each standard prefix */
	where("getxattr %s missing", path);
	if (lgetxattr(path, "user.sharefs-fuzz", val, sizeof(val)) < 0 &&
	    errno != ENODATA && errno != EOPNOTSUPP)
		note(-1);
	if (lgetxattr(path, "trusted.fingerprint", val, sizeof(val)) < 0 &&
	    errno != ENODATA && errno != EOPNOTSUPP)
		note(-1);
}

static void walk(const char *path, int depth)
{
	char sub[4096], link[4096];
	struct dirent *d;
	struct stat st;
	DIR *dp;
	int k = 0, ret;

	if (++entries > MAX_ENTRIES)
		return;
	where("lstat %s", path);
	ret = lstat(path, &st);
	note(ret);
	if (ret)
		return;
	xattrs(path);
	if (S_ISREG(st.st_mode)) {
		read_file(path, &st);
	} else if (S_ISLNK(st.st_mode)) {
		where("readlink %s", path);
		note(readlink(path, link, sizeof(link)));
	} else if (S_ISDIR(st.st_mode) && depth < MAX_DEPTH) {
		/* a lookup that misses: the binary search ends */
		snprintf(sub, sizeof(sub), "%s/~sharefs-fuzz-missing", path);
		where("lookup %s", sub);
		if (lstat(sub, &st) && errno != ENOENT)
			note(-1);
		where("opendir %s", path);
		dp = opendir(path);
		note(dp ? 0 : -1);
		if (!dp)
			return;
		for (;;) {
			errno = 0;
			where("readdir %s", path);
			d = readdir(dp);
			if (!d) {
				if (errno)
					note(-1);
				break;
			}
			if (++k > MAX_DIRENTS || entries > MAX_ENTRIES)
				break;
			if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, d->d_name);
			walk(sub, depth + 1);
		}
		closedir(dp);
	}
}

struct base {
	char name[64];
	int fd;			/* tmpfs copy */
	off_t size;
};
static struct base bases[MAX_BASES];
static int nbases;

/* the tmpfs copy of an image of the image disk */
static struct base *get_base(const char *name)
{
	static char buf[1 << 16];
	unsigned long long off, size;
	char n[256], path[128];
	struct base *b;
	int disk, found = 0;
	FILE *f;

	for (int i = 0; i < nbases; i++)
		if (!strcmp(bases[i].name, name))
			return &bases[i];
	if (nbases == MAX_BASES)
		return NULL;
	f = fopen(SFS_MANIFEST, "r");
	if (!f)
		return NULL;
	while (fscanf(f, "%255s %llu %llu", n, &off, &size) == 3)
		if (!strcmp(n, name)) {
			found = 1;
			break;
		}
	fclose(f);
	if (!found)
		return NULL;
	b = &bases[nbases];
	snprintf(b->name, sizeof(b->name), "%s", name);
	snprintf(path, sizeof(path), "/tmp/fuzz-%s.img", name);
	b->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	disk = open(SFS_IMAGES_DISK, O_RDONLY | O_CLOEXEC);
	if (b->fd < 0 || disk < 0)
		return NULL;
	for (unsigned long long done = 0; done < size;) {
		size_t want = size - done < sizeof(buf) ? size - done : sizeof(buf);
		ssize_t r = pread(disk, buf, want, off + done);

		if (r <= 0 || pwrite(b->fd, buf, r, done) != r)
			return NULL;
		done += r;
	}
	close(disk);
	b->size = size;
	nbases++;
	return b;
}

static int hexval(int c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* apply "OFF:HEX,..." to fd; with undo, write back the bytes of orig */
static int patch(int fd, const char *spec, int undo, char *save, size_t *used,
		 size_t cap)
{
	const char *p = spec;
	size_t u = 0;

	if (!strcmp(spec, "-"))
		return 0;
	while (*p) {
		unsigned char bytes[64];
		unsigned long long off = strtoull(p, (char **)&p, 16);
		int n = 0;

		if (*p++ != ':')
			return -1;
		while (p[0] && p[0] != ',' && p[1] && n < 64) {
			bytes[n++] = hexval(p[0]) << 4 | hexval(p[1]);
			p += 2;
		}
		if (undo) {
			if (pwrite(fd, save + u, n, off) != n)
				return -1;
		} else {
			if (u + n > cap || pread(fd, save + u, n, off) != n ||
			    pwrite(fd, bytes, n, off) != n)
				return -1;
		}
		u += n;
		if (*p == ',')
			p++;
	}
	if (used)
		*used = u;
	return 0;
}


/* in the child: mount, walk, unmount */
static void run_mutant(int fd, unsigned long long size, int timeout)
{
	char dev[64];
	int lfd;

	signal(SIGBUS, on_bus);
	alarm(timeout);
	lfd = sfs_loop_attach_fd(fd, 0, size, "fuzz", dev, sizeof(dev));
	if (lfd < 0) {
		res->mount_err = -1000;
		_exit(2);
	}
	where("mount");
	res->mount_err = mount(dev, mnt, "sharefs", MS_RDONLY, NULL) ? errno : 0;
	close(lfd);
	if (res->mount_err)
		_exit(0);
	walk(mnt, 0);
	res->walked = 1;
	where("umount");
	if (umount(mnt))
		_exit(3);
	_exit(0);
}

static void kmsg(const char *fmt, ...)
{
	static int fd = -2;
	char line[256];
	va_list ap;
	int n;

	if (fd == -2)
		fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (write(fd, line, n) < 0)
		return;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* the mutant lists, read one after the other by next_line() */
#define MAX_LISTS	8
static const char *lists[MAX_LISTS];
static int nlists, cur_list;

/*
 * The next line of the lists, through the open @*f, which it moves on to
 * the next list at the end of one (a missing list is one without
 * mutants; the first must be there).  NULL after the last.
 */
static char *next_line(char *buf, int len, FILE **f)
{
	while (!fgets(buf, len, *f)) {
		fclose(*f);
		*f = NULL;
		while (!*f && ++cur_list < nlists)
			*f = fopen(lists[cur_list], "r");
		if (!*f)
			return NULL;
	}
	return buf;
}

int main(int argc, char **argv)
{
	static char line[1 << 16], save[1 << 16];
	long n = 0, mounted = 0, refused = 0, unexpected = 0, bad = 0;
	long ops = 0, errs = 0;
	int mount_hist[160] = { 0 }, hist[160] = { 0 };
	int timeout = 10, opt, fail = 0;
	time_t start = time(NULL);
	FILE *f;

	while ((opt = getopt(argc, argv, "l:t:v")) != -1) {
		switch (opt) {
		case 'l':
			if (nlists < MAX_LISTS)
				lists[nlists++] = optarg;
			break;
		case 't': timeout = atoi(optarg); break;
		case 'v': verbose = 1; break;
		default: return 2;
		}
	}
	printf("TAP version 13\n1..1\n");
	if (getuid() != 0) {
		printf("ok 1 fuzz # SKIP needs root\n");
		return 4;
	}
	if (!sfs_have_fs("sharefs")) {
		printf("ok 1 fuzz # SKIP sharefs is not registered\n");
		return 4;
	}
	if (!nlists) {
		lists[nlists++] = SFS_IMAGES_DIR "/fuzz.list";
		lists[nlists++] = SFS_IMAGES_DIR "/zfuzz.list";
	}
	f = fopen(lists[0], "r");
	if (!f) {
		printf("ok 1 fuzz # SKIP no mutant list %s\n", lists[0]);
		return 4;
	}
	/* one kernel log line a mutant: lift /dev/kmsg's rate limit */
	opt = open("/proc/sys/kernel/printk_devkmsg", O_WRONLY);
	if (opt >= 0) {
		if (write(opt, "on\n", 3) != 3)
			perror("printk_devkmsg");
		close(opt);
	}
	res = mmap(NULL, sizeof(*res), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	mkdir(mnt, 0755);
	/* no SA_RESTART: the alarm interrupts waitpid */
	sigaction(SIGALRM, &(struct sigaction){ .sa_handler = on_alarm },
		  NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	while (next_line(line, sizeof(line), &f)) {
		char id[64], name[64], *patches, *what;
		unsigned long long size;
		struct timespec t0;
		struct base *b;
		size_t used;
		int status;
		pid_t pid;

		if (line[0] == '#' ||	/* the header: seed and bases */
		    sscanf(line, "%63s %63s %llu", id, name, &size) != 3)
			continue;
		patches = line;
		for (int k = 0; k < 3; k++)
			patches = strchr(patches, ' ') + 1;
		what = strchr(patches, ' ');
		if (what)
			*what++ = 0;
		what = what ? what : "";
		what[strcspn(what, "\n")] = 0;
		b = get_base(name);
		if (!b) {
			printf("# %s: base image %s missing\n", id, name);
			bad++;
			continue;
		}
		if (patch(b->fd, patches, 0, save, &used, sizeof(save))) {
			printf("# %s: bad patch\n", id);
			bad++;
			continue;
		}
		memset(res, 0, sizeof(*res));
		clock_gettime(CLOCK_MONOTONIC, &t0);
		n++;
		kmsg("sharefs-fuzz: mutant %s %s %s\n", id, name, what);
		fflush(stdout);
		pid = fork();
		if (pid == 0)
			run_mutant(b->fd, size, timeout);
		/* the child's alarm stops a walk that waits; one that does not
		 * end after that is stuck in the kernel */
		alarm(timeout + 20);
		if (waitpid(pid, &status, 0) != pid) {
			printf("# %s: HANG in %s (%s %s)\n", id, res->where,
			       name, what);
			printf("not ok 1 fuzz # hang at %s\n", id);
			kmsg("sharefs-fuzz: hang at %s in %s\n", id,
			     res->where);
			return 1;
		}
		alarm(0);
		umount2(mnt, MNT_DETACH);	/* after a failed child */
		if (patch(b->fd, patches, 1, save, NULL, 0)) {
			printf("# %s: cannot undo the patch\n", id);
			return 1;
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			printf("# %s: child %s %d in %s (%s %s)\n", id,
			       WIFSIGNALED(status) ? "killed by signal" : "exit",
			       WIFSIGNALED(status) ? WTERMSIG(status) :
			       WEXITSTATUS(status), res->where, name, what);
			fail = 1;
		}
		ops += res->ops;
		errs += res->errs;
		for (int e = 0; e < 160; e++)
			hist[e] += res->hist[e];
		if (res->mount_err) {
			refused++;
			if (res->mount_err > 0 && res->mount_err < 160)
				mount_hist[res->mount_err]++;
			if (res->mount_err > 0 && !expected(res->mount_err) &&
			    res->mount_err != EINVAL) {
				printf("# %s: mount: unexpected %s (%s %s)\n",
				       id, strerror(res->mount_err), name, what);
				unexpected++;
			}
		} else {
			mounted++;
		}
		if (res->unexpected) {
			printf("# %s: unexpected errno: %s (%s %s)\n", id,
			       res->first_unexpected, name, what);
			unexpected++;
		}
		if (verbose)
			printf("# %s: %s mount %s, %ld ops, %ld failed, %ld ms\n",
			       id, name,
			       res->mount_err ? strerror(res->mount_err) : "ok",
			       res->ops, res->errs, ms_since(&t0));
	}

	printf("# fuzz: %ld mutants in %lds, %ld mounted, %ld refused, %ld ops, %ld failed cleanly, %ld unexpected errnos, %ld unusable lines\n",
	       n, (long)(time(NULL) - start), mounted, refused, ops, errs,
	       unexpected, bad);
	printf("# fuzz: mount errors:");
	for (int e = 0; e < 160; e++)
		if (mount_hist[e])
			printf(" %s=%d", strerror(e), mount_hist[e]);
	printf("\n# fuzz: access errors:");
	for (int e = 0; e < 160; e++)
		if (hist[e])
			printf(" %s=%d", strerror(e), hist[e]);
	printf("\n");
	if (bad || !n || unexpected)
		fail = 1;
	printf("%sok 1 fuzz\n", fail ? "not " : "");
	return fail;
}
