#!/usr/bin/env bash
# Make sure PostgreSQL 15 + PostGIS 3 are installed (Debian/Ubuntu). As root it installs them;
# otherwise it prints the exact command to run. Idempotent: does nothing when they are there.
set -euo pipefail
PG_MAJOR=15
if [ -n "${DATABASE_URL:-}" ]; then
  echo "DATABASE_URL is set: using that server, not installing a local PostGIS."
  exit 0
fi
if [ -x "/usr/lib/postgresql/${PG_MAJOR}/bin/initdb" ] && [ -f "/usr/share/postgresql/${PG_MAJOR}/extension/postgis.control" ]; then
  exit 0
fi
PKGS="postgresql-${PG_MAJOR}-postgis-3 postgresql-${PG_MAJOR}"
if [ "$(id -u)" != "0" ]; then
  echo "PostGIS for PostgreSQL ${PG_MAJOR} is not installed. Run:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${PKGS}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "PostGIS is not installed and this is not a Debian-like system: install PostgreSQL ${PG_MAJOR} + PostGIS 3," >&2
  echo "or set DATABASE_URL to an existing PostGIS server (see README)." >&2
  exit 1
fi
echo "Installing ${PKGS} (apt-get) ..."
export DEBIAN_FRONTEND=noninteractive
# another apt run (unattended upgrades, a second checkout) holds the lock: wait for it instead of failing
APT_WAIT="-o DPkg::Lock::Timeout=900"
apt-get $APT_WAIT update -qq
apt-get $APT_WAIT install -y -qq ${PKGS} >/dev/null
# Debian starts a system cluster on 5432 after install; plekzoeker runs its own, so leave it alone.
echo "PostGIS installed."
