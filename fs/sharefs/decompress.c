// SPDX-License-Identifier: GPL-2.0-only
/*
 * decompress.c - the compression configuration of an image and the four
 * decompressors, through the kernel's own libraries: lib/lz4, xz_dec's
 * MicroLZMA, zlib_inflate (raw DEFLATE) and zstd.
 *
 * Every call decodes one pcluster, whole in memory, into a prefix of its
 * output: the caller asks for as many bytes as it needs, which for a
 * deduplicated (partial) extent or a read that stops early is fewer than
 * the pcluster holds.  Output that falls short of the request, or input
 * the library rejects, is -EFSCORRUPTED: the bytes are untrusted.
 *
 * Memory: LZ4 needs none beyond the caller's buffers.  The others need a
 * decoder state (MicroLZMA about 30 KiB in single-call mode, since the
 * output buffer is its dictionary; zlib's inflate workspace about 40 KiB;
 * zstd's stream workspace, about the image's window, at most 1 MiB + 160
 * KiB).  A read call takes a set of states (sharefs_zstreams) on its first
 * pcluster of such an algorithm, fills in the states it meets, and gives
 * the set back when it returns.  One set is kept between calls, the spare:
 * building a zstd state costs more than decoding a small pcluster, so a
 * set per call made random reads 3.5 times slower than erofs's.  Readers
 * that run at once while the spare is taken build their own and free them.
 * The spare goes at every unmount and at module exit, so an idle host
 * holds at most one set while compressed images stay mounted, and none
 * once they are gone; stock erofs keeps a stream per CPU.
 */
#include <linux/lz4.h>
#include <linux/xz.h>
#include <linux/zlib.h>
#include <linux/zstd.h>
#include "internal.h"

/* the decoder states of one read call, allocated on first use */
struct sharefs_zstreams {
	void *zstd_ws;			/* zstd stream workspace */
	zstd_dstream *zstd;
	size_t zstd_window;		/* the largest window zstd takes */
	void *zlib_ws;			/* inflate workspace */
	struct xz_dec_microlzma *xz;	/* MicroLZMA, XZ_SINGLE */
};

/*
 * The spare set.  Pinning rule: a set is owned by exactly one read call or
 * by this pointer.  A call takes the spare with xchg() (so no two calls
 * get it) and gives its set back with cmpxchg() from NULL, or frees it
 * when the slot is full.
 */
static struct sharefs_zstreams *sharefs_z_spare;

static void sharefs_z_streams_free(struct sharefs_zstreams *zs)
{
	if (!zs)
		return;
	kvfree(zs->zstd_ws);
	kvfree(zs->zlib_ws);
#if SHAREFS_HAVE_MICROLZMA
	if (zs->xz)	/* 6.12's xz_dec_microlzma_end() does not take NULL */
		xz_dec_microlzma_end(zs->xz);
#endif
	kfree(zs);
}

/* The end of a read call: its set becomes the spare, or is freed. */
void sharefs_z_streams_put(struct sharefs_zstreams *zs)
{
	if (zs && cmpxchg(&sharefs_z_spare, NULL, zs))
		sharefs_z_streams_free(zs);
}

/* At unmount and module exit: keep nothing for mounts that may be gone. */
void sharefs_z_streams_drain(void)
{
	sharefs_z_streams_free(xchg(&sharefs_z_spare, NULL));
}

static struct sharefs_zstreams *sharefs_z_streams_get(void)
{
	return xchg(&sharefs_z_spare, NULL) ?:
	       kzalloc(sizeof(struct sharefs_zstreams), GFP_NOFS);
}

static const char *const sharefs_z_names[SHAREFS_Z_ALG_MAX] = {
	[SHAREFS_Z_ALG_LZ4] = "lz4",
	[SHAREFS_Z_ALG_LZMA] = "MicroLZMA",
	[SHAREFS_Z_ALG_DEFLATE] = "deflate",
	[SHAREFS_Z_ALG_ZSTD] = "zstd",
};

/* One config record: @len payload bytes at @pos, the start of @rec used. */
static int sharefs_z_cfg(struct super_block *sb, unsigned int alg,
			 const u8 *rec, unsigned int len)
{
	struct sharefs_z_cfg *cfg = &SHAREFS_SB(sb)->zcfg;
	static const u8 need[SHAREFS_Z_ALG_MAX] = {
		[SHAREFS_Z_ALG_LZ4] = sizeof(struct sharefs_z_lz4_cfgs),
		[SHAREFS_Z_ALG_LZMA] = sizeof(struct sharefs_z_lzma_cfgs),
		[SHAREFS_Z_ALG_DEFLATE] = sizeof(struct sharefs_z_deflate_cfgs),
		[SHAREFS_Z_ALG_ZSTD] = sizeof(struct sharefs_z_zstd_cfgs),
	};
	const struct sharefs_z_lz4_cfgs *lz4 = (const void *)rec;
	const struct sharefs_z_lzma_cfgs *lzma = (const void *)rec;
	const struct sharefs_z_deflate_cfgs *dfl = (const void *)rec;
	const struct sharefs_z_zstd_cfgs *zstd = (const void *)rec;

	if (len < need[alg]) {
		sharefs_err(sb, "%s config of %u bytes", sharefs_z_names[alg], len);
		return -EFSCORRUPTED;
	}
	switch (alg) {
	case SHAREFS_Z_ALG_LZ4:
		cfg->lz4_max_pclusterblks = le16_to_cpu(lz4->max_pclusterblks) ?: 1;
		if (cfg->lz4_max_pclusterblks >
		    SHAREFS_Z_PCLUSTER_MAX_SIZE >> sb->s_blocksize_bits) {
			sharefs_err(sb, "lz4 pclusters of %u blocks",
				    cfg->lz4_max_pclusterblks);
			return -EFSCORRUPTED;
		}
		return 0;
	case SHAREFS_Z_ALG_LZMA:
		cfg->lzma_dict_size = le32_to_cpu(lzma->dict_size);
		if (le16_to_cpu(lzma->format) ||
		    cfg->lzma_dict_size > SHAREFS_Z_LZMA_MAX_DICT_SIZE) {
			sharefs_err(sb, "MicroLZMA format %u, dictionary %u bytes not supported",
				    le16_to_cpu(lzma->format), cfg->lzma_dict_size);
			return -EOPNOTSUPP;
		}
		return 0;
	case SHAREFS_Z_ALG_DEFLATE:
		cfg->deflate_windowbits = dfl->windowbits;
		if (dfl->windowbits > MAX_WBITS) {
			sharefs_err(sb, "deflate window 2^%u not supported",
				    dfl->windowbits);
			return -EOPNOTSUPP;
		}
		return 0;
	default:
		cfg->zstd_windowlog = zstd->windowlog + SHAREFS_Z_ZSTD_WINDOWLOG_MIN;
		if (zstd->format ||
		    (1ULL << cfg->zstd_windowlog) > SHAREFS_Z_ZSTD_MAX_DICT_SIZE) {
			sharefs_err(sb, "zstd format %u, window 2^%u not supported",
				    zstd->format, cfg->zstd_windowlog);
			return -EOPNOTSUPP;
		}
		return 0;
	}
}

/* Read the record at *@pos (4-aligned: its __le16 size, then payload). */
static int sharefs_z_read_cfg(struct super_block *sb, unsigned int alg,
			      u64 *pos)
{
	u8 rec[16] = { 0 };
	__le16 size16;
	unsigned int len;
	int err;

	*pos = round_up(*pos, 4);
	err = sharefs_copy_meta(sb, *pos, &size16, sizeof(size16));
	if (err)
		return err;
	len = le16_to_cpu(size16) ?: 65536;
	*pos += sizeof(size16);
	/* the whole record lies inside the image */
	err = sharefs_check_meta(sb, *pos, len);
	if (err)
		return err;
	err = sharefs_copy_meta(sb, *pos, rec, min_t(unsigned int, len,
						      sizeof(rec)));
	if (err)
		return err;
	*pos += len;
	return sharefs_z_cfg(sb, alg, rec, len);
}

/*
 * Mount: the algorithms the image may use (@algs, the superblock's u1) and
 * their records.  Without COMPR_CFGS an image has LZ4 only.
 */
int sharefs_z_load_cfgs(struct super_block *sb, u16 algs)
{
	struct sharefs_sb_info *sbi = SHAREFS_SB(sb);
	u64 pos = SHAREFS_SUPER_OFFSET + sizeof(struct sharefs_super_block) +
		  sbi->sb_extslots * SHAREFS_SB_EXTSLOT_SIZE;
	unsigned int alg;
	int err;

	if (!(sbi->feature_incompat & SHAREFS_FEATURE_INCOMPAT_COMPR_CFGS)) {
		sbi->zcfg.algs = BIT(SHAREFS_Z_ALG_LZ4);
		sbi->zcfg.lz4_max_pclusterblks = 1;
		return 0;
	}
	if (algs & ~SHAREFS_Z_ALL_ALGS) {
		sharefs_err(sb, "unknown compression algorithms 0x%x",
			    algs & ~SHAREFS_Z_ALL_ALGS);
		return -EOPNOTSUPP;
	}
	sbi->zcfg.algs = algs;
	for (alg = 0; alg < SHAREFS_Z_ALG_MAX; alg++) {
		if (!(algs & BIT(alg)))
			continue;
		err = sharefs_z_read_cfg(sb, alg, &pos);
		if (err)
			return err;
	}
	/* said once, here: its reads fail quietly (sharefs_z_unavailable()) */
	if ((algs & BIT(SHAREFS_Z_ALG_LZMA)) && !SHAREFS_HAVE_MICROLZMA &&
	    !test_and_set_bit(SHAREFS_SBF_WARNED_ZALG, &sbi->flags))
		sharefs_warn(sb, "MicroLZMA is not in this kernel (CONFIG_XZ_DEC_MICROLZMA): its files fail with EOPNOTSUPP");
	return 0;
}

/* Where the stream starts: zero padding before it is skipped. */
static int sharefs_z_skip_padding(struct super_block *sb,
				  struct sharefs_zreq *rq)
{
	unsigned int n = 0;

	/* zeros precede the stream only within its first block */
	while (n < rq->padscan && !rq->in[n])
		n++;
	if (n == rq->inlen) {
		sharefs_err(sb, "pcluster of %u zero bytes", rq->inlen);
		return -EFSCORRUPTED;
	}
	rq->in += n;
	rq->inlen -= n;
	return 0;
}

static int sharefs_z_lz4(struct super_block *sb, struct sharefs_zreq *rq)
{
	int ret;

	if (sharefs_sb_has_zero_padding(SHAREFS_SB(sb))) {
		ret = sharefs_z_skip_padding(sb, rq);
		if (ret)
			return ret;
	}
	/* partial: the caller wants a prefix, and old images pad the tail */
	ret = LZ4_decompress_safe_partial(rq->in, rq->out, rq->inlen,
					  rq->outlen, rq->outlen);
	return ret == rq->outlen ? 0 : -EFSCORRUPTED;
}

#if SHAREFS_HAVE_MICROLZMA
static int sharefs_z_lzma(struct super_block *sb, struct sharefs_zstreams *zs,
			  struct sharefs_zreq *rq)
{
	struct xz_buf b = {
		.in = rq->in, .in_size = rq->inlen,
		.out = rq->out, .out_size = rq->outlen,
	};
	enum xz_ret ret;
	size_t last;

	if (!zs->xz) {
		zs->xz = xz_dec_microlzma_alloc(XZ_SINGLE,
				SHAREFS_SB(sb)->zcfg.lzma_dict_size ?: 4096);
		if (!zs->xz)
			return -ENOMEM;
	}
	/* not exact: we may want a prefix only */
	xz_dec_microlzma_reset(zs->xz, rq->inlen, rq->outlen, 0);
	do {
		last = b.in_pos + b.out_pos;
		ret = xz_dec_microlzma_run(zs->xz, &b);
	} while (ret == XZ_OK && b.out_pos < b.out_size &&
		 b.in_pos + b.out_pos != last);
	if (ret == XZ_DATA_ERROR || b.out_pos != rq->outlen)
		return -EFSCORRUPTED;
	return 0;
}
#else
static int sharefs_z_lzma(struct super_block *sb, struct sharefs_zstreams *zs,
			  struct sharefs_zreq *rq)
{
	return -EOPNOTSUPP;
}
#endif

static int sharefs_z_deflate(struct sharefs_zstreams *zs,
			     struct sharefs_zreq *rq)
{
	struct z_stream_s strm = { 0 };
	int ret;

	if (!zs->zlib_ws) {
		zs->zlib_ws = kvmalloc(zlib_inflate_workspacesize(), GFP_NOFS);
		if (!zs->zlib_ws)
			return -ENOMEM;
	}
	strm.workspace = zs->zlib_ws;
	/* negative window bits: a raw stream, no zlib header */
	if (zlib_inflateInit2(&strm, -MAX_WBITS) != Z_OK)
		return -EFSCORRUPTED;
	strm.next_in = rq->in;
	strm.avail_in = rq->inlen;
	strm.next_out = rq->out;
	strm.avail_out = rq->outlen;
	do {
		ret = zlib_inflate(&strm, Z_SYNC_FLUSH);
	} while (ret == Z_OK && strm.avail_out && strm.avail_in);
	zlib_inflateEnd(&strm);
	if ((ret != Z_OK && ret != Z_STREAM_END) || strm.total_out != rq->outlen)
		return -EFSCORRUPTED;
	return 0;
}

static int sharefs_z_zstd(struct super_block *sb, struct sharefs_zstreams *zs,
			  struct sharefs_zreq *rq)
{
	size_t window = 1UL << (SHAREFS_SB(sb)->zcfg.zstd_windowlog ?:
				SHAREFS_Z_ZSTD_WINDOWLOG_MIN);
	zstd_in_buffer in = { .src = rq->in, .size = rq->inlen };
	zstd_out_buffer out = { .dst = rq->out, .size = rq->outlen };
	size_t ret, wssize;

	/* a spare state built for a smaller window is built again */
	if (zs->zstd && zs->zstd_window < window) {
		kvfree(zs->zstd_ws);
		zs->zstd_ws = NULL;
		zs->zstd = NULL;
	}
	if (!zs->zstd) {
		wssize = zstd_dstream_workspace_bound(window);
		zs->zstd_ws = kvmalloc(wssize, GFP_NOFS);
		if (!zs->zstd_ws)
			return -ENOMEM;
		zs->zstd = zstd_init_dstream(window, zs->zstd_ws, wssize);
		if (!zs->zstd)
			return -ENOMEM;
		zs->zstd_window = window;
	} else {
		zstd_reset_dstream(zs->zstd);
	}
	do {
		ret = zstd_decompress_stream(zs->zstd, &out, &in);
	} while (!zstd_is_error(ret) && ret && out.pos < out.size &&
		 in.pos < in.size);
	if (zstd_is_error(ret) || out.pos != rq->outlen)
		return -EFSCORRUPTED;
	return 0;
}

static void sharefs_z_unavailable(struct super_block *sb, u8 alg)
{
	if (!test_and_set_bit(SHAREFS_SBF_WARNED_ZALG, &SHAREFS_SB(sb)->flags))
		sharefs_warn(sb, "%s decompression is not in this kernel",
			     sharefs_z_names[alg]);
}

/*
 * Decode the first rq->outlen bytes of a pcluster's output.  *@zs holds
 * the call's decoder states (taken here, given back by the caller with
 * sharefs_z_streams_put()).
 */
int sharefs_z_decompress(struct super_block *sb, struct sharefs_zstreams **zs,
			 struct sharefs_zreq *rq)
{
	int err;

	if (rq->alg == SHAREFS_Z_ALG_LZ4) {
		err = sharefs_z_lz4(sb, rq);
	} else {
		if (!*zs) {
			*zs = sharefs_z_streams_get();
			if (!*zs)
				return -ENOMEM;
		}
		/* the other algorithms always come zero-padded */
		err = sharefs_z_skip_padding(sb, rq);
		if (err)
			return err;
		if (rq->alg == SHAREFS_Z_ALG_LZMA)
			err = sharefs_z_lzma(sb, *zs, rq);
		else if (rq->alg == SHAREFS_Z_ALG_DEFLATE)
			err = sharefs_z_deflate(*zs, rq);
		else
			err = sharefs_z_zstd(sb, *zs, rq);
	}
	if (err == -EOPNOTSUPP)
		sharefs_z_unavailable(sb, rq->alg);
	else if (err == -EFSCORRUPTED)
		sharefs_err(sb, "%s: corrupt pcluster (%u bytes in, %u wanted)",
			    sharefs_z_names[rq->alg], rq->inlen, rq->outlen);
	return err;
}
