#!/bin/sh
# make deps: install the Debian packages in mk/packages.txt that are missing.
# Quiet and quick when everything is present; uses sudo when not root.
set -e
cd "$(dirname "$0")/.."
missing=""
for p in $(grep -v '^#' mk/packages.txt); do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
