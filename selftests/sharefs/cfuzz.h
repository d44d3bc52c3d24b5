/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cfuzz.h - the concurrency fuzzer's types (cfuzz_test.c, cfuzz_world.c,
 * cfuzz_ops.c).
 *
 * The parent process loads the images' expected content (struct cf_image,
 * struct cf_content) before it forks the workers, which inherit it.  The
 * state the workers change together - the mount table, the counters and
 * what each thread is doing - lives in one MAP_SHARED page set
 * (struct cf_shared), under one process-shared mutex.
 */
#ifndef SFS_CFUZZ_H
#define SFS_CFUZZ_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#define CF_MAX_IMAGES	32
#define CF_MAX_ENTRIES	64	/* per image: files and directories */
#define CF_MAX_CONTENTS	64	/* distinct file contents, all images */
#define CF_MAX_SLOTS	12	/* mounts alive at once */
#define CF_MAX_WORKERS	8	/* processes, the killer included */
#define CF_MAX_THREADS	4	/* threads per worker process */
#define CF_MAX_HELD	6	/* open files and mappings kept, per process */
#define CF_BUF		(1 << 20)	/* a thread's read buffer */
#define CF_PATH		192

/* ---- what the images hold (read-only after setup) ------------------- */

struct cf_content {
	char hex[65];		/* SHA-256 of the source tree's file */
	long size;
	unsigned char *data;	/* read from a noshare mount, hash checked */
};

struct cf_entry {
	char path[CF_PATH];	/* relative to the image root: "lib/big.so" */
	char parent[CF_PATH];	/* "" for entries of the root */
	const char *name;	/* the last component, inside path */
	int is_dir;
	int content;		/* regular files: index in cf.contents */
};

struct cf_image {
	char name[64];
	char bdev[96];		/* its own disk, or "" */
	struct cf_entry e[CF_MAX_ENTRIES];
	int ne;
	int files[CF_MAX_ENTRIES];	/* indices of regular files in e[] */
	int nfiles;
	int dirs[CF_MAX_ENTRIES];	/* directories, the root ("") first */
	int ndirs;
};

/* mount options a mount op picks from; equal strings = equal options */
extern const char *const cf_opts[];
extern const int cf_nopts;
/* cf_opts[opt] for messages: "default domain" for "" */
const char *cf_opt_name(int opt);

/* ---- shared between the processes ---------------------------------------- */

enum cf_slot_state { CF_FREE, CF_MOUNTING, CF_LIVE };

/* one mount of the table */
struct cf_slot {
	int state;
	unsigned long gen;	/* bumped when the mount goes */
	int img;
	int bdev;		/* mounted from the image's own disk */
	int opt;		/* index into cf_opts */
	char dir[64];		/* unique per mount: never reused */
	dev_t dev;		/* st_dev of the mounted root */
	int users;		/* operations under way on it */
	int held;		/* kept files and mappings on it */
};

/*
 * The superblock of an image's own disk: get_tree_bdev() gives every mount
 * of one device the same one, and sharefs refuses (EBUSY) a mount whose
 * options differ from the live superblock's.  refs counts what keeps it
 * alive: live mounts, pinned operations and kept objects of this device.
 */
struct cf_bdev {
	int refs;
	int opt;		/* the options of the live superblock */
};

/* successful operations, by kind */
enum cf_op {
	OP_MOUNT, OP_UMOUNT, OP_REMOUNT, OP_READ, OP_PREAD, OP_DIRECT,
	OP_MMAP, OP_SPLICE, OP_SENDFILE, OP_FADVISE, OP_WALK, OP_HANDLE,
	OP_HOLD, OP_HELD, OP_DROP, OP_PATH, OP_KILL, OP_MAX
};
extern const char *const cf_op_names[];

/* what happened along the way: expected errnos and interesting cases */
enum cf_event {
	EV_LAZY,		/* umount -l */
	EV_UMOUNT_OK,		/* umount(2) of an unused mount */
	EV_UMOUNT_EBUSY,	/* umount(2) of a mount with kept files: EBUSY */
	EV_BDEV_MOUNT,		/* mounts of an image's own disk */
	EV_BDEV_SHARED_SB,	/* ... that got the live superblock */
	EV_BDEV_EBUSY,		/* ... refused, other options: EBUSY */
	EV_REMOUNT_EINVAL,	/* remount asking for other options: EINVAL */
	EV_DIRECT_EINVAL,	/* misaligned O_DIRECT: EINVAL */
	EV_DIRECT_UNALIGNED_OK,	/* misaligned O_DIRECT served (inline data) */
	EV_PATH_ENOENT,		/* a path of a mount detached under it */
	EV_DETACHED_OP,		/* an operation whose mount went under it */
	EV_HELD_DETACHED,	/* a kept object read after its umount */
	EV_KILLED_MID,		/* readers killed inside an operation */
	EV_SIGBUS_NONE,		/* mapped pages checked (count) */
	EV_BYTES,		/* bytes checked */
	EV_MAX
};
extern const char *const cf_event_names[];

enum cf_fail_kind { FAIL_BYTES, FAIL_ERRNO, FAIL_HANG, FAIL_MAX };

/* one thread's current operation, for hang reports */
struct cf_thread_state {
	char op[256];
	long since_ms;		/* when the operation began, 0 when idle */
	long progress_ms;	/* when it last checked bytes */
	long ops;
	int tid;		/* /proc/TID/stack when it hangs */
};

struct cf_shared {
	pthread_mutex_t lock;	/* protects slots, bdevs, seq */
	struct cf_slot slots[CF_MAX_SLOTS];
	struct cf_bdev bdevs[CF_MAX_IMAGES];
	unsigned long seq;	/* names mount directories */
	int stop;		/* workers: finish up */
	/* counters: __atomic, from any process */
	long n[OP_MAX];
	long ev[EV_MAX];
	long fails[FAIL_MAX];
	long printed;		/* failure lines printed so far */
	struct cf_thread_state th[CF_MAX_WORKERS * CF_MAX_THREADS];
};

/* ---- per process ------------------------------------------------------ */

/* an open file or mapping kept across operations (and umounts) */
struct cf_held {
	int used, busy;
	int fd;			/* -1: the mapping alone */
	unsigned char *map;
	size_t maplen;
	off_t mapoff;
	int img, file;		/* what it is */
	int slot;
	unsigned long gen;	/* the slot's generation when it was made */
	int bdev_img;		/* counted in cf.sh->bdevs[], or -1 */
	int opt;
};

struct cf_worker {
	int idx;
	pthread_mutex_t lock;	/* protects held[] */
	struct cf_held held[CF_MAX_HELD];
};

struct cf_thread {
	int id;			/* index in cf.sh->th */
	struct cf_worker *w;
	uint64_t rng;
	struct cf_thread_state *st;
	unsigned char *buf;	/* CF_BUF bytes, page aligned */
	int memfd;		/* sendfile's target */
	int victim;		/* a reader the killer kills: takes no lock */
};

/* an operation's hold on one live mount: its root directory, open */
struct cf_pin {
	int slot;
	unsigned long gen;
	int img, opt, bdev;
	int rootfd;
	char dir[64];
};

/* ---- the whole run ----------------------------------------------------- */

struct cf_world {
	uint64_t seed;
	int seconds, workers, threads, hang_seconds, verbose;
	int memcg;		/* worker 0 runs in a cgroup with memory.high */
	struct cf_image img[CF_MAX_IMAGES];
	int nimg;
	struct cf_content contents[CF_MAX_CONTENTS];
	int ncontents;
	struct cf_shared *sh;
	long start_ms;
};
extern struct cf_world cf;

/* cfuzz_test.c */
long cf_now_ms(void);
uint64_t cf_rand(struct cf_thread *t);
long cf_below(struct cf_thread *t, long n);
void cf_count(long *counter, long by);
void cf_fail(struct cf_thread *t, enum cf_fail_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void cf_op_begin(struct cf_thread *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void cf_op_end(struct cf_thread *t);
void cf_progress(struct cf_thread *t);
void cf_thread_started(struct cf_thread *t);

/* cfuzz_world.c: the mount table */
void cf_lock(void);
void cf_unlock(void);
int cf_pin(struct cf_thread *t, struct cf_pin *p);
void cf_unpin(struct cf_pin *p);
int cf_gone(int slot, unsigned long gen);
void cf_op_mount(struct cf_thread *t);
void cf_op_umount(struct cf_thread *t);
void cf_op_remount(struct cf_thread *t);
void cf_op_path(struct cf_thread *t);
int cf_held_add(struct cf_thread *t, const struct cf_pin *p, int file,
		int fd, unsigned char *map, size_t maplen, off_t mapoff);
struct cf_held *cf_held_take(struct cf_thread *t);
void cf_held_put(struct cf_thread *t, struct cf_held *h, int release);
int cf_unmount_all(void);
int cf_live_slots(void);

/* cfuzz_ops.c: the data operations */
const struct cf_content *cf_content_of(int img, int file);
int cf_verify(struct cf_thread *t, const char *how, const char *what,
	      int content, const unsigned char *buf, off_t off, long got,
	      long len);
int cf_verify_map(struct cf_thread *t, const char *what, int content,
		  const unsigned char *map, off_t off, size_t len);
void cf_op_data(struct cf_thread *t, enum cf_op op);
void cf_op_held(struct cf_thread *t);
void cf_held_check_all(struct cf_thread *t);
void cf_op_drop(struct cf_thread *t);
void cf_op_kill(struct cf_thread *t, struct cf_thread *victim);
void cf_install_signals(void);
void cf_probe_kernel(void);

#endif
