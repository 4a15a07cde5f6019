"""The major upgrade's lab tests (test_upgrade.py) on Type A (scenario upgrade-typea): the
writer commits through HAProxy's port 5000 on the VIP, and sees errors for the window
(docs/operations.md, Major upgrade). make test-lab SCENARIO=upgrade-typea SUITE=trixie."""
# collected here again, in this module's scenario, in test_upgrade.py's order (the import order)
from .test_upgrade import pytestmark  # noqa: F401
from .test_upgrade import test_deploy_on_17_with_data  # noqa: F401
from .test_upgrade import test_pre_checks_alone_change_nothing  # noqa: F401
from .test_upgrade import test_an_option_the_new_minor_does_not_know_is_refused_before_anything_stops  # noqa: F401
from .test_upgrade import test_a_failed_rsync_rolls_back_to_17  # noqa: F401
from .test_upgrade import test_upgrade_to_18_loses_no_commit  # noqa: F401
from .test_upgrade import test_backups_follow_the_new_major  # noqa: F401
from .test_upgrade import test_rerun_and_highstate_with_pillar_on_18_change_nothing  # noqa: F401
from .test_upgrade import test_highstate_with_pillar_on_17_fails_naming_the_key  # noqa: F401
from .test_upgrade import test_rollback_is_refused_after_the_start  # noqa: F401

SCENARIO = "upgrade-typea"
