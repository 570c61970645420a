# The capture scenario (busybox ash). Every interface is addressed through the role found
# by find_roles (master / standby / ctl / primary) so that the script survives surprises in
# naming; the command lines recorded are the expanded ones.
FROM=0; ONLY=
for w in $(cat /proc/cmdline); do
  case "$w" in
    ifsim.from=*) FROM=${w#*=} ;;
    ifsim.steps=*) ONLY=${w#*=} ;;
    ifsim.settle=*) SETTLE=${w#*=} ;;
  esac
done
. /root/lib.sh

want() { # step number -> run it?
  [ "$1" -ge "$FROM" ] || return 1
  [ -z "$ONLY" ] && return 0
  case ",$ONLY," in *",$1,"*) return 0 ;; esac
  return 1
}
PCI_PRIMARY=0000:02:00.0
CARRIERS='for f in /sys/class/net/*/carrier; do printf "%s: " $f; cat $f 2>&1; done'

LINKSHOW="$IP -d link"

# ------------------------------------------------------------------------------------------
s0() {
  step 0 "boot state: names, sysfs attributes, boot dmesg"
  find_roles
  NODMESG=1 cmd "uname -r"
  NODMESG=1 cmd "dmesg"
  NODMESG=1 cmd "dmesg | grep -E 'failover|net_failover|virtio_net|e1000e|renamed'"
  dmesg -c > /dev/null
  cmd "ls /sys/class/net"
  for d in /sys/class/net/*; do
    n=${d##*/}
    for a in name_assign_type phys_port_name addr_assign_type ifindex iflink address perm_addr carrier operstate mtu tx_queue_len flags dev_id dev_port type; do
      cmd "cat /sys/class/net/$n/$a"
    done
    cmd "readlink /sys/class/net/$n/device"
    cmd "basename \$(readlink /sys/class/net/$n/device/driver)"
    cmd "ls /sys/class/net/$n/"
    cmd "ls /sys/class/net/$n/queues/"
  done
  cmd "ls -l /sys/bus/pci/devices/"
  cmd "cat /proc/interrupts"
}

s1() {
  step 1 "initial ip link listings"
  find_roles
  cmd "$IP link"
  cmd "$IP -d link"
  cmd "$IP -j -d link"
  cmd "$IP -j link"
  cmd "$IP -s link"
  cmd "$IP -s -s link"
  cmd "$IP -d -j -p link show $MASTER"
  cmd "$IP link show master $MASTER"
}

s2() {
  step 2 "master up"
  find_roles
  act "$IP link set $MASTER up"
  sleep 4
  cmd "$IP -d link"
  cmd "$IP -j -d link"
  cmd "$CARRIERS"
  cmd "grep . /sys/class/net/*/operstate"
}

s3() {
  step 3 "renames with the master up"
  find_roles
  act "$IP link set $STANDBY name sbyx"
  act "$IP link set $PRIMARY name prix"
  act "$IP link set $MASTER name foo"
  act "$IP link set $CTL up"
  act "$IP link set $CTL name ctl0"
  act "$IP link set $CTL down"
  act "$IP link set $CTL name ctl0"
  act "$IP link set prix name prix"
  cmd "$IP -d link"
}

s4() {
  step 4 "slave down / rename of a downed slave / primary down+up, master up"
  find_roles
  act "$IP link set $STANDBY down"
  cmd "$IP -d link"
  act "$IP link set $STANDBY name eth1"
  cmd "$IP -d link"
  find_roles
  act "$IP link set $PRIMARY down"
  cmd "$IP -d link"
  act "$IP link set $PRIMARY up"
  cmd "$IP -d link"
}

s5() {
  step 5 "master down and up again"
  find_roles
  act "$IP link set $MASTER down"
  cmd "$IP -d link"
  act "$IP link set $MASTER up"
  cmd "$IP -d link"
}

s6() {
  step 6 "hot-unplug the primary, master up"
  find_roles
  req device_del primary0
  cmd "$IP -d link"
  cmd "$CARRIERS"
}

plug_window() { # description
  win_begin "host: device_add primary0; guest waits for a netdev under $PCI_PRIMARY"
  _req "$ACTID" device_add primary0; win_note "ack $(cat /tmp/out)"
  n=$(wait_pci_netdev $PCI_PRIMARY 30) && win_note "netdev $n" || win_note "no netdev after 30 s"
  win_end
}

s7() {
  step 7 "hot-plug the primary, master up; then rename it"
  find_roles
  plug_window
  cmd "$IP -d link"
  find_roles
  act "$IP link set $PRIMARY name ens4"
  cmd "$IP -d link"
}

s8() {
  step 8 "master mtu 1400 with the master up"
  find_roles
  act "$IP link set $MASTER mtu 1400"
  cmd "$IP -d link"
}

s9() {
  step 9 "master down; unplug + re-plug the primary while down; rename; master up"
  find_roles
  act "$IP link set $MASTER down"
  req device_del primary0
  cmd "$IP -d link"
  plug_window
  cmd "$IP -d link"
  find_roles
  act "$IP link set $PRIMARY name ens4"
  act "$IP link set $MASTER up"
  cmd "$IP -d link"
}

s10() {
  step 10 "carrier games via QMP set_link and primary down, master up"
  find_roles
  req set_link standby0 off
  cmd "$CARRIERS"
  cmd "$IP -d link"
  req set_link primary0 off
  sleep 5
  cmd "$CARRIERS"
  act "$IP link set $PRIMARY down"
  cmd "$CARRIERS"
  cmd "$IP -d link"
  req set_link standby0 on
  cmd "$CARRIERS"
  act "$IP link set $PRIMARY up"
  cmd "$CARRIERS"
  req set_link primary0 on
  cmd "$CARRIERS"
  cmd "$IP -d link"
}

s11() {
  step 11 "refused operations on the failover devices"
  find_roles
  act "$IP link set $CTL master $MASTER"
  act "$IP link set $PRIMARY nomaster"
  act "$IP link set $STANDBY nomaster"
  act "$IP link set $MASTER mtu 67"
  act "$IP link set $MASTER mtu 9001"
  act "$IP link set $MASTER mtu 1500"
  act "$IP link set $STANDBY mtu 1300"
  act "$IP link set $MASTER address 52:54:00:00:12:54"
  act "$IP link set $PRIMARY address 52:54:00:00:12:55"
  cmd "$IP -d link"
  cmd "$IP -s -s link show $MASTER"
}

s12() {
  step 12 "master down: slave up, standby rename, master rename; master up"
  find_roles
  act "$IP link set $MASTER down"
  act "$IP link set $STANDBY up"
  act "$IP link set $STANDBY name sby2"
  cmd "$IP -d link"
  act "$IP link set $MASTER name fo0"
  cmd "$IP -d link"
  cmd "ls /sys/class/net/fo0/"
  act "$IP link set fo0 name $MASTER"
  act "$IP link set $MASTER up"
  cmd "$IP -d link"
}

s13() {
  step 13 "altnames on a failover slave"
  find_roles
  act "$IP link property add dev $PRIMARY altname prialt"
  cmd "$IP -d link show $PRIMARY"
  act "$IP link set $PRIMARY name prialt"
  act "$IP link property del dev $PRIMARY altname prialt"
  act "$IP link set $PRIMARY name prialt"
  cmd "$IP -d link"
}

s14() {
  step 14 "hot-plug race: rename the primary as soon as it appears (master up)"
  find_roles
  req device_del primary0
  win_begin "host: device_add primary0; guest renames the new netdev to ens4 as soon as it exists"
  _req "$ACTID" device_add primary0; win_note "ack $(cat /tmp/out)"
  if n=$(wait_pci_netdev $PCI_PRIMARY 30); then
    win_note "netdev $n"
    $IP link set "$n" name ens4 > /tmp/rn.out 2>&1
    win_note "ip link set $n name ens4 -> exit $? $(cat /tmp/rn.out)"
  else
    win_note "no netdev after 30 s"
  fi
  win_end
  cmd "$IP -d link"
}

s15() {
  step 15 "primary set down, then renamed, with the master up"
  find_roles
  act "$IP link set $PRIMARY down"
  act "$IP link set $PRIMARY name ens5"
  cmd "$IP -d link"
}

s16() {
  step 16 "final state"
  find_roles
  cmd "$IP -d link"
  cmd "$IP -j -d link"
  cmd "$IP -s link"
  cmd "$CARRIERS"
  cmd "grep . /sys/class/net/*/operstate"
  for d in /sys/class/net/*; do
    n=${d##*/}
    cmd "cat /sys/class/net/$n/name_assign_type"
    cmd "cat /sys/class/net/$n/phys_port_name"
  done
  cmd "ls /sys/class/net/$MASTER/"
}

for s in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do
  want $s && s$s
done
proto "@@BYE"
