#!/bin/sh
# Adds, renames, brings up, renames while up and deletes a veth pair: the kernel-only part,
# which runs the same on the model and in a network namespace of the host kernel:
#   ifsim exec --kernel 6.1 -- ./examples/exec/veth-lifecycle.sh
#   sudo ifsim exec --backend netns -- ./examples/exec/veth-lifecycle.sh
ip link add veth0 address 02:00:00:00:00:01 type veth peer name veth1 address 02:00:00:00:00:02
ip link set veth0 name lan0
ip link set lan0 up
ip link set veth1 up
ip link set lan0 name lan1
echo "rename while up: exit $?"
ip -br link show
ip link set lan1 down 2>/dev/null && ip link set lan1 name lan2
ip -o link show
ip link del lan2 2>/dev/null || ip link del lan1
ip link show
