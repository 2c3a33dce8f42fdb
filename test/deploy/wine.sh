#!/bin/sh
# Runs the Windows executable under Wine inside the Debian 13 chroot that .ci/setup-wine makes
# (or a host Wine, when ROOT is /). Started under `unshare -m --propagation private` (root).
# SEA_DIR is mounted read-only at /sea, WORK_DIR (the Wine prefix, the CA file, the output) at
# /work. Under Wine, Node's stdio must be files: with pipes, opening them fails with EBADF.
# usage: sh wine.sh ROOT SEA_DIR WORK_DIR ARGS...   (exit status in WORK_DIR/status)
set -eu
root=$1 sea=$2 work=$3
shift 3
if [ "$root" = / ]; then
  mkdir -p /tmp/ilo-agent-wine-sea && mount --bind "$sea" /tmp/ilo-agent-wine-sea
  sea_in=/tmp/ilo-agent-wine-sea work_in=$work
else
  mkdir -p "$root/sea" "$root/work"
  mount --bind "$sea" "$root/sea"
  mount --bind "$work" "$root/work"
  mount -t proc proc "$root/proc"
  mount --bind /dev "$root/dev"
  sea_in=/sea work_in=/work
fi
mount -o remount,bind,ro "${root%/}$sea_in"
# The programs below run inside the chroot; everything they see is under it.
script='"$WINE" "$SEA/ilo-agent.exe" "$@" >"$WORK/stdout" 2>"$WORK/stderr"; echo $? >"$WORK/status"'
wine=$( [ -x "${root%/}/usr/lib/wine/wine64" ] && echo /usr/lib/wine/wine64 || echo wine64 )
exec chroot "$root" env -i PATH=/usr/bin:/bin HOME="$work_in/home" WINEPREFIX="$work_in/prefix" WINEDEBUG=-all \
  WINE="$wine" SEA="$sea_in" WORK="$work_in" ILO_USERNAME="${ILO_USERNAME:-}" ILO_PASSWORD="${ILO_PASSWORD:-}" \
  sh -c "$script" wine.sh "$@"
