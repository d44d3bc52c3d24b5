# SPDX-License-Identifier: GPL-2.0-only
#
# sharefs top-level Makefile.
#
#   make                 build sharefs.ko against KDIR (the running kernel)
#   make tools           build mkfs.sharefs and the other userspace tools
#   make selftests       build the static VM test programs (build/selftests)
#   make install         install the module and the tools on this host
#   make deb             build/deb/: sharefs-dkms and sharefs-tools packages
#   make check           the one test command: installs its dependencies,
#                        builds everything, runs the host tests and the VM
#                        suite on Debian 12's 6.1 and 6.12 and unstable's
#                        newest kernel
#   make check VM=vng    the same with the VM suite booted by virtme-ng
#   make fuzz            the long image fuzzer run (scripts/fuzz.sh)
#   make cfuzz           the concurrency fuzzer alone (scripts/cfuzz.sh)
#   make demo            the main job: show page-cache sharing in a VM
#   make bench           the benchmark suite (Documentation/benchmarks.md)
#   make bench-scale     100 containers on one host (scripts/bench/scale.sh):
#                        mount time, page cache, slab per inode; prints
#                        tables, writes nothing into the tree
#   make check-debug     the VM suite on a KASAN/lockdep/kmemleak 6.12 kernel

KDIR	?= /lib/modules/$(shell uname -r)/build
PREFIX	?= /usr/local
DESTDIR	?=
SELFTESTS_OUT := $(CURDIR)/build/selftests
# the VM runner of make check: qemu (scripts/vm-run.sh) or vng (virtme-ng,
# scripts/vng-run.sh); SHAREFS_VM in the environment works too
VM	?= $(or $(SHAREFS_VM),qemu)

.PHONY: all module tools selftests install install-module install-tools \
	check check-debug fuzz cfuzz demo bench bench-scale deb clean

all: module

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 modules

tools:
	$(MAKE) -C tools

selftests:
	$(MAKE) -C selftests/sharefs OUTPUT=$(SELFTESTS_OUT) \
		KSFT_INC=$$(scripts/kselftest-headers.sh)

install: install-module install-tools

install-module: module
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_DIR=extra \
		$(if $(DESTDIR),INSTALL_MOD_PATH=$(DESTDIR)) modules_install
	$(if $(DESTDIR),,depmod -a $$(basename $$(dirname $(KDIR))))

install-tools: tools
	$(MAKE) -C tools install PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)

deb:
	scripts/mkdeb.sh

check:
	SHAREFS_VM=$(VM) scripts/check.sh

check-debug:
	scripts/check-debug.sh

# the long image fuzzer run: FUZZ_ARGS="--count N --kernels 6.12 ..."
fuzz:
	scripts/fuzz.sh $(FUZZ_ARGS)

# the concurrency fuzzer alone: CFUZZ_ARGS="--kernel sid --time 600 --seed N"
cfuzz:
	scripts/cfuzz.sh $(CFUZZ_ARGS)

demo:
	scripts/demo.sh

bench:
	scripts/bench.sh

# SCALE_ARGS="-n CONTAINERS -f FILES -m VM_MiB -p PHASES"
bench-scale:
	scripts/bench/scale.sh $(SCALE_ARGS)

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null
	-$(MAKE) -C tools clean
	rm -rf build
