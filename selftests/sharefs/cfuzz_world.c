// SPDX-License-Identifier: GPL-2.0-only
/*
 * cfuzz_world.c - the concurrency fuzzer's mount table: mounts, umounts,
 * remounts, and the bookkeeping that makes their outcome predictable.
 *
 * Every errno the fuzzer accepts is one the bookkeeping predicts exactly,
 * never a "maybe":
 *
 *  - umount(2) without MNT_DETACH is tried only when no operation is under
 *    way on the mount (users == 0).  It must then succeed when no kept
 *    file or mapping is on it (held == 0), and fail with EBUSY when one is.
 *    Otherwise the umount is lazy (umount -l), which must always succeed.
 *  - A mount of an image's own disk must fail with EBUSY exactly when the
 *    disk's superblock is alive with other options, and succeed otherwise
 *    (with the same options it gets the live superblock: same st_dev).
 *  - A remount must fail with EINVAL exactly when it asks for another
 *    domain or for noshare where the mount shares (sharefs_reconfigure()).
 *  - A path under a mount that was detached under it (cf_op_path(), the
 *    one operation that walks absolute paths without pinning the mount)
 *    may fail with ENOENT; ENOENT is a failure while the mount is live.
 *
 * For that the counts must be exact whenever the table lock is held, so
 * every reference an operation takes on a mount is taken and dropped under
 * it: cf_pin() opens the mount's root directory under the lock (all the
 * operation's files are then opened relative to that fd, so a lazy umount
 * cannot pull a path from under it), cf_unpin() closes it under the lock,
 * and kept objects are counted, closed and unmapped under the lock.  A
 * close or munmap drops its mount reference before returning to user
 * space (the final fput runs as task work), so the count is the truth.
 *
 * Mount directories are never reused (/mnt/cf-SEQ): an operation that
 * still holds the path of a detached mount cannot reach a newer mount.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfuzz.h"
#include "sfs.h"

/* "" is the default domain; repeated strings weigh the pick */
const char *const cf_opts[] = {
	"domain=cfa", "domain=cfa", "domain=cfb", "", "noshare",
	"domain=cfa,noshare",
};
const int cf_nopts = sizeof(cf_opts) / sizeof(cf_opts[0]);

const char *cf_opt_name(int opt)
{
	return cf_opts[opt][0] ? cf_opts[opt] : "default domain";
}

void cf_lock(void)
{
	int ret = pthread_mutex_lock(&cf.sh->lock);

	/* a worker died holding it: its crash is reported by the parent */
	if (ret == EOWNERDEAD)
		pthread_mutex_consistent(&cf.sh->lock);
}

void cf_unlock(void)
{
	pthread_mutex_unlock(&cf.sh->lock);
}

static int same_opts(int a, int b)
{
	return !strcmp(cf_opts[a], cf_opts[b]);
}

/*
 * The table locked and a random slot in @state (from a loop device if
 * @loop_only): returned with the lock held, or NULL with it released.
 */
static struct cf_slot *lock_slot(struct cf_thread *t, int state, int loop_only)
{
	int start = cf_below(t, CF_MAX_SLOTS);

	cf_lock();
	for (int i = 0; i < CF_MAX_SLOTS; i++) {
		struct cf_slot *sl = &cf.sh->slots[(start + i) % CF_MAX_SLOTS];

		if (sl->state == state && !(loop_only && sl->bdev))
			return sl;
	}
	cf_unlock();
	return NULL;
}

int cf_live_slots(void)
{
	int n = 0;

	cf_lock();
	for (int s = 0; s < CF_MAX_SLOTS; s++)
		n += cf.sh->slots[s].state == CF_LIVE;
	cf_unlock();
	return n;
}

int cf_gone(int slot, unsigned long gen)
{
	int gone;

	cf_lock();
	gone = cf.sh->slots[slot].gen != gen;
	cf_unlock();
	return gone;
}

static const char *slot_desc(const struct cf_slot *sl)
{
	static __thread char d[160];

	snprintf(d, sizeof(d), "%s%s [%s] on %s", cf.img[sl->img].name,
		 sl->bdev ? " (own disk)" : "", cf_opt_name(sl->opt), sl->dir);
	return d;
}

/* ---- pins: an operation's reference on a live mount ------------------ */

int cf_pin(struct cf_thread *t, struct cf_pin *p)
{
	struct cf_slot *sl = lock_slot(t, CF_LIVE, 0);
	struct stat st;

	if (!sl)
		return -1;
	/* under the lock nobody can unmount it: the open must work */
	p->rootfd = open(sl->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->rootfd < 0 || fstat(p->rootfd, &st) || st.st_dev != sl->dev) {
		cf_fail(t, FAIL_ERRNO, "open of the root of live mount %s: %s",
			slot_desc(sl), p->rootfd < 0 ? strerror(errno) :
			"not the mounted filesystem");
		if (p->rootfd >= 0)
			close(p->rootfd);
		cf_unlock();
		return -1;
	}
	p->slot = sl - cf.sh->slots;
	p->gen = sl->gen;
	p->img = sl->img;
	p->opt = sl->opt;
	p->bdev = sl->bdev;
	snprintf(p->dir, sizeof(p->dir), "%s", sl->dir);
	sl->users++;
	if (sl->bdev)
		cf.sh->bdevs[sl->img].refs++;
	cf_unlock();
	return 0;
}

void cf_unpin(struct cf_pin *p)
{
	struct cf_slot *sl = &cf.sh->slots[p->slot];

	cf_lock();
	close(p->rootfd);
	if (sl->gen == p->gen)
		sl->users--;
	else
		cf_count(&cf.sh->ev[EV_DETACHED_OP], 1);
	if (p->bdev)
		cf.sh->bdevs[p->img].refs--;
	cf_unlock();
}

/* ---- mount ------------------------------------------------------------- */

/* the mount is up: record its st_dev and open it to operations */
static void mount_done(struct cf_thread *t, struct cf_slot *sl)
{
	struct stat st = { 0 };

	if (stat(sl->dir, &st))
		cf_fail(t, FAIL_ERRNO, "stat of new mount %s: %s", sl->dir,
			strerror(errno));
	sl->dev = st.st_dev;
	sl->users = sl->held = 0;
	sl->state = CF_LIVE;
	cf_count(&cf.sh->n[OP_MOUNT], 1);
}

/* an image through a new loop device; not under the lock (slow, and a
 * new loop device cannot collide with another mount) */
static void mount_loop(struct cf_thread *t, struct cf_slot *sl)
{
	const char *name = cf.img[sl->img].name;
	char dev[64];
	int lfd, ret = 0;

	mkdir(sl->dir, 0755);
	lfd = sfs_loop_attach(name, dev, sizeof(dev));
	if (lfd < 0) {
		cf_fail(t, FAIL_ERRNO, "loop device for %s: %s", name,
			strerror(-lfd));
		ret = -1;
	} else {
		if (mount(dev, sl->dir, "sharefs", MS_RDONLY,
			  cf_opts[sl->opt][0] ? cf_opts[sl->opt] : NULL)) {
			cf_fail(t, FAIL_ERRNO, "mount %s: %s", slot_desc(sl),
				strerror(errno));
			ret = -1;
		}
		/* autoclear: the device goes with the mount's last user */
		close(lfd);
	}
	cf_lock();
	if (ret) {
		rmdir(sl->dir);
		sl->state = CF_FREE;
	} else {
		mount_done(t, sl);
	}
	cf_unlock();
}

/* the same device mounted elsewhere: the live superblock's st_dev, or 0 */
static dev_t live_bdev_dev(int img)
{
	for (int s = 0; s < CF_MAX_SLOTS; s++) {
		struct cf_slot *sl = &cf.sh->slots[s];

		if (sl->state == CF_LIVE && sl->bdev && sl->img == img)
			return sl->dev;
	}
	return 0;
}

/* an image's own disk, under the lock: EBUSY is predicted exactly */
static void mount_bdev_locked(struct cf_thread *t, struct cf_slot *sl)
{
	struct cf_bdev *b = &cf.sh->bdevs[sl->img];
	int expect = b->refs > 0 && !same_opts(b->opt, sl->opt) ? EBUSY : 0;
	dev_t other = live_bdev_dev(sl->img);
	int err;

	mkdir(sl->dir, 0755);
	err = mount(cf.img[sl->img].bdev, sl->dir, "sharefs", MS_RDONLY,
		    cf_opts[sl->opt][0] ? cf_opts[sl->opt] : NULL) ? errno : 0;
	if (err != expect)
		cf_fail(t, FAIL_ERRNO, "mount %s (its superblock %s, with [%s]): %s, expected %s",
			slot_desc(sl), b->refs ? "alive" : "gone",
			cf_opt_name(b->opt), strerror(err), strerror(expect));
	if (err) {
		if (err == EBUSY && expect == EBUSY)
			cf_count(&cf.sh->ev[EV_BDEV_EBUSY], 1);
		rmdir(sl->dir);
		sl->state = CF_FREE;
		return;
	}
	mount_done(t, sl);
	cf_count(&cf.sh->ev[EV_BDEV_MOUNT], 1);
	if (b->refs > 0) {
		cf_count(&cf.sh->ev[EV_BDEV_SHARED_SB], 1);
		if (other && other != sl->dev)
			cf_fail(t, FAIL_ERRNO, "second mount %s of a mounted disk has st_dev %#lx, the first %#lx: not one superblock",
				slot_desc(sl), (unsigned long)sl->dev,
				(unsigned long)other);
	}
	b->refs++;
	b->opt = sl->opt;
}

void cf_op_mount(struct cf_thread *t)
{
	int img = cf_below(t, cf.nimg), opt = cf_below(t, cf_nopts);
	int bdev = cf.img[img].bdev[0] && cf_below(t, 2);
	struct cf_slot *sl = lock_slot(t, CF_FREE, 0);

	if (!sl)
		return;
	sl->state = CF_MOUNTING;
	sl->img = img;
	sl->opt = opt;
	sl->bdev = bdev;
	snprintf(sl->dir, sizeof(sl->dir), "/mnt/cf-%lu", ++cf.sh->seq);
	cf_op_begin(t, "mount %s", slot_desc(sl));
	if (bdev) {
		mount_bdev_locked(t, sl);
		cf_unlock();
		return;
	}
	cf_unlock();
	mount_loop(t, sl);
}

/* ---- umount and remount ---------------------------------------------- */

/* the mount went: free its slot; under the lock */
static void slot_gone(struct cf_thread *t, struct cf_slot *sl)
{
	sl->gen++;
	sl->state = CF_FREE;
	/* pinned operations and kept objects now belong to a detached
	 * mount; they still count in bdevs[] until they let go */
	sl->users = sl->held = 0;
	if (sl->bdev)
		cf.sh->bdevs[sl->img].refs--;
	if (rmdir(sl->dir))
		cf_fail(t, FAIL_ERRNO, "rmdir %s after its umount: %s",
			sl->dir, strerror(errno));
	cf_count(&cf.sh->n[OP_UMOUNT], 1);
}

void cf_op_umount(struct cf_thread *t)
{
	struct cf_slot *sl = lock_slot(t, CF_LIVE, 0);
	int lazy, err, expect;

	if (!sl)
		return;
	/* umount(2) only where the outcome is certain, see the top */
	lazy = sl->users > 0 || cf_below(t, 5) < 3;
	expect = lazy || !sl->held ? 0 : EBUSY;
	cf_op_begin(t, "umount%s %s (%d users, %d kept)", lazy ? " -l" : "",
		    slot_desc(sl), sl->users, sl->held);
	err = umount2(sl->dir, lazy ? MNT_DETACH : 0) ? errno : 0;
	if (err != expect)
		cf_fail(t, FAIL_ERRNO, "umount%s %s with %d kept objects: %s, expected %s",
			lazy ? " -l" : "", slot_desc(sl), sl->held,
			strerror(err), strerror(expect));
	if (!err) {
		cf_count(&cf.sh->ev[lazy ? EV_LAZY : EV_UMOUNT_OK], 1);
		slot_gone(t, sl);
	} else if (err == EBUSY && expect == EBUSY) {
		cf_count(&cf.sh->ev[EV_UMOUNT_EBUSY], 1);
		cf_count(&cf.sh->n[OP_UMOUNT], 1);
	}
	cf_unlock();
}

/* the domain an option string names, or NULL */
static const char *opt_domain(const char *o, char *buf, size_t len)
{
	const char *d = strstr(o, "domain=");

	if (!d)
		return NULL;
	snprintf(buf, len, "%.*s", (int)strcspn(d + 7, ","), d + 7);
	return buf;
}

/*
 * What sharefs_reconfigure() accepts: options left out keep their value;
 * naming another domain, or noshare on a sharing mount, is EINVAL.
 */
static int remount_expect(int have, int want)
{
	char hb[64], wb[64];
	const char *hd = opt_domain(cf_opts[have], hb, sizeof(hb));
	const char *wd = opt_domain(cf_opts[want], wb, sizeof(wb));

	if (wd && (!hd || strcmp(hd, wd)))
		return EINVAL;
	if (strstr(cf_opts[want], "noshare") && !strstr(cf_opts[have], "noshare"))
		return EINVAL;
	return 0;
}

void cf_op_remount(struct cf_thread *t)
{
	int want = cf_below(t, cf_nopts), err, expect;
	struct cf_slot *sl = lock_slot(t, CF_LIVE, 0);

	if (!sl)
		return;
	expect = remount_expect(sl->opt, want);
	cf_op_begin(t, "remount %s with [%s]", slot_desc(sl), cf_opt_name(want));
	err = mount(NULL, sl->dir, NULL, MS_REMOUNT | MS_RDONLY,
		    cf_opts[want][0] ? cf_opts[want] : NULL) ? errno : 0;
	if (err != expect)
		cf_fail(t, FAIL_ERRNO, "remount %s with [%s]: %s, expected %s",
			slot_desc(sl), cf_opt_name(want), strerror(err),
			strerror(expect));
	else if (err)
		cf_count(&cf.sh->ev[EV_REMOUNT_EINVAL], 1);
	cf_count(&cf.sh->n[OP_REMOUNT], 1);
	cf_unlock();
}

/* ---- absolute paths, unpinned ------------------------------------------ */

/* read part of an open file of slot @s and check it; closes @fd */
static void path_read(struct cf_thread *t, int fd, const char *path,
		      int img, int file, dev_t dev)
{
	int c = cf.img[img].e[cf.img[img].files[file]].content;
	long size = cf.contents[c].size;
	off_t off = cf_below(t, size + 1);
	long len = 1 + cf_below(t, 65536);
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st) || st.st_dev != dev)
		cf_fail(t, FAIL_ERRNO, "%s opened on another filesystem than its mount's",
			path);
	n = pread(fd, t->buf, len, off);
	if (n < 0)
		cf_fail(t, FAIL_ERRNO, "pread %s: %s", path, strerror(errno));
	else
		cf_verify(t, "pread", path, c, t->buf, off, n, len);
	close(fd);
}

/*
 * open() by absolute path on a mount that a lazy umount may detach at any
 * moment: ENOENT is right exactly when it was detached meanwhile.  Loop
 * mounts only (the own-disk superblock count must stay exact), and the
 * operation counts as a user, so the mount goes only by umount -l.
 */
void cf_op_path(struct cf_thread *t)
{
	struct cf_slot *sl = lock_slot(t, CF_LIVE, 1);
	char path[CF_PATH + 80];
	unsigned long gen;
	int s, img, file, fd;
	dev_t dev;

	if (!sl)
		return;
	s = sl - cf.sh->slots;
	img = sl->img;
	file = cf_below(t, cf.img[img].nfiles);
	gen = sl->gen;
	dev = sl->dev;
	snprintf(path, sizeof(path), "%s/%s", sl->dir,
		 cf.img[img].e[cf.img[img].files[file]].path);
	sl->users++;
	cf_unlock();

	cf_op_begin(t, "open by path %s (%s)", path, cf.img[img].name);
	/* a window for a umount -l between the pick and the lookup */
	if (!cf_below(t, 3))
		usleep(cf_below(t, 5000));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		path_read(t, fd, path, img, file, dev);
		cf_count(&cf.sh->n[OP_PATH], 1);
	} else if (errno == ENOENT && cf_gone(s, gen)) {
		cf_count(&cf.sh->ev[EV_PATH_ENOENT], 1);
		cf_count(&cf.sh->n[OP_PATH], 1);
	} else {
		cf_fail(t, FAIL_ERRNO, "open %s of a %s mount: %s", path,
			cf_gone(s, gen) ? "detached" : "live", strerror(errno));
	}
	cf_lock();
	if (sl->gen == gen)
		sl->users--;
	cf_unlock();
}

/* ---- kept objects: open files and mappings across operations -------------- */

int cf_held_add(struct cf_thread *t, const struct cf_pin *p, int file,
		int fd, unsigned char *map, size_t maplen, off_t mapoff)
{
	struct cf_worker *w = t->w;
	struct cf_held *h = NULL;

	pthread_mutex_lock(&w->lock);
	for (int i = 0; i < CF_MAX_HELD && !h; i++)
		if (!w->held[i].used)
			h = &w->held[i];
	if (h)
		*h = (struct cf_held){ .used = 1, .busy = 1 };
	pthread_mutex_unlock(&w->lock);
	if (!h)
		return -1;
	h->fd = fd;
	h->map = map;
	h->maplen = maplen;
	h->mapoff = mapoff;
	h->img = p->img;
	h->file = file;
	h->slot = p->slot;
	h->gen = p->gen;
	h->opt = p->opt;
	h->bdev_img = p->bdev ? p->img : -1;
	/* counted while the caller's pin still holds the mount */
	cf_lock();
	if (cf.sh->slots[p->slot].gen == p->gen)
		cf.sh->slots[p->slot].held++;
	if (p->bdev)
		cf.sh->bdevs[p->img].refs++;
	cf_unlock();
	pthread_mutex_lock(&w->lock);
	h->busy = 0;
	pthread_mutex_unlock(&w->lock);
	return 0;
}

struct cf_held *cf_held_take(struct cf_thread *t)
{
	struct cf_worker *w = t->w;
	int start = cf_below(t, CF_MAX_HELD);
	struct cf_held *h = NULL;

	pthread_mutex_lock(&w->lock);
	for (int i = 0; i < CF_MAX_HELD && !h; i++) {
		struct cf_held *c = &w->held[(start + i) % CF_MAX_HELD];

		if (c->used && !c->busy)
			h = c;
	}
	if (h)
		h->busy = 1;
	pthread_mutex_unlock(&w->lock);
	return h;
}

void cf_held_put(struct cf_thread *t, struct cf_held *h, int release)
{
	if (release) {
		/* the last reference goes under the lock: counts stay exact */
		cf_lock();
		if (h->map)
			munmap(h->map, h->maplen);
		if (h->fd >= 0)
			close(h->fd);
		if (cf.sh->slots[h->slot].gen == h->gen)
			cf.sh->slots[h->slot].held--;
		if (h->bdev_img >= 0)
			cf.sh->bdevs[h->bdev_img].refs--;
		cf_unlock();
	}
	pthread_mutex_lock(&t->w->lock);
	h->busy = 0;
	if (release)
		h->used = 0;
	pthread_mutex_unlock(&t->w->lock);
}

/* the parent, after the workers: every mount must go with umount(2) */
int cf_unmount_all(void)
{
	int bad = 0;

	cf_lock();
	for (int s = 0; s < CF_MAX_SLOTS; s++) {
		struct cf_slot *sl = &cf.sh->slots[s];

		if (sl->state != CF_LIVE)
			continue;
		if (umount2(sl->dir, 0)) {
			printf("# cfuzz: umount %s at the end: %s\n",
			       slot_desc(sl), strerror(errno));
			bad++;
			continue;
		}
		rmdir(sl->dir);
		sl->state = CF_FREE;
		sl->gen++;
	}
	cf_unlock();
	return bad;
}
