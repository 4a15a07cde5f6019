"""After a Type A deploy, no secret of pillar (passwords, the CA key) shows in the master's job
cache or log, the minions' logs, or any command line on the nodes (ps)."""
from pghalab.secrets_scan import secrets_of, sightings

SCENARIO = "typea"


def test_secrets_stay_out_of_job_cache_logs_and_ps(lab, deployed):
    secrets = secrets_of(lab.pillar())
    assert len(secrets) >= 5, f"expected the lab's passwords in its pillar, found {len(secrets)}"
    found = sightings(lab, secrets)
    # Report where, never the secret itself.
    assert not found, f"secrets seen (where, secret #): {found}"
