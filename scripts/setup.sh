#!/usr/bin/env bash
# Installs the Debian packages the tests and the lab use, only when missing.
# Idempotent; needs root (or sudo) for apt-get. Under CI=true a tool that is
# still missing afterwards is a failure, never a silent skip.
set -euo pipefail

# command → Debian package
declare -A NEED=(
  [prometheus]=prometheus
  [promtool]=prometheus
  [prometheus-alertmanager]=prometheus-alertmanager
  [amtool]=prometheus-alertmanager
  [mosquitto]=mosquitto
  [chromium]=chromium
  [prometheus-node-exporter]=prometheus-node-exporter
  [jq]=jq
)

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }

missing=()
for cmd in "${!NEED[@]}"; do
  have "$cmd" || missing+=("${NEED[$cmd]}")
done
# de-duplicate package names
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u | sed '/^$/d')

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  # The suite starts its own instances on loopback; keep the packages' daemons from
  # starting at install (a system mosquitto would take the lab's port 1883).
  # policy-rc.d is Debian's switch for that; only ours is removed afterwards.
  policy=/usr/sbin/policy-rc.d
  ours=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null && $SUDO chmod +x "$policy" && ours=1
  fi
  trap '[ -n "$ours" ] && $SUDO rm -f "$policy"' EXIT
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

failed=0
for cmd in "${!NEED[@]}"; do
  if ! have "$cmd"; then
    echo "setup: $cmd is still missing (Debian package ${NEED[$cmd]})" >&2
    failed=1
  fi
done
# kubectl renders two kustomizations in the tests (`kubectl kustomize`). It is not
# installed from here: Debian's kubernetes-client is 1.20, whose kustomize refuses a
# folder under `resources` ("'base' must be a file", tried on exporters/deploy).
if ! command -v kubectl >/dev/null 2>&1; then
  echo "setup: kubectl is missing: put kubectl 1.21 or newer on the PATH (Debian's kubernetes-client 1.20 is too old for the tests' kustomizations)" >&2
  failed=1
fi
if [ "$failed" -ne 0 ]; then
  if [ "${CI:-}" = "true" ]; then exit 1; fi
  echo "setup: some tools are missing; tests that need them will fail" >&2
else
  echo "setup: all tools present" >&2
fi
