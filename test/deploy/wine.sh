#!/bin/sh
# Runs the Windows executable under Wine inside the Debian 13 chroot that .ci/setup-wine makes.
# Started under `unshare -m --propagation private` (root).
# SEA_DIR is mounted read-only at /sea, WORK_DIR (the Wine prefix, the CA file, the output) at
# /work. Under Wine, Node's stdio must be files: with pipes, opening them fails with EBADF.
# usage: sh wine.sh ROOT SEA_DIR WORK_DIR ARGS...   (exit status in WORK_DIR/status)
# With WINE_SCRIPT set, that shell script runs in the chroot instead, with ARGS as its "$@".
# The CHIF emulator's ILO_CHIF_EMULATOR_TCP and ILO_CHIF_EMULATOR_SECRET pass through (ilorest_chif.dll
# reaches the simulator on loopback TCP: the chroot shares the host's network).
set -eu
root=$1 sea=$2 work=$3
shift 3
mkdir -p "$root/sea" "$root/work"
mount --bind "$sea" "$root/sea"
mount -o remount,bind,ro "$root/sea"
mount --bind "$work" "$root/work"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
# The programs below run inside the chroot; everything they see is under it.
script=${WINE_SCRIPT:-'"$WINE" "$SEA/ilo-agent.exe" "$@" >"$WORK/stdout" 2>"$WORK/stderr"; echo $? >"$WORK/status"'}
exec chroot "$root" env -i PATH=/usr/bin:/bin HOME=/work/home WINEPREFIX=/work/prefix WINEDEBUG=-all \
  WINE=/usr/lib/wine/wine64 SEA=/sea WORK=/work ILO_USERNAME="${ILO_USERNAME:-}" ILO_PASSWORD="${ILO_PASSWORD:-}" \
  ILO_CHIF_EMULATOR_TCP="${ILO_CHIF_EMULATOR_TCP:-}" ILO_CHIF_EMULATOR_SECRET="${ILO_CHIF_EMULATOR_SECRET:-}" \
  sh -c "$script" wine.sh "$@"
