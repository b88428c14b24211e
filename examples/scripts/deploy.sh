#!/bin/sh
# Simulates a deployment: prints the steps a real deploy would take.
set -eu
app="$1"; env="$2"; shift 2
version="latest"; force=""
for arg in "$@"; do
  case "$arg" in
    --version=*) version="${arg#--version=}" ;;
    --force) force=" (forced)" ;;
  esac
done
echo "Deploying $app $version to $env$force, requested by ${DEPLOY_REQUESTED_BY:-someone}${PARLEY_APPROVERS:+, approved by $PARLEY_APPROVERS}"
# A careless script that prints its credentials: Parley masks the value before anyone sees it.
echo "  using token ${DEPLOY_TOKEN:-none}"
for step in "pull image $app:$version" "run migrations" "roll out 3/3 replicas" "health check"; do
  sleep 0.2
  echo "  ✓ $step"
done
echo "$app $version is live on $env"
