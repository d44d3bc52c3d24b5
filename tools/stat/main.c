// SPDX-License-Identifier: GPL-2.0-only OR Apache-2.0
/*
 * sharefs-stat - print the page-cache sharing counters of sharefs.
 *
 *   sharefs-stat [--sysfs DIR] [--bytes]
 *
 * Reads /sys/fs/sharefs (or DIR): the global counters, then one line per
 * mount, named by its mount point from /proc/mounts.  Sizes are shown in
 * KiB/MiB/GiB unless --bytes is given.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int raw_bytes;

static const char *human(unsigned long long v, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = v;
	int u = 0;

	if (raw_bytes) {
		snprintf(buf, len, "%llu", v);
		return buf;
	}
	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", d, unit[u]);
	return buf;
}

/* one value of DIR/NAME; -1 when it cannot be read */
static long long read_num(const char *dir, const char *name)
{
	char path[8192], buf[64];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f))
		v = strtoll(buf, NULL, 10);
	fclose(f);
	return v;
}

static void read_str(const char *dir, const char *name, char *out, size_t len)
{
	char path[8192];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	out[0] = 0;
	f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(out, len, f))
		out[strcspn(out, "\n")] = 0;
	fclose(f);
}

/* the mount point of /dev/DEV, from /proc/mounts; "-" when not found */
static void mount_point(const char *dev, char *out, size_t len)
{
	char line[4096], src[1024], mnt[1024], type[64];
	FILE *f = fopen("/proc/mounts", "r");

	snprintf(out, len, "-");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		const char *base;

		if (sscanf(line, "%1023s %1023s %63s", src, mnt, type) != 3 ||
		    strcmp(type, "sharefs"))
			continue;
		base = strrchr(src, '/') ? strrchr(src, '/') + 1 : src;
		if (!strcmp(base, dev))
			snprintf(out, len, "%s", mnt);
	}
	fclose(f);
}

static int print_global(const char *root)
{
	char a[32], b[32], c[32];
	long long shared = read_num(root, "shared_inodes");
	long long trees = read_num(root, "verity_tree_bytes");

	if (shared < 0) {
		fprintf(stderr, "sharefs-stat: cannot read %s/shared_inodes: %s "
			"(is the sharefs module loaded?)\n", root, strerror(errno));
		return -1;
	}
	printf("shared inodes   %lld\n", shared);
	printf("members         %lld\n", read_num(root, "members"));
	printf("shared cache    %s\n", human(read_num(root, "resident_bytes"), a, sizeof(a)));
	printf("saved           %s\n", human(read_num(root, "saved_bytes"), b, sizeof(b)));
	/* modules before verified sharing have no such file: no line */
	if (trees >= 0)
		printf("verity trees    %s\n", human(trees, c, sizeof(c)));
	return 0;
}

static int cmp_names(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static void print_mounts(const char *root)
{
	char *names[1024];
	int n = 0;
	struct dirent *de;
	DIR *d = opendir(root);

	if (!d)
		return;
	while ((de = readdir(d)) && n < 1024) {
		char path[4096];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", root, de->d_name);
		if (de->d_name[0] != '.' && !stat(path, &st) && S_ISDIR(st.st_mode))
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_names);
	if (n)
		printf("\n%-10s %-24s %-12s %8s %12s %12s\n", "device", "mount point",
		       "domain", "members", "cache", "saved");
	for (int i = 0; i < n; i++) {
		char dir[4096], mnt[1024], domain[80], a[32], b[32];

		snprintf(dir, sizeof(dir), "%s/%s", root, names[i]);
		mount_point(names[i], mnt, sizeof(mnt));
		read_str(dir, "domain", domain, sizeof(domain));
		printf("%-10s %-24s %-12s %8lld %12s %12s\n", names[i], mnt, domain,
		       read_num(dir, "members"),
		       human(read_num(dir, "resident_bytes"), a, sizeof(a)),
		       human(read_num(dir, "saved_bytes"), b, sizeof(b)));
		free(names[i]);
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: sharefs-stat [--sysfs DIR] [--bytes]\n"
		"Print sharefs's page-cache sharing counters (from /sys/fs/sharefs).\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sysfs", required_argument, NULL, 's' },
		{ "bytes", no_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *root = "/sys/fs/sharefs";
	int c;

	while ((c = getopt_long(argc, argv, "s:bh", opts, NULL)) != -1) {
		switch (c) {
		case 's': root = optarg; break;
		case 'b': raw_bytes = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (print_global(root))
		return 1;
	print_mounts(root);
	return 0;
}
