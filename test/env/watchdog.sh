#!/usr/bin/env bash
# watchdog.sh OWNER_PID WORK_DIR
# Started detached by with-env.ts. When OWNER_PID is gone without having stopped the
# environment itself (killed with SIGKILL, crashed), stops the test command
# (WORK_DIR/command.pid) and every process recorded in WORK_DIR/procs/*.pid, deletes the
# network namespaces recorded in WORK_DIR/netns/* (killing what still runs in them; their
# veth pairs go with them) and removes WORK_DIR. with-env.ts kills this watchdog before its
# own orderly teardown.
set -u
owner="$1" dir="$2"
while kill -0 "$owner" 2>/dev/null; do sleep 1; done
# The test command with-env.ts was running, if any.
if [[ -f "$dir/command.pid" ]]; then
  cmd="$(cat "$dir/command.pid")"
  [[ "$cmd" =~ ^[0-9]+$ ]] && kill -TERM "$cmd" 2>/dev/null
fi
pids=()
for f in "$dir"/procs/*.pid; do
  [[ -f "$f" ]] || continue
  pid="$(cat "$f")"
  [[ "$pid" =~ ^[0-9]+$ ]] || continue
  kill -TERM -- "-$pid" "$pid" 2>/dev/null && pids+=("$pid")
done
for _ in $(seq 1 100); do
  alive=0
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
  [[ $alive == 0 ]] && break
  sleep 0.1
done
for pid in "${pids[@]}"; do kill -KILL -- "-$pid" "$pid" 2>/dev/null; done
# The test hosts (netns.ts writes netns=..., hostInterface=... and hostAddress=... lines).
for f in "$dir"/netns/*; do
  [[ -f "$f" ]] || continue
  ns="$(sed -n 's/^netns=//p' "$f")" hif="$(sed -n 's/^hostInterface=//p' "$f")" haddr="$(sed -n 's/^hostAddress=//p' "$f")"
  if [[ "$ns" =~ ^ck8s-[a-z0-9-]+$ && -e "/run/netns/$ns" ]]; then
    for _ in $(seq 1 50); do
      left="$(ip netns pids "$ns" 2>/dev/null)"
      [[ -z "$left" ]] && break
      kill -KILL $left 2>/dev/null
      sleep 0.1
    done
    ip netns del "$ns" 2>/dev/null
  fi
  [[ "$hif" =~ ^ck8s-[0-9]+-h$ ]] && ip link del "$hif" 2>/dev/null
  [[ "$haddr" =~ ^10\.213\.[0-9]+\.1$ ]] && ip addr del "$haddr/32" dev lo 2>/dev/null
  rm -f "$f"
done
[[ -f "$dir/.ephemeral" ]] && rm -rf "$dir"
exit 0
