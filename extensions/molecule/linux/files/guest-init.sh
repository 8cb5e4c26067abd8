#!/bin/sh
# PID 1 of the test master target: run by create.yml as
#   ip netns exec NS unshare --mount --propagation private --pid --fork --uts --ipc --kill-child \
#       sh guest-init.sh STATE_DIR
# so everything below happens in a private mount namespace (the host sees none of these mounts and
# they vanish with the namespace), a private PID namespace (killing this process ends every guest
# process), a private UTS namespace (the host name) and the network namespace NS (reachable from
# the host only through our veth pair).
#
# STATE_DIR holds: rootfs.lower (path of the cached read-only Debian root), upper/ and work/ (this
# run's overlay layers), merged/ (the mount point), hostname, disks (one line per disk:
# "<loop name> <by-id name>..."), and receives guest.log and ready.
set -eu

state=$1
lower=$(cat "$state/rootfs.lower")
root=$state/merged
log() { echo "guest-init: $*" >&2; }

# The root file system: the cached Debian userland under a per-run writable layer, and a mount
# point of its own (so "/" shows in the guest's mount table like on a real host).
mount -t overlay overlay -o "lowerdir=$lower,upperdir=$state/upper,workdir=$state/work" "$root"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/tmp"
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs "$root/run"
mkdir -p "$root/run/sshd" "$root/run/lock"

# A private /dev with only what a shell, apt and sshd need plus our disks: the host's own disks
# stay invisible to the guest. udev does not run here; the loop below stands in for it.
mount -t tmpfs -o mode=755,nosuid,size=1m tmpfs "$root/dev"
dev=$root/dev
for node in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
    IFS=: read -r name major minor <<EOF
$node
EOF
    mknod -m 666 "$dev/$name" c "$major" "$minor"
done
mkdir -p "$dev/pts" "$dev/shm" "$dev/disk/by-id" "$dev/mapper"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$dev/pts"
ln -s pts/ptmx "$dev/ptmx"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$dev/shm"
ln -s /proc/self/fd "$dev/fd"
ln -s /proc/self/fd/0 "$dev/stdin"
ln -s /proc/self/fd/1 "$dev/stdout"
ln -s /proc/self/fd/2 "$dev/stderr"
mknod -m 600 "$dev/mapper/control" c 10 236 2>/dev/null || true

# make_node NAME: (re)create /dev/NAME as the block device the kernel numbers it now.
make_node() {
    want=$(cat "/sys/class/block/$1/dev")
    if [ -b "$dev/$1" ] && [ "$(stat -c '%Hr:%Lr' "$dev/$1")" = "$want" ]; then
        return 0
    fi
    rm -f "$dev/$1"
    mknod -m 660 "$dev/$1" b "${want%:*}" "${want#*:}"
}

# The disks and the /dev/disk/by-id links udev would make for them (wwn-0x<naa>, scsi-3<naa>).
while read -r loop ids; do
    make_node "$loop"
    for id in $ids; do
        ln -sfn "../../$loop" "$dev/disk/by-id/$id"
    done
done <"$state/disks"

hostname "$(cat "$state/hostname")"
ip link set lo up

chroot "$root" /usr/sbin/sshd -D -e 2>>"$state/sshd.log" &
touch "$state/ready"
log "sshd started (pid $!)"

# udev's part for partitions: when the kernel adds or removes loopNpM, mirror it in /dev and in
# /dev/disk/by-id (<id>-partM), as udev does on a real host. Checked five times a second.
while :; do
    while read -r loop ids; do
        for sys in /sys/class/block/"$loop"p*; do
            [ -e "$sys" ] || continue
            part=${sys##*/}
            make_node "$part"
            for id in $ids; do
                ln -sfn "../../$part" "$dev/disk/by-id/$id-part${part##*p}"
            done
        done
        for node in "$dev/$loop"p*; do
            [ -e "$node" ] || [ -L "$node" ] || continue
            part=${node##*/}
            [ -e "/sys/class/block/$part" ] && continue
            rm -f "$node"
            for id in $ids; do
                rm -f "$dev/disk/by-id/$id-part${part##*p}"
            done
        done
    done <"$state/disks"
    sleep 0.2
done
