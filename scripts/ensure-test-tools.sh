#!/usr/bin/env bash
# Browser and GIS used by two test modules: headless Chromium (map.html) and QGIS (published layers,
# styles and project). As root on Debian/Ubuntu they are installed with apt when missing; otherwise
# this says what to install and the tests that need them skip with that message. Never fails the run.
set -uo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing+=(chromium)
/usr/bin/python3 -c "import qgis.core" >/dev/null 2>&1 || missing+=(qgis python3-qgis)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "note: ${missing[*]} not installed; the map/QGIS tests will skip. Install with: sudo apt-get install -y ${missing[*]}" >&2
  exit 0
fi
echo "Installing ${missing[*]} for the map and QGIS tests (apt-get; a few minutes the first time) ..."
export DEBIAN_FRONTEND=noninteractive
# another apt run (unattended upgrades, a second checkout) holds the lock: wait for it instead of failing
APT_WAIT="-o DPkg::Lock::Timeout=900"
{ apt-get $APT_WAIT update -qq && apt-get $APT_WAIT install -y -qq "${missing[@]}" >/dev/null; } \
  || echo "note: could not install ${missing[*]}; the map/QGIS tests will skip." >&2
exit 0
