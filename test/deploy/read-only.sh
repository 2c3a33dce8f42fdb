#!/bin/sh
# Runs a command as it runs from read-only media on a machine without Node. Started under
# `unshare -m --propagation private` (root): inside that private mount namespace every mount is
# made read-only, every node binary is covered with /dev/null, the working directory is CWD, and
# the environment is only what the caller names (no HOME, no PATH entry with a node in it).
# usage: unshare -m --propagation private sh read-only.sh CWD NAME=VALUE... COMMAND ARGS...
set -eu
cwd=$1
shift
awk '{print $5" "$9}' /proc/self/mountinfo | while read -r point fstype; do
  case "$fstype" in proc|sysfs|cgroup|cgroup2|devpts|mqueue|securityfs|debugfs|tracefs|bpf|pstore|configfs|fusectl) continue ;; esac
  mount -o remount,bind,ro "$point" 2>/dev/null || { echo "read-only.sh: could not make $point read-only" >&2; exit 97; }
done
for node in /usr/bin/node /usr/local/bin/node /bin/node /opt/node/bin/node "${HIDE_NODE:-}"; do
  if [ -n "$node" ] && [ -e "$node" ]; then mount --bind /dev/null "$node"; fi
done
cd "$cwd"
exec env -i PATH=/usr/local/bin:/usr/bin:/bin "$@"
