# scripts/bench/vm-lib.sh - the VM side of the demo and the benchmarks.
#
# Copied into the VM's /bin as bench-vm-lib.sh and sourced by the --cmd
# that scripts/demo.sh and scripts/bench.sh pass to vm-run.sh.  Every result
# is one line starting with a capital keyword (MEM, STAT, SPEED, SECOND,
# MOUNT) and followed by key=value pairs, parsed on the host by
# scripts/bench/report.py.  Sizes are bytes, times nanoseconds.

# A new read-only loop device over image NAME of /images/manifest.
attach() {	# name
	local line
	line=$(grep "^$1 " /images/manifest) || { echo "no image $1" >&2; return 1; }
	set -- $line
	sfbench loop /dev/disk/by-id/images "$2" "$3"
}

# The loop device of image NAME for mount set LABEL, attached once.
dev_of() {	# label name
	local f=/tmp/loop.$1.$2
	[ -f "$f" ] || attach "$2" > "$f"
	cat "$f"
}

# Mount images NAMES... under /mnt/LABEL/NAME.
mount_set() {	# label type opts names...
	local label=$1 type=$2 opts=$3 n; shift 3
	for n in "$@"; do
		mkdir -p "/mnt/$label/$n"
		mount -t "$type" -o "ro${opts:+,$opts}" "$(dev_of "$label" "$n")" \
			"/mnt/$label/$n" || echo "MOUNTFAIL label=$label type=$type name=$n"
	done
}

umount_set() {	# label
	local m
	for m in $(awk -v p="/mnt/$1/" 'index($2, p) == 1 {print $2}' /proc/mounts); do
		umount "$m"
	done
}

# The global sharefs counters as a STAT line (and sharefs-stat's table
# when SHOW_STAT is set).
stat_line() {	# label
	local k line=
	for k in shared_inodes members resident_bytes saved_bytes; do
		line="$line $k=$(cat /sys/fs/sharefs/$k)"
	done
	echo "STAT label=$1$line"
	[ -z "${SHOW_STAT:-}" ] || sharefs-stat
}

# Page cache used by reading every file of NAMES... with one driver.
mem_phase() {	# label type opts names...
	local label=$1 type=$2 opts=$3 cb bb ns files bytes errors
	shift 3
	sfbench drop
	eval "$(sfbench mem)"; cb=$cached; bb=$buffers
	mount_set "$label" "$type" "$opts" "$@"
	eval "$(sfbench readall /mnt/"$label"/*)"
	eval "$(sfbench mem)"
	echo "MEM label=$label n=$# cached=$((cached - cb)) buffers=$((buffers - bb)) ns=$ns files=$files bytes=$bytes errors=$errors"
	[ "$type" = sharefs ] && stat_line "$label"
	umount_set "$label"
}

# ---- the container host stack (make demo) ---------------------------------
# Image files on the host's ext4 disk (/dev/disk/by-id/hostfs), one mount
# per image, each container an overlayfs over its image with a tmpfs upper,
# as containerd's EROFS snapshotter stacks them; every file is read through
# the merged views, and a program is exec'd from each.

hostfs_mount() {
	grep -q ' /hostfs ' /proc/mounts && return 0
	mkdir -p /hostfs
	mount -t ext4 -o ro,noload /dev/disk/by-id/hostfs /hostfs
}

# Mount image file NAME for LABEL the way HOW says, at /mnt/LABEL/NAME.
#   erofs-file   stock erofs, file-backed (Linux >= 6.12, containerd's way);
#                a buffered loop device where the kernel has no file backing
#   erofs-dio    stock erofs on a direct-I/O loop device
#   sharefs      mount.sharefs (what `mount -t sharefs FILE DIR` runs)
host_mount() {	# label how name opts
	local dir=/mnt/$1/$3 img=/hostfs/$3.img
	mkdir -p "$dir"
	case $2 in
	erofs-file)
		sfbench mount erofs "$img" "$dir" "" > /dev/null 2>&1 ||
			{ echo "NOTE label=$1 file-backed erofs refused; buffered loop"
			  mount -t erofs -o ro,loop "$img" "$dir"; } ;;
	erofs-dio)
		mount -t erofs -o ro "$(sfbench loop "$img" 0 "$(stat -c %s "$img")")" "$dir" ;;
	sharefs)
		mount.sharefs "$img" "$dir" -o "$4" ;;
	esac || echo "MOUNTFAIL label=$1 how=$2 name=$3"
}

# One container NAME: overlayfs over the mounts of its layer images LAYERS
# ("top:...:base", as overlay's lowerdir), the upper dir on tmpfs.
container_up() {	# label name layers
	local o=/tmp/ovl/$1/$2 lower= l
	for l in $(echo "$3" | tr ':' ' '); do
		lower="$lower${lower:+:}/mnt/$1/$l"
	done
	mkdir -p "$o/upper" "$o/work" "/run/$1/$2"
	mount -t overlay overlay -o "lowerdir=$lower,upperdir=$o/upper,workdir=$o/work" \
		"/run/$1/$2" || echo "MOUNTFAIL label=$1 overlay=$2"
}

# A real program in a container, staying alive: python3 with a few of its
# C modules loaded, run from the merged view (the image's own interpreter
# and libc).  Returns once it says it is ready.
container_run() {	# label name
	local f=/tmp/ready.$1.$2 i=0
	rm -f "$f"
	chroot "/run/$1/$2" /usr/bin/python3 -c \
		'import json, sqlite3, ssl, email.parser, http.client, decimal, time
print("ready", flush=True)
time.sleep(3600)' > "$f" 2>&1 &
	echo $! > "$f.pid"
	while [ "$(cat "$f" 2>/dev/null)" != ready ] && [ $i -lt 600 ]; do
		sleep 0.1; i=$((i + 1))
	done
	if [ "$(cat "$f")" = ready ]; then
		echo "EXEC label=$1 name=$2 rc=0"
	else
		echo "EXEC label=$1 name=$2 rc=1"
		head -c 300 "$f"
	fi
}

# Rss and Pss (bytes) of the containers' programs, summed
proc_mem() {	# label names...
	local label=$1 n rss=0 pss=0 r p f
	shift
	for n in "$@"; do
		f=/proc/$(cat "/tmp/ready.$label.$n.pid")/smaps_rollup
		r=$(awk '/^Rss:/ {print $2}' "$f")
		p=$(awk '/^Pss:/ {print $2}' "$f")
		rss=$((rss + ${r:-0} * 1024)) pss=$((pss + ${p:-0} * 1024))
	done
	echo "PROC label=$label n=$# rss=$rss pss=$pss"
}

# Page cache used by running containers SPECS ("NAME=top:...:base", the
# layer images of each) over HOW's mounts of the layer image files: every
# file read through the merged views, then a program started in each and
# kept running while the memory is measured.
host_phase() {	# label how opts specs...
	local label=$1 how=$2 opts=$3 cb bb spec n l layers= names=
	shift 3
	hostfs_mount
	for spec in "$@"; do
		names="$names ${spec%%=*}"
		for l in $(echo "${spec#*=}" | tr ':' ' '); do
			case " $layers " in *" $l "*) ;; *) layers="$layers $l" ;; esac
		done
	done
	sfbench drop
	eval "$(sfbench mem)"; cb=$cached; bb=$buffers
	for l in $layers; do
		host_mount "$label" "$how" "$l" "$opts"
	done
	for spec in "$@"; do
		container_up "$label" "${spec%%=*}" "${spec#*=}"
	done
	eval "$(sfbench readall $(for n in $names; do echo "/run/$label/$n"; done))"
	for n in $names; do
		container_run "$label" "$n"
	done
	eval "$(sfbench mem)"
	echo "MEM label=$label n=$# cached=$((cached - cb)) buffers=$((buffers - bb)) ns=$ns files=$files bytes=$bytes errors=$errors"
	proc_mem "$label" $names
	[ "$how" = sharefs ] && stat_line "$label"
	for n in $names; do
		kill "$(cat "/tmp/ready.$label.$n.pid")" 2>/dev/null
		wait "$(cat "/tmp/ready.$label.$n.pid")" 2>/dev/null
		umount "/run/$label/$n"
	done
	umount_set "$label"
}

# One timed operation; prints SPEED op=OP label=LABEL ns=...
timed() {	# op label sfbench-args...
	local op=$1 label=$2 ns
	shift 2
	eval "$(sfbench "$@" | sed 's/ .*//')"
	echo "SPEED op=$op label=$label ns=$ns"
}

# Read-speed runs on the big file and the base tree, with each driver
# mounted side by side (own loop devices over the same image).
speed_runs() {	# runs big-image tree-image labels...
	local runs=$1 big=$2 tree=$3 r l f
	shift 3
	r=1
	while [ $r -le "$runs" ]; do
		for l in "$@"; do
			f=/mnt/$l/$big/big.bin
			sfbench drop
			timed seq-cold "$l" seq "$f"
			timed seq-warm "$l" seq "$f"
			sfbench drop
			timed rand-cold "$l" rand "$f" 256
			sfbench seq "$f" > /dev/null
			timed rand-warm "$l" rand "$f" 16384
			sfbench drop
			timed mmap-cold "$l" mmap "$f"
			timed mmap-warm "$l" mmap "$f"
			sfbench drop
			timed walk-cold "$l" walk "/mnt/$l/$tree"
			timed walk-warm "$l" walk "/mnt/$l/$tree"
			# every file opened and read: then evict them all
			sfbench readall "/mnt/$l/$tree" > /dev/null
			timed evict "$l" evict
		done
		r=$((r + 1))
	done
}

# Mount time of image NAME: cold caches, one mount(2) each.
mount_runs() {	# runs name label:type:opts...
	local runs=$1 name=$2 r spec l t o
	shift 2
	r=1
	while [ $r -le "$runs" ]; do
		for spec in "$@"; do
			l=${spec%%:*}; t=${spec#*:}; o=${t#*:}; t=${t%%:*}
			mkdir -p "/mnt/m$l"
			sfbench drop
			eval "$(sfbench mount "$t" "$(dev_of "m$l" "$name")" "/mnt/m$l" "ro${o:+,$o}")"
			echo "SPEED op=mount label=$l ns=$ns"
			umount "/mnt/m$l"
		done
		r=$((r + 1))
	done
}

# "Second container start": read all of B after all of A.
second_runs() {	# runs a b label:type:opts...
	local runs=$1 a=$2 b=$3 r spec l t o ta
	shift 3
	r=1
	while [ $r -le "$runs" ]; do
		for spec in "$@"; do
			l=${spec%%:*}; t=${spec#*:}; o=${t#*:}; t=${t%%:*}
			sfbench drop
			mount_set "s$l" "$t" "$o" "$a" "$b"
			eval "$(sfbench readall "/mnt/s$l/$a")"; ta=$ns
			eval "$(sfbench readall "/mnt/s$l/$b")"
			echo "SECOND label=$l a_ns=$ta b_ns=$ns"
			umount_set "s$l"
		done
		r=$((r + 1))
	done
}
