#!/usr/bin/env bash
# Tools the ingest benchmark compares plekzoeker with: ogr2ogr (gdal-bin) and osm2pgsql; libfaketime, with
# which the soak benchmark (benchmarks/bench_soak.py) moves each night's clock ahead. As root on
# Debian/Ubuntu they are installed with apt when missing; otherwise this says what to install and
# the benchmark skips the figure it cannot measure. Never fails the run.
set -uo pipefail
missing=()
command -v ogr2ogr >/dev/null 2>&1 || missing+=(gdal-bin)
command -v osm2pgsql >/dev/null 2>&1 || missing+=(osm2pgsql)
{ [ -e /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 ] || [ -e /usr/lib/faketime/libfaketime.so.1 ]; } \
  || missing+=(libfaketime)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "note: ${missing[*]} not installed; the ingest benchmark skips what needs them. Install with: sudo apt-get install -y ${missing[*]}" >&2
  exit 0
fi
echo "Installing ${missing[*]} for the ingest benchmark (apt-get) ..."
export DEBIAN_FRONTEND=noninteractive
# another apt run (unattended upgrades, a second checkout) holds the lock: wait for it instead of failing
APT_WAIT="-o DPkg::Lock::Timeout=900"
{ apt-get $APT_WAIT update -qq && apt-get $APT_WAIT install -y -qq "${missing[@]}" >/dev/null; } \
  || echo "note: could not install ${missing[*]}; the ingest benchmark skips what needs them." >&2
exit 0
