// SPDX-License-Identifier: GPL-2.0-only
/*
 * cfuzz_test - the concurrency fuzzer: random mounts, umounts, reads,
 * mmaps, drop_caches and evictions over images that share content in
 * different layouts, every byte checked.
 *
 *   cfuzz_test [-s SEED] [-t SECONDS] [-w WORKERS] [-j THREADS]
 *              [-H HANG_SECONDS] [-l LIST] [-v]
 *
 * Defaults, also from the environment: SHAREFS_CFUZZ_SEED (the clock),
 * SHAREFS_CFUZZ_SECONDS (60), SHAREFS_CFUZZ_WORKERS (3 processes),
 * SHAREFS_CFUZZ_THREADS (2 threads each), SHAREFS_CFUZZ_HANG (300 s: an
 * operation running longer is a hang).  The seed is printed first; with
 * it every thread draws the same operations again (their interleaving is
 * the scheduler's).  scripts/cfuzz.sh runs it in the VM.
 *
 * LIST (/images/cfuzz.list, from scripts/build-images.sh) names the images
 * and, for each, the manifest of its source tree (scripts/manifest.py:
 * paths, types, sizes, SHA-256).  They hold the same files in different
 * layouts: mkfs.sharefs with 4 KiB, 2 KiB, 1 KiB and 512-byte blocks,
 * inline tails; the same files at other paths or behind a padding file;
 * mkfs.erofs 1.9 with the upstream ishare pointer; mkfs.erofs 1.5 flat
 * without inline data and chunk-based.  One is also attached as its own
 * disk (/dev/disk/by-id/NAME), for mounts of a block device.
 *
 * Before the workers start, every distinct content is read with O_DIRECT
 * from a noshare mount and its SHA-256 compared with the source tree's:
 * those bytes are then the reference every read is compared with.
 *
 * WORKERS processes of THREADS threads each draw operations at random
 * (cfuzz_world.c: mount with a random domain, noshare or the default, from
 * a loop device or the image's own disk; umount, lazy or not; remount; a
 * path walked while its mount may go.  cfuzz_ops.c: read, readv, pread,
 * O_DIRECT, mmap (shared, private, madvise, evictions), splice, sendfile,
 * fadvise and readahead, readdir and stat walks with the fingerprints,
 * file handles, drop_caches 1/2/3; open files and mappings kept past their
 * operation, and past the umount of their mount, and checked later).  One
 * more process, the killer, SIGKILLs readers in the middle of their reads
 * (cf_op_kill()); worker 0 runs under a cgroup's memory.high, so reclaim
 * takes shared pages from under the others.  The errnos the fuzzer
 * accepts are listed at the top of cfuzz_world.c and cfuzz_ops.c; any
 * other, a wrong byte, a signal or a worker's death fails the run.
 *
 * This parent watches for hangs: a thread that makes no progress (checks
 * no bytes) for HANG_SECONDS is reported with what it was doing, its state,
 * wchan and kernel stack (/proc/TID), the kernel is asked for its blocked
 * tasks (sysrq w) and the run fails.
 *
 * At the end every mount must go with umount(2), the counters of
 * /sys/fs/sharefs must come back to where they were, and the module's
 * reference count to 0: nothing holds it, so it could be removed (the VM
 * runners remove it).
 *
 * Output: KTAP, seven results: the reference, the bytes, the errnos,
 * hangs, coverage (every kind of operation ran; skipped for runs under
 * 30 s), the state after the run, and the kernel log: the images are
 * intact, so a sharefs line about them (a fingerprint it could not read,
 * say) that no operation asked for is a finding.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cfuzz.h"
#include "manifest.h"
#include "sfs.h"

#define CF_LIST		SFS_IMAGES_DIR "/cfuzz.list"
#define MAX_FAIL_LINES	40

struct cf_world cf;

const char *const cf_op_names[] = {
	[OP_MOUNT] = "mount", [OP_UMOUNT] = "umount", [OP_REMOUNT] = "remount",
	[OP_READ] = "read", [OP_PREAD] = "pread", [OP_DIRECT] = "O_DIRECT",
	[OP_MMAP] = "mmap", [OP_SPLICE] = "splice", [OP_SENDFILE] = "sendfile",
	[OP_FADVISE] = "fadvise", [OP_WALK] = "readdir", [OP_HANDLE] = "handle",
	[OP_HOLD] = "keep", [OP_HELD] = "check-kept", [OP_DROP] = "drop_caches",
	[OP_PATH] = "path", [OP_KILL] = "kill",
};

const char *const cf_event_names[] = {
	[EV_LAZY] = "umount -l",
	[EV_UMOUNT_OK] = "umount(2)",
	[EV_UMOUNT_EBUSY] = "umount(2) EBUSY with kept files",
	[EV_BDEV_MOUNT] = "own-disk mounts",
	[EV_BDEV_SHARED_SB] = "own-disk mounts given the live superblock",
	[EV_BDEV_EBUSY] = "own-disk mounts EBUSY (other options)",
	[EV_REMOUNT_EINVAL] = "remount EINVAL (other options)",
	[EV_DIRECT_EINVAL] = "misaligned O_DIRECT EINVAL",
	[EV_DIRECT_UNALIGNED_OK] = "misaligned O_DIRECT served",
	[EV_PATH_ENOENT] = "paths ENOENT after umount -l",
	[EV_DETACHED_OP] = "operations whose mount went under them",
	[EV_HELD_DETACHED] = "kept files checked after their umount",
	[EV_KILLED_MID] = "readers SIGKILLed inside an operation",
	[EV_SIGBUS_NONE] = "mapped pages checked",
	[EV_BYTES] = "bytes checked",
};

/* how often each operation is drawn; kills are the killer's alone */
static const int weights[OP_MAX] = {
	[OP_MOUNT] = 6, [OP_UMOUNT] = 5, [OP_REMOUNT] = 1, [OP_READ] = 8,
	[OP_PREAD] = 12, [OP_DIRECT] = 6, [OP_MMAP] = 10, [OP_SPLICE] = 4,
	[OP_SENDFILE] = 4, [OP_FADVISE] = 5, [OP_WALK] = 4, [OP_HANDLE] = 3,
	[OP_HOLD] = 4, [OP_HELD] = 8, [OP_DROP] = 1, [OP_PATH] = 4,
};

/* ---- helpers the other files use ---------------------------------------- */

long cf_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* xorshift64*: per thread, from the seed */
uint64_t cf_rand(struct cf_thread *t)
{
	uint64_t x = t->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	t->rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

long cf_below(struct cf_thread *t, long n)
{
	return n > 0 ? (long)(cf_rand(t) % (uint64_t)n) : 0;
}

void cf_count(long *counter, long by)
{
	__atomic_fetch_add(counter, by, __ATOMIC_RELAXED);
}

/* one line, one write(): lines of several processes do not mix */
static void out_line(int fd, const char *fmt, va_list ap)
{
	char line[1024];
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);

	if (n < 0)
		return;
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(fd, line, n) != n)
		return;
}

static void kmsg(const char *fmt, ...)
{
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	va_list ap;

	if (fd < 0)
		return;
	va_start(ap, fmt);
	out_line(fd, fmt, ap);
	va_end(ap);
	close(fd);
}

static void say(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	va_start(ap, fmt);
	out_line(1, fmt, ap);
	va_end(ap);
}

void cf_fail(struct cf_thread *t, enum cf_fail_kind kind, const char *fmt, ...)
{
	char msg[900];
	va_list ap;

	cf_count(&cf.sh->fails[kind], 1);
	if (__atomic_fetch_add(&cf.sh->printed, 1, __ATOMIC_RELAXED) >= MAX_FAIL_LINES)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	say("# cfuzz: FAIL [thread %d, %.1f s, during: %s] %s", t ? t->id : -1,
	    (cf_now_ms() - cf.start_ms) / 1000.0, t ? t->st->op : "setup", msg);
	/* the kernel log shows it among its own lines (not a warning level) */
	kmsg("<5>cfuzz: FAIL [thread %d] %s", t ? t->id : -1, msg);
}

void cf_op_begin(struct cf_thread *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->st->op, sizeof(t->st->op), fmt, ap);
	va_end(ap);
	cf_progress(t);
	if (!t->st->since_ms)
		__atomic_store_n(&t->st->since_ms, cf_now_ms(), __ATOMIC_RELEASE);
	if (cf.verbose)
		say("# [%d] %s", t->id, t->st->op);
}

/* the thread got somewhere: bytes checked; a hang is no progress */
void cf_progress(struct cf_thread *t)
{
	__atomic_store_n(&t->st->progress_ms, cf_now_ms(), __ATOMIC_RELEASE);
}

void cf_thread_started(struct cf_thread *t)
{
	t->st->tid = gettid();
}

void cf_op_end(struct cf_thread *t)
{
	__atomic_store_n(&t->st->since_ms, 0, __ATOMIC_RELEASE);
	t->st->ops++;
}

/* ---- the images and their content ------------------------------------------ */

static int content_for(const char *hex, long size)
{
	for (int c = 0; c < cf.ncontents; c++)
		if (!strcmp(cf.contents[c].hex, hex))
			return c;
	if (cf.ncontents == CF_MAX_CONTENTS)
		return -1;
	snprintf(cf.contents[cf.ncontents].hex, 65, "%s", hex);
	cf.contents[cf.ncontents].size = size;
	return cf.ncontents++;
}

/* "PATH type=T size=S data=HEX" of scripts/manifest.py; 0 or -1 */
static int parse_entry(struct cf_image *im, char *line)
{
	char *save, *tok = strtok_r(line, " ", &save), *hex = NULL, *type = NULL;
	struct cf_entry *e = &im->e[im->ne];
	long size = -1;

	if (!tok || im->ne == CF_MAX_ENTRIES)
		return -1;
	snprintf(e->path, sizeof(e->path), "%s", tok[1] ? tok + 1 : "");
	for (tok = strtok_r(NULL, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (!strncmp(tok, "type=", 5))
			type = tok + 5;
		else if (!strncmp(tok, "size=", 5))
			size = atol(tok + 5);
		else if (!strncmp(tok, "data=", 5))
			hex = tok + 5;
	}
	memcpy(e->parent, e->path, sizeof(e->parent));
	*(strrchr(e->parent, '/') ? strrchr(e->parent, '/') : e->parent) = 0;
	e->name = strrchr(e->path, '/') ? strrchr(e->path, '/') + 1 : e->path;
	e->is_dir = type && !strcmp(type, "dir");
	if (e->is_dir) {
		im->dirs[im->ndirs++] = im->ne++;
		return 0;
	}
	if (!type || strcmp(type, "reg") || !hex || strlen(hex) != 64 || size < 0)
		return -1;
	e->content = content_for(hex, size);
	if (e->content < 0)
		return -1;
	im->files[im->nfiles++] = im->ne++;
	return 0;
}

static int load_image(const char *name, const char *mfname)
{
	struct cf_image *im = &cf.img[cf.nimg];
	char path[256];
	struct sfs_mf m;
	int ret = 0;

	snprintf(path, sizeof(path), "%s/%s", SFS_IMAGES_DIR, mfname);
	if (sfs_mf_load(path, &m)) {
		say("# cfuzz: cannot read %s", path);
		return -1;
	}
	memset(im, 0, sizeof(*im));
	snprintf(im->name, sizeof(im->name), "%s", name);
	for (size_t i = 0; i < m.n && !ret; i++)
		ret = parse_entry(im, m.lines[i]);
	sfs_mf_free(&m);
	if (ret || !im->nfiles || !im->ndirs || im->e[im->dirs[0]].path[0]) {
		say("# cfuzz: %s: not a manifest of files and directories (or too many)", path);
		return -1;
	}
	snprintf(im->bdev, sizeof(im->bdev), "/dev/disk/by-id/%s", name);
	if (access(im->bdev, R_OK))
		im->bdev[0] = 0;
	cf.nimg++;
	return 0;
}

/* LIST: "IMAGE MANIFEST" lines; # starts a comment */
static int load_images(const char *list)
{
	char line[512], name[64], mf[128];
	FILE *f = fopen(list, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || sscanf(line, "%63s %127s", name, mf) != 2)
			continue;
		if (cf.nimg == CF_MAX_IMAGES || load_image(name, mf)) {
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return cf.nimg ? 0 : -1;
}

/* a whole file with O_DIRECT: the image's own blocks, no shared cache */
static unsigned char *read_direct(const char *path, long size)
{
	long cap = (size + 4095) / 4096 * 4096 + 4096, got = 0;
	unsigned char *buf;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);

	if (fd < 0 || posix_memalign((void **)&buf, 4096, cap)) {
		say("# cfuzz: open(O_DIRECT) %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while (got < cap && (n = pread(fd, buf + got, cap - got, got)) > 0)
		got += n;
	close(fd);
	if (got != size) {
		say("# cfuzz: O_DIRECT read of %s: %ld bytes, the source tree has %ld",
		    path, got, size);
		free(buf);
		return NULL;
	}
	return buf;
}

/* read the contents image @i has and no earlier image had; 0 or -1 */
static int reference_from(int i)
{
	struct cf_image *im = &cf.img[i];
	char dir[256], path[512], hex[65];
	int need = 0, bad = 0, ret;

	for (int f = 0; f < im->nfiles; f++)
		need += !cf.contents[im->e[im->files[f]].content].data;
	if (!need)
		return 0;
	ret = sfs_mount_image(im->name, "sharefs", "noshare", dir, sizeof(dir));
	if (ret) {
		say("# cfuzz: mount %s noshare: %s", im->name, strerror(-ret));
		return -1;
	}
	for (int f = 0; f < im->nfiles && !bad; f++) {
		struct cf_entry *e = &im->e[im->files[f]];
		struct cf_content *c = &cf.contents[e->content];

		if (c->data)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->path);
		c->data = read_direct(path, c->size);
		if (c->data)
			sfs_sha256_hex(c->data, c->size, hex);
		if (!c->data || strcmp(hex, c->hex)) {
			say("# cfuzz: %s of %s does not have the source tree's content (SHA-256 %s)",
			    e->path, im->name, c->hex);
			bad = 1;
		}
	}
	sfs_umount(dir);
	return bad ? -1 : 0;
}

static int load_reference(void)
{
	long bytes = 0;

	for (int i = 0; i < cf.nimg; i++)
		if (reference_from(i))
			return -1;
	for (int c = 0; c < cf.ncontents; c++)
		bytes += cf.contents[c].size;
	say("# cfuzz: %d images, %d distinct files (%.1f MiB) read with O_DIRECT from noshare mounts, each equal to the source tree's SHA-256",
	    cf.nimg, cf.ncontents, bytes / 1048576.0);
	return 0;
}

/* ---- reclaim under pressure: worker 0 in a memory cgroup ------------------ */

#define CF_CG		"/sys/fs/cgroup"
#define CF_CG_DIR	CF_CG "/cfuzz"
#define CF_CG_HIGH	"12M"

/*
 * A cgroup with memory.high for worker 0: its reads charge it the pages
 * it brings in first, and reclaim takes them back again and again while
 * the other workers read the same shared pages.  memory.high throttles
 * and reclaims, it never OOM-kills.  0 if set up.
 */
static int memcg_setup(void)
{
	mkdir(CF_CG, 0755);
	if (mount("cgroup2", CF_CG, "cgroup2", 0, NULL) && errno != EBUSY)
		return -1;
	if (sfs_write_str(CF_CG "/cgroup.subtree_control", "+memory"))
		return -1;
	rmdir(CF_CG_DIR);
	if (mkdir(CF_CG_DIR, 0755) && errno != EEXIST)
		return -1;
	return sfs_write_str(CF_CG_DIR "/memory.high", CF_CG_HIGH);
}

static void memcg_join(void)
{
	char me[32];
	int err;

	snprintf(me, sizeof(me), "%d", getpid());
	err = sfs_write_str(CF_CG_DIR "/cgroup.procs", me);
	if (err)
		cf_fail(NULL, FAIL_ERRNO, "worker 0 into %s: %s", CF_CG_DIR,
			strerror(-err));
}

/* ---- workers ------------------------------------------------------------------- */

static uint64_t splitmix(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ULL;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
	return x ^ (x >> 31);
}

static enum cf_op pick_op(struct cf_thread *t)
{
	int total = 0, r;

	/* too few mounts to share anything: make more */
	if (cf_live_slots() < 3 && cf_below(t, 2))
		return OP_MOUNT;
	for (int op = 0; op < OP_MAX; op++)
		total += weights[op];
	r = cf_below(t, total);
	for (int op = 0; op < OP_MAX; op++) {
		if (r < weights[op])
			return op;
		r -= weights[op];
	}
	return OP_PREAD;
}

static void run_op(struct cf_thread *t, enum cf_op op)
{
	cf_op_begin(t, "%s", cf_op_names[op]);
	switch (op) {
	case OP_MOUNT: cf_op_mount(t); break;
	case OP_UMOUNT: cf_op_umount(t); break;
	case OP_REMOUNT: cf_op_remount(t); break;
	case OP_HELD: cf_op_held(t); break;
	case OP_DROP: cf_op_drop(t); break;
	case OP_PATH: cf_op_path(t); break;
	default: cf_op_data(t, op); break;
	}
	cf_op_end(t);
}

static void *thread_main(void *arg)
{
	struct cf_thread *t = arg;
	long deadline = cf.start_ms + cf.seconds * 1000L;

	cf_thread_started(t);
	while (!__atomic_load_n(&cf.sh->stop, __ATOMIC_RELAXED) &&
	       cf_now_ms() < deadline)
		run_op(t, pick_op(t));
	return NULL;
}

static int thread_init(struct cf_thread *t, struct cf_worker *w, int id)
{
	memset(t, 0, sizeof(*t));
	t->id = id;
	t->w = w;
	t->st = &cf.sh->th[id];
	t->rng = splitmix(cf.seed ^ splitmix(id + 1)) | 1;
	t->memfd = memfd_create("cfuzz-sendfile", MFD_CLOEXEC);
	if (posix_memalign((void **)&t->buf, 4096, CF_BUF) || t->memfd < 0)
		return -1;
	return 0;
}

/*
 * The killer: one more process, forked before any mount exists, so that
 * it and its victims hold no reference but the ones they count.
 */
static void killer_main(void)
{
	int id = cf.workers * CF_MAX_THREADS;
	long deadline = cf.start_ms + cf.seconds * 1000L;
	struct cf_thread t, v;

	if (thread_init(&t, NULL, id) || thread_init(&v, NULL, id + 1))
		_exit(2);
	v.victim = 1;
	cf_thread_started(&t);
	while (!__atomic_load_n(&cf.sh->stop, __ATOMIC_RELAXED) &&
	       cf_now_ms() < deadline) {
		cf_op_kill(&t, &v);
		cf_op_end(&t);
		usleep(cf_below(&t, 200 * 1000));
	}
	_exit(0);
}

/* a worker process: THREADS threads, then its kept objects checked */
static void worker_main(int idx)
{
	struct cf_thread th[CF_MAX_THREADS];
	pthread_t tid[CF_MAX_THREADS];
	struct cf_worker w = { .idx = idx };

	pthread_mutex_init(&w.lock, NULL);
	if (!idx && cf.memcg)
		memcg_join();
	for (int i = 0; i < cf.threads; i++) {
		if (thread_init(&th[i], &w, idx * CF_MAX_THREADS + i) ||
		    pthread_create(&tid[i], NULL, thread_main, &th[i])) {
			cf_fail(NULL, FAIL_ERRNO, "worker %d: thread %d: %s", idx, i,
				strerror(errno));
			_exit(2);
		}
	}
	for (int i = 0; i < cf.threads; i++)
		pthread_join(tid[i], NULL);
	cf_held_check_all(&th[0]);
	_exit(0);
}

/* ---- the parent: watching --------------------------------------------------------- */

/* a file of /proc/TID, line by line into the output */
static void show_proc(int tid, const char *name)
{
	char path[64], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/%s", tid, name);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		say("# cfuzz:   %s: %s", name, line);
	}
	fclose(f);
}

/*
 * The threads in an operation that have made no progress (checked no
 * bytes, begun no operation) for @idle_ms: report each, with its kernel
 * state and stack; how many.
 */
static int report_stuck(long idle_ms)
{
	long now = cf_now_ms();
	int found = 0;

	/* idle and unused states have no start time */
	for (int i = 0; i < CF_MAX_WORKERS * CF_MAX_THREADS; i++) {
		struct cf_thread_state *st = &cf.sh->th[i];
		long since = __atomic_load_n(&st->since_ms, __ATOMIC_ACQUIRE);
		long last = __atomic_load_n(&st->progress_ms, __ATOMIC_ACQUIRE);

		if (!since || now - (last > since ? last : since) < idle_ms)
			continue;
		say("# cfuzz: HANG: thread %d (tid %d) has been in \"%s\" for %ld s, with no progress for %ld s",
		    i, st->tid, st->op, (now - since) / 1000,
		    (now - (last > since ? last : since)) / 1000);
		show_proc(st->tid, "stat");
		show_proc(st->tid, "wchan");
		show_proc(st->tid, "stack");
		found++;
	}
	return found;
}

/* the kernel's blocked tasks into its log, for the hang's report */
static void sysrq_blocked(void)
{
	int fd = open("/proc/sysrq-trigger", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, "w", 1) != 1)
			say("# cfuzz: sysrq w: %s", strerror(errno));
		close(fd);
	}
}

/* reap the workers that ended; @killed: the SIGKILLs were ours */
static void reap(pid_t *pids, int *alive, int killed)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		for (int w = 0; w <= cf.workers; w++) {
			if (pids[w] != pid)
				continue;
			pids[w] = 0;
			(*alive)--;
			if (killed && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
				continue;
			if (WIFSIGNALED(status) || WEXITSTATUS(status)) {
				cf_count(&cf.sh->fails[FAIL_ERRNO], 1);
				say("# cfuzz: FAIL worker %d %s %d", w,
				    WIFSIGNALED(status) ? "killed by signal" : "exited with",
				    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
			}
		}
}

/* until every worker is done; a hang stops them (0: no hang) */
static int watch(pid_t *pids)
{
	long hard_end = cf.start_ms + (cf.seconds + cf.hang_seconds + 60) * 1000L;
	long gave_up = 0;
	int alive = cf.workers + 1, hung = 0;	/* the killer too */

	while (alive) {
		reap(pids, &alive, hung);
		if (!alive)
			break;
		if (!hung && cf_now_ms() > hard_end) {
			say("# cfuzz: HANG: the workers have not finished %d s after the end; still busy:",
			    cf.hang_seconds + 60);
			report_stuck(0);
			hung = 1;
		} else if (!hung && report_stuck(cf.hang_seconds * 1000L)) {
			hung = 1;
		}
		if (hung && !gave_up) {
			cf_count(&cf.sh->fails[FAIL_HANG], 1);
			sysrq_blocked();
			__atomic_store_n(&cf.sh->stop, 1, __ATOMIC_RELAXED);
			for (int w = 0; w <= cf.workers; w++)
				if (pids[w])
					kill(pids[w], SIGKILL);
			gave_up = cf_now_ms() + 20000;
		}
		/* a task stuck in the kernel does not die: do not wait forever */
		if (hung && cf_now_ms() > gave_up) {
			say("# cfuzz: %d workers would not die", alive);
			break;
		}
		usleep(200 * 1000);
	}
	return hung;
}

/* ---- the parent: before and after ----------------------------------------------- */

static int sharefs_mounts(int detach)
{
	char line[1024], dev[256], dir[512];
	FILE *f = fopen("/proc/self/mounts", "r");
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%255s %511s", dev, dir) == 2 &&
		    strstr(line, " sharefs ")) {
			n++;
			if (detach)
				umount2(dir, MNT_DETACH);
		}
	fclose(f);
	return n;
}

/*
 * Everything unmounted: umount(2) of what is left must work (the workers
 * are gone, nothing holds a mount), lazily unmounted superblocks went with
 * their last file, members are back where they were, the shared inodes too
 * once the caches are dropped, and nothing holds the module.
 */
static int after_checks(long members0, long shared0)
{
	long members, shared = -1, resident = -1, refcnt;
	int bad = cf_unmount_all(), left = -1;

	for (int i = 0; i < 50 && (left = sharefs_mounts(0)) > 0; i++)
		usleep(100 * 1000);
	members = sfs_read_num("/sys/fs/sharefs/members");
	for (int i = 0; i < 50; i++) {
		sfs_drop_caches("3");
		shared = sfs_read_num("/sys/fs/sharefs/shared_inodes");
		resident = sfs_read_num("/sys/fs/sharefs/resident_bytes");
		if (shared == shared0 && !resident)
			break;
		usleep(100 * 1000);
	}
	refcnt = sfs_read_num("/sys/module/sharefs/refcnt");
	say("# cfuzz: after: %d mounts left, members %ld (before %ld), shared inodes %ld (before %ld), resident %ld bytes, module refcount %ld",
	    left, members, members0, shared, shared0, resident, refcnt);
	return bad || left || members != members0 || shared != shared0 ||
	       resident || refcnt > 0;
}

static void print_counts(void)
{
	char line[2048];
	int n = 0;

	for (int op = 0; op < OP_MAX; op++)
		n += snprintf(line + n, sizeof(line) - n, "%s %s %ld",
			      op ? "," : "", cf_op_names[op], cf.sh->n[op]);
	say("# cfuzz: operations:%s", line);
	for (int ev = 0; ev < EV_MAX; ev++)
		say("# cfuzz:   %s: %ld", cf_event_names[ev], cf.sh->ev[ev]);
}

/* sharefs log lines that operations cause on purpose */
static const char *const expected_log[] = {
	"on remount",				/* remount, other options */
	"refusing a mount of the same device",	/* own disk, other options */
};

static void complaint(const char *text, void *arg)
{
	int *n = arg;

	if (!strstr(text, "sharefs"))
		return;
	for (size_t i = 0; i < sizeof(expected_log) / sizeof(expected_log[0]); i++)
		if (strstr(text, expected_log[i]))
			return;
	if ((*n)++ < 10)
		say("# cfuzz: kernel log: %s", text);
}

/*
 * The images are intact: any other sharefs line in the kernel log since
 * the start (a fingerprint it could not read, corruption, a warning) is
 * a finding.  The number of such lines.
 */
static int kernel_log_complaints(void)
{
	int n = 0;

	sfs_kmsg_scan(complaint, &n);
	return n;
}

/* every kind of operation ran, and the cases that matter most happened */
static int coverage(void)
{
	int missing = 0;

	for (int op = 0; op < OP_MAX; op++)
		if (!cf.sh->n[op]) {
			say("# cfuzz: coverage: no %s ran", cf_op_names[op]);
			missing++;
		}
	for (int ev = EV_LAZY; ev <= EV_UMOUNT_OK; ev++)
		if (!cf.sh->ev[ev]) {
			say("# cfuzz: coverage: no %s", cf_event_names[ev]);
			missing++;
		}
	if (!cf.sh->ev[EV_HELD_DETACHED]) {
		say("# cfuzz: coverage: no kept file was checked after its umount");
		missing++;
	}
	return missing;
}

/* ---- main -------------------------------------------------------------------------- */

static long env_long(const char *name, long def)
{
	const char *v = getenv(name);

	return v && *v ? strtol(v, NULL, 0) : def;
}

static void parse_args(int argc, char **argv, const char **list)
{
	int c;

	cf.seed = env_long("SHAREFS_CFUZZ_SEED", 0);
	cf.seconds = env_long("SHAREFS_CFUZZ_SECONDS", 60);
	cf.workers = env_long("SHAREFS_CFUZZ_WORKERS", 3);
	cf.threads = env_long("SHAREFS_CFUZZ_THREADS", 2);
	cf.hang_seconds = env_long("SHAREFS_CFUZZ_HANG", 300);
	while ((c = getopt(argc, argv, "s:t:w:j:H:l:v")) != -1) {
		switch (c) {
		case 's': cf.seed = strtoull(optarg, NULL, 0); break;
		case 't': cf.seconds = atoi(optarg); break;
		case 'w': cf.workers = atoi(optarg); break;
		case 'j': cf.threads = atoi(optarg); break;
		case 'H': cf.hang_seconds = atoi(optarg); break;
		case 'l': *list = optarg; break;
		case 'v': cf.verbose = 1; break;
		default:
			fprintf(stderr, "usage: %s [-s SEED] [-t SECONDS] [-w WORKERS] [-j THREADS] [-H HANG_SECONDS] [-l LIST] [-v]\n",
				argv[0]);
			exit(2);
		}
	}
	if (!cf.seed)
		cf.seed = (uint64_t)time(NULL) * 1000 + getpid() % 1000;
	if (cf.workers < 1 || cf.workers > CF_MAX_WORKERS - 1)	/* + the killer */
		cf.workers = 3;
	if (cf.threads < 1 || cf.threads > CF_MAX_THREADS)
		cf.threads = 2;
}

static int setup_shared(void)
{
	pthread_mutexattr_t a;

	cf.sh = mmap(NULL, sizeof(*cf.sh), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (cf.sh == MAP_FAILED)
		return -1;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	return pthread_mutex_init(&cf.sh->lock, &a);
}

static void result(int n, int ok, const char *name)
{
	say("%sok %d %s", ok ? "" : "not ", n, name);
}

static void skip_all(const char *why)
{
	for (int i = 1; i <= 7; i++)
		say("ok %d cfuzz # SKIP %s", i, why);
	exit(4);
}

/* fork the workers, watch them; the KTAP results 2 to 4; 0 if all ok */
static int run(void)
{
	pid_t pids[CF_MAX_WORKERS] = { 0 };
	int hung, bytes_ok, errnos_ok;

	cf.start_ms = cf_now_ms();
	fflush(stdout);
	for (int w = 0; w <= cf.workers; w++) {
		pids[w] = fork();
		if (!pids[w] && w < cf.workers)
			worker_main(w);
		if (!pids[w])
			killer_main();
	}
	hung = watch(pids);
	print_counts();
	if (cf.memcg)
		say("# cfuzz:   worker 0 over memory.high=%s: %ld times",
		    CF_CG_HIGH, sfs_read_key(CF_CG_DIR "/memory.events", "high"));
	bytes_ok = !cf.sh->fails[FAIL_BYTES] && cf.sh->ev[EV_BYTES] > 0;
	errnos_ok = !cf.sh->fails[FAIL_ERRNO];
	result(2, bytes_ok, "cfuzz: every byte read was the file's");
	result(3, errnos_ok, "cfuzz: no unexpected errno, signal or dead worker");
	result(4, !hung, "cfuzz: no operation hung");
	return !bytes_ok || !errnos_ok || hung;
}

/* results 5 to 7; 0 if all ok */
static int after(long members0, long shared0)
{
	int missing = coverage(), clean, quiet;

	if (cf.seconds < 30)
		say("ok 5 cfuzz: coverage # SKIP a run under 30 s");
	else
		result(5, !missing, "cfuzz: coverage: every kind of operation ran");
	clean = !after_checks(members0, shared0);
	result(6, clean, "cfuzz: all unmounted, counters back, module unused");
	quiet = !kernel_log_complaints();
	result(7, quiet, "cfuzz: no sharefs complaint about the intact images in the kernel log");
	return (missing && cf.seconds >= 30) || !clean || !quiet;
}

int main(int argc, char **argv)
{
	const char *list = CF_LIST;
	long members0, shared0;
	struct utsname u;
	int failed;

	parse_args(argc, argv, &list);
	say("TAP version 13");
	say("1..7");
	if (getuid() != 0)
		skip_all("needs root");
	if (!sfs_have_fs("sharefs"))
		skip_all("sharefs is not registered");
	if (access(list, R_OK))
		skip_all("no image list");
	uname(&u);
	say("# cfuzz: seed %llu, %d s, %d workers x %d threads on %s (again: scripts/cfuzz.sh --kernel TAG --seed %llu --time %d)",
	    (unsigned long long)cf.seed, cf.seconds, cf.workers, cf.threads,
	    u.release, (unsigned long long)cf.seed, cf.seconds);
	kmsg("<5>cfuzz: seed %llu, %d s", (unsigned long long)cf.seed, cf.seconds);
	sfs_kmsg_mark();
	if (setup_shared() || load_images(list)) {
		say("# cfuzz: cannot set up (shared memory, or %s)", list);
		result(1, 0, "cfuzz: reference content");
		return 1;
	}
	if (sharefs_mounts(1) > 0)
		say("# cfuzz: unmounted sharefs mounts an earlier test left behind");
	/*
	 * Twice: one pass only clears the referenced bit of an inode used
	 * lately, so a shared inode an earlier test read would count here
	 * and be gone after the run.
	 */
	sfs_drop_caches("3");
	sfs_drop_caches("3");
	members0 = sfs_read_num("/sys/fs/sharefs/members");
	shared0 = sfs_read_num("/sys/fs/sharefs/shared_inodes");
	if (load_reference()) {
		/* without the reference nothing can be checked */
		result(1, 0, "cfuzz: reference content equals the source trees'");
		return 1;
	}
	result(1, 1, "cfuzz: reference content equals the source trees'");
	cf_probe_kernel();
	cf_install_signals();
	cf.memcg = !memcg_setup();
	if (!cf.memcg)
		say("# cfuzz: no memory cgroup: no worker runs under memory.high");
	failed = run();
	if (cf.memcg)
		rmdir(CF_CG_DIR);
	failed |= after(members0, shared0);
	return failed;
}
