#!/bin/sh
# The image tests' base image, made here from Debian's packages because no image registry
# can be reached: debootstrap (minbase + python3, python3-venv, CA certificates), trimmed,
# imported with `podman import`. The tarball is cached under $CACHE/$RELEASE, so only the
# first run pays for debootstrap (about a minute); later runs only re-import when podman's
# store lost the image. Prints the image's name. Needs root (debootstrap, chroot).
set -eu
RELEASE=${RELEASE:-bookworm}
CACHE=${CACHE:-/var/tmp/mavi-image-base}
NAME=${NAME:-localhost/mavi-base:$RELEASE}
dir=$CACHE/$RELEASE
if podman image exists "$NAME"; then echo "$NAME"; exit 0; fi
if [ ! -s "$dir/base.tar" ]; then
    # apt's own mirror: the one this machine can reach.
    mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    mkdir -p "$dir"
    work=$(mktemp -d "$dir/rootfs.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
        "$RELEASE" "$work" "${mirror:-http://deb.debian.org/debian}" >&2
    chroot "$work" apt-get clean
    rm -rf "$work"/var/lib/apt/lists/* "$work"/usr/share/doc/* "$work"/usr/share/man/* "$work"/usr/share/locale/*
    tar -C "$work" --numeric-owner -cf "$dir/base.tar.new" .
    mv "$dir/base.tar.new" "$dir/base.tar"
fi
podman import --change 'ENV LANG=C.UTF-8' --change 'CMD ["/bin/bash"]' "$dir/base.tar" "$NAME" >&2
echo "$NAME"
