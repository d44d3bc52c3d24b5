# scripts/bench/scale-vm.sh - the VM side of scripts/bench/scale.sh.
#
# Copied into the VM's /bin and sourced after bench-vm-lib.sh (which gives
# hostfs_mount and container_up).  The host's ext4 disk holds the layer
# images as /hostfs/DRIVER/{base,app}-NNN.img, DRIVER being sharefs
# (written by mkfs.sharefs) or erofs (by Debian 12's mkfs.erofs 1.5).
#
# One phase mounts the layers of N containers with one driver, stacks an
# overlayfs per container (lowerdir=app:base, upper on tmpfs), reads every
# file through each merged view, and compares the kernel's memory before
# and after.  Result lines, parsed by scripts/bench/scale_report.py (sizes
# in bytes, times in nanoseconds):
#   MOUNT   one image mounted: the time of the whole command, as a user
#           runs it (mount.sharefs; sfbench loopmount for erofs)
#   OVERLAY one container's overlayfs mounted, timed the same way
#   READ    one container read
#   MEMD    /proc/meminfo, dentry/inode count and reclaim counter deltas
#           over the phase
#   SLAB    slab cache deltas (the drivers' and overlayfs's inode caches
#           and dentries always, any other cache that moved by 1 MiB)
#   UMOUNT  unmounting all overlays, then each layer
#   MEMD, SLAB, STAT with label LABEL-left: what is still held after the
#           umount and drop_caches (a leak would show here)
#   STAT    the global sharefs counters (scripts/bench/vm-lib.sh)
#   EXEC    the cost of one exec of a static program, which every MOUNT
#           and OVERLAY time includes

# /proc/meminfo, /proc/slabinfo, the dentry and inode counts and the
# reclaim counters of /proc/vmstat, to FILE
scale_snap() {	# file
	{
		cat /proc/meminfo /proc/slabinfo
		grep -E '^(pgsteal_(kswapd|direct)|slabs_scanned) ' /proc/vmstat
		echo "nr_dentry $(awk '{print $1}' /proc/sys/fs/dentry-state)"
		echo "nr_inodes $(awk '{print $1}' /proc/sys/fs/inode-nr)"
	} > "$1"
}

# MEMD and SLAB lines: what changed from snapshot BEFORE to AFTER.  Slab
# bytes are whole slabs (num_slabs * pages per slab), so they include the
# caches' fragmentation and per-slab waste, not only the objects.  The
# reclaim counters (pages stolen, slab objects scanned) say whether memory
# ran short in between, which would make every figure an undercount.
scale_delta() {	# label before after
	awk -v L="$1" '
	FNR == 1 { f++ }
	/^(Cached|Buffers|Slab|SReclaimable|SUnreclaim|MemFree):/ {
		k = $1; sub(":", "", k); v[f, k] = $2 * 1024; keys[k] = 1; next
	}
	/^(nr_(dentry|inodes)|pgsteal_(kswapd|direct)|slabs_scanned) / {
		v[f, $1] = $2; keys[$1] = 1; next
	}
	$13 == "slabdata" {
		bytes[f, $1] = $15 * $6 * 4096; objs[f, $1] = $2
		size[$1] = $4; names[$1] = 1
	}
	END {
		line = "MEMD label=" L
		for (k in keys)
			line = line " " k "=" (v[2, k] - v[1, k])
		print line
		for (n in names) {
			d = bytes[2, n] - bytes[1, n]
			if (n ~ /^(erofs_inode|sharefs_inode|sharefs_shared|ovl_inode|dentry)$/ ||
			    d >= 1048576 || d <= -1048576)
				printf "SLAB label=%s cache=%s objs=%d bytes=%d objsize=%d\n",
					L, n, objs[2, n] - objs[1, n], d, size[n]
		}
	}' "$2" "$3"
}

# The object sizes of the inode caches, from SLUB's sysfs: object_size is
# the struct, slab_size what one object takes in its slab.
scale_slab_sizes() {
	local c
	for c in erofs_inode sharefs_inode sharefs_shared ovl_inode dentry; do
		[ -d "/sys/kernel/slab/$c" ] || continue
		echo "SLABSIZE cache=$c object_size=$(cat /sys/kernel/slab/$c/object_size) slab_size=$(cat /sys/kernel/slab/$c/slab_size)"
	done
}

# Mount layer image NAME of DRIVER at /mnt/LABEL/NAME, timed as a whole
# command: for sharefs `mount.sharefs FILE DIR` (what `mount -t sharefs FILE
# DIR` runs), for erofs the same steps by sfbench loopmount: a fresh
# direct-I/O loop device that goes away at umount, then mount(2).  Either
# way one exec of a static program, so the times compare.  SCALE_IMAGES
# names another directory of images.
scale_mount() {	# label driver name
	local dir=/mnt/$1/$3 img=${SCALE_IMAGES:-/hostfs/$2}/$3.img out
	mkdir -p "$dir"
	case $2 in
	sharefs) out=$(sfbench time mount.sharefs "$img" "$dir" -o domain=scale) ;;
	erofs) out=$(sfbench time sfbench loopmount erofs "$img" "$dir" "") ;;
	esac || { echo "MOUNTFAIL label=$1 driver=$2 name=$3 $out"; return 0; }
	case $out in *dio=0*) echo "NOTE label=$1 name=$3 loop without direct I/O" ;; esac
	echo "MOUNT label=$1 name=$3 $(echo "$out" | tail -n 1)"
}

# The second ext4 disk, of mkfs.erofs 1.9 -Enoinline_data images, at
# /noinline (scripts/bench/scale.sh's sharefs-noinline phase).
scale_noinline_mount() {
	grep -q ' /noinline ' /proc/mounts && return 0
	mkdir -p /noinline
	mount -t ext4 -o ro,noload /dev/disk/by-id/noinline /noinline
}

# Container NAME: an overlayfs over LOWER ("app:base"), the upper dir on
# tmpfs, as a container runtime stacks it; timed as the mount command.
scale_overlay() {	# label name lower
	local o=/tmp/ovl/$1/$2 out
	mkdir -p "$o/upper" "$o/work" "/run/$1/$2"
	out=$(sfbench time mount -t overlay overlay \
		-o "lowerdir=$3,upperdir=$o/upper,workdir=$o/work" "/run/$1/$2") ||
		echo "MOUNTFAIL label=$1 overlay=$2"
	echo "OVERLAY label=$1 name=$2 $out"
}

scale_uptime() { awk '{print $1}' /proc/uptime; }

# One phase: N containers of LAYOUT with DRIVER.
#   LAYOUT one    one base image, mounted once, under every container: a
#                 host that pulled one base layer and stores it once
#   LAYOUT many   a base image per container (base-NNN: the same files,
#                 images built one by one): bases that are rebuilds, with
#                 other layer digests, which a host stores and mounts
#                 separately; sharing is by content only
# With DROP set, the page cache (only: echo 1) is dropped after each
# container's read and the Cached growth summed over the containers: for
# stock erofs on LAYOUT many, whose 100 private copies of the base do not
# fit in the VM.  Inodes and dentries stay, so the slab figures hold.
scale_phase() {	# label driver layout n
	local label=$1 drv=$2 layout=$3 n=$4
	echo "PHASE label=$label driver=$drv layout=$layout n=$n drop=${DROP:-0} t=$(scale_uptime)"
	hostfs_mount
	sfbench drop
	scale_snap "/tmp/snap.$label.0"
	[ "$layout" = one ] && scale_mount "$label" "$drv" base-000
	scale_each "$n" scale_mount_layers "$label" "$drv" "$layout"
	echo "STEP label=$label mounted t=$(scale_uptime)"
	scale_each "$n" scale_container "$label" "$layout"
	echo "STEP label=$label overlays t=$(scale_uptime)"
	scale_each "$n" scale_read "$label"
	echo "STEP label=$label read t=$(scale_uptime)"
	scale_snap "/tmp/snap.$label.1"
	scale_delta "$label" "/tmp/snap.$label.0" "/tmp/snap.$label.1"
	[ "$drv" = sharefs ] && stat_line "$label"
	scale_umount "$label"
	scale_left "$label"
	echo "STEP label=$label done t=$(scale_uptime)"
}

# Run CMD... NNN for every container number NNN below N, in order.
scale_each() {	# n cmd...
	local n=$1 i=0
	shift
	while [ $i -lt "$n" ]; do
		"$@" "$(printf %03d $i)"
		i=$((i + 1))
	done
}

# Container NNN's layers: its app image, and with LAYOUT many its base.
scale_mount_layers() {	# label driver layout NNN
	[ "$3" = many ] && scale_mount "$1" "$2" "base-$4"
	scale_mount "$1" "$2" "app-$4"
}

# Container NNN: an overlayfs over its app layer and its base (base-000,
# under every container, with LAYOUT one).
scale_container() {	# label layout NNN
	local base=base-$3
	[ "$2" = one ] && base=base-000
	scale_overlay "$1" "c$3" "/mnt/$1/app-$3:/mnt/$1/$base"
}

# Read every file of container NNN; the growth of Cached and Buffers.
scale_read() {	# label NNN
	local cb bb
	eval "$(sfbench mem)"; cb=$cached bb=$buffers
	eval "$(sfbench readall "/run/$1/c$2")"
	eval "$(sfbench mem)"
	echo "READ label=$1 c=$2 ns=$ns files=$files bytes=$bytes errors=$errors cached=$((cached - cb)) buffers=$((buffers - bb))"
	[ -z "${DROP:-}" ] || echo 1 > /proc/sys/vm/drop_caches
}

# What the phase left behind once unmounted and its caches dropped: the
# counters of /sys/fs/sharefs and the slab deltas against the phase's
# start.  Inodes are freed after an RCU grace period (sharefs members
# after SRCU), so wait a little first.
scale_left() {	# label
	sfbench drop
	sleep 5
	sfbench drop
	scale_snap "/tmp/snap.$1.2"
	scale_delta "$1-left" "/tmp/snap.$1.0" "/tmp/snap.$1.2"
	stat_line "$1-left"
}

# Mount times only, of every layer image (base-NNN and app-NNN): stock
# erofs file-backed (mount -t erofs FILE, Linux >= 6.12: no loop device,
# containerd's way; it caches every byte twice, see `make demo`, so it is
# timed here but not read).
scale_mount_file() {	# label n
	echo "PHASE label=$1 driver=erofs-file layout=many n=$2 t=$(scale_uptime)"
	hostfs_mount
	sfbench drop
	scale_each "$2" scale_mount_file_one "$1"
	scale_umount "$1"
	echo "STEP label=$1 done t=$(scale_uptime)"
}

scale_mount_file_one() {	# label NNN
	local name dir out
	for name in "base-$2" "app-$2"; do
		dir=/mnt/$1/$name
		mkdir -p "$dir"
		out=$(sfbench time sfbench mount erofs "/hostfs/erofs/$name.img" "$dir" "") ||
			echo "MOUNTFAIL label=$1 name=$name"
		echo "MOUNT label=$1 name=$name $(echo "$out" | tail -n 1)"
	done
}

# What one exec of a static program costs, to read the mount times by:
# every MOUNT and OVERLAY time includes one.
scale_exec_cost() {
	local i=0 out
	while [ $i -lt 20 ]; do
		out=$(sfbench time sfbench mem)
		echo "EXEC $(echo "$out" | tail -n 1)"
		i=$((i + 1))
	done
}

# Unmount the phase's overlays (timed together), then each of its layers
# (timed one by one): that evicts every inode the phase made.
scale_umount() {	# label
	local s=/tmp/umount.$1.sh out m
	awk -v o="/run/$1/" 'index($2, o) == 1 { print "umount " $2 }' \
		/proc/mounts > "$s"
	out=$(sfbench time sh -e "$s")
	echo "UMOUNT label=$1 what=overlays mounts=$(wc -l < "$s") $out"
	for m in $(awk -v l="/mnt/$1/" 'index($2, l) == 1 { print $2 }' /proc/mounts); do
		out=$(sfbench time umount "$m")
		echo "UMOUNT label=$1 what=layer name=${m##*/} $out"
	done
	rm -rf "/tmp/ovl/$1"
}
