#!/bin/sh
# mmdebstrap customize hook: $1 is the new root. Turns a minimal Debian into a lab node image
# (systemd + a Salt minion venv) and downloads, without installing, the packages the formula
# installs later, so the host can serve them as an offline apt repository.
set -eu
root=$1
clean_env="env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8"

mkdir -p "$root/tmp/wheels"
if [ -n "${BUILD_WHEELS:-}" ]; then
    # The node's Python is not the host's: build the wheelhouse with the node's own Python
    # (timelib only ships sources), then drop the compiler again.
    cp "$WHEELHOUSE"/requirements-*.txt "$root/tmp/wheels/"
    pip_env=""
    if [ -n "${HOST_CA_BUNDLE:-}" ] && [ -f "$HOST_CA_BUNDLE" ]; then
        cp "$HOST_CA_BUNDLE" "$root/tmp/host-ca.crt"
        pip_env="PIP_CERT=/tmp/host-ca.crt"
    fi
    chroot "$root" $clean_env apt-get install -y -q gcc python3-dev >/dev/null
    chroot "$root" $clean_env python3 -m venv /tmp/wheel-builder
    chroot "$root" $clean_env $pip_env /tmp/wheel-builder/bin/pip wheel -q -w /tmp/wheels \
        -r /tmp/wheels/requirements-node.txt -r /tmp/wheels/requirements-patroni.txt
    # a second Patroni version (the pip-update test): its pin conflicts with the first's
    chroot "$root" $clean_env $pip_env /tmp/wheel-builder/bin/pip wheel -q -w /tmp/wheels \
        -r /tmp/wheels/requirements-patroni-previous.txt
    chroot "$root" $clean_env apt-get purge -y -q --autoremove gcc python3-dev >/dev/null
    rm -rf "$root/tmp/wheel-builder" "$root/tmp/host-ca.crt"
    cp "$root"/tmp/wheels/*.whl "$WHEELHOUSE/"
else
    cp "$WHEELHOUSE"/*.whl "$WHEELHOUSE/requirements-node.txt" "$root/tmp/wheels/"
fi
chroot "$root" $clean_env python3 -m venv /opt/salt
chroot "$root" $clean_env /opt/salt/bin/pip install -q --no-index --find-links /tmp/wheels \
    -r /tmp/wheels/requirements-node.txt
rm -rf "$root/tmp/wheels"

mkdir -p "$root/tmp/debs/partial"
chroot "$root" $clean_env apt-get install -y -q --download-only \
    -o Dir::Cache::Archives=/tmp/debs/ $REPO_PACKAGES
# Older versions next to the newest (the minor-update scenario: postgresql-15 15.18 from
# bookworm's main archive beside 15.20 from bookworm-security); apt-get download fetches the
# named versions alone, without their dependencies (the newest of those are above).
if [ -n "${REPO_OLDER_VERSIONS:-}" ]; then
    chroot "$root" $clean_env sh -c 'cd /tmp/debs && apt-get download -q "$@"' sh $REPO_OLDER_VERSIONS
fi
mkdir -p "$REPO_OUT"
cp "$root"/tmp/debs/*.deb "$REPO_OUT/"
rm -rf "$root/tmp/debs"

cat > "$root/etc/systemd/system/salt-minion.service" <<'UNIT'
[Unit]
Description=Salt minion (lab node)
After=network.target

[Service]
ExecStart=/opt/salt/bin/salt-minion
KillMode=process
Restart=on-failure
RestartSec=2

[Install]
WantedBy=multi-user.target
UNIT
ln -sf /etc/systemd/system/salt-minion.service \
    "$root/etc/systemd/system/multi-user.target.wants/salt-minion.service"
for unit in systemd-networkd-wait-online.service console-getty.service getty@.service \
            systemd-resolved.service apt-daily.timer apt-daily-upgrade.timer; do
    ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
# Nodes have no internet: the formula adds the host's offline repository itself.
rm -f "$root/etc/apt/sources.list" "$root"/etc/apt/sources.list.d/*
rm -rf "$root"/var/lib/apt/lists/*
: > "$root/etc/machine-id"
rm -f "$root/etc/hostname"
