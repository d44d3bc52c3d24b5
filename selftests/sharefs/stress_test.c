// SPDX-License-Identifier: GPL-2.0-only
/*
 * stress_test - churn of mounts under concurrent readers, then a clean
 * module unload.
 *
 * Twelve mounts of twelve images that share content, each with its own
 * layout, so that no two mounts read a shared file at the same block
 * addresses (a read continued on the wrong device would show as wrong
 * bytes): the share tree by mkfs.sharefs in 4, 2 and 1 KiB blocks, behind
 * a padding file in 4, 2 and 1 KiB blocks, both by upstream's mkfs.erofs
 * with the ishare pointer, and share-b (the files under usr/, another
 * file between them) in 4, 2 and 1 KiB blocks; all in one domain.
 *
 * concurrent_umount: readers on every mount, then all of them unmounted at
 * once by one thread each, lazily while the readers go on with the files
 * they have open; then mounted again and unmounted at once with umount(2)
 * proper, which must succeed for every one.
 *
 * churn_then_rmmod: for STRESS_SECONDS, reader threads read random files of
 * random mounts with read(), mmap() and splice() and compare the SHA-256
 * of what they got with the one of a noshare reference mount; a churn
 * thread unmounts (lazily: open files keep their superblock) and mounts
 * them again, and another one drops the caches.
 *
 * Afterwards every sharefs mount is gone, the active objects of the
 * sharefs_inode and sharefs_shared slab caches are back to where they
 * were before (inodes are freed after an RCU grace period: the check
 * retries for a few seconds), "rmmod sharefs" succeeds (the kernel would
 * complain of objects left in a cache it destroys) and /sharefs.ko is
 * loaded again for the tests that follow.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "sfs.h"

#define STRESS_SECONDS	10
#define NREADERS	4
#define MODULE_PATH	"/sharefs.ko"

static const struct slot_def {
	const char *image;
	const char *prefix;	/* where lib/, bin/, docs/ are */
} slot_defs[] = {
	{ "share-a", "" }, { "share-a2k", "" }, { "share-a1k", "" },
	{ "share-pad", "" }, { "share-pad2k", "" }, { "share-pad1k", "" },
	{ "share-e19", "" }, { "share-e19pad", "" },
	{ "share-b", "usr/" }, { "share-b2k", "usr/" }, { "share-b1k", "usr/" },
};
#define NSLOTS	(sizeof(slot_defs) / sizeof(slot_defs[0]))

/* files of the share tree; etc/ is at the top in every image */
static const char *const files[] = {
	"lib/big.so", "lib/mid.so", "bin/tool", "/etc/motd", "/etc/small",
	"docs/doc00.txt", "docs/doc05.txt", "docs/doc11.txt", "docs/doc19.txt",
};
#define NFILES	(sizeof(files) / sizeof(files[0]))

struct stress {
	pthread_mutex_t lock;		/* protects mounted[] and dirs[] */
	int mounted[NSLOTS];
	char dirs[NSLOTS][256];
	unsigned char ref[NFILES][SHA256_DIGEST_LENGTH];
	volatile int stop;
	long reads[3], mismatches, errors, mounts, umounts;
	char first_error[1024];
};

static void rel_path(char *buf, size_t len, const char *dir,
		     const struct slot_def *d, const char *file)
{
	if (file[0] == '/')
		snprintf(buf, len, "%s%s", dir, file);
	else
		snprintf(buf, len, "%s/%s%s", dir, d->prefix, file);
}

/* SHA-256 of an open file by one of three paths; 0 or -errno */
static int hash_fd(int fd, int how, unsigned char md[SHA256_DIGEST_LENGTH])
{
	static __thread char buf[1 << 16];
	struct stat st;
	SHA256_CTX c;
	ssize_t n;
	int p[2], ret = 0;
	void *map;

	SHA256_Init(&c);
	if (fstat(fd, &st))
		return -errno;
	switch (how) {
	case 0:
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			SHA256_Update(&c, buf, n);
		if (n < 0)
			ret = -errno;
		break;
	case 1:
		if (!st.st_size)
			break;
		map = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, fd, 0);
		if (map == MAP_FAILED)
			return -errno;
		SHA256_Update(&c, map, st.st_size);
		munmap(map, st.st_size);
		break;
	case 2:
		if (pipe(p))
			return -errno;
		for (;;) {
			n = splice(fd, NULL, p[1], NULL, sizeof(buf), 0);
			if (n <= 0) {
				if (n < 0)
					ret = -errno;
				break;
			}
			while (n > 0) {
				ssize_t r = read(p[0], buf, n);

				if (r <= 0) {
					ret = r < 0 ? -errno : -EIO;
					break;
				}
				SHA256_Update(&c, buf, r);
				n -= r;
			}
			if (ret)
				break;
		}
		close(p[0]);
		close(p[1]);
		break;
	}
	SHA256_Final(md, &c);
	return ret;
}

static const char *const how_name[] = { "read", "mmap", "splice" };

/* hash the open file by HOW, close it, and count the result */
static void check_file(struct stress *s, int fd, int how, int f,
		       const char *path)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	int ret = hash_fd(fd, how, md);

	close(fd);
	pthread_mutex_lock(&s->lock);
	if (ret) {
		if (!s->errors++)
			snprintf(s->first_error, sizeof(s->first_error), "%s %s: %s",
				 how_name[how], path, strerror(-ret));
	} else if (memcmp(md, s->ref[f], sizeof(md))) {
		if (!s->mismatches++ && !s->errors)
			snprintf(s->first_error, sizeof(s->first_error),
				 "%s %s: wrong data", how_name[how], path);
	} else {
		s->reads[how]++;
	}
	pthread_mutex_unlock(&s->lock);
}

static void *reader(void *arg)
{
	struct stress *s = arg;
	unsigned int seed = (unsigned int)(uintptr_t)pthread_self();
	char path[512];

	while (!s->stop) {
		int slot = rand_r(&seed) % NSLOTS, how = rand_r(&seed) % 3;
		/* big.so a tenth of the time: it is 4 MiB */
		int f = rand_r(&seed) % 10 ? 1 + rand_r(&seed) % (NFILES - 1) : 0;
		int fd = -1;

		pthread_mutex_lock(&s->lock);
		if (s->mounted[slot]) {
			rel_path(path, sizeof(path), s->dirs[slot],
				 &slot_defs[slot], files[f]);
			fd = open(path, O_RDONLY);
			if (fd < 0) {
				if (!s->errors++)
					snprintf(s->first_error,
						 sizeof(s->first_error),
						 "open %s: %s", path,
						 strerror(errno));
			}
		}
		pthread_mutex_unlock(&s->lock);
		if (fd < 0)
			continue;
		/* the mount may go away now: the open file keeps it */
		check_file(s, fd, how, f, path);
	}
	return NULL;
}

static void *dropper(void *arg)
{
	struct stress *s = arg;

	while (!s->stop) {
		usleep(300000);
		sfs_drop_caches("3");
	}
	return NULL;
}

static void *churner(void *arg)
{
	struct stress *s = arg;
	unsigned int seed = 42;

	while (!s->stop) {
		int i = rand_r(&seed) % NSLOTS, ret;

		pthread_mutex_lock(&s->lock);
		if (s->mounted[i]) {
			if (!umount2(s->dirs[i], MNT_DETACH)) {
				rmdir(s->dirs[i]);
				s->mounted[i] = 0;
				s->umounts++;
			}
		} else {
			ret = sfs_mount_image(slot_defs[i].image, "sharefs",
					      "domain=stress", s->dirs[i],
					      sizeof(s->dirs[i]));
			if (!ret) {
				s->mounted[i] = 1;
				s->mounts++;
			} else if (!s->errors++) {
				snprintf(s->first_error, sizeof(s->first_error),
					 "mount %s: %s", slot_defs[i].image,
					 strerror(-ret));
			}
		}
		pthread_mutex_unlock(&s->lock);
		usleep(20000 + rand_r(&seed) % 80000);
	}
	return NULL;
}

/* active objects of a slab cache, -1 if it is not listed */
static long slab_active(const char *cache)
{
	char line[512], name[128], path[256];
	long active = -1, n;
	FILE *f;
	int fd;

	/* SLUB counts objects of per-cpu slabs as active: flush them */
	snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink", cache);
	fd = open(path, O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "1", 1) != 1)
			perror(path);
		close(fd);
	}
	f = fopen("/proc/slabinfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%127s %ld", name, &n) == 2 &&
		    !strcmp(name, cache))
			active = n;
	fclose(f);
	return active;
}

static int sharefs_mounts(void)
{
	char line[1024];
	int n = 0;
	FILE *f = fopen("/proc/self/mounts", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, " sharefs "))
			n++;
	fclose(f);
	return n;
}

/*
 * Unmount what earlier tests left behind (a test killed by its timeout
 * does not run its teardown; it reports its own failure), so that this
 * test can end with no mounts and rmmod.  Returns how many there were.
 */
static int umount_leftovers(void)
{
	char line[1024], dev[256], dir[512];
	int n = 0;
	FILE *f = fopen("/proc/self/mounts", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%255s %511s sharefs", dev, dir) == 2 &&
		    strstr(line, " sharefs ") && !umount2(dir, MNT_DETACH))
			n++;
	fclose(f);
	return n;
}

static int reference_hashes(struct stress *s)
{
	char dir[256], path[512];
	int ret, fd;

	ret = sfs_mount_image("share-a", "sharefs", "noshare", dir,
			      sizeof(dir));
	if (ret)
		return ret;
	for (size_t f = 0; f < NFILES && !ret; f++) {
		rel_path(path, sizeof(path), dir, &slot_defs[0], files[f]);
		fd = open(path, O_RDONLY);
		ret = fd < 0 ? -errno : hash_fd(fd, 0, s->ref[f]);
		if (fd >= 0)
			close(fd);
	}
	sfs_umount(dir);
	return ret;
}

static const char *const caches[] = { "sharefs_inode", "sharefs_shared" };

FIXTURE(stress) {
	int unused;
};
FIXTURE_SETUP(stress) {}
FIXTURE_TEARDOWN(stress) {}

/* ---- concurrent umount ------------------------------------------------ */

struct cu_arg {
	struct stress *s;
	int slot;
	int lazy;
	pthread_barrier_t *go;
	int ret;
	volatile int *detached;
};

/* read the files of one mount until it is gone (lazy) or told to stop */
static void *cu_reader(void *arg)
{
	struct cu_arg *a = arg;
	struct stress *s = a->s;
	unsigned int seed = (unsigned int)(uintptr_t)pthread_self();
	char path[512];

	while (!s->stop) {
		int f = rand_r(&seed) % NFILES, how = rand_r(&seed) % 3, fd;

		rel_path(path, sizeof(path), s->dirs[a->slot],
			 &slot_defs[a->slot], files[f]);
		fd = open(path, O_RDONLY);
		if (fd < 0) {
			if (*a->detached)
				break;		/* the mount is gone: done */
			pthread_mutex_lock(&s->lock);
			if (!s->errors++)
				snprintf(s->first_error, sizeof(s->first_error),
					 "open %s: %s", path, strerror(errno));
			pthread_mutex_unlock(&s->lock);
			continue;
		}
		check_file(s, fd, how, f, path);
	}
	return NULL;
}

static void *cu_umount(void *arg)
{
	struct cu_arg *a = arg;

	pthread_barrier_wait(a->go);
	/* from here a failed open is the mount going, not an error */
	*a->detached = 1;
	/* a moment of EBUSY after the last close is 7.2's: sfs_umount_flags() */
	a->ret = -sfs_umount_flags(a->s->dirs[a->slot], a->lazy ? MNT_DETACH : 0);
	return NULL;
}

/* one round: mount all, readers on all, then unmount all at once */
static void cu_round(struct __test_metadata *_metadata, struct stress *s,
		     int lazy)
{
	pthread_t rd[NSLOTS][2], um[NSLOTS];
	struct cu_arg ra[NSLOTS], ua[NSLOTS];
	volatile int detached[NSLOTS] = { 0 };
	pthread_barrier_t go;

	s->stop = 0;
	pthread_barrier_init(&go, NULL, NSLOTS);
	for (size_t i = 0; i < NSLOTS; i++) {
		ASSERT_EQ(0, sfs_mount_image(slot_defs[i].image, "sharefs",
					     "domain=stress", s->dirs[i],
					     sizeof(s->dirs[i])));
		ra[i] = (struct cu_arg){ s, (int)i, lazy, &go, 0, &detached[i] };
		ua[i] = ra[i];
		for (int r = 0; r < 2; r++)
			ASSERT_EQ(0, pthread_create(&rd[i][r], NULL, cu_reader, &ra[i]));
	}
	sleep(2);
	if (!lazy) {		/* umount(2) proper needs the files closed */
		s->stop = 1;
		for (size_t i = 0; i < NSLOTS; i++)
			for (int r = 0; r < 2; r++)
				pthread_join(rd[i][r], NULL);
	}
	for (size_t i = 0; i < NSLOTS; i++)
		ASSERT_EQ(0, pthread_create(&um[i], NULL, cu_umount, &ua[i]));
	for (size_t i = 0; i < NSLOTS; i++) {
		pthread_join(um[i], NULL);
		EXPECT_EQ(0, ua[i].ret) TH_LOG("umount %s: %s", s->dirs[i], strerror(ua[i].ret));
	}
	if (lazy)
		for (size_t i = 0; i < NSLOTS; i++)
			for (int r = 0; r < 2; r++)
				pthread_join(rd[i][r], NULL);
	for (size_t i = 0; i < NSLOTS; i++)
		rmdir(s->dirs[i]);
	pthread_barrier_destroy(&go);
}

TEST_F_TIMEOUT(stress, concurrent_umount, 120)
{
	struct stress *s = calloc(1, sizeof(*s));

	if (getuid() != 0)
		SKIP(return, "needs root");
	if (!sfs_have_fs("sharefs"))
		SKIP(return, "sharefs is not registered");
	umount_leftovers();
	ASSERT_EQ(0, sharefs_mounts());
	pthread_mutex_init(&s->lock, NULL);
	ASSERT_EQ(0, reference_hashes(s));
	sfs_drop_caches("3");
	cu_round(_metadata, s, 1);
	cu_round(_metadata, s, 0);
	TH_LOG("%zu mounts at once: %ld read, %ld mmap, %ld splice checks",
	       NSLOTS, s->reads[0], s->reads[1], s->reads[2]);
	EXPECT_EQ(0, s->errors) TH_LOG("%ld errors, first: %s", s->errors, s->first_error);
	EXPECT_EQ(0, s->mismatches) TH_LOG("%ld wrong data, first: %s", s->mismatches, s->first_error);
	EXPECT_LT(0, s->reads[0] + s->reads[1] + s->reads[2]);
	/* lazily unmounted superblocks go with their last file */
	for (int t = 0; t < 50 && sharefs_mounts() > 0; t++)
		usleep(100000);
	EXPECT_EQ(0, sharefs_mounts());
	free(s);
}

TEST_F_TIMEOUT(stress, churn_then_rmmod, 120)
{
	struct stress *s = calloc(1, sizeof(*s));
	pthread_t readers[NREADERS], churn, drop;
	long before[2], after[2];
	int fd, ret;

	if (getuid() != 0)
		SKIP(return, "needs root");
	if (!sfs_have_fs("sharefs"))
		SKIP(return, "sharefs is not registered");
	ret = umount_leftovers();
	if (ret > 0)
		TH_LOG("unmounted %d sharefs mounts an earlier test left behind", ret);
	ASSERT_EQ(0, sharefs_mounts());
	pthread_mutex_init(&s->lock, NULL);
	ASSERT_EQ(0, reference_hashes(s));
	sfs_drop_caches("3");
	usleep(200000);
	for (int c = 0; c < 2; c++)
		before[c] = slab_active(caches[c]);
	ASSERT_LE(0, before[0]) TH_LOG("no sharefs_inode line in /proc/slabinfo");

	for (size_t i = 0; i < NSLOTS; i++) {
		ASSERT_EQ(0, sfs_mount_image(slot_defs[i].image, "sharefs",
					     "domain=stress", s->dirs[i],
					     sizeof(s->dirs[i])));
		s->mounted[i] = 1;
	}
	for (int i = 0; i < NREADERS; i++)
		ASSERT_EQ(0, pthread_create(&readers[i], NULL, reader, s));
	ASSERT_EQ(0, pthread_create(&churn, NULL, churner, s));
	ASSERT_EQ(0, pthread_create(&drop, NULL, dropper, s));
	sleep(STRESS_SECONDS);
	s->stop = 1;
	for (int i = 0; i < NREADERS; i++)
		pthread_join(readers[i], NULL);
	pthread_join(churn, NULL);
	pthread_join(drop, NULL);
	for (size_t i = 0; i < NSLOTS; i++)
		if (s->mounted[i])
			EXPECT_EQ(0, sfs_umount(s->dirs[i]));

	TH_LOG("%ld read, %ld mmap, %ld splice checks; %ld mounts, %ld umounts",
	       s->reads[0], s->reads[1], s->reads[2], s->mounts, s->umounts);
	EXPECT_EQ(0, s->errors) TH_LOG("%ld errors, first: %s", s->errors, s->first_error);
	EXPECT_EQ(0, s->mismatches) TH_LOG("%ld wrong data, first: %s", s->mismatches, s->first_error);
	EXPECT_LT(0, s->reads[0] + s->reads[1] + s->reads[2]);
	EXPECT_LT(0, s->umounts);

	/* every mount is gone: lazy unmounts end with their last file */
	for (int t = 0; t < 50 && sharefs_mounts() > 0; t++)
		usleep(100000);
	ASSERT_EQ(0, sharefs_mounts());

	/* objects come back after an RCU grace period; drop_caches frees
	 * the unused shared inodes' pages */
	for (int t = 0; t < 50; t++) {
		sfs_drop_caches("3");
		for (int c = 0; c < 2; c++)
			after[c] = slab_active(caches[c]);
		if (after[0] <= before[0] && after[1] <= before[1])
			break;
		usleep(100000);
	}
	for (int c = 0; c < 2; c++) {
		EXPECT_LE(after[c], before[c]) {
			TH_LOG("%s: %ld active objects before, %ld after",
			       caches[c], before[c], after[c]);
		}
	}

	/* the module goes away, its caches with it */
	for (int t = 0; t < 50; t++) {
		ret = syscall(SYS_delete_module, "sharefs", O_NONBLOCK);
		if (!ret || (errno != EBUSY && errno != EAGAIN))
			break;
		usleep(100000);
	}
	EXPECT_EQ(0, ret) TH_LOG("rmmod sharefs: %s", strerror(errno));
	if (!ret) {
		EXPECT_FALSE(sfs_have_fs("sharefs"));
		EXPECT_EQ(-1, slab_active("sharefs_inode"));
	}

	/* back, for the tests that follow */
	if (!sfs_have_fs("sharefs")) {
		fd = open(MODULE_PATH, O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, fd) TH_LOG("%s: %s", MODULE_PATH, strerror(errno));
		ret = syscall(SYS_finit_module, fd, "", 0);
		close(fd);
		ASSERT_EQ(0, ret) TH_LOG("insmod %s: %s", MODULE_PATH, strerror(errno));
	}
	ASSERT_TRUE(sfs_have_fs("sharefs"));
	free(s);
}

TEST_HARNESS_MAIN
