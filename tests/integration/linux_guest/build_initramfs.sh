#!/bin/bash
# Builds the Linux guest of the linux_initiator, linux_pr_alua and
# linux_thin tests: Debian 12's kernel and an initramfs holding open-iscsi,
# e2fsprogs, sg3-utils, multipath-tools, util-linux's fstrim and
# blkdiscard, ddpt (linux_odx), a static busybox, the shared libraries they need and the
# kernel modules of the iSCSI initiator, virtio-net, ext4, dm-multipath
# and scsi_dh_alua. One image serves all three tests (the cache
# keeps only the last image built). Everything comes from Debian packages
# fetched with `apt-get download` into a cache and unpacked with dpkg-deb
# -x: nothing is installed on the host.
#
#   build_initramfs.sh OUTDIR     writes OUTDIR/vmlinuz and OUTDIR/initramfs
#
# Exit status 0: built; 77: the packages cannot be fetched (no network) and
# are not in the cache, so the test is skipped; anything else: an error.
#
# The cache ($USCST_TEST_CACHE, else /var/cache/uscst-test for root, else
# $XDG_CACHE_HOME/uscst-test) keeps the .deb files and the last image built,
# keyed by the packages' versions and this folder's scripts, so a second
# run neither downloads nor rebuilds.
set -eu
set -o pipefail

OUT=${1:?usage: $0 OUTDIR}
HERE=$(cd "$(dirname "$0")" && pwd)

if [ -n "${USCST_TEST_CACHE:-}" ]; then
	CACHE=$USCST_TEST_CACHE
elif [ "$(id -u)" = 0 ]; then
	CACHE=/var/cache/uscst-test
else
	CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/uscst-test
fi
DEBS=$CACHE/debs
mkdir -p "$DEBS" "$OUT"

say() { echo "build_initramfs: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }
skip() { say "SKIP: $*"; exit 77; }

# The guest's programs and, below, the packages of every shared library
# they load (the closure is checked when the image is built: a library
# missing from this list is an error naming it).
PROGRAM_PACKAGES="open-iscsi busybox-static e2fsprogs sg3-utils multipath-tools util-linux ddpt"
LIBRARY_PACKAGES="libc6 libisns0 libopeniscsiusr libkmod2 libmount1 libblkid1
	libuuid1 libssl3 libsystemd0 libcap2 libgcrypt20 libgpg-error0 liblz4-1
	liblzma5 libzstd1 libselinux1 libpcre2-8-0 libcom-err2 libext2fs2
	libsgutils2-1.46-2 libaio1 libdevmapper1.02.1 libedit2 libbsd0 libmd0
	libtinfo6 libjson-c5 libudev1 liburcu8 libstdc++6 libgcc-s1"
# The programs copied from the packages, by their paths there.
PROGRAMS="sbin/iscsiadm sbin/iscsid sbin/mke2fs sbin/e2fsck
	usr/bin/sg_persist usr/bin/sg_rtpg usr/bin/sg_stpg usr/bin/sg_inq
	usr/bin/sg_turs sbin/multipath
	usr/bin/sg_write_same usr/bin/sg_unmap usr/bin/sg_compare_and_write
	usr/bin/sg_xcopy usr/bin/sg_get_lba_status usr/bin/sg_readcap
	sbin/fstrim sbin/blkdiscard usr/bin/ddpt usr/bin/sg_raw"
# Modules the init script loads, in any order (their dependencies are
# found from each module's own "depends=" field). dm-multipath's path
# selector is service-time (multipath-tools' default); scsi_dh_alua must be
# loaded before the login, since the kernel attaches a device handler only
# when it adds the device and cannot load a module on its own here. sg:
# sg_xcopy works on SCSI generic devices only.
MODULES="virtio_pci virtio_net iscsi_tcp sd_mod crc32c_generic ext4
	scsi_dh_alua dm_multipath dm_service_time sg"

# The kernel: the image package that linux-image-amd64 points to now.
kernel_package() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n 1
}

# network_error LOG: apt's messages in LOG say the mirror is unreachable.
network_error() {
	grep -Eqi 'could not resolve|temporary failure resolving|unable to connect|could not connect|connection failed|network is unreachable|timed out' "$1"
}

# candidates PKG...: "PKG VERSION" for each package apt knows a version of
# (none without package lists). One apt-cache call: each costs ~0.5 s.
candidates() {
	apt-cache policy "$@" 2>/dev/null | awk '
		/^[^ ].*:$/ { pkg = substr($0, 1, length($0) - 1) }
		$1 == "Candidate:" && $2 != "(none)" { print pkg, $2 }'
}

# cached_deb PKG [VERSION]: the cached .deb of PKG, of VERSION if given,
# by its name as apt-get download writes it (an epoch's ':' is "%3a").
cached_deb() {
	local f
	for f in "$DEBS/${1}_${2:+${2//:/%3a}_}"*.deb; do
		[ -e "$f" ] && { echo "$f"; return 0; }
	done
	return 1
}

# fetch PKG...: makes sure the cache holds the candidate version of each
# package, downloading only what is missing; prints the .deb paths.
# Returns 2 when the download fails for another reason than the network.
fetch() {
	local pkg ver f missing=() paths=() log
	declare -A want=()
	while read -r pkg ver; do
		want[$pkg]=$ver
	done < <(candidates "$@")
	for pkg in "$@"; do
		cached_deb "$pkg" "${want[$pkg]:-}" > /dev/null || missing+=("$pkg")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		say "apt-get download ${missing[*]}"
		log=$(mktemp)
		# As root, apt would drop to the _apt user, who cannot write
		# into the cache; the download itself needs no privilege.
		if ! (cd "$DEBS" && apt-get -q -o APT::Sandbox::User="$(id -un)" \
				download "${missing[@]}") > "$log" 2>&1; then
			cat "$log" >&2
			if network_error "$log"; then
				rm -f "$log"
				skip "apt-get download failed: no network to Debian's mirror, and the cache $DEBS lacks ${missing[*]}"
			fi
			rm -f "$log"
			# Stale package lists name versions the mirror no
			# longer has (the security archive keeps only the
			# latest): the caller may refresh them and try again.
			return 2
		fi
		rm -f "$log"
		# Drop older versions of what was just fetched.
		for pkg in "${missing[@]}"; do
			for f in "$DEBS/$pkg"_*.deb; do
				[ "$f" = "$(cached_deb "$pkg" "${want[$pkg]}")" ] || rm -f "$f"
			done
		done
	fi
	for pkg in "$@"; do
		f=$(cached_deb "$pkg" "${want[$pkg]:-}") || die "$pkg is not in $DEBS after apt-get download"
		paths+=("$f")
	done
	printf '%s\n' "${paths[@]}"
}

# fetch_all: the kernel (first) and every package above, as .deb paths.
fetch_all() {
	local kpkg
	kpkg=$(kernel_package)
	if [ -z "$kpkg" ]; then
		# No package lists: fall back to a cached kernel, if any.
		kpkg=$(cd "$DEBS" && ls linux-image-[0-9]*-amd64_*.deb 2>/dev/null |
			sed 's/_.*//' | sort -V | tail -n 1)
		[ -n "$kpkg" ] || return 2
	fi
	# shellcheck disable=SC2086 # the package lists are words
	fetch "$kpkg" $PROGRAM_PACKAGES $LIBRARY_PACKAGES
}

rc=0
deb_list=$(fetch_all) || rc=$?
if [ "$rc" = 2 ] && [ "$(id -u)" = 0 ]; then
	say "apt-get update (package lists missing or stale), then again"
	log=$(mktemp)
	if ! apt-get update -q > "$log" 2>&1; then
		cat "$log" >&2
		network_error "$log" && skip "apt-get update failed: no network to Debian's mirror"
		die "apt-get update failed"
	fi
	rm -f "$log"
	rc=0
	deb_list=$(fetch_all) || rc=$?
fi
[ "$rc" = 2 ] && die "apt knows no linux-image-amd64 or apt-get download failed (package lists missing or stale? run apt-get update)"
[ "$rc" = 0 ] || exit "$rc"
mapfile -t DEB_FILES <<< "$deb_list"
KPKG=${DEB_FILES[0]##*/}
KPKG=${KPKG%%_*}

# The image is rebuilt only when a package or a script of this folder
# changes.
# The scenarios init sources (uscst.scenario=NAME runs /NAME.sh).
SCENARIOS="pr_alua thin async nopin redirect aen reneg odx"
KEY=$( { printf '%s\n' "${DEB_FILES[@]##*/}"; cat "$HERE/init" "$HERE/build_initramfs.sh"
	for s in $SCENARIOS; do cat "$HERE/$s.sh"; done; } |
	sha256sum | cut -c1-16)
IMAGE=$CACHE/image-$KEY
if [ -s "$IMAGE/initramfs" ] && [ -s "$IMAGE/vmlinuz" ]; then
	say "cached image $IMAGE"
	cp "$IMAGE/vmlinuz" "$IMAGE/initramfs" "$OUT/"
	exit 0
fi

command -v cpio > /dev/null || die "cpio is not installed (make deps-test installs it)"
command -v readelf > /dev/null || die "readelf is not installed (binutils)"

WORK=$(mktemp -d "$CACHE/build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
PKGROOT=$WORK/packages
ROOT=$WORK/root
mkdir -p "$PKGROOT" "$ROOT"
for f in "${DEB_FILES[@]}"; do
	dpkg-deb -x "$f" "$PKGROOT"
done

KVER=$(cd "$PKGROOT/lib/modules" && ls | head -n 1)
[ -f "$PKGROOT/boot/vmlinuz-$KVER" ] || die "no vmlinuz-$KVER in $KPKG"
say "kernel $KVER from $KPKG"

mkdir -p "$ROOT"/{bin,sbin,lib64,lib/x86_64-linux-gnu,etc/iscsi,proc,sys,dev,run,tmp,mnt,var/lock}
cp "$PKGROOT/bin/busybox" "$ROOT/bin/busybox"
# The rest of the applets are linked by the init script itself.
ln -s busybox "$ROOT/bin/sh"
for p in $PROGRAMS; do
	cp "$PKGROOT/$p" "$ROOT/sbin/${p##*/}"
done
# multipath's checkers and prioritizers (tur, alua, ...) are plugins it
# dlopens from the directory it was built with.
mkdir -p "$ROOT/lib/multipath"
cp "$PKGROOT"/lib/multipath/*.so "$ROOT/lib/multipath/"
ln -s mke2fs "$ROOT/sbin/mkfs.ext4"
cp "$PKGROOT/etc/mke2fs.conf" "$ROOT/etc/mke2fs.conf"
cp "$HERE/init" "$ROOT/init"
chmod 755 "$ROOT/init"
for s in $SCENARIOS; do
	cp "$HERE/$s.sh" "$ROOT/$s.sh"
done

# Shared libraries: the NEEDED closure of the dynamic programs, each one
# taken from the unpacked packages (never from the host).
find_lib() {
	local d
	for d in lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu lib64 lib; do
		[ -e "$PKGROOT/$d/$1" ] && { echo "$PKGROOT/$d/$1"; return 0; }
	done
	return 1
}
declare -A have_lib=()
queue=()
for p in $PROGRAMS; do
	queue+=("$ROOT/sbin/${p##*/}")
done
queue+=("$ROOT"/lib/multipath/*.so)
while [ ${#queue[@]} -gt 0 ]; do
	elf=${queue[0]}
	queue=("${queue[@]:1}")
	for lib in $(readelf -d "$elf" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
		[ -n "${have_lib[$lib]:-}" ] && continue
		src=$(find_lib "$lib") || die "$lib (needed by ${elf##*/}) is in none of: $LIBRARY_PACKAGES"
		cp -L "$src" "$ROOT/lib/x86_64-linux-gnu/$lib"
		have_lib[$lib]=1
		queue+=("$ROOT/lib/x86_64-linux-gnu/$lib")
	done
done
# The dynamic loader, where the programs' PT_INTERP says it is.
cp -L "$(find_lib ld-linux-x86-64.so.2)" "$ROOT/lib64/ld-linux-x86-64.so.2"

# Kernel modules: the named ones and their dependencies, listed in
# lib/modules/load-order so that each comes after what it depends on.
MODDIR=$PKGROOT/lib/modules/$KVER
declare -A mod_path=() mod_done=()
while read -r path; do
	name=${path##*/}
	name=${name%.ko}
	mod_path[${name//-/_}]=$path
done < <(cd "$MODDIR" && find kernel -name '*.ko')
ORDER=$ROOT/lib/modules/load-order
mkdir -p "$ROOT/lib/modules"
: > "$ORDER"
add_module() {
	local name=${1//-/_} deps dep
	[ -n "${mod_done[$name]:-}" ] && return 0
	[ -n "${mod_path[$name]:-}" ] || die "module $name is not in $KPKG (built in? then drop it from MODULES)"
	mod_done[$name]=1
	deps=$(tr '\0' '\n' < "$MODDIR/${mod_path[$name]}" | sed -n 's/^depends=//p' | head -n 1)
	for dep in ${deps//,/ }; do
		add_module "$dep"
	done
	mkdir -p "$ROOT/lib/modules/$(dirname "${mod_path[$name]}")"
	cp "$MODDIR/${mod_path[$name]}" "$ROOT/lib/modules/${mod_path[$name]}"
	echo "${mod_path[$name]}" >> "$ORDER"
}
for m in $MODULES; do
	add_module "$m"
done
say "$(wc -l < "$ORDER") modules, ${#have_lib[@]} libraries"

mkdir -p "$IMAGE.new"
cp "$PKGROOT/boot/vmlinuz-$KVER" "$IMAGE.new/vmlinuz"
(cd "$ROOT" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) > "$IMAGE.new/initramfs"
rm -rf "$IMAGE"
mv "$IMAGE.new" "$IMAGE"
# Older images are of no further use.
for old in "$CACHE"/image-*; do
	[ "$old" = "$IMAGE" ] || rm -rf "$old"
done
say "built $IMAGE ($(du -sh "$IMAGE/initramfs" | cut -f1) initramfs)"
cp "$IMAGE/vmlinuz" "$IMAGE/initramfs" "$OUT/"
