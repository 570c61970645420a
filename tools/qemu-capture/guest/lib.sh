# Helpers for the capture guest (busybox ash). Sourced by steps.sh.
#
# Wire protocol on /dev/ttyS1 (raw, no echo), one record per line:
#   guest -> host  @@STEP <n> <title>            a new step begins
#                  @@BEGIN <id> <kind>           an action begins (kind: cmd|act|req)
#                  @@META <key> <value...>        scalar of the current action
#                  @@FILE <key>                  followed by base64 lines, then @@EOF
#                  @@END <id>                    action complete
#                  @@REQ <id> <op> <args...>      ask the host to do something (QMP)
#                  @@LOG <text>                  free text for the host log
#                  @@BYE                         all done
#   host -> guest  @@ACK <id> <json>             answer to @@REQ
IP=/usr/sbin/ip
SETTLE=${SETTLE:-3}
exec 3<>/dev/ttyS1
stty -F /dev/ttyS1 raw -echo 2>/dev/null || stty raw -echo <&3
ACTN=0

now() { cut -d' ' -f1 /proc/uptime; }
proto() { printf '%s\n' "$*" >&3; }
log() { proto "@@LOG $*"; echo "ifsim: $*"; }
sendfile() { # key path
  proto "@@FILE $1"
  base64 < "$2" >&3
  proto "@@EOF"
}
sendstr() { # key string (sent verbatim, no trailing newline added)
  printf '%s' "$2" > /tmp/.s
  sendfile "$1" /tmp/.s
}
step() { # n title
  STEPN=$1; shift
  proto "@@STEP $STEPN $*"
  echo "ifsim: === step $STEPN: $* ($(now))"
}

# ---- ip monitor link in the background --------------------------------------------------
mon_start() {
  $IP monitor link > /tmp/mon.out 2> /tmp/mon.err &
  MONPID=$!
  # wait until its rtnetlink socket has joined a multicast group (/proc/net/netlink)
  i=0
  while [ $i -lt 500 ]; do
    awk -v p="$MONPID" '$2 == 0 && $3 == p && $4 != "00000000" { f = 1 } END { exit !f }' /proc/net/netlink && break
    sleep 0.02; i=$((i + 1))
  done
  [ $i -lt 500 ] || log "monitor $MONPID did not subscribe in time"
}
mon_stop() {
  kill "$MONPID" 2>/dev/null
  wait "$MONPID" 2>/dev/null
}

# ---- actions ------------------------------------------------------------------------------
# cmd "<command line>"   run it (no monitor); record stdout/stderr/exit + new dmesg lines
# act "<command line>"   same, with `ip monitor link` around it and a $SETTLE s wait after it
# req <op> <args...>     ask the host (QMP), monitored like act; host answer = stdout
_begin() { ACTN=$((ACTN + 1)); ACTID="$STEPN.$ACTN"; proto "@@BEGIN $ACTID $1"; }
_finish() { # rc t0 t1 [monitored]
  [ -z "$NODMESG" ] && dmesg -c > /tmp/dmesg.out 2>/dev/null
  proto "@@META exit $1"
  proto "@@META t_start $2"
  proto "@@META t_end $3"
  proto "@@META t_done $(now)"
  sendfile stdout /tmp/out
  sendfile stderr /tmp/err
  if [ -n "$4" ]; then
    sendfile monitor /tmp/mon.out
    [ -s /tmp/mon.err ] && sendfile monitor_stderr /tmp/mon.err
  fi
  [ -z "$NODMESG" ] && sendfile dmesg /tmp/dmesg.out
  proto "@@END $ACTID"
}
cmd() {
  _begin cmd
  sendstr cmdline "$1"
  t0=$(now)
  eval "$1" > /tmp/out 2> /tmp/err
  rc=$?
  t1=$(now)
  _finish $rc $t0 $t1
  return $rc
}
act() {
  _begin act
  sendstr cmdline "$1"
  mon_start
  t0=$(now)
  eval "$1" > /tmp/out 2> /tmp/err
  rc=$?
  t1=$(now)
  sleep "$SETTLE"
  mon_stop
  _finish $rc $t0 $t1 m
  return $rc
}
# wait for the host's answer to request $1; answer json -> /tmp/out
_wait_ack() {
  while IFS= read -r line <&3; do
    line=$(printf '%s' "$line" | tr -d '\r')
    case "$line" in
      "@@ACK $1 "*) printf '%s\n' "${line#@@ACK $1 }" > /tmp/out; return 0 ;;
    esac
  done
  return 1
}
_req() { # id op args  (no monitor)
  proto "@@REQ $*"
  _wait_ack "$1"
}
req() {
  _begin req
  sendstr cmdline "host: $*"
  mon_start
  t0=$(now)
  : > /tmp/err
  _req "$ACTID" "$@"
  rc=$?
  t1=$(now)
  sleep "$SETTLE"
  mon_stop
  _finish $rc $t0 $t1 m
}
# A monitored window around several operations (recorded as one action):
#   win_begin "<description>"; ...; win_end
win_begin() {
  _begin act
  sendstr cmdline "$1"
  : > /tmp/out; : > /tmp/err
  WIN_LOG=/tmp/win.log; : > $WIN_LOG
  mon_start
  W0=$(now)
}
win_note() { printf '%s %s\n' "$(now)" "$*" >> $WIN_LOG; }
win_end() {
  W1=$(now)
  sleep "$SETTLE"
  mon_stop
  cp $WIN_LOG /tmp/out
  _finish 0 $W0 $W1 m
}

# ---- interface discovery --------------------------------------------------------------------
drv_of() { b=$(readlink /sys/class/net/$1/device/driver 2>/dev/null) && basename "$b"; }
# name of the netdev under PCI function $1 (e.g. 0000:02:00.0), empty if none
netdev_of_pci() { ls /sys/bus/pci/devices/$1/net 2>/dev/null | head -1; }
find_roles() {
  MASTER=; STANDBY=; CTL=; PRIMARY=
  for d in /sys/class/net/*; do
    n=${d##*/}
    [ "$n" = lo ] && continue
    if ls $d/ | grep -q '^lower_'; then MASTER=$n; continue; fi
    case "$(drv_of $n)" in
      e1000e) PRIMARY=$n ;;
      virtio_net)
        if [ "$(cat $d/address)" = 52:54:00:00:12:99 ]; then CTL=$n
        elif [ "$(cat $d/phys_port_name 2>/dev/null)" = sby ]; then STANDBY=$n
        else [ -z "$MASTER" ] && MASTER=$n
        fi ;;
    esac
  done
  log "roles: master=$MASTER standby=$STANDBY ctl=$CTL primary=$PRIMARY"
}
# wait (up to $2 s) until PCI function $1 has (or, with $3=gone, no longer has) a netdev
wait_pci_netdev() {
  i=0; lim=$(( $2 * 50 ))
  while [ $i -lt $lim ]; do
    n=$(netdev_of_pci $1)
    if [ "$3" = gone ]; then [ -z "$n" ] && return 0; else [ -n "$n" ] && { echo "$n"; return 0; }; fi
    sleep 0.02; i=$((i + 1))
  done
  return 1
}
