#!/bin/sh
# Build the test master target's Debian userland with mmdebstrap (run by create.yml as root):
#   build-rootfs.sh DEST SUITE MIRROR "INSTALLED PACKAGES" "REPOSITORY PACKAGES"
# DEST gets a Debian root file system with the installed packages, and a local apt repository
# (/srv/asr-test-repo, the only apt source) holding the repository packages and their dependencies,
# downloaded but not installed: the role installs them with apt, offline, as from a mirror.
# Built in DEST.tmp.<pid> and renamed, so an interrupted build never leaves a half DEST.
set -eu

dest=$1 suite=$2 mirror=$3 installed=$4 repository=$5
tmp=$dest.tmp.$$
trap 'rm -rf --one-file-system "$tmp"' EXIT
mkdir -p "$(dirname "$dest")"

# The essential hook runs before the kernel is installed, so that its first initramfs is built this way:
# MODULES=list puts in only the modules /etc/initramfs-tools/modules names. It stands for MODULES=dep on
# a VM booted from a ParaVirtual controller (only the drivers in use: vmw_pvscsi, not mptspi), which
# cannot work in a chroot (no root device to follow); Debian's default MODULES=most would hold mptspi
# already and leave the role nothing to rebuild. It also keeps each build of the initramfs to seconds.
# shellcheck disable=SC2016 # the hooks are expanded by mmdebstrap's shell, $1 is the root.
mmdebstrap --mode=root --variant=apt --format=directory \
    --include="$(echo "$installed" | tr ' ' ',')" \
    --essential-hook='mkdir -p "$1/etc/initramfs-tools/conf.d" && echo MODULES=list > "$1/etc/initramfs-tools/conf.d/molecule.conf"' \
    --skip=cleanup/apt/lists \
    --customize-hook='chroot "$1" apt-get clean' \
    --customize-hook="chroot \"\$1\" apt-get install --download-only --yes --quiet $repository" \
    --customize-hook='mkdir -p "$1/srv/asr-test-repo" && mv "$1"/var/cache/apt/archives/*.deb "$1/srv/asr-test-repo/"' \
    --customize-hook='chroot "$1" sh -c "cd /srv/asr-test-repo && apt-ftparchive packages . > Packages"' \
    --customize-hook='echo "deb [trusted=yes] file:/srv/asr-test-repo ./" > "$1/etc/apt/sources.list"' \
    --customize-hook='rm -f "$1"/etc/apt/sources.list.d/*.list "$1"/etc/apt/sources.list.d/*.sources' \
    --customize-hook='chroot "$1" apt-get update --quiet' \
    "$suite" "$tmp" "$mirror"

mv "$tmp" "$dest"
trap - EXIT
