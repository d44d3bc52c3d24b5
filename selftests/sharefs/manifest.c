// SPDX-License-Identifier: GPL-2.0-only
/*
 * manifest.c - canonical description of a mounted tree (see manifest.h).
 *
 * The walk collects every entry with its lstat and readdir d_type first,
 * sorts them by path, then derives the hard-link groups and formats the
 * lines, reading content and xattrs as it goes.  Every failing operation
 * is counted and the walk goes on, so that a walk of a corrupted image
 * visits what it can and always ends (depth and entry count are bounded
 * by the options).
 *
 * SHA-256 comes from OpenSSL's libcrypto, linked statically.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "manifest.h"

static const char *const field_names[] = {
	"type", "mode", "uid", "gid", "nlink", "size", "dsize", "mtime",
	"rdev", "data", "xattrs", "dtype", "hl", "ino", "blocks",
};

int sfs_mf_parse_fields(const char *csv, unsigned int *fields)
{
	char buf[512], *save, *t;

	*fields = 0;
	snprintf(buf, sizeof(buf), "%s", csv);
	for (t = strtok_r(buf, ", \n", &save); t; t = strtok_r(NULL, ", \n", &save)) {
		unsigned int i;

		if (!strcmp(t, "all")) {
			*fields |= MF_ALL;
			continue;
		}
		for (i = 0; i < sizeof(field_names) / sizeof(field_names[0]); i++)
			if (!strcmp(t, field_names[i]))
				break;
		if (i == sizeof(field_names) / sizeof(field_names[0]))
			return -1;
		*fields |= 1u << i;
	}
	return 0;
}

struct entry {
	char *raw;		/* path to open, root-prefixed */
	char *name;		/* escaped, "/"-rooted */
	unsigned char dtype;
	int stat_err;
	struct stat st;
	const char *hl;		/* first path of the hard-link group */
};

struct walk {
	const struct sfs_mf_opts *o;
	struct sfs_mf *m;
	struct entry *e;
	size_t n, cap;
	size_t rootlen;
};

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		perror("realloc");
		exit(1);
	}
	return p;
}

static void fail(struct sfs_mf *m, const char *op, const char *path, int err)
{
	if (!m->nerrs++) {
		m->first_err = err;
		snprintf(m->err_where, sizeof(m->err_where), "%s %s", op, path);
	}
}

static char *escape(const char *s)
{
	size_t n = strlen(s);
	char *out = xrealloc(NULL, 3 * n + 2), *p = out;

	for (; *s; s++) {
		unsigned char c = *s;

		if (c <= 0x20 || c >= 0x7f || c == '%')
			p += sprintf(p, "%%%02X", c);
		else
			*p++ = c;
	}
	*p = 0;
	return out;
}

static void add(struct walk *w, const char *raw, unsigned char dtype)
{
	struct entry *e;

	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 256;
		w->e = xrealloc(w->e, w->cap * sizeof(*w->e));
	}
	e = &w->e[w->n++];
	memset(e, 0, sizeof(*e));
	e->raw = strdup(raw);
	e->name = escape(raw[w->rootlen] ? raw + w->rootlen : "/");
	e->dtype = dtype;
	if (lstat(raw, &e->st)) {
		e->stat_err = errno;
		fail(w->m, "lstat", raw, errno);
	}
	w->m->entries++;
}

static int over_limit(struct walk *w)
{
	if (w->o->max_entries && w->m->entries >= w->o->max_entries) {
		w->m->truncated = 1;
		return 1;
	}
	return 0;
}

static void walk_dir(struct walk *w, const char *dir, int depth)
{
	struct dirent *d;
	long nread = 0;
	DIR *dp;

	if (w->o->max_depth && depth >= w->o->max_depth) {
		w->m->truncated = 1;
		return;
	}
	dp = opendir(dir);
	if (!dp) {
		fail(w->m, "opendir", dir, errno);
		return;
	}
	for (;;) {
		char *path;

		errno = 0;
		d = readdir(dp);
		if (!d) {
			if (errno)
				fail(w->m, "readdir", dir, errno);
			break;
		}
		/* a readdir that never ends must not stall the walk */
		if (w->o->max_entries && ++nread > w->o->max_entries) {
			w->m->truncated = 1;
			fail(w->m, "readdir-endless", dir, ELOOP);
			break;
		}
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		if (over_limit(w))
			break;
		if (asprintf(&path, "%s/%s", dir, d->d_name) < 0)
			exit(1);
		add(w, path, d->d_type);
		if (!w->e[w->n - 1].stat_err && S_ISDIR(w->e[w->n - 1].st.st_mode))
			walk_dir(w, path, depth + 1);
		free(path);
	}
	closedir(dp);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name,
		      ((const struct entry *)b)->name);
}

static int by_ino(const void *a, const void *b)
{
	const struct entry *x = *(struct entry *const *)a;
	const struct entry *y = *(struct entry *const *)b;

	if (x->st.st_ino != y->st.st_ino)
		return x->st.st_ino < y->st.st_ino ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void link_groups(struct walk *w)
{
	struct entry **v = xrealloc(NULL, (w->n + 1) * sizeof(*v));
	size_t k = 0, i, j;

	for (i = 0; i < w->n; i++)
		if (!w->e[i].stat_err && !S_ISDIR(w->e[i].st.st_mode))
			v[k++] = &w->e[i];
	qsort(v, k, sizeof(*v), by_ino);
	for (i = 0; i < k; i = j) {
		for (j = i + 1; j < k && v[j]->st.st_ino == v[i]->st.st_ino; j++)
			;
		if (j - i > 1)
			for (size_t l = i; l < j; l++)
				v[l]->hl = v[i]->name;
	}
	free(v);
}

static const char *type_name(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return "reg";
	case S_IFDIR: return "dir";
	case S_IFLNK: return "lnk";
	case S_IFCHR: return "chr";
	case S_IFBLK: return "blk";
	case S_IFIFO: return "fifo";
	case S_IFSOCK: return "sock";
	}
	return "bad";
}

static const char *dtype_name(unsigned char t)
{
	switch (t) {
	case DT_REG: return "reg";
	case DT_DIR: return "dir";
	case DT_LNK: return "lnk";
	case DT_CHR: return "chr";
	case DT_BLK: return "blk";
	case DT_FIFO: return "fifo";
	case DT_SOCK: return "sock";
	case DT_UNKNOWN: return "unk";
	}
	return "bad";
}

void sfs_sha256_hex(const void *data, size_t len, char hex[65])
{
	unsigned char d[SHA256_DIGEST_LENGTH];
	SHA256_CTX c;

	/* the one-shot SHA256() drags OpenSSL's provider machinery in */
	SHA256_Init(&c);
	SHA256_Update(&c, data, len);
	SHA256_Final(d, &c);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
		sprintf(hex + 2 * i, "%02x", d[i]);
}

int sfs_sha256_file(const char *path, char hex[65])
{
	static char buf[1 << 16];
	unsigned char d[SHA256_DIGEST_LENGTH];
	SHA256_CTX c;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return -errno;
	SHA256_Init(&c);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		SHA256_Update(&c, buf, n);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	SHA256_Final(d, &c);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
		sprintf(hex + 2 * i, "%02x", d[i]);
	return 0;
}

/* growable string */
struct sb {
	char *s;
	size_t len, cap;
};

static void sb_printf(struct sb *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void sb_printf(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (b->len + n < b->cap)
			break;
		b->cap = 2 * (b->len + n + 64);
		b->s = xrealloc(b->s, b->cap);
	}
	b->len += n;
}

static void sb_hex(struct sb *b, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sb_printf(b, "%02x", p[i]);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ignored(const struct sfs_mf_opts *o, const char *name)
{
	for (int i = 0; i < MF_MAX_IGNORE && o->ignore_xattr[i]; i++)
		if (!strcmp(o->ignore_xattr[i], name))
			return 1;
	return 0;
}

static void fmt_xattrs(struct walk *w, struct entry *e, struct sb *b)
{
	char *names, *v[512], *p;
	ssize_t n;
	int k = 0, shown = 0;

	n = llistxattr(e->raw, NULL, 0);
	if (n < 0) {
		fail(w->m, "llistxattr", e->raw, errno);
		sb_printf(b, " xattrs=!%d", errno);
		return;
	}
	names = xrealloc(NULL, n + 1);
	n = llistxattr(e->raw, names, n);
	if (n < 0) {
		fail(w->m, "llistxattr", e->raw, errno);
		sb_printf(b, " xattrs=!%d", errno);
		free(names);
		return;
	}
	for (p = names; p < names + n && k < 512; p += strlen(p) + 1)
		v[k++] = p;
	qsort(v, k, sizeof(v[0]), cmp_str);
	sb_printf(b, " xattrs=");
	for (int i = 0; i < k; i++) {
		static unsigned char val[65536];
		ssize_t vl;
		char *en;

		if (ignored(w->o, v[i]))
			continue;
		en = escape(v[i]);
		sb_printf(b, "%s%s=", shown++ ? "," : "", en);
		free(en);
		vl = lgetxattr(e->raw, v[i], val, sizeof(val));
		if (vl < 0) {
			fail(w->m, "lgetxattr", e->raw, errno);
			sb_printf(b, "!%d", errno);
			continue;
		}
		sb_hex(b, val, vl);
	}
	if (!shown)
		sb_printf(b, "-");
	free(names);
}

static char *format(struct walk *w, struct entry *e)
{
	unsigned int f = w->o->fields;
	struct stat *st = &e->st;
	struct sb b = { 0 };

	sb_printf(&b, "%s", e->name);
	if (e->stat_err) {
		sb_printf(&b, " lstat=!%d", e->stat_err);
		return b.s;
	}
	if (f & MF_TYPE)
		sb_printf(&b, " type=%s", type_name(st->st_mode));
	if (f & MF_MODE)
		sb_printf(&b, " mode=%04o", st->st_mode & 07777);
	if (f & MF_UID)
		sb_printf(&b, " uid=%u", st->st_uid);
	if (f & MF_GID)
		sb_printf(&b, " gid=%u", st->st_gid);
	if (f & MF_NLINK)
		sb_printf(&b, " nlink=%lu", (unsigned long)st->st_nlink);
	if ((f & MF_SIZE) && !S_ISDIR(st->st_mode))
		sb_printf(&b, " size=%lld", (long long)st->st_size);
	if ((f & MF_DSIZE) && S_ISDIR(st->st_mode))
		sb_printf(&b, " dsize=%lld", (long long)st->st_size);
	if (f & MF_MTIME)
		sb_printf(&b, " mtime=%lld.%09ld", (long long)st->st_mtim.tv_sec,
			  st->st_mtim.tv_nsec);
	if (f & MF_RDEV)
		sb_printf(&b, " rdev=%u:%u", major(st->st_rdev), minor(st->st_rdev));
	if ((f & MF_DATA) && S_ISREG(st->st_mode)) {
		char hex[65];
		int ret = sfs_sha256_file(e->raw, hex);

		if (ret) {
			fail(w->m, "read", e->raw, -ret);
			sb_printf(&b, " data=!%d", -ret);
		} else {
			sb_printf(&b, " data=%s", hex);
		}
	}
	if ((f & MF_DATA) && S_ISLNK(st->st_mode)) {
		char t[4096];
		ssize_t n = readlink(e->raw, t, sizeof(t));

		if (n < 0) {
			fail(w->m, "readlink", e->raw, errno);
			sb_printf(&b, " target=!%d", errno);
		} else {
			sb_printf(&b, " target=");
			sb_hex(&b, (unsigned char *)t, n);
		}
	}
	if (f & MF_XATTRS)
		fmt_xattrs(w, e, &b);
	if (f & MF_DTYPE)
		sb_printf(&b, " dtype=%s", e->name[1] ? dtype_name(e->dtype) : "-");
	if (f & MF_HL)
		sb_printf(&b, " hl=%s", e->hl ? e->hl : "-");
	if (f & MF_INO)
		sb_printf(&b, " ino=%llu", (unsigned long long)st->st_ino);
	if (f & MF_BLOCKS)
		sb_printf(&b, " blocks=%lld", (long long)st->st_blocks);
	return b.s;
}

int sfs_mf_build(const char *root, const struct sfs_mf_opts *o,
		 struct sfs_mf *m)
{
	struct walk w = { .o = o, .m = m, .rootlen = strlen(root) };
	struct stat st;

	memset(m, 0, sizeof(*m));
	m->fields = o->fields;
	if (lstat(root, &st))
		return -errno;
	add(&w, root, DT_DIR);
	walk_dir(&w, root, 0);
	qsort(w.e, w.n, sizeof(*w.e), by_name);
	link_groups(&w);
	m->lines = xrealloc(NULL, (w.n + 1) * sizeof(char *));
	for (size_t i = 0; i < w.n; i++)
		m->lines[m->n++] = format(&w, &w.e[i]);
	for (size_t i = 0; i < w.n; i++) {
		free(w.e[i].raw);
		free(w.e[i].name);
	}
	free(w.e);
	return 0;
}

int sfs_mf_load(const char *path, struct sfs_mf *m)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f = fopen(path, "r");

	memset(m, 0, sizeof(*m));
	if (!f)
		return -errno;
	m->fields = MF_ALL;
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = 0;
		if (!strncmp(line, "#fields ", 8)) {
			if (sfs_mf_parse_fields(line + 8, &m->fields)) {
				fclose(f);
				free(line);
				return -EINVAL;
			}
			continue;
		}
		if (!strncmp(line, "#ignore-xattr ", 14)) {
			char *save, *t;
			int k = 0;

			snprintf(m->ignore_buf, sizeof(m->ignore_buf), "%s", line + 14);
			for (t = strtok_r(m->ignore_buf, ",", &save);
			     t && k < MF_MAX_IGNORE - 1; t = strtok_r(NULL, ",", &save))
				m->ignore_xattr[k++] = t;
			continue;
		}
		if (line[0] == '#' || !line[0])
			continue;
		if (m->n == m->cap) {
			m->cap = m->cap ? 2 * m->cap : 256;
			m->lines = xrealloc(m->lines, m->cap * sizeof(char *));
		}
		m->lines[m->n++] = strdup(line);
	}
	free(line);
	fclose(f);
	return 0;
}

void sfs_mf_opts_from(const struct sfs_mf *loaded, struct sfs_mf_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->fields = loaded->fields;
	for (int i = 0; i < MF_MAX_IGNORE; i++)
		o->ignore_xattr[i] = loaded->ignore_xattr[i];
}

/* the path of a line: up to the first space */
static int cmp_path(const char *a, const char *b)
{
	size_t la = strcspn(a, " "), lb = strcspn(b, " ");
	int c = strncmp(a, b, la < lb ? la : lb);

	return c ? c : (la > lb) - (la < lb);
}

/* Equal lines, where a field "key=?" on either side matches any value of
 * that key (an oracle that cannot know the field for this entry). */
static int same_line(const char *a, const char *b)
{
	if (!strcmp(a, b))
		return 1;
	while (*a && *b) {
		size_t la = strcspn(a, " "), lb = strcspn(b, " ");
		size_t ka = strcspn(a, "="), kb = strcspn(b, "=");
		int wild = (la == ka + 2 && a[ka + 1] == '?') ||
			   (lb == kb + 2 && b[kb + 1] == '?');

		if (wild ? ka != kb || strncmp(a, b, ka) :
			   la != lb || strncmp(a, b, la))
			return 0;
		a += la + !!a[la];
		b += lb + !!b[lb];
	}
	return !*a && !*b;
}

int sfs_mf_diff(const struct sfs_mf *a, const struct sfs_mf *b,
		char *buf, size_t len, int max)
{
	size_t i = 0, j = 0, used = 0;
	int ndiff = 0;

	if (len)
		buf[0] = 0;
#define SHOW(c, s) do {							\
		if (ndiff < max && used < len) {			\
			int _n = snprintf(buf + used, len - used, "%c%s\n", c, s); \
			if (_n > 0)					\
				used += _n;				\
			if (used > len)					\
				used = len;				\
		}							\
	} while (0)
	while (i < a->n || j < b->n) {
		int c = i == a->n ? 1 : j == b->n ? -1 :
			cmp_path(a->lines[i], b->lines[j]);

		if (c < 0) {
			SHOW('-', a->lines[i]);
			ndiff++;
			i++;
		} else if (c > 0) {
			SHOW('+', b->lines[j]);
			ndiff++;
			j++;
		} else {
			if (!same_line(a->lines[i], b->lines[j])) {
				SHOW('-', a->lines[i]);
				SHOW('+', b->lines[j]);
				ndiff++;
			}
			i++;
			j++;
		}
	}
#undef SHOW
	return ndiff;
}

void sfs_mf_free(struct sfs_mf *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->lines[i]);
	free(m->lines);
	m->lines = NULL;
	m->n = 0;
}
