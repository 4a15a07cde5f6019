#!/bin/sh
# mmdebstrap customize hook: $1 is a Debian 13 build root. Builds $BACKPORT_SOURCE (e.g.
# postgresql-18) from the source package of $BACKPORT_FROM (e.g. forky) with Debian 13's own
# build dependencies, as a site's mirror of PGDG would serve it: a real backport, no faked
# package. The binary packages and the .dsc land in $BACKPORT_OUT.
set -eu
root=$1
clean_env="env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root"

# the newer suite's *sources* only: its binaries need a newer libc than Debian 13's. A testing
# suite's Release is valid for a week only, and the mirror this machine reaches may be an older
# snapshot of it: the signature is still checked, its age is not.
echo "deb-src [check-valid-until=no] http://deb.debian.org/debian $BACKPORT_FROM main" \
    > "$root/etc/apt/sources.list.d/backport-src.list"
chroot "$root" $clean_env apt-get update -q >/dev/null
mkdir -p "$root/build"
chroot "$root" $clean_env sh -c "cd /build && apt-get source -q --download-only $BACKPORT_SOURCE"
chroot "$root" $clean_env sh -c "cd /build && dpkg-source -x *.dsc src >/dev/null"
chroot "$root" $clean_env sh -c \
    "cd /build/src && DEB_BUILD_PROFILES='$BACKPORT_PROFILES' apt-get build-dep -y -q ./ >/dev/null"
chroot "$root" $clean_env sh -c \
    "cd /build/src && DEB_BUILD_OPTIONS='nocheck parallel=$(nproc)' DEB_BUILD_PROFILES='$BACKPORT_PROFILES' \
     dpkg-buildpackage -b -uc -us >/build/build.log 2>&1" || { tail -50 "$root/build/build.log"; exit 1; }
mkdir -p "$BACKPORT_OUT"
cp "$root"/build/*.deb "$root"/build/*.dsc "$BACKPORT_OUT/"
sha256sum "$root"/build/*.dsc | cut -d' ' -f1 > "$BACKPORT_OUT/source.sha256"
