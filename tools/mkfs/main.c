// SPDX-License-Identifier: GPL-2.0-only OR Apache-2.0
/*
 * mkfs.sharefs - build an EROFS image with content fingerprints.
 *
 * Only option parsing lives here; the build is tools/lib (sharefs_mkfs).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "mkfs.h"

static const char usage_text[] =
"Usage: mkfs.sharefs [OPTIONS] IMAGE SOURCE\n"
"       mkfs.sharefs [OPTIONS] --tar IMAGE TARFILE|-...\n"
"       mkfs.sharefs [OPTIONS] --tar=TARFILE|- IMAGE\n"
"\n"
"Write an EROFS image of SOURCE (a directory, or with --tar a tar archive,\n"
"optionally gzip/xz/zstd/bzip2 compressed; - reads standard input).  Every\n"
"non-empty regular file gets the xattr trusted.fingerprint = \"sha256:\" and\n"
"the 32 raw bytes of the SHA-256 of its content, which sharefs uses to share\n"
"page cache between images.  Identical files are stored once.\n"
"\n"
"The stock erofs driver and erofs-utils read the image.  It is written to\n"
"IMAGE.tmp-XXXXXX and renamed to IMAGE only when complete and on disk.\n"
"\n"
"Options:\n"
"  -b, --block-size=N     block size: 512, 1024, 2048 or 4096 (default 4096;\n"
"                         Linux before 6.4 mounts only the page size)\n"
"      --tar[=FILE]       SOURCE is a tar archive (pax, GNU, sparse, hard\n"
"                         links, SCHILY.xattr.*, POSIX ACLs); several tar\n"
"                         archives are layers, base first, applied in order\n"
"      --aufs             OCI whiteouts in the tar layers: with one layer,\n"
"                         .wh.NAME becomes an overlayfs whiteout (a 0:0\n"
"                         character device NAME) and .wh..wh..opq the xattr\n"
"                         trusted.overlay.opaque=y, as mkfs.erofs --aufs;\n"
"                         with several, each layer's whiteouts delete from\n"
"                         the layers below and the image is the flattened\n"
"                         tree; other .wh..wh.* entries are dropped\n"
"      --no-fingerprint   do not write trusted.fingerprint (one that comes\n"
"                         with the source is never copied: it is unchecked)\n"
"      --ishare-xattr     store the fingerprint under a long xattr prefix and\n"
"                         point the superblock at it (COMPAT_ISHARE_XATTRS),\n"
"                         as erofs-utils 1.9 --xattr-inode-digest does, so\n"
"                         Linux >= 7.0 erofs -o inode_share shares too; the\n"
"                         image then needs Linux >= 6.4 (XATTR_PREFIXES)\n"
"      --verity           also give every non-empty regular file an\n"
"                         fs-verity Merkle tree (SHA-256, 4096-byte blocks)\n"
"                         in image blocks of its own, and its fs-verity\n"
"                         descriptor in the xattr trusted.sharefs.verity:\n"
"                         SHA-256 of the descriptor is the file digest that\n"
"                         `fsverity digest` prints\n"
"      --verity-salt=HEX  salt for the --verity trees, up to 32 bytes in hex\n"
"                         (default: none)\n"
"  -z, --compress=ALG[,LEVEL]\n"
"                         compress regular files: lz4, lz4hc (level 1-12,\n"
"                         default 9) or zstd (level 1-22, default 3), as\n"
"                         EROFS compressed extents with compact indexes; files\n"
"                         and extents that do not shrink stay uncompressed.\n"
"                         Fingerprints (and --verity trees) are of the\n"
"                         uncompressed bytes.  Stock erofs reads lz4 from\n"
"                         Linux 5.3, zstd from 6.10 (6.12 in Debian 12)\n"
"  -C, --pcluster-size=N  largest compressed extent on disk, bytes (a multiple\n"
"                         of the block size, up to 1 MiB; default one block);\n"
"                         more than a block gives big pclusters (Linux >= 5.13)\n"
"      --mtime-offsets    compact inodes store mtime as seconds after the\n"
"                         epoch (smaller image; readers before Linux 6.15 and\n"
"                         erofs-utils 1.8 show the epoch for those files)\n"
"  -T, --timestamp=T      build time T (seconds since 1970); default:\n"
"                         $SOURCE_DATE_EPOCH, else the most common mtime\n"
"  -U, --uuid=UUID        volume UUID (default: random)\n"
"  -L, --label=NAME       volume label (up to 16 bytes)\n"
"  -j, --jobs=N           threads that read and hash files ahead of the one\n"
"                         that writes them (default: number of CPUs, at\n"
"                         most 8)\n"
"  -q, --quiet            no progress line (shown only on a terminal anyway)\n"
"  -h, --help             this text\n"
"\n"
"Same input with the same --timestamp and --uuid gives a byte-identical image.\n"
"Exit status: 0 success, 1 build error, 2 usage error.\n";

static void usage(FILE *f)
{
	fputs(usage_text, f);
}

static void bad_usage(const char *fmt, const char *arg)
{
	fputs("mkfs.sharefs: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\n", stderr);
	usage(stderr);
	exit(2);
}

/* Up to @max bytes written as hex digits, two per byte; -1 if not. */
static int parse_hex(const char *s, uint8_t *out, unsigned int max,
		     unsigned int *len)
{
	size_t n = strlen(s);

	if (!n || n % 2 || n / 2 > max)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdefABCDEF", s[i]))
			return -1;
	for (size_t i = 0; i < n / 2; i++)
		sscanf(s + 2 * i, "%2hhx", &out[i]);
	*len = (unsigned int)(n / 2);
	return 0;
}

static int parse_ll(const char *s, long long *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	return (errno || end == s || *end) ? -1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "block-size",		required_argument, NULL, 'b' },
		{ "tar",		optional_argument, NULL, 't' },
		{ "aufs",		no_argument,	   NULL, 'A' },
		{ "no-fingerprint",	no_argument,	   NULL, 'F' },
		{ "ishare-xattr",	no_argument,	   NULL, 'I' },
		{ "verity",		no_argument,	   NULL, 'V' },
		{ "verity-salt",	required_argument, NULL, 'S' },
		{ "mtime-offsets",	no_argument,	   NULL, 'M' },
		{ "compress",		required_argument, NULL, 'z' },
		{ "pcluster-size",	required_argument, NULL, 'C' },
		{ "timestamp",		required_argument, NULL, 'T' },
		{ "uuid",		required_argument, NULL, 'U' },
		{ "label",		required_argument, NULL, 'L' },
		{ "jobs",		required_argument, NULL, 'j' },
		{ "quiet",		no_argument,	   NULL, 'q' },
		{ "help",		no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct sharefs_opts o = {
		.blkszbits = 12, .fingerprint = true,
	};
	const char *tarfile = NULL, *image, *sde, *why;
	const char *const *sources;
	int nsources;
	bool tar = false, quiet = false;
	long long v;
	long cpus;
	int c;

	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	o.jobs = cpus < 1 ? 1 : cpus > 8 ? 8 : (int)cpus;
	while ((c = getopt_long(argc, argv, "b:T:U:L:j:qhz:C:", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (parse_ll(optarg, &v) || v < 512 || v > 4096 ||
			    (v & (v - 1)))
				bad_usage("bad block size '%s' (512..4096, a power of 2)",
					  optarg);
			o.blkszbits = (unsigned int)__builtin_ctzll((unsigned long long)v);
			break;
		case 't':
			tar = true;
			tarfile = optarg;
			break;
		case 'A':
			o.aufs = true;
			break;
		case 'F':
			o.fingerprint = false;
			break;
		case 'I':
			o.ishare = true;
			break;
		case 'V':
			o.verity = true;
			break;
		case 'S':
			if (parse_hex(optarg, o.verity_salt, sizeof(o.verity_salt),
				      &o.verity_salt_size))
				bad_usage("bad salt '%s' (1 to 32 bytes in hex)", optarg);
			break;
		case 'M':
			o.mtime_offsets = true;
			break;
		case 'z':
			why = sharefs_z_parse(optarg, &o);
			if (why)
				bad_usage("%s", why);
			break;
		case 'C':
			if (parse_ll(optarg, &v) || v < 1 || v > 1ll << 30)
				bad_usage("bad pcluster size -C '%s' (bytes)", optarg);
			o.pcluster = (unsigned int)v;
			break;
		case 'T':
			if (parse_ll(optarg, &v))
				bad_usage("bad timestamp '%s'", optarg);
			o.have_timestamp = true;
			o.timestamp = v;
			break;
		case 'U':
			if (sharefs_parse_uuid(optarg, o.uuid))
				bad_usage("bad uuid '%s'", optarg);
			o.have_uuid = true;
			break;
		case 'L':
			if (strlen(optarg) > sizeof(o.label))
				bad_usage("label '%s' longer than 16 bytes", optarg);
			strncpy(o.label, optarg, sizeof(o.label));
			break;
		case 'j':
			if (parse_ll(optarg, &v) || v < 1 || v > 256)
				bad_usage("bad job count '%s'", optarg);
			o.jobs = (int)v;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (o.ishare && !o.fingerprint)
		bad_usage("%s needs fingerprints", "--ishare-xattr");
	if (o.verity_salt_size && !o.verity)
		bad_usage("%s needs --verity", "--verity-salt");
	if (o.aufs && !tar)
		bad_usage("%s needs --tar", "--aufs");
	why = sharefs_z_check_pcluster(&o);	/* needs the final -b */
	if (why)
		bad_usage("%s", why);
	if (tarfile) {
		if (argc - optind != 1)
			bad_usage("%s", "expected IMAGE after --tar=FILE");
		image = argv[optind];
		sources = &tarfile;
		nsources = 1;
	} else {
		if (argc - optind < 2 || (!tar && argc - optind != 2))
			bad_usage("%s", "expected IMAGE and SOURCE");
		image = argv[optind];
		sources = (const char *const *)&argv[optind + 1];
		nsources = argc - optind - 1;
	}
	for (int i = 0; i < nsources; i++)
		if (nsources > 1 && !strcmp(sources[i], "-"))
			bad_usage("%s", "standard input can only be the one tar layer");
	sde = getenv("SOURCE_DATE_EPOCH");
	if (!o.have_timestamp && sde && *sde) {
		if (parse_ll(sde, &v))
			bad_usage("bad SOURCE_DATE_EPOCH '%s'", sde);
		o.have_timestamp = true;
		o.timestamp = v;
	}
	o.progress = !quiet && isatty(STDERR_FILENO);
	return sharefs_mkfs(&o, image, sources, nsources, tar) ? 1 : 0;
}
