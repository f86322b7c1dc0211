#!/usr/bin/env bash
# Make sure Debian's system packages that LearnHub needs are installed.
# Usage: scripts/system-deps.sh run|test|ci|bench
# As root, missing packages are installed with apt-get; otherwise the exact command is printed.
set -euo pipefail

run_pkgs=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-liberation fonts-liberation2)
test_pkgs=(poppler-utils zbar-tools redis-server libreoffice-calc libreoffice-writer)
ci_pkgs=(postgresql chromium)
# wrk: the C load generator of `make bench` (B1's throughput ratios); nginx: B5 weighs the pages
# as docs/deploy.md serves them, behind nginx (bench/b5_pages.py runs its own, on a spare port).
bench_pkgs=(wrk nginx)

case "${1:-run}" in
  run) wanted=("${run_pkgs[@]}") ;;
  test) wanted=("${run_pkgs[@]}" "${test_pkgs[@]}") ;;
  ci) wanted=("${run_pkgs[@]}" "${test_pkgs[@]}" "${ci_pkgs[@]}") ;;
  bench) wanted=("${run_pkgs[@]}" "${bench_pkgs[@]}") ;;
  *) echo "usage: $0 run|test|ci|bench" >&2; exit 2 ;;
esac

missing=()
for pkg in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  echo "Installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "LearnHub needs these Debian packages. Run:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
