// SPDX-License-Identifier: GPL-2.0-only OR Apache-2.0
/*
 * unit.c - host tests for tools/lib and mkfs.sharefs.
 *
 * Plain C, no framework: each test prints "ok N name" or "not ok N name"
 * (or "ok N name # SKIP why"), the last line is "N passed, N failed", and
 * the exit status is non-zero on any failure.  Image checks use a tiny
 * reader below that follows the documented format, independent of the
 * writer's layout code; fsck.erofs is the outside oracle when installed.
 *
 * Usage: unit PATH/TO/mkfs.sharefs [PATH/TO/sharefs-stat [PATH/TO/iotrace.so]]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "mkfs.h"

static int npass, nfail, nskip, ntest;
static const char *mkfs, *iotrace;
static char work[256];

static void result(bool ok, const char *name, const char *skip)
{
	ntest++;
	if (skip) {
		printf("ok %d %s # SKIP %s\n", ntest, name, skip);
		nskip++;
	} else {
		printf("%sok %d %s\n", ok ? "" : "not ", ntest, name);
		if (ok)
			npass++;
		else
			nfail++;
	}
	fflush(stdout);
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* ---- a minimal independent reader ---- */

struct img {
	uint8_t *d;
	size_t len;
	unsigned int bsz;
	uint64_t meta;
	uint64_t root;
};

static int img_open(struct img *im, const char *path)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	im->d = malloc((size_t)n);
	im->len = (size_t)n;
	if (fread(im->d, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		return -1;
	}
	fclose(f);
	im->bsz = 1u << im->d[1024 + 12];
	im->meta = (uint64_t)(*(uint32_t *)(im->d + 1024 + 40)) * im->bsz;
	im->root = *(uint16_t *)(im->d + 1024 + 14);
	return 0;
}

struct ino {
	const uint8_t *p;
	bool compact;
	unsigned int layout, isize, xsize;
	uint16_t mode;
	uint64_t size;
	uint32_t startblk, nlink;
};

static void get_ino(struct img *im, uint64_t nid, struct ino *i)
{
	uint16_t fmt, icount;

	i->p = im->d + im->meta + nid * 32;
	fmt = *(uint16_t *)i->p;
	icount = *(uint16_t *)(i->p + 2);
	i->compact = !(fmt & 1);
	i->layout = (fmt >> 1) & 7;
	i->isize = i->compact ? 32 : 64;
	i->xsize = icount ? 12 + 4 * (icount - 1) : 0;
	i->mode = *(uint16_t *)(i->p + 4);
	i->size = i->compact ? *(uint32_t *)(i->p + 8) : *(uint64_t *)(i->p + 8);
	i->startblk = *(uint32_t *)(i->p + 16);
	i->nlink = i->compact ? *(uint16_t *)(i->p + 6) : *(uint32_t *)(i->p + 44);
}

/* Byte at offset off of a flat inode's data. */
static const uint8_t *data_at(struct img *im, struct ino *i, uint64_t off)
{
	uint64_t full = i->size / im->bsz * im->bsz;

	if (i->layout == SHAREFS_INODE_FLAT_INLINE && off >= full)
		return i->p + i->isize + i->xsize + (off - full);
	return im->d + (uint64_t)i->startblk * im->bsz + off;
}

static int64_t lookup(struct img *im, uint64_t dirnid, const char *name)
{
	struct ino d;

	get_ino(im, dirnid, &d);
	for (uint64_t b = 0; b < d.size; b += im->bsz) {
		const uint8_t *blk = data_at(im, &d, b);
		uint64_t bl = d.size - b < im->bsz ? d.size - b : im->bsz;
		unsigned int n = *(uint16_t *)(blk + 8) / 12;

		for (unsigned int k = 0; k < n; k++) {
			unsigned int off = *(uint16_t *)(blk + 12 * k + 8);
			unsigned int end = k + 1 < n ? *(uint16_t *)(blk + 12 * (k + 1) + 8) :
				(unsigned int)bl;
			unsigned int len = (unsigned int)strnlen((const char *)blk + off, end - off);

			if (len == strlen(name) && !memcmp(blk + off, name, len))
				return (int64_t)*(uint64_t *)(blk + 12 * k);
		}
	}
	return -1;
}

static int64_t walk(struct img *im, const char *path)
{
	char buf[1024], *s, *save = NULL;
	int64_t nid = (int64_t)im->root;

	snprintf(buf, sizeof(buf), "%s", path);
	for (s = strtok_r(buf, "/", &save); s && nid >= 0; s = strtok_r(NULL, "/", &save))
		nid = lookup(im, (uint64_t)nid, s);
	return nid;
}

/* Returns the value length, -1 if absent. */
static int get_xattr(struct img *im, uint64_t nid, uint8_t index,
		     const char *name, uint8_t *val)
{
	struct ino i;
	const uint8_t *p, *end;

	get_ino(im, nid, &i);
	if (!i.xsize)
		return -1;
	p = i.p + i.isize + 12 + 4 * i.p[i.isize + 4];
	end = i.p + i.isize + i.xsize;
	while (p < end) {
		uint8_t nl = p[0], ix = p[1];
		uint16_t vs = *(uint16_t *)(p + 2);

		if (ix == index && nl == strlen(name) && !memcmp(p + 4, name, nl)) {
			memcpy(val, p + 4 + nl, vs);
			return vs;
		}
		p += (4 + nl + vs + 3) & ~3u;
	}
	return -1;
}

/*
 * The stored bytes of a flat file hash to its trusted.fingerprint: what
 * a sharing mount trusts is what the image holds.
 */
static bool stored_matches_fp(struct img *im, const char *path)
{
	uint8_t v[64], md[32];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int64_t nid = walk(im, path);
	struct ino i;
	bool ok;

	if (nid < 0 || !ctx)
		return false;
	get_ino(im, (uint64_t)nid, &i);
	ok = get_xattr(im, (uint64_t)nid, 4, "fingerprint", v) == 39 &&
	     i.layout != SHAREFS_INODE_CHUNK_BASED;
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (uint64_t off = 0; ok && off < i.size; off += im->bsz) {
		uint64_t len = i.size - off < im->bsz ? i.size - off : im->bsz;

		EVP_DigestUpdate(ctx, data_at(im, &i, off), (size_t)len);
	}
	EVP_DigestFinal_ex(ctx, md, NULL);
	EVP_MD_CTX_free(ctx);
	return ok && !memcmp(v, "sha256:", 7) && !memcmp(v + 7, md, 32);
}

/* ---- tests ---- */

static void t_crc32c(void)
{
	static const uint8_t zeros[32];

	/* CRC-32C check value 0xE3069283 is after the final inversion */
	result(sharefs_crc32c(~0u, "123456789", 9) == ~0xE3069283u &&
	       sharefs_crc32c(~0u, zeros, 32) == ~0x8A9136AAu, "crc32c_vectors", NULL);
}

static void mktree(const char *d)
{
	sh("rm -rf %s && mkdir -p %s/sub/deep %s/empty_dir && cd %s && "
	   "echo hello > a.txt && head -c 100000 /dev/urandom > big && cp big big.copy && "
	   "ln -s a.txt link && ln a.txt hard && mkfifo fifo && mknod chr c 1 3 && "
	   "mknod blk b 7 0 && python3 -c \"import socket;s=socket.socket(socket.AF_UNIX);s.bind('sock')\" && "
	   "printf '%%5000s' x > sub/deep/f5000 && : > empty && touch -- -dash '!bang' && "
	   "chmod 4751 big && chown 70000:123 a.txt && TZ=UTC touch -d '2001-02-03 04:05:06.789' sub/deep/f5000 && "
	   "setfattr -n user.foo -v bar a.txt && setfattr -n trusted.t -v 1 big && "
	   "(setfacl -m u:1000:rw big && setfacl -d -m g:5:rx sub || true) && "
	   "for i in $(seq 400); do : > sub/name_$i.$(printf '%%0100d' 0); done",
	   d, d, d, d);
}

/*
 * No inode at nid 0: inode numbers derive from nids, and userspace reads
 * inode number 0 as "no entry" (glibc's readdir hides such dirents).
 */
static void t_no_nid0(const char *image)
{
	struct img im;
	bool ok;

	if (img_open(&im, image)) {
		result(false, "no_inode_at_nid0", NULL);
		return;
	}
	ok = *(uint16_t *)(im.d + 1024 + 14) != 0 &&	/* rootnid_2b */
	     walk(&im, "a.txt") > 0 && walk(&im, "sub") > 0 &&
	     walk(&im, "sub/..") > 0;
	free(im.d);
	result(ok, "no_inode_at_nid0", NULL);
}

static void t_super_checksum(const char *image)
{
	struct img im;
	uint32_t stored, calc;
	bool ok;

	if (img_open(&im, image)) {
		result(false, "superblock_checksum_roundtrip", NULL);
		return;
	}
	stored = *(uint32_t *)(im.d + 1028);
	calc = sharefs_super_checksum(im.d, im.bsz);
	ok = stored == calc && (*(uint32_t *)(im.d + 1024 + 8) & 1);
	im.d[1024 + 64] ^= 1;		/* flip a byte of the uuid */
	ok = ok && sharefs_super_checksum(im.d, im.bsz) != stored;
	result(ok, "superblock_checksum_roundtrip", NULL);
	free(im.d);
}

static void t_dir_pack(void)
{
	struct sharefs_node *d = sharefs_node_new(S_IFDIR | 0755);
	const char *names[] = { "b", "-x", "a", "B", "ab", "aa", "..a", "z" };
	struct sharefs_dentry *s;
	size_t n, size;
	bool ok = true;
	char name[64];

	for (size_t i = 0; i < 8; i++)
		sharefs_node_add_child(d, names[i], sharefs_node_new(S_IFREG | 0644));
	size = sharefs_dir_pack(d, 4096, &s, &n);
	/* byte order: "-x" < "." < ".." < "..a" < "B" < "a" < "aa" < "ab" ... */
	ok = n == 10 && !strcmp(s[0].name, "-x") && !strcmp(s[1].name, ".") &&
	     !strcmp(s[2].name, "..") && !strcmp(s[3].name, "..a") &&
	     !strcmp(s[4].name, "B") && !strcmp(s[5].name, "a") &&
	     d->ndirblk == 1 && size == 10 * 12 + 2 + 1 + 2 + 3 + 1 + 1 + 2 + 2 + 1 + 1;
	free(s);
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "file-%03d-padding-padding", i);
		sharefs_node_add_child(d, name, sharefs_node_new(S_IFREG | 0644));
	}
	size = sharefs_dir_pack(d, 512, &s, &n);
	for (size_t b = 0; b < d->ndirblk; b++) {
		size_t used = 0;

		for (uint32_t i = d->dirblk_first[b]; i < d->dirblk_first[b + 1]; i++)
			used += 12 + s[i].len;
		ok = ok && used <= 512;
	}
	for (size_t i = 1; i < n; i++)
		ok = ok && sharefs_name_cmp(s[i - 1].name, s[i - 1].len,
					    s[i].name, s[i].len) < 0;
	ok = ok && d->ndirblk > 1 && size > (d->ndirblk - 1) * 512 &&
	     size <= d->ndirblk * 512;
	free(s);
	result(ok, "dirent_packing_sorting", NULL);
}

static void t_inline(void)
{
	bool ok = !sharefs_want_inline(4096, 64, 0) &&
		  !sharefs_want_inline(4096, 64, 8192) &&	/* no tail */
		  sharefs_want_inline(4096, 64, 100) &&
		  sharefs_want_inline(4096, 64, 4096 + 4032) &&	/* 64 + 4032 fits */
		  !sharefs_want_inline(4096, 64, 4096 + 4033) &&
		  !sharefs_want_inline(512, 64 + 500, 10);
	result(ok, "inline_vs_plain_decision", NULL);
}

static void t_fingerprint(const char *image, const char *src)
{
	struct img im;
	uint8_t v[1024], want[32];
	char hex[65] = "";
	FILE *p;
	int64_t nid;
	int len;
	bool ok;

	if (img_open(&im, image)) {
		result(false, "fingerprint_matches_sha256sum", NULL);
		return;
	}
	snprintf((char *)v, sizeof(v), "sha256sum %s/big | cut -c1-64", src);
	p = popen((char *)v, "r");
	if (!p || fscanf(p, "%64s", hex) != 1) {
		result(false, "fingerprint_matches_sha256sum", NULL);
		return;
	}
	pclose(p);
	for (int i = 0; i < 32; i++)
		sscanf(hex + 2 * i, "%2hhx", &want[i]);
	nid = walk(&im, "big");
	len = nid < 0 ? -1 : get_xattr(&im, (uint64_t)nid, 4, "fingerprint", v);
	ok = len == 39 && !memcmp(v, "sha256:", 7) && !memcmp(v + 7, want, 32);
	/* empty files and non-regular files carry none */
	nid = walk(&im, "empty");
	ok = ok && nid >= 0 && get_xattr(&im, (uint64_t)nid, 4, "fingerprint", v) < 0;
	nid = walk(&im, "link");
	ok = ok && nid >= 0 && get_xattr(&im, (uint64_t)nid, 4, "fingerprint", v) < 0;
	result(ok, "fingerprint_matches_sha256sum", NULL);
	{
		struct ino i;

		struct stat st;
		char p[400];

		snprintf(p, sizeof(p), "%.300s/big", src);
		get_ino(&im, (uint64_t)walk(&im, "big"), &i);
		ok = !lstat(p, &st) && i.mode == st.st_mode && (i.mode & 04000);
		get_ino(&im, (uint64_t)walk(&im, "a.txt"), &i);
		ok = ok && !i.compact && *(uint32_t *)(i.p + 24) == 70000 && *(uint32_t *)(i.p + 28) == 123;
		get_ino(&im, (uint64_t)walk(&im, "chr"), &i);
		ok = ok && S_ISCHR(i.mode) && i.startblk == ((1 << 8) | 3);
		get_ino(&im, (uint64_t)walk(&im, "sub/deep/f5000"), &i);
		ok = ok && !i.compact && *(uint64_t *)(i.p + 32) == 981173106ull &&
		     *(uint32_t *)(i.p + 40) == 789000000;
		result(ok, "modes_ids_devices_mtime", NULL);
	}

	/* xattrs, hard links, dedup, inline tails */
	nid = walk(&im, "a.txt");
	ok = nid >= 0 && get_xattr(&im, (uint64_t)nid, 1, "foo", v) == 3 &&
	     !memcmp(v, "bar", 3) && walk(&im, "hard") == nid;
	{
		struct ino a, b2, f;

		get_ino(&im, (uint64_t)nid, &a);
		ok = ok && a.nlink == 2;
		get_ino(&im, (uint64_t)walk(&im, "big"), &b2);
		get_ino(&im, (uint64_t)walk(&im, "big.copy"), &f);
		result(ok, "xattrs_and_hardlinks", NULL);
		result(b2.startblk == f.startblk && b2.size == 100000 &&
		       !memcmp(data_at(&im, &b2, 0), data_at(&im, &f, 0), 4096),
		       "dedup_shares_blocks", NULL);
		get_ino(&im, (uint64_t)walk(&im, "sub/deep/f5000"), &f);
		ok = f.layout == SHAREFS_INODE_FLAT_INLINE &&
		     ((f.p - im.d) % im.bsz) + f.isize + f.xsize + 5000 % im.bsz <= im.bsz &&
		     !memcmp(data_at(&im, &f, 4999), "x", 1);
		result(ok, "inline_tail_in_inode_block", NULL);
	}
	result(stored_matches_fp(&im, "big") && stored_matches_fp(&im, "big.copy") &&
	       stored_matches_fp(&im, "a.txt") && stored_matches_fp(&im, "sub/deep/f5000"),
	       "stored_bytes_match_fingerprint", NULL);
	free(im.d);
}

/*
 * Each source file is opened once and its bytes are read once, by read or
 * pread (not copy_file_range, whose bytes nobody hashes): the bytes hashed
 * are the bytes stored.  Hard-linked files are left out (one open serves
 * all their names).
 */
static void t_single_read(const char *src)
{
	if (!iotrace) {
		result(true, "source_files_opened_and_read_once", "no iotrace.so");
		return;
	}
	result(sh("rm -f %s/io.log && LD_PRELOAD=%s IOTRACE_LOG=%s/io.log IOTRACE_PREFIX=%s/ "
		  "%s -q -j2 %s/once.img %s", work, iotrace, work, src, mkfs, work, src) == 0 &&
	       sh("cd %s && find %s -type f -size +0c -links 1 -printf '%%p 1 %%s 0\\n' | sort > once.want && "
		  "awk '$1 == \"open\" { o[$2]++ } "
		  "$1 == \"close\" { sub(\"read=\", \"\", $3); sub(\"cfr=\", \"\", $4); r[$2] += $3; c[$2] += $4 } "
		  "END { for (p in o) print p, o[p], r[p] + 0, c[p] + 0 }' io.log | sort > once.got && "
		  "join -o 2.1,2.2,2.3,2.4 once.want once.got > once.joined && "
		  "diff once.want once.joined | head -5 >&2 && cmp -s once.want once.joined",
		  work, src) == 0 &&
	       sh("grep -q '^open %s/big$' %s/io.log", src, work) == 0,
	       "source_files_opened_and_read_once", NULL);
}

/*
 * A file that changes while mkfs runs: iotrace.so flips a byte of m1 (read
 * whole in memory) and of m2 (streamed, 3 MiB) each time mkfs closes them.
 * A second read would store bytes that do not match the fingerprint.
 */
static void t_edit_between_reads(void)
{
	char img[400];
	struct img im;
	bool ok;

	if (!iotrace) {
		result(true, "file_edited_under_mkfs_stored_as_hashed", "no iotrace.so");
		return;
	}
	snprintf(img, sizeof(img), "%.300s/edit.img", work);
	ok = sh("rm -rf %s/edit && mkdir %s/edit && head -c 200000 /dev/urandom > %s/edit/m1 && "
		"head -c 3000000 /dev/urandom > %s/edit/m2 && cp %s/edit/m1 %s/edit/m1.copy",
		work, work, work, work, work, work) == 0 &&
	     sh("LD_PRELOAD=%s IOTRACE_PREFIX=%s/edit/ IOTRACE_MUTATE=%s/edit/m1:%s/edit/m2 "
		"%s -q %s %s/edit", iotrace, work, work, work, mkfs, img, work) == 0 &&
	     !img_open(&im, img);
	if (!ok) {
		result(false, "file_edited_under_mkfs_stored_as_hashed", NULL);
		return;
	}
	ok = stored_matches_fp(&im, "m1") && stored_matches_fp(&im, "m2") &&
	     stored_matches_fp(&im, "m1.copy");
	free(im.d);
	result(ok, "file_edited_under_mkfs_stored_as_hashed", NULL);
}

/*
 * The image's bytes are durable before its name: fsync of the temporary
 * file, then of the directory, then the rename, then the directory again
 * (the order iotrace.so logs them in).
 */
static void t_fsync_order(const char *src)
{
	if (!iotrace) {
		result(true, "fsync_before_rename", "no iotrace.so");
		return;
	}
	result(sh("rm -f %s/dur.log && LD_PRELOAD=%s IOTRACE_LOG=%s/dur.log %s -q %s/dur.img %s",
		  work, iotrace, work, mkfs, work, src) == 0 &&
	       sh("cd %s && grep -E '^(fsync|rename) ' dur.log | sed 's/tmp-[A-Za-z0-9]*/tmp-X/g' > dur.got && "
		  "printf 'fsync %%s/dur.img.tmp-X\\nfsync %%s\\nrename %%s/dur.img.tmp-X %%s/dur.img\\nfsync %%s\\n' "
		  "%s %s %s %s %s > dur.want && diff dur.want dur.got >&2",
		  work, work, work, work, work, work) == 0,
	       "fsync_before_rename", NULL);
}

static bool same_file(const char *a, const char *b)
{
	return sh("cmp -s %s %s", a, b) == 0;
}

static void t_repro(const char *src)
{
	bool ok = sh("%s -q -j1 -T 1700000000 -U 11111111-2222-3333-4444-555555555555 %s/r1 %s",
		     mkfs, work, src) == 0 &&
		  sh("touch %s/sub/zz_new && rm %s/sub/zz_new && "
		     "%s -q -j2 -T 1700000000 -U 11111111-2222-3333-4444-555555555555 %s/r2 %s",
		     src, src, mkfs, work, src) == 0;
	char a[600], b[600];

	snprintf(a, sizeof(a), "%s/r1", work);
	snprintf(b, sizeof(b), "%s/r2", work);
	/* the touch/rm changed sub's mtime: restore by comparing only the
	 * same-input pair below */
	ok = ok && sh("%s -q -j2 -T 1700000000 -U 11111111-2222-3333-4444-555555555555 %s/r3 %s",
		      mkfs, work, src) == 0;
	snprintf(a, sizeof(a), "%s/r2", work);
	snprintf(b, sizeof(b), "%s/r3", work);
	ok = ok && same_file(a, b);
	ok = ok && sh("SOURCE_DATE_EPOCH=1700000000 %s -q -j1 -U 11111111-2222-3333-4444-555555555555 %s/r4 %s",
		      mkfs, work, src) == 0;
	snprintf(a, sizeof(a), "%s/r4", work);
	ok = ok && same_file(a, b);
	result(ok, "reproducible_byte_identical", NULL);
}

static bool have(const char *prog)
{
	return sh("command -v %s >/dev/null 2>&1", prog) == 0;
}

/*
 * fsck.erofs 1.5 extracts neither xattrs, hard links nor set-id bits, and
 * tar skips sockets: compare what both sides keep.
 */
static void t_fsck(const char *name, const char *image, const char *src,
		   const char *skip)
{
	if (!have("fsck.erofs")) {
		result(true, name, "fsck.erofs not installed");
		return;
	}
	result(sh("fsck.erofs %s >/dev/null 2>&1", image) == 0 &&
	       sh("rm -rf %s/x && fsck.erofs --extract=%s/x %s >/dev/null 2>&1", work,
		  work, image) == 0 &&
	       sh("diff -r --no-dereference %s %s/x 2>&1 | grep -v '^File .* is a \\(fifo\\|character\\|block\\|socket\\)' | grep -v '%s' | grep -q . && exit 1 || exit 0",
		  src, work, skip) == 0 &&
	       sh("cd %s && find . -printf '%%p %%M %%s %%T@ %%l\\n' | grep -v '%s' | awk '{gsub(/[sStT]/,\"x\",$2); if ($2 ~ /^d/) $3=\"-\"; $1=$1; print}' | sort > %s/s.lst && "
		  "cd %s/x && find . -printf '%%p %%M %%s %%T@ %%l\\n' | awk '{gsub(/[sStT]/,\"x\",$2); if ($2 ~ /^d/) $3=\"-\"; $1=$1; print}' | sort > %s/x.lst && "
		  "diff %s/s.lst %s/x.lst >&2", src, skip, work, work, work, work, work) == 0,
	       name, NULL);
}

static bool no_leftover(const char *img)
{
	return sh("ls %s %s.tmp-* >/dev/null 2>&1", img, img) != 0;
}

/*
 * A file that shrinks between the scan and its read fails the build with
 * its name, while reader threads hold later files: no hang, exit 1, no
 * image left behind.
 */
static void t_file_shrinks(void)
{
	char img[400];

	if (!iotrace) {
		result(true, "file_shrinking_under_mkfs_fails_cleanly", "no iotrace.so");
		return;
	}
	snprintf(img, sizeof(img), "%.300s/shrink.img", work);
	result(sh("rm -rf %s/shrink && mkdir %s/shrink && cd %s/shrink && "
		  "for i in $(seq 100 299); do head -c $((i * 100)) /dev/urandom > f$i; done && "
		  "head -c 3000000 /dev/urandom > f150big", work, work, work) == 0 &&
	       sh("LD_PRELOAD=%s IOTRACE_PREFIX=%s/shrink/ IOTRACE_SHRINK=%s/shrink/f150big "
		  "timeout 60 %s -q -j2 %s %s/shrink 2> %s/shrink.err", iotrace, work, work,
		  mkfs, img, work, work) == 1 &&
	       sh("grep -q 'shrink/f150big: file changed while reading' %s/shrink.err", work) == 0 &&
	       no_leftover(img), "file_shrinking_under_mkfs_fails_cleanly", NULL);
}

static void t_errors(const char *src)
{
	char img[512];

	snprintf(img, sizeof(img), "%.200s/bad", work);
	result(sh("%s -q %s /nonexistent/dir 2>/dev/null", mkfs, img) == 1 &&
	       no_leftover(img), "error_missing_source", NULL);
	result(sh("head -c 3000 /dev/urandom > %s/junk.tar; %s -q --tar %s %s/junk.tar 2>/dev/null",
		  work, mkfs, img, work) == 1 && no_leftover(img) &&
	       sh("cd %s && tar cf %s/t.tar . && head -c 20000 %s/t.tar > %s/trunc.tar && "
		  "%s -q --tar %s %s/trunc.tar 2>/dev/null", src, work, work, work, mkfs, img, work) == 1 &&
	       no_leftover(img), "error_corrupt_tar", NULL);
	/* the output's rename must never replace a device node */
	result(sh("mknod %s/node c 1 3 && chmod 666 %s/node && "
		  "%s -q %s/node %s 2>/dev/null", work, work, mkfs, work, src) == 1 &&
	       sh("[ -c %s/node ] && [ \"$(stat -c %%a %s/node)\" = 666 ]", work, work) == 0 &&
	       no_leftover(img), "error_output_not_regular_file", NULL);
	result(sh("ln -s target.img %s/link && %s -q %s/link %s && [ -L %s/link ] && "
		  "[ -f %s/target.img ]", work, mkfs, work, src, work, work) == 0,
	       "output_symlink_followed", NULL);
	result(sh("%s -q -b 3000 %s %s 2>/dev/null", mkfs, img, src) == 2 &&
	       sh("%s -q -b 8192 %s %s 2>/dev/null", mkfs, img, src) == 2 &&
	       sh("%s --bogus 2>/dev/null", mkfs) == 2 && sh("%s %s 2>/dev/null", mkfs, img) == 2 &&
	       no_leftover(img), "error_bad_options_exit_2", NULL);
	if (geteuid() == 0 && sh("mkdir -p %s/tiny && mount -t tmpfs -o size=64k tmpfs %s/tiny 2>/dev/null",
				 work, work) == 0) {
		result(sh("%s -q %s/tiny/img %s 2>/dev/null", mkfs, work, src) == 1 &&
		       sh("[ -z \"$(ls -A %s/tiny)\" ]", work) == 0, "error_enospc_no_leftover", NULL);
		sh("umount %s/tiny", work);
	} else {
		result(true, "error_enospc_no_leftover", "cannot mount tmpfs");
	}
	if (geteuid() == 0 && sh("mkdir -p %s/loop/a/b && mount --bind %s/loop %s/loop/a/b 2>/dev/null",
				 work, work, work) == 0) {
		result(sh("%s -q %s %s/loop 2>/dev/null", mkfs, img, work) == 1 && no_leftover(img),
		       "error_bind_mount_loop", NULL);
		sh("umount %s/loop/a/b", work);
	} else {
		result(true, "error_bind_mount_loop", "cannot bind mount");
	}
}

static void t_tar(const char *src)
{
	char img[512];

	snprintf(img, sizeof(img), "%.200s/tar.img", work);
	if (sh("cd %s && tar --xattrs --xattrs-include='*' --acls -czf %s/t.tgz . && "
	       "%s -q --tar %s %s/t.tgz", src, work, mkfs, img, work)) {
		result(false, "tar_gzip_roundtrip", NULL);
		return;
	}
	t_fsck("tar_gzip_roundtrip_fsck", img, src, "sock");
	{
		struct img im;
		uint8_t v[256];
		int64_t nid;
		bool ok = !img_open(&im, img);

		nid = ok ? walk(&im, "a.txt") : -1;
		ok = nid >= 0 && get_xattr(&im, (uint64_t)nid, 1, "foo", v) == 3 &&
		     walk(&im, "hard") == nid &&
		     get_xattr(&im, (uint64_t)walk(&im, "big"), 2, "", v) > 4;
		result(ok, "tar_xattrs_acl_hardlinks", NULL);
		free(im.d);
	}
}

/* A pax tar in WORK/NAME.tar made by a Python statement list on tarfile t. */
static int mktar(const char *name, const char *body)
{
	return sh("cd %s && python3 -c \"import tarfile, io\n"
		  "t = tarfile.open('%s.tar', 'w', format=tarfile.PAX_FORMAT)\n"
		  "def reg(name, data, **kw):\n"
		  "    i = tarfile.TarInfo(name); i.size = len(data); i.mtime = 1000000\n"
		  "    for k, v in kw.items(): setattr(i, k, v)\n"
		  "    t.addfile(i, io.BytesIO(data))\n"
		  "def node(name, type, **kw):\n"
		  "    i = tarfile.TarInfo(name); i.type = type; i.mtime = 1000000\n"
		  "    i.mode = 0o755 if type == tarfile.DIRTYPE else 0o644\n"
		  "    for k, v in kw.items(): setattr(i, k, v)\n"
		  "    t.addfile(i)\n"
		  "%s\n"
		  "t.close()\"", work, name, body);
}

/*
 * i_xattr_icount counts 4-byte units in a u16: past 12 + 4 * 65534 bytes
 * of inline xattrs it used to wrap silently (an image fsck.erofs calls
 * corrupt).  Four 60000-byte values fit, five are refused.
 */
static void t_xattr_limit(void)
{
	char img[400];

	snprintf(img, sizeof(img), "%.300s/xattr.img", work);
	result(mktar("xa4", "reg('f', b'x', pax_headers={'SCHILY.xattr.user.x%d' % k: 'v' * 60000 for k in range(4)})") == 0 &&
	       mktar("xa5", "reg('f', b'x', pax_headers={'SCHILY.xattr.user.x%d' % k: 'v' * 60000 for k in range(5)})") == 0 &&
	       sh("%s -q --tar %s %s/xa4.tar", mkfs, img, work) == 0 &&
	       (!have("fsck.erofs") || sh("fsck.erofs %s > /dev/null 2>&1", img) == 0) &&
	       sh("rm %s && %s -q --tar %s %s/xa5.tar 2> %s/xa5.err", img, mkfs, img, work, work) == 1 &&
	       sh("grep -q 'f: 300108 bytes of xattrs, more than the 262148' %s/xa5.err", work) == 0 &&
	       no_leftover(img), "xattrs_too_large_refused", NULL);
}

/*
 * The format's rdev holds a 12-bit major and a 20-bit minor; larger
 * numbers used to be truncated silently into another device.
 */
static void t_rdev_limit(void)
{
	char img[400];
	struct img im;
	struct ino i;
	bool ok;

	snprintf(img, sizeof(img), "%.300s/rdev.img", work);
	ok = mktar("dev_ok", "node('c', tarfile.CHRTYPE, devmajor=4095, devminor=1048575)") == 0 &&
	     mktar("dev_major", "node('c', tarfile.CHRTYPE, devmajor=4096, devminor=0)") == 0 &&
	     mktar("dev_minor", "node('b', tarfile.BLKTYPE, devmajor=8, devminor=1048576)") == 0 &&
	     sh("%s -q --tar %s %s/dev_ok.tar", mkfs, img, work) == 0 && !img_open(&im, img);
	if (ok) {
		get_ino(&im, (uint64_t)walk(&im, "c"), &i);
		ok = S_ISCHR(i.mode) && i.startblk == 0xffffffffu;
		free(im.d);
	}
	ok = ok && sh("rm %s && %s -q --tar %s %s/dev_major.tar 2> %s/dev.err", img, mkfs, img, work, work) == 1 &&
	     sh("grep -q 'c: device 4096:0 does not fit' %s/dev.err", work) == 0 &&
	     sh("%s -q --tar %s %s/dev_minor.tar 2> %s/dev.err", mkfs, img, work, work) == 1 &&
	     sh("grep -q 'b: device 8:1048576 does not fit' %s/dev.err", work) == 0 &&
	     no_leftover(img);
	result(ok, "device_numbers_too_large_refused", NULL);
}

/*
 * A trusted.fingerprint that comes with the source was never checked
 * against the content: it must not reach the image.  With
 * --no-fingerprint no file carries one; by default only non-empty regular
 * files do, and theirs is computed (a forged one is replaced).
 */
static void t_source_fingerprint(void)
{
	static const char *const names[] = { "f", "e", "d" };
	const char *forged = "0x7368613235363a" "4242424242424242424242424242424242424242424242424242424242424242";
	char img[400], timg[400];
	struct img im, tim;
	uint8_t v[64];
	bool ok;

	snprintf(img, sizeof(img), "%.300s/nofp.img", work);
	snprintf(timg, sizeof(timg), "%.300s/nofp-tar.img", work);
	ok = sh("rm -rf %s/fp && mkdir -p %s/fp/d && cd %s/fp && echo abc > f && : > e && "
		"for n in f e d; do setfattr -n trusted.fingerprint -v %s $n || exit 1; done && "
		"tar --xattrs --xattrs-include='*' -cf ../fp.tar .", work, work, work, forged) == 0 &&
	     sh("%s -q --no-fingerprint %s %s/fp", mkfs, img, work) == 0 &&
	     sh("%s -q --no-fingerprint --tar %s %s/fp.tar", mkfs, timg, work) == 0 &&
	     !img_open(&im, img) && !img_open(&tim, timg);
	if (!ok) {
		result(false, "source_fingerprint_not_passed_through", NULL);
		return;
	}
	for (int i = 0; i < 3; i++)
		ok = ok && get_xattr(&im, (uint64_t)walk(&im, names[i]), 4, "fingerprint", v) < 0 &&
		     get_xattr(&tim, (uint64_t)walk(&tim, names[i]), 4, "fingerprint", v) < 0;
	free(im.d);
	free(tim.d);
	ok = ok && sh("%s -q %s %s/fp", mkfs, img, work) == 0 && !img_open(&im, img);
	if (ok) {
		ok = stored_matches_fp(&im, "f") &&
		     get_xattr(&im, (uint64_t)walk(&im, "e"), 4, "fingerprint", v) < 0 &&
		     get_xattr(&im, (uint64_t)walk(&im, "d"), 4, "fingerprint", v) < 0;
		free(im.d);
	}
	result(ok, "source_fingerprint_not_passed_through", NULL);
}

/* ---- --verity ---- */

static void t_verity_tree_size(void)
{
	static const struct { uint64_t size, hashes; } v[] = {
		{ 0, 0 }, { 1, 0 }, { 4096, 0 },	/* one block: no tree */
		{ 4097, 2 }, { 524288, 128 },		/* one level: top block */
		{ 524289, 129 + 2 },			/* two levels */
		{ 1048577, 257 + 3 },
		{ 8000000, 1954 + 16 },
		{ 128ull * 128 * 4096, 16384 + 128 },
		{ 128ull * 128 * 4096 + 1, 16385 + 129 + 2 },
		{ 1ull << 40, (1ull << 28) + (1 << 21) + (1 << 14) + (1 << 7) },
	};
	bool ok = true;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		ok = ok && sharefs_verity_tree_size(v[i].size) == v[i].hashes * 32;
	result(ok, "verity_tree_sizes", NULL);
}

/* SHA-256 of a block, after the salt zero-padded to 64 bytes if any */
static void salted_sha256(const uint8_t *salt, unsigned int salt_size,
			  const void *p, size_t len, uint8_t md[32])
{
	uint8_t pad[64] = { 0 };
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	memcpy(pad, salt, salt_size);
	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	if (salt_size)
		EVP_DigestUpdate(c, pad, sizeof(pad));
	EVP_DigestUpdate(c, p, len);
	EVP_DigestFinal_ex(c, md, NULL);
	EVP_MD_CTX_free(c);
}

/* Bytes [off, off + len) of a flat file, across image blocks. */
static void copy_data(struct img *im, struct ino *i, uint64_t off, size_t len,
		      uint8_t *out)
{
	while (len) {
		size_t n = im->bsz - off % im->bsz;

		if (n > len)
			n = len;
		memcpy(out, data_at(im, i, off), n);
		out += n;
		off += n;
		len -= n;
	}
}

static uint64_t le64_at(const uint8_t *p)
{
	uint64_t v = 0;

	for (int k = 7; k >= 0; k--)
		v = v << 8 | p[k];
	return v;
}

/*
 * Check a flat file's trusted.sharefs.verity the way a reader will, from
 * fsverity.rst and the format in verity_fs.h, not from libfsverity: the
 * header, the tree's place and levels (packed: the top level first, level
 * 0 last, each its hashes back to back), every data block's hash in level
 * 0, every tree block (128 hashes zero-padded to 4096 bytes) hashed one
 * level up, the top block's (or the one data block's) hash as the root
 * hash; salted hashes when the xattr has a salt.  Returns NULL or what is
 * wrong.
 */
static const char *verity_check(struct img *im, const char *path)
{
	uint8_t v[300], md[32], blk[4096];
	uint64_t hashes[16], start[16], n, total = 0, pos;
	int64_t nid = walk(im, path);
	const uint8_t *tree, *salt = v + 48;
	int levels = 0, len;
	unsigned int ss;
	struct ino i;

	if (nid < 0)
		return "no such file";
	get_ino(im, (uint64_t)nid, &i);
	len = get_xattr(im, (uint64_t)nid, 4, "sharefs.verity", v);
	ss = v[6];
	if (len < 48 || ss > 32 || len != 48 + (int)ss)
		return "no trusted.sharefs.verity of 48 bytes + salt";
	if (memcmp(v, "SFV2", 4) || v[4] != 12 || v[5] != 1 || v[7])
		return "bad header";
	for (n = (i.size + 4095) / 4096; n > 1; n = (n + 127) / 128) {
		hashes[levels++] = n;
		if (n <= 128)
			break;
	}
	for (int l = levels - 1; l >= 0; l--) {
		start[l] = total * 32;
		total += hashes[l];
	}
	pos = le64_at(v + 8);
	if ((!pos) != (!levels) || pos % 32 || pos > im->len ||
	    total * 32 > im->len - pos)
		return "bad tree place";
	tree = im->d + pos;
	for (uint64_t b = 0; b * 4096 < i.size; b++) {
		size_t dlen = i.size - b * 4096 < 4096 ? (size_t)(i.size - b * 4096) : 4096;

		memset(blk, 0, sizeof(blk));
		copy_data(im, &i, b * 4096, dlen, blk);
		salted_sha256(salt, ss, blk, sizeof(blk), md);
		if (memcmp(md, levels ? tree + start[0] + b * 32 : v + 16, 32))
			return "a data block's hash is not in level 0";
	}
	for (int l = 0; l < levels; l++)
		for (uint64_t b = 0; b * 128 < hashes[l]; b++) {
			uint64_t cnt = hashes[l] - b * 128 < 128 ? hashes[l] - b * 128 : 128;

			memset(blk, 0, sizeof(blk));
			memcpy(blk, tree + start[l] + b * 128 * 32, cnt * 32);
			salted_sha256(salt, ss, blk, sizeof(blk), md);
			if (memcmp(md, l + 1 < levels ?
				   tree + start[l + 1] + b * 32 : v + 16, 32))
				return "a tree block's hash is not one level up";
		}
	return NULL;
}

static bool verity_files_ok(struct img *im, const char *const *names, size_t n,
			    const char *what)
{
	for (size_t k = 0; k < n; k++) {
		const char *why = verity_check(im, names[k]);

		if (why) {
			printf("# %s: %s: %s\n", what, names[k], why);
			return false;
		}
	}
	return true;
}

static uint64_t verity_tree_pos(struct img *im, const char *path)
{
	uint8_t v[300];
	int64_t nid = walk(im, path);

	if (nid < 0 || get_xattr(im, (uint64_t)nid, 4, "sharefs.verity", v) < 48)
		return 0;
	return le64_at(v + 8);
}

/*
 * mkfs --verity: every non-empty regular file's tree checks out (4096-
 * and 1024-byte blocks, directory and tar input, a salt, an inline tail,
 * two tree levels), equal files share a tree, the fingerprint is still
 * written, empty and non-regular files carry nothing, a forged xattr from
 * the source is replaced, and a changed data or tree byte fails the check.
 */
static void t_verity(void)
{
	static const char *const files[] = {
		"one", "b4096", "b4097", "tail", "two", "two.copy", "hard", "m",
	};
	const size_t nfiles = sizeof(files) / sizeof(files[0]);
	char img[400];
	struct img im;
	struct ino i;
	uint8_t v[300];
	bool ok;

	snprintf(img, sizeof(img), "%.300s/verity.img", work);
	ok = sh("rm -rf %s/v && mkdir -p %s/v/d && cd %s/v && printf x > one && "
		"head -c 4096 /dev/urandom > b4096 && head -c 4097 /dev/urandom > b4097 && "
		"head -c 5000 /dev/urandom > tail && head -c 600000 /dev/urandom > two && "
		"cp two two.copy && ln two hard && printf m > m && : > empty && ln -s one d/l && "
		"setfattr -n trusted.sharefs.verity -v forged m && "
		"tar --xattrs --xattrs-include='*' -cf ../v.tar .", work, work, work) == 0 &&
	     sh("%s -q --verity %s %s/v", mkfs, img, work) == 0 && !img_open(&im, img);
	if (!ok) {
		result(false, "verity_trees_check_out", NULL);
		return;
	}
	ok = verity_files_ok(&im, files, nfiles, "4096-byte blocks");
	get_ino(&im, (uint64_t)walk(&im, "tail"), &i);
	ok = ok && i.layout == SHAREFS_INODE_FLAT_INLINE;	/* tail after the xattr */
	result(ok, "verity_trees_check_out", NULL);
	result(verity_tree_pos(&im, "two") && verity_tree_pos(&im, "two") ==
	       verity_tree_pos(&im, "two.copy"), "verity_equal_files_share_a_tree", NULL);
	ok = stored_matches_fp(&im, "two") && stored_matches_fp(&im, "m") &&
	     get_xattr(&im, (uint64_t)walk(&im, "empty"), 4, "sharefs.verity", v) < 0 &&
	     get_xattr(&im, (uint64_t)walk(&im, "d/l"), 4, "sharefs.verity", v) < 0 &&
	     get_xattr(&im, (uint64_t)walk(&im, "d"), 4, "sharefs.verity", v) < 0;
	result(ok, "verity_with_fingerprint_only_regular_files", NULL);
	/* the checker can fail */
	get_ino(&im, (uint64_t)walk(&im, "two"), &i);
	im.d[(uint64_t)i.startblk * im.bsz + 300000] ^= 1;
	ok = verity_check(&im, "two") != NULL;
	im.d[(uint64_t)i.startblk * im.bsz + 300000] ^= 1;
	im.d[verity_tree_pos(&im, "two") + 4000] ^= 1;	/* a level-0 hash */
	ok = ok && verity_check(&im, "two") != NULL;
	im.d[verity_tree_pos(&im, "two") + 4000] ^= 1;
	ok = ok && !verity_check(&im, "two");
	result(ok, "verity_check_catches_changed_bytes", NULL);
	free(im.d);

	ok = sh("%s -q --verity -b 1024 %s %s/v", mkfs, img, work) == 0 && !img_open(&im, img);
	if (ok) {
		ok = verity_files_ok(&im, files, nfiles, "1024-byte blocks");
		free(im.d);
	}
	ok = ok && sh("%s -q --verity --tar %s %s/v.tar", mkfs, img, work) == 0 &&
	     !img_open(&im, img);
	if (ok) {
		ok = verity_files_ok(&im, files, nfiles, "tar");
		free(im.d);
	}
	/* a salt of 5 bytes: a 53-byte xattr ending in it, salted hashes */
	ok = ok && sh("%s -q --verity --verity-salt=0102030405 %s %s/v", mkfs, img, work) == 0 &&
	     !img_open(&im, img);
	if (ok) {
		ok = verity_files_ok(&im, files, nfiles, "salt") &&
		     get_xattr(&im, (uint64_t)walk(&im, "two"), 4, "sharefs.verity", v) == 53 &&
		     v[6] == 5 && !memcmp(v + 48, "\x01\x02\x03\x04\x05", 5);
		free(im.d);
	}
	result(ok, "verity_1k_blocks_tar_and_salt", NULL);
	/* without --verity: none, the forged one included */
	ok = sh("%s -q %s %s/v", mkfs, img, work) == 0 && !img_open(&im, img);
	if (ok) {
		ok = get_xattr(&im, (uint64_t)walk(&im, "m"), 4, "sharefs.verity", v) < 0 &&
		     get_xattr(&im, (uint64_t)walk(&im, "two"), 4, "sharefs.verity", v) < 0;
		free(im.d);
	}
	result(ok, "verity_none_without_the_option", NULL);
}

/* Extract TAR with GNU tar (OPTS) and with mkfs + fsck.erofs; same trees? */
static bool tar_like_gnu_tar(const char *name, const char *opts)
{
	return sh("cd %s && rm -rf %s.o %s.x %s.img && mkdir %s.o && "
		  "tar -xf %s.tar -C %s.o %s && %s -q --tar %s.img %s.tar && "
		  "fsck.erofs --extract=%s.x %s.img > /dev/null && "
		  "(cd %s.o && find . -printf '%%p %%y %%m %%l\\n' | sort) > %s.o.lst && "
		  "(cd %s.x && find . -printf '%%p %%y %%m %%l\\n' | sort) > %s.x.lst && "
		  "diff %s.o.lst %s.x.lst >&2 && diff -r --no-dereference %s.o %s.x >&2",
		  work, name, name, name, name, name, name, opts, mkfs, name, name,
		  name, name, name, name, name, name, name, name, name, name) == 0;
}

/*
 * A later tar entry replaces an earlier one at the same path completely,
 * as GNU tar extracts it: a directory replaced by a non-directory loses
 * its children (tar needs --recursive-unlink when it is not empty), and
 * a directory over a directory keeps them (plain tar -x: --recursive-
 * unlink would empty it).  Names below a replaced directory are gone: a
 * later entry there starts afresh (it used to land in the lost directory)
 * and a hard link to one is refused, as tar refuses it.  Link counts
 * follow: hard links to a replaced file, and the parent's subdirectories.
 */
static void t_tar_replace(void)
{
	char img[400];
	struct img im;
	bool ok;

	if (!have("fsck.erofs")) {
		result(true, "tar_type_change_like_gnu_tar", "fsck.erofs not installed");
		return;
	}
	snprintf(img, sizeof(img), "%.300s/repl.img", work);
	ok = mktar("repl", "node('d', tarfile.DIRTYPE); reg('d/a', b'a'); node('d/sub', tarfile.DIRTYPE)\n"
		   "reg('d/sub/b', b'b'); reg('d', b'now a file')\n"
		   "node('e', tarfile.DIRTYPE); reg('e/x', b'old x'); reg('e', b'file')\n"
		   "node('e', tarfile.DIRTYPE); reg('e/x', b'new x')\n"
		   "reg('f', b'f data'); node('g', tarfile.LNKTYPE, linkname='f')\n"
		   "node('f', tarfile.SYMTYPE, linkname='target')\n"
		   "node('s', tarfile.SYMTYPE, linkname='nowhere'); node('s', tarfile.DIRTYPE)\n"
		   "reg('s/k', b'k')\n"
		   "node('p', tarfile.DIRTYPE); reg('p/q', b'q data')\n"
		   "node('r', tarfile.LNKTYPE, linkname='p/q'); node('p', tarfile.SYMTYPE, linkname='elsewhere')\n"
		   "node('n', tarfile.FIFOTYPE); reg('n', b'was a fifo')") == 0 &&
	     tar_like_gnu_tar("repl", "--recursive-unlink") && !img_open(&im, img);
	if (ok) {
		struct ino g, r, root;

		get_ino(&im, (uint64_t)walk(&im, "g"), &g);
		get_ino(&im, (uint64_t)walk(&im, "r"), &r);
		get_ino(&im, im.root, &root);
		ok = g.nlink == 1 && r.nlink == 1 && root.nlink == 4 &&
		     sh("[ $(stat -c %%h %s/repl.o) = 4 ] && [ $(stat -c %%h %s/repl.o/g) = 1 ]",
			work, work) == 0;
		free(im.d);
	}
	ok = ok && mktar("merge", "node('d', tarfile.DIRTYPE); reg('d/a', b'a')\n"
			 "node('d', tarfile.DIRTYPE, mode=0o700); reg('d/b', b'b')\n"
			 "node('z', tarfile.DIRTYPE); reg('z', b'was an empty dir')") == 0 &&
	     tar_like_gnu_tar("merge", "");
	ok = ok && mktar("stale", "node('d', tarfile.DIRTYPE); reg('d/a', b'a'); reg('d', b'file')\n"
			 "node('h', tarfile.LNKTYPE, linkname='d/a')") == 0 &&
	     sh("cd %s && mkdir -p stale.o && tar -xf stale.tar -C stale.o --recursive-unlink 2>/dev/null", work) == 2 &&
	     sh("cd %s && %s -q --tar stale.img stale.tar 2>/dev/null", work, mkfs) == 1;
	result(ok, "tar_type_change_like_gnu_tar", NULL);
}

static void t_ishare(const char *src)
{
	char img[512];
	struct img im;
	uint8_t v[64];
	bool ok;

	snprintf(img, sizeof(img), "%.200s/ish.img", work);
	ok = sh("%s -q --ishare-xattr %s %s", mkfs, img, src) == 0 && !img_open(&im, img);
	if (!ok) {
		result(false, "ishare_pointer", NULL);
		return;
	}
	ok = (*(uint32_t *)(im.d + 1024 + 8) & 0x20) &&
	     (*(uint32_t *)(im.d + 1024 + 80) & 0x40) &&
	     im.d[1024 + 0x5b] == 1 && im.d[1024 + 0x69] == 0 &&
	     get_xattr(&im, (uint64_t)walk(&im, "big"), 0x80, "", v) == 39 &&
	     get_xattr(&im, (uint64_t)walk(&im, "big"), 4, "fingerprint", v) < 0;
	{
		uint32_t start = *(uint32_t *)(im.d + 1024 + 0x5c) * 4;

		ok = ok && *(uint16_t *)(im.d + start) == 12 && im.d[start + 2] == 4 &&
		     !memcmp(im.d + start + 3, "fingerprint", 11);
	}
	free(im.d);
	result(ok, "ishare_pointer", NULL);
}

/*
 * --aufs beyond what the VM's oracles (mkfs.erofs --aufs, overlayfs over
 * it) see: aufs's own .wh..wh.* names are dropped with what is below them,
 * a whiteout hides only what a layer below defined, a name re-created
 * after its whiteout is back, and the options are checked.
 */
static void t_aufs(void)
{
	char img[400];
	struct img im;
	struct ino i;
	bool ok;

	snprintf(img, sizeof(img), "%.300s/aufs.img", work);
	ok = mktar("au1", "reg('keep', b'k'); reg('gone', b'g'); reg('back', b'b1')\n"
		   "node('.wh..wh.plnk', tarfile.DIRTYPE); reg('.wh..wh.plnk/1.2', b'p')\n"
		   "reg('.wh..wh.aufs', b'')") == 0 &&
	     mktar("au2", "reg('.wh.gone', b''); reg('.wh.back', b''); reg('mine', b'm')\n"
		   "reg('.wh.mine', b'')") == 0 &&
	     mktar("au3", "reg('back', b'b3')") == 0 &&
	     sh("cd %s && %s -q --tar --aufs aufs.img au1.tar au2.tar au3.tar", work, mkfs) == 0 &&
	     !img_open(&im, img);
	if (ok) {
		ok = walk(&im, "keep") > 0 && walk(&im, "gone") < 0 &&
		     walk(&im, "mine") > 0 && walk(&im, "back") > 0 &&
		     walk(&im, ".wh..wh.plnk") < 0 && walk(&im, ".wh..wh.aufs") < 0 &&
		     walk(&im, ".wh.gone") < 0 && walk(&im, ".wh.plnk") < 0;
		if (ok) {
			get_ino(&im, (uint64_t)walk(&im, "back"), &i);
			ok = i.size == 2;
		}
		free(im.d);
	}
	/* one layer: aufs names gone too, the whiteout a 0:0 char device */
	ok = ok && sh("cd %s && %s -q --tar --aufs aufs1.img au1.tar", work, mkfs) == 0;
	snprintf(img, sizeof(img), "%.300s/aufs1.img", work);
	if (ok && !img_open(&im, img)) {
		ok = walk(&im, ".wh..wh.plnk") < 0 && walk(&im, ".wh.plnk") < 0 &&
		     walk(&im, "gone") > 0;
		free(im.d);
	}
	ok = ok && sh("cd %s && %s -q --aufs x.img au1.tar 2>/dev/null", work, mkfs) == 2 &&
	     sh("cd %s && %s -q --tar --aufs x.img au1.tar - < au2.tar 2>/dev/null",
		work, mkfs) == 2;
	result(ok, "aufs_layers_flattened", NULL);
}

/* sharefs-stat prints a fake counter tree in human units */
static void t_stat(const char *stat)
{
	char root[400], out[512];
	FILE *f;
	char buf[4096] = "";
	size_t n;
	bool ok;

	if (!stat) {
		result(false, "sharefs_stat", "no sharefs-stat given");
		return;
	}
	snprintf(root, sizeof(root), "%.300s/sysfs", work);
	snprintf(out, sizeof(out), "%.300s/stat.out", work);
	ok = sh("mkdir -p %s/loop7 && cd %s && echo 2 > shared_inodes && "
		"echo 5 > members && echo 8388608 > resident_bytes && "
		"echo 4194304 > saved_bytes && echo 40960 > verity_tree_bytes && "
		"echo t1 > loop7/domain && "
		"echo 3 > loop7/members && echo 4194304 > loop7/resident_bytes && "
		"echo 2097152 > loop7/saved_bytes", root, root) == 0 &&
	     sh("%s --sysfs %s > %s", stat, root, out) == 0;
	f = fopen(out, "r");
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = 0;
		fclose(f);
	}
	ok = ok && strstr(buf, "shared inodes   2") &&
	     strstr(buf, "saved           4.0 MiB") &&
	     strstr(buf, "verity trees    40.0 KiB") &&
	     strstr(buf, "loop7") && strstr(buf, "2.0 MiB") && strstr(buf, "t1");
	/* a missing module is an error with a message, not a crash */
	ok = ok && sh("%s --sysfs %s/nonexistent 2>/dev/null", stat, root) == 1 &&
	     sh("%s --bogus 2>/dev/null", stat) == 2;
	if (!ok)
		printf("# sharefs-stat printed:\n%s", buf);
	result(ok, "sharefs_stat", NULL);
}

int main(int argc, char **argv)
{
	char src[320], image[320];

	mkfs = argc > 1 ? realpath(argv[1], NULL) : NULL;
	iotrace = argc > 3 ? realpath(argv[3], NULL) : NULL;
	if (!mkfs) {
		fprintf(stderr, "usage: unit PATH/TO/mkfs.sharefs\n");
		return 2;
	}
	snprintf(work, sizeof(work), "/var/tmp/sharefs-unit-XXXXXX");
	if (!mkdtemp(work)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(src, sizeof(src), "%s/src", work);
	snprintf(image, sizeof(image), "%s/main.img", work);
	mktree(src);

	t_crc32c();
	t_dir_pack();
	t_inline();
	result(sh("%s -q %s %s", mkfs, image, src) == 0, "mkfs_directory", NULL);
	t_super_checksum(image);
	t_no_nid0(image);
	t_fingerprint(image, src);
	t_fsck("fsck_erofs_roundtrip", image, src, "^$");
	sh("%s -q -b 1024 %s.1k %s", mkfs, image, src);
	{
		char p[420];

		snprintf(p, sizeof(p), "%s.1k", image);
		t_super_checksum(p);
	}
	t_repro(src);
	t_single_read(src);
	t_edit_between_reads();
	t_fsync_order(src);
	t_file_shrinks();
	t_tar(src);
	t_ishare(src);
	t_tar_replace();
	t_aufs();
	t_source_fingerprint();
	t_verity_tree_size();
	t_verity();
	t_xattr_limit();
	t_rdev_limit();
	t_errors(src);
	t_stat(argc > 2 ? realpath(argv[2], NULL) : NULL);

	if (!getenv("KEEP"))
		sh("rm -rf %s", work);
	printf("%d passed, %d failed, %d skipped\n", npass, nfail, nskip);
	return nfail ? 1 : 0;
}
