#!/bin/sh
# install_if_absent.sh SOURCE DIR NAME: meson install script; installs
# SOURCE as DIR/NAME (under $DESTDIR) with mode 0644, unless that file
# exists: a configuration file the administrator may have edited is not
# overwritten. Says which it did.
set -eu
src=$1 dir=$2 name=$3
dest=${DESTDIR:-}$dir/$name
if [ -n "${MESON_INSTALL_DRY_RUN:-}" ]; then
	echo "Would install $src to $dest unless it exists"
	exit 0
fi
if [ -e "$dest" ] || [ -L "$dest" ]; then
	echo "Keeping $dest (it exists; the new default is in the documentation directory as scst.conf.example)"
	exit 0
fi
mkdir -p "${DESTDIR:-}$dir"
install -m 0644 "$src" "$dest"
echo "Installing $src to $dest"
