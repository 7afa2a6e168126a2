#!/bin/sh
# Install what linkupfs needs to build and test on Debian 12 (apt-get).
# Does nothing when everything is already there.
set -e
pkgs="build-essential pkg-config libfuse3-dev fuse3 libcurl4-openssl-dev
libcjson-dev libsqlite3-dev sqlite3 libssl-dev libxxhash-dev libzstd-dev
python3 python3-pytest jq curl valgrind clang clang-format libclang-rt-14-dev
attr man-db groff-base mount git rsync tree passwd dpkg-dev debhelper lintian
linux-perf"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "linkupfs: installing:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq $missing
