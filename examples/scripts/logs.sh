#!/bin/sh
# Simulates tailing a service's log, optionally filtered by a pattern (matched literally).
set -eu
service="$1"; lines="${2:-20}"; pattern="${3:-}"
i=1
while [ "$i" -le 200 ]; do
  level=INFO
  [ $((i % 17)) -eq 0 ] && level=ERROR
  [ $((i % 7)) -eq 0 ] && level=WARN
  echo "2026-11-26T10:$(printf '%02d' $((i % 60))):00Z $level $service request $i handled"
  i=$((i + 1))
done | { if [ -n "$pattern" ]; then grep -F -- "$pattern" || true; else cat; fi; } | tail -n "$lines"
