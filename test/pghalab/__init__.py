"""pgha lab: real systemd nodes (systemd-nspawn) on one machine, driven by a host salt-master."""
import os

# etcd3 0.12 (health.etcd_leader) ships protobuf code generated for protobuf < 4; Salt 3008
# needs a newer protobuf, whose pure-Python backend still loads that code. It must be chosen
# before protobuf is first imported: here for the benches, in test/conftest.py for pytest.
os.environ.setdefault("PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION", "python")
