#!/bin/sh
# Simulates node maintenance for the drain runbook.
set -eu
verb="$1"; node="$2"
case "$verb" in
  cordon) echo "$node cordoned" ;;
  pods) echo "7 pods" ;;
  disk) echo "disk 41% used on $node" ;;
  evict) echo "evicted 7 pods from $node" ;;
  drain) sleep 0.5; echo "$node drained" ;;
  uncordon) echo "$node uncordoned" ;;
  *) echo "unknown verb $verb" >&2; exit 2 ;;
esac
