"""pgha lab: real systemd nodes (systemd-nspawn) on one machine, driven by a host salt-master."""
