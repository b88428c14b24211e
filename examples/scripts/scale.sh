#!/bin/sh
# Simulates scaling a service.
set -eu
echo "Scaling $1 to $2 replicas"
sleep 0.3
echo "$1 now runs $2 replicas"
