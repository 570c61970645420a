// The guest side of the qemu backend: PID 1 and the agent, busybox `ash` scripts that go into the
// initramfs (prepare.ts). Kept as strings so that the built package (dist/) carries them.
//
// Protocol on /dev/ttyS1 (raw, no echo; ttyS0 is the kernel console), one record per line:
//   guest → host  @@HELLO <uptime>                    the agent is ready
//                 @@BEGIN <seq>                       a reply begins
//                 @@F <key> <bytes>                   a field: base64 lines follow, then @@E
//                 @@END <seq>                         the reply is complete
//   host → guest  @@REQ <seq> <op> <args…>            one request; the reply carries its seq
// Every field's byte count travels with it: the host checks it after decoding. Lines that do not
// start with @@ (and base64 lines outside a field) are console noise and ignored.
//
// Requests (the answer always has the fields `mon` — the new `ip monitor link` output — and
// `dmesg` — new kernel log lines, `dmesg -c`; with udevd `udev`, its new log lines; with the
// bring-up actor `bringup`, its new log lines):
//   exec <base64 shell line>      run it (ash eval); fields rc, stdout, stderr; then drain
//   drain                         wait until the monitor printed what the kernel queued for it
//   settle <quiet> <max> <pci…>   wait for quiescence (see settle() below); field waited
//   waitdev <max> <pci>=<n>…      wait until each PCI function has ≥ n netdevs (n = 0: none, or
//                                 the function is gone); field waited; then drain
//   sleep <ms>                    sleep, then drain
//   remon                         start `ip monitor link` afresh (a new process, whose ll_map
//                                 is a dump of now); what the old one printed is dropped
//   modprobe <module>             load it and its dependencies (insmod); fields rc, stderr
//   final                         fields link (ip -j -d link), text (ip -d link), nat (name and
//                                 name_assign_type of every netdev)
//   bye                           power off

import { BRINGUP_MANAGED_BY } from "../../userspace/bringup.ts";

/**
 * Module loading, shared by init and the agent: `load_mod NAME` insmods the files listed in
 * /lib/modules/ifsim/deps/NAME (dependencies first) that are not loaded yet.
 */
export const GUEST_MODLIB = `udev_start() {
  # as a real boot starts it (systemd-udevd.service, then systemd-udev-trigger.service):
  # the daemon, udevadm trigger of subsystems then devices (action add), udevadm settle
  echo "ifsim-init: udevd starting at $(cut -d' ' -f1 /proc/uptime)"
  mkdir -p /run/udev /etc/systemd/network
  /lib/systemd/systemd-udevd --debug > /tmp/udev.log 2>&1 &
  i=0
  while [ ! -S /run/udev/control ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
  udevadm trigger --type=subsystems --action=add
  udevadm trigger --type=devices --action=add
  udevadm settle -t 60
  echo "ifsim-init: udevd settled at $(cut -d' ' -f1 /proc/uptime)"
}
ms() { # uptime in ms
  read -r u _ < /proc/uptime
  f=\${u#*.}; f=\${f#0}
  echo $(( \${u%.*} * 1000 + f * 10 ))
}
# ---- the bring-up actor (a scenario's \`bringup:\`), as the model's BringupActor: each link once
# (by ifindex), when its name matches one of BU_LINKS ("p1|p2|…|", only * is special) and, with
# BU_WAIT=1, udev is done with it (bu_ready), at least BU_LAT ms after it was first seen:
# \`ip link set dev NAME up\` (or "already up").
# Shell builtins only in the loop (a fork per poll: sleep), so that it does not load the guest.
# udev is done with link $1, as networkd waits for it: its database file exists (initialized,
# sd_device_get_is_initialized) and has no ID_RENAMING (device_is_renaming). udevd writes the
# file with ID_RENAMING and without the rules' properties before it renames the link, and again
# with them after; the move event's processing drops ID_RENAMING. A link under its new name with
# the first file is not done: its properties (NM_UNMANAGED…) are not there yet.
bu_ready() {
  bu_db=/run/udev/data/n$1
  [ -e "$bu_db" ] || return 1
  { while read -r bu_l; do [ "$bu_l" != E:ID_RENAMING=1 ] || return 1; done < "$bu_db"; } 2>/dev/null
}
bu_match() {
  rest=$BU_LINKS
  while [ -n "$rest" ]; do
    p=\${rest%%|*}; rest=\${rest#*|}
    case "$1" in $p) return 0 ;; esac
  done
  return 1
}
# the links it would act on now (due or not): "ifindex name" per line
bu_candidates() {
  BU_DONE=" $(tr '\\n' ' ' < /tmp/bringup.done 2>/dev/null) "
  for d in /sys/class/net/*; do
    [ -e "$d/ifindex" ] || continue
    read -r i < "$d/ifindex" || continue
    case "$BU_DONE" in *" $i "*) continue ;; esac
    bu_match "\${d##*/}" || continue
    [ "$BU_WAIT" = 1 ] && ! bu_ready "$i" && continue
    echo "$i \${d##*/}"
  done
}
bu_idle() {
  [ -z "$BU_LINKS" ] || [ -z "$(bu_candidates)" ]
}
# with BU_DHCP=1, after the link is up: busybox's udhcpc on it (in the background, retrying for
# ever; -s /bin/true: a lease configures nothing), unless udev's database entry leaves the link
# to another manager (NM_UNMANAGED=1, or ID_NET_MANAGED_BY other than the bring-up's own, as the
# model's BringupActor decides)
bu_dhcp() {
  db=/run/udev/data/n$1
  by=$(sed -n 's/^E:ID_NET_MANAGED_BY=//p' $db 2>/dev/null)
  if grep -qx 'E:NM_UNMANAGED=1' $db 2>/dev/null || { [ -n "$by" ] && [ "$by" != "$BU_MANAGED_BY" ]; }; then
    echo "$2: no DHCP, unmanaged" >> /tmp/bringup.log
    return
  fi
  udhcpc -i "$2" -f -s /bin/true > /dev/null 2>&1 &
  echo "$2: DHCPv4 client started" >> /tmp/bringup.log
}
bringup_loop() {
  : > /tmp/bringup.done
  : > /tmp/bringup.log
  done_=" "
  while :; do
    read -r u _ < /proc/uptime
    f=\${u#*.}; f=\${f#0}; now=$(( \${u%.*} * 1000 + f * 10 ))
    for d in /sys/class/net/*; do
      [ -e "$d/ifindex" ] || continue
      read -r i < "$d/ifindex" || continue
      case "$done_" in *" $i "*) continue ;; esac
      eval "seen=\\\${bu_seen_$i:-}"
      [ -n "$seen" ] || { seen=$now; eval "bu_seen_$i=$now"; }
      n=\${d##*/}
      bu_match "$n" || continue
      [ "$BU_WAIT" = 1 ] && ! bu_ready "$i" && continue
      [ $((now - seen)) -ge "$BU_LAT" ] || continue
      done_="$done_$i "
      echo "$i" >> /tmp/bringup.done
      read -r fl < "$d/flags"
      if [ $((fl & 1)) = 1 ]; then
        echo "$n: already up" >> /tmp/bringup.log
      elif err=$(/usr/sbin/ip link set dev "$n" up 2>&1); then
        echo "$n: bringing link up: ok" >> /tmp/bringup.log
      else
        echo "$n: bringing link up: $err" >> /tmp/bringup.log
        continue
      fi
      [ "$BU_DHCP" = 1 ] && bu_dhcp "$i" "$n"
    done
    sleep 0.02
  done
}
load_mod() {
  [ -f /lib/modules/ifsim/deps/$1 ] || { echo "modprobe: FATAL: Module $1 not found" >&2; return 1; }
  for f in $(cat /lib/modules/ifsim/deps/$1); do
    grep -qx "$f" /tmp/loaded 2>/dev/null && continue
    insmod /lib/modules/ifsim/$f || { echo "insmod $f failed" >&2; return 1; }
    echo "$f" >> /tmp/loaded
  done
}
`;

/**
 * The guest's /proc/sys/kernel/modprobe: the kernel's request_module() runs it as
 * `modprobe -q -- NAME` (call_modprobe() in kernel/kmod.c). It loads NAME, or KIND for the alias
 * rtnl-link-KIND (veth.ko's MODULE_ALIAS_RTNL_LINK), when the initramfs has it (ON_DEMAND_MODULES
 * in prepare.ts); anything else fails as an unknown module does.
 */
export const GUEST_MODPROBE = `#!/bin/sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
. /modlib.sh
name=
for a in "$@"; do case "$a" in -*) ;; *) name=$a ;; esac; done
case "$name" in rtnl-link-*) name=\${name#rtnl-link-} ;; esac
[ -n "$name" ] && [ -f /lib/modules/ifsim/deps/$name ] || exit 1
load_mod "$name" 2>/dev/null
`;

/** PID 1. The modules to load at boot come from the kernel command line (ifsim.modules=a,b). */
export const GUEST_INIT = `#!/bin/sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
echo /sbin/ifsim-modprobe > /proc/sys/kernel/modprobe
echo "ifsim-init: up at $(cut -d' ' -f1 /proc/uptime)"
. /modlib.sh
MODS=virtio_pci,failover,net_failover,virtio_net,e1000e
UDEV=
for w in $(cat /proc/cmdline); do
  case "$w" in
    ifsim.modules=*) MODS=\${w#ifsim.modules=} ;;
    ifsim.udev=*) UDEV=\${w#ifsim.udev=} ;;
    ifsim.link=*) echo "\${w#ifsim.link=}" | base64 -d > /tmp/ifsim.link ;;
    ifsim.bringup=*) echo "\${w#ifsim.bringup=}" | base64 -d > /tmp/ifsim.bringup ;;
  esac
done
export UDEV
# the bring-up actor's configuration: links, wait for udev (0/1), latency ms — one per line
BU_LINKS=; BU_WAIT=0; BU_LAT=0; BU_DHCP=0
if [ -s /tmp/ifsim.bringup ]; then
  { read -r BU_LINKS; read -r BU_WAIT; read -r BU_LAT; read -r BU_DHCP; } < /tmp/ifsim.bringup
fi
BU_MANAGED_BY=${BRINGUP_MANAGED_BY}
export BU_LINKS BU_WAIT BU_LAT BU_DHCP BU_MANAGED_BY
if [ -n "$UDEV" ] && [ -s /tmp/ifsim.link ]; then
  mkdir -p /etc/systemd/network
  cp /tmp/ifsim.link /etc/systemd/network/10-ifsim.link
fi
[ "$UDEV" = early ] && udev_start
# the bring-up daemon starts with the boot, before the modules register their netdevs
if [ -n "$BU_LINKS" ]; then
  bringup_loop &
  echo "ifsim-init: bring-up started at $(cut -d' ' -f1 /proc/uptime)"
fi
for m in $(echo "$MODS" | tr ',' ' '); do
  load_mod $m || echo "ifsim-init: loading $m failed"
done
echo "ifsim-init: modules loaded at $(cut -d' ' -f1 /proc/uptime)"
[ "$UDEV" = late ] && udev_start
sh /agent.sh
echo "ifsim-init: agent exited rc=$?"
poweroff -f
`;

/** The agent (see the protocol above). */
export const GUEST_AGENT = `#!/bin/sh
IP=/usr/sbin/ip
MON=/tmp/mon.out
MONPOS=0
ULOG=/tmp/udev.log
ULOGPOS=0
. /modlib.sh
exec 3<>/dev/ttyS1
stty -F /dev/ttyS1 raw -echo 2>/dev/null || stty raw -echo <&3

out() { printf '%s\\n' "$*" >&3; }
field() { # key file
  out "@@F $1 $(wc -c < "$2")"
  base64 < "$2" >&3
  out "@@E"
}
# ---- ip monitor link, for the whole run (restarted when the steps start) -----------------
mon_start() {
  : > $MON
  MONPOS=0
  $IP monitor link > $MON 2> /tmp/mon.err &
  MONPID=$!
  i=0
  while [ $i -lt 500 ]; do
    # subscribed: its rtnetlink socket has joined a multicast group
    awk -v p="$MONPID" '$2 == 0 && $3 == p && $4 != "00000000" { f = 1 } END { exit !f }' /proc/net/netlink && break
    sleep 0.02; i=$((i + 1))
  done
}
mon_start

# The monitor has printed everything the kernel queued for it: nothing is left in its socket's
# receive queue (Rmem in /proc/net/netlink) and it is blocked in recvmsg (47) again — iproute2
# flushes stdout after each record.
mon_idle() {
  r=$(awk -v p="$MONPID" '$2 == 0 && $3 == p { print $5 }' /proc/net/netlink)
  [ "$r" = 0 ] || return 1
  read -r sc _ < /proc/$MONPID/syscall
  [ "$sc" = 47 ]
}
drain() {
  i=0
  while [ $i -lt 200 ] && ! mon_idle; do sleep 0.01; i=$((i + 1)); done
}
# new monitor output since the last call → /tmp/mon.new
mon_take() {
  size=$(wc -c < $MON)
  tail -c +$((MONPOS + 1)) $MON | head -c $((size - MONPOS)) > /tmp/mon.new
  MONPOS=$size
}
# new udevd log output since the last call → /tmp/udev.new
udev_take() {
  [ -n "$UDEV" ] || return 0
  size=$(wc -c < $ULOG)
  tail -c +$((ULOGPOS + 1)) $ULOG | head -c $((size - ULOGPOS)) > /tmp/udev.new
  ULOGPOS=$size
}
# new bring-up log lines since the last call → /tmp/bringup.new
BULOGPOS=0
bringup_take() {
  [ -n "$BU_LINKS" ] || return 0
  size=$(wc -c < /tmp/bringup.log)
  tail -c +$((BULOGPOS + 1)) /tmp/bringup.log | head -c $((size - BULOGPOS)) > /tmp/bringup.new
  BULOGPOS=$size
}
# udevd has no event queued or running (it removes /run/udev/queue when its queue is empty)
udev_idle() {
  [ -z "$UDEV" ] || [ ! -e /run/udev/queue ]
}
# an e1000e that is up, has no carrier yet and whose backend link is on ($@: PCI addresses
# whose link is off): its carrier comes ~2.5 s after open (watchdog), so the kernel is not idle
carrier_pending() {
  for d in /sys/class/net/*; do
    [ -e $d/device/driver ] || continue
    case "$(readlink $d/device/driver)" in *e1000e) ;; *) continue ;; esac
    fl=$(cat $d/flags)
    [ $((fl & 1)) = 1 ] || continue
    [ "$(cat $d/carrier 2>/dev/null)" = 0 ] || continue
    pci=$(readlink $d/device); pci=\${pci##*/}
    case " $* " in *" $pci "*) continue ;; esac
    return 0
  done
  return 1
}
# linkwatch has yet to run for a carrier change: an up netdev whose carrier and operstate
# disagree (carrier on and operstate down, or off and up). The carrier attribute changes at once,
# operstate and the RTM_NEWLINK record only when linkwatch's work runs (a work item: on a loaded
# TCG guest it ran after the e1000e watchdog's carrier by more than the settle's poll).
linkwatch_pending() {
  for d in /sys/class/net/*; do
    fl=$(cat $d/flags 2>/dev/null) || continue
    [ $((fl & 1)) = 1 ] || continue
    c=$(cat $d/carrier 2>/dev/null)
    o=$(cat $d/operstate 2>/dev/null)
    case "$c:$o" in 1:down | 0:up) return 0 ;; esac
  done
  return 1
}
# quiescence: no new monitor record for $1 ms, the monitor idle, no carrier and no linkwatch run
# pending;
# at most $2 ms. Writes the time waited (ms, "+timeout" when the limit hit) to /tmp/waited.
settle() {
  q=$1; max=$2; shift 2
  t0=$(ms); tq=$t0; last=$(wc -c < $MON); to=
  while :; do
    sleep 0.1
    now=$(ms)
    s=$(wc -c < $MON)
    if [ "$s" != "$last" ]; then last=$s; tq=$now; fi
    if [ $((now - tq)) -ge $q ] && mon_idle && udev_idle && bu_idle && ! carrier_pending "$@" && ! linkwatch_pending; then break; fi
    if [ $((now - t0)) -ge $max ]; then to=+timeout; break; fi
  done
  echo "$((now - t0))$to" > /tmp/waited
}
netdevs_of() { # pci → number of netdevs under it (virtio: under virtioN/)
  n=0
  for x in /sys/bus/pci/devices/$1/net/* /sys/bus/pci/devices/$1/virtio*/net/*; do
    [ -e "$x" ] && n=$((n + 1))
  done
  echo $n
}
waitdev() {
  max=$1; shift
  t0=$(ms); to=
  while :; do
    ok=1
    for w in "$@"; do
      want=\${w#*=}; have=$(netdevs_of \${w%=*})
      if [ "$want" = 0 ]; then [ "$have" = 0 ] || ok=; else [ "$have" -ge "$want" ] || ok=; fi
    done
    [ -n "$ok" ] && break
    now=$(ms)
    if [ $((now - t0)) -ge $max ]; then to=+timeout; break; fi
    sleep 0.02
  done
  echo "$(($(ms) - t0))$to" > /tmp/waited
}

: > /tmp/waited
out "@@HELLO $(cut -d' ' -f1 /proc/uptime)"
while IFS= read -r line <&3; do
  line=$(printf '%s' "$line" | tr -d '\\r')
  case "$line" in "@@REQ "*) ;; *) continue ;; esac
  set -- \${line#@@REQ }
  seq=$1; op=$2; shift 2
  : > /tmp/waited
  fields=
  case "$op" in
    exec)
      cmd=$(printf '%s' "$1" | base64 -d)
      eval "$cmd" > /tmp/stdout 2> /tmp/stderr
      echo $? > /tmp/rc
      drain
      fields="rc stdout stderr" ;;
    drain) drain ;;
    remon)
      drain
      mon_take
      kill $MONPID 2>/dev/null
      wait $MONPID 2>/dev/null
      mon_start ;;
    settle) settle "$@"; fields=waited ;;
    waitdev) waitdev "$@"; drain; fields=waited ;;
    sleep) sleep "$(awk -v m="$1" 'BEGIN { print m / 1000 }')"; drain ;;
    modprobe)
      : > /tmp/stdout
      load_mod "$1" 2> /tmp/stderr
      echo $? > /tmp/rc
      drain
      fields="rc stderr" ;;
    final)
      $IP -j -d link > /tmp/link 2>&1
      $IP -d link > /tmp/text 2>&1
      for d in /sys/class/net/*; do
        echo "\${d##*/} $(cat $d/name_assign_type 2>/dev/null || echo 0)"
      done > /tmp/nat
      fields="link text nat"
      if [ -n "$UDEV" ]; then
        for d in /sys/class/net/*; do udevadm info $d; echo; done > /tmp/udevinfo 2>&1
        fields="$fields udevinfo"
      fi ;;
    bye)
      out "@@BEGIN $seq"; out "@@END $seq"
      kill $MONPID 2>/dev/null
      exit 0 ;;
    *) echo "unknown op $op" > /tmp/stderr; echo 127 > /tmp/rc; fields="rc stderr" ;;
  esac
  mon_take
  udev_take
  bringup_take
  dmesg -c > /tmp/dmesg 2>/dev/null
  out "@@BEGIN $seq"
  for f in $fields; do field $f /tmp/$f; done
  field mon /tmp/mon.new
  [ -n "$UDEV" ] && field udev /tmp/udev.new
  [ -n "$BU_LINKS" ] && field bringup /tmp/bringup.new
  field dmesg /tmp/dmesg
  out "@@END $seq"
done
`;
