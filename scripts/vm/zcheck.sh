#!/bin/sh
# stock erofs against the source tree, for the mkfs.sharefs -z images of
# /images/manifest (s-z*): every path, and every regular file's SHA-256
# (lists made on the host with busybox from the source tree)
n=0
while read -r name off size; do
	case $name in s-z*) ;; *) continue ;; esac
	n=$((n + 1))
	dev=$(losetup -f)
	losetup -r -o "$off" "$dev" /dev/disk/by-id/images
	mkdir -p "/mnt/$name"
	if ! mount -t erofs -o ro "$dev" "/mnt/$name"; then
		echo "not ok $n - stock erofs mounts $name"
		losetup -d "$dev"
		continue
	fi
	(cd "/mnt/$name" && find . | sort) > "/tmp/$name.paths"
	(cd "/mnt/$name" && find . -type f | sort | while read -r f; do sha256sum "$f"; done) > "/tmp/$name.sums"
	if cmp -s "/tmp/$name.paths" "/bin/$name.paths" && cmp -s "/tmp/$name.sums" "/bin/$name.sums"; then
		echo "ok $n - stock erofs reads $name as the source: $(wc -l < "/tmp/$name.paths") paths, $(wc -l < "/tmp/$name.sums") files' SHA-256"
	else
		echo "not ok $n - stock erofs reads $name as the source"
		diff "/tmp/$name.paths" "/bin/$name.paths" | head -n 5
		diff "/tmp/$name.sums" "/bin/$name.sums" | head -n 5
	fi
	umount "/mnt/$name"
	losetup -d "$dev"
done < /images/manifest
echo "zcheck: $n images"
