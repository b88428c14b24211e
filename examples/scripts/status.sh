#!/bin/sh
# Simulates a status query over a few services.
set -eu
services="${1:-}"
[ -n "$services" ] || services="api web worker db"
printf '%-8s %-9s %s\n' SERVICE STATE REPLICAS
for s in $services; do
  case "$s" in
    db) printf '%-8s %-9s %s\n' "$s" healthy 1/1 ;;
    worker) printf '%-8s %-9s %s\n' "$s" degraded 2/3 ;;
    *) printf '%-8s %-9s %s\n' "$s" healthy 3/3 ;;
  esac
done
