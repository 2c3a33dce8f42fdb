#!/bin/sh
# ilo-apply.sh FILE [ilo-agent global options...]
#
# Brings the iLO to FILE (an `ilo-agent apply` file), restarts the server when a change waits for
# a reboot (a BIOS attribute staged in the settings object), and waits until the server is on
# and has finished POST (ILO_POST_DONE). POSIX sh (busybox ash is enough), no jq: single values come from
# `ilo-agent get --value`.
#
#   ilo-apply.sh /opt/ilo-agent/desired.json                       # in-band, this server's iLO
#   ilo-apply.sh desired.json --url https://ilo01 --ca-cert ilo-ca.pem -u Administrator --password-file pw
#
# In-band, the restart takes this very system down: the script ends there (exit 14), and runs
# again after the boot, when apply finds the values current (exit 0). Out-of-band (--url or
# ILO_URL) it waits for the end of POST, then checks that the staged values took.
#
# Exit: 0 done and nothing due; 14 in-band restart requested, an iLO reset is due (the command
# is printed), or values are still staged after the restart; 10 after the restart something
# still differs; 12 POST did not finish within ILO_POST_TIMEOUT; else ilo-agent's exit code
# (`ilo-agent doctor` says what is wrong when it cannot connect or log in).
set -u
file=${1:?usage: ilo-apply.sh FILE [ilo-agent global options...]}
shift
ILO_AGENT=${ILO_AGENT:-ilo-agent}
SYSTEM=${ILO_SYSTEM:-/redfish/v1/Systems/1}
POST_TIMEOUT=${ILO_POST_TIMEOUT:-20m}
# FinishedPost: "the server has booted the installed OS" (HPE's schema). A server that boots no OS
# stops at InPostDiscoveryComplete ("waiting for the installed OS to be booted"): set that here.
POST_DONE=${ILO_POST_DONE:-FinishedPost}
RESET_SEEN_WITHIN=${ILO_RESET_SEEN_WITHIN:-120} # seconds for POST to start after the reset

log() { echo "ilo-apply: $*" >&2; }
ilo() { "$ILO_AGENT" "$@"; }

case " $* " in
  *" --url "* | *" --url="*) oob=yes ;;
  *) if [ -n "${ILO_URL:-}" ]; then oob=yes; else oob=; fi ;;
esac

report=$(ilo "$@" --output json apply --detailed-exit "$file")
rc=$?
case $rc in
  0) log "the iLO already matches $file"; exit 0 ;;
  13) log "applied $file; nothing waits for a reboot"; exit 0 ;;
  14) ;;
  *) log "apply failed (exit $rc); ilo-agent doctor checks the way to the iLO"; exit "$rc" ;;
esac
# 14: a reboot or an iLO reset is due; the one-line report says which.
case $report in
  *'"rebootRequired":true'*) ;;
  *) log "an iLO reset is due: $ILO_AGENT raw post /redfish/v1/Managers/1/Actions/Manager.Reset --data '{\"ResetType\":\"GracefulRestart\"}'"
     exit 14 ;;
esac

power=$(ilo "$@" get "$SYSTEM" --value PowerState) || exit $?
post=$(ilo "$@" get "$SYSTEM" --value Oem.Hpe.PostState) || exit $?
if [ "$power" = On ]; then reset=${ILO_RESET_TYPE:-ForceRestart}; else reset=On; fi
log "a reboot is due (power $power): ComputerSystem.Reset $reset"
ilo "$@" raw post "$SYSTEM/Actions/ComputerSystem.Reset" --data "{\"ResetType\":\"$reset\"}" > /dev/null || exit $?
if [ -z "$oob" ]; then
  log "in-band: this system restarts now; run ilo-apply.sh again after the boot"
  exit 14
fi

# The reset is asynchronous: for a moment the iLO may still show the last POST as finished.
# See the restart begin (PostState leaves what it was before) before waiting for POST's end.
waited=0
while [ "$(ilo "$@" get "$SYSTEM" --value Oem.Hpe.PostState)" = "$post" ]; do
  if [ "$waited" -ge "$RESET_SEEN_WITHIN" ]; then
    log "PostState still $post after ${RESET_SEEN_WITHIN}s: the restart was not seen; waiting anyway"
    break
  fi
  sleep 5
  waited=$((waited + 5))
done
log "waiting up to $POST_TIMEOUT for PowerState=On and PostState=$POST_DONE"
ilo "$@" wait "$SYSTEM" PowerState=On "Oem.Hpe.PostState=$POST_DONE" --for "$POST_TIMEOUT" --interval 10s > /dev/null || exit $?

# POST applied the staged values: they are current now, and the settings object matches.
report=$(ilo "$@" --output json apply --check "$file")
rc=$?
case $rc in
  0) case $report in
       *'"rebootRequired":true'*) log "POST finished, but values are still staged: this restart did not apply them"
                                  exit 14 ;;
     esac
     log "POST finished; the iLO matches $file"
     exit 0 ;;
  10) log "POST finished, but the iLO still differs from $file (a value refused at POST?):"
      echo "$report"
      exit 10 ;;
  *) exit "$rc" ;;
esac
