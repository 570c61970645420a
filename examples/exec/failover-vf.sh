#!/bin/sh
# A failover VM (ifsim machines failover-vm): bring the failover master up, hot-unplug and
# re-plug the VF (the e1000e primary) mid-way, then rename the re-plugged VF while
# net_failover holds it open: EBUSY before Linux 5.1 (IFF_LIVE_RENAME_OK), renamed from 5.1 on.
#   ifsim exec --kernel 5.0 --machine failover-vm -- ./examples/exec/failover-vf.sh
#   ifsim exec --kernel 6.1 --machine failover-vm -- ./examples/exec/failover-vf.sh
ip link add veth0 address 02:00:00:00:00:01 type veth peer name veth1 address 02:00:00:00:00:02
ip link set veth0 name lan0
ip link set eth0 up
ifsim-hv unplug primary0
ip -br link show
ifsim-hv plug primary0
ip -br link show eth3
ip link set eth3 name vf0
echo "rename VF: exit $?"
ip link set lan0 up
ip link del lan0
ifsim-hv sleep 2s
