"""Where the lab keeps its cache (survives runs) and its state (one running lab)."""
import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("PGHA_LAB_CACHE", "/var/cache/pgha-lab"))
STATE_ROOT = Path(os.environ.get("PGHA_LAB_STATE", "/var/lib/pgha-lab"))
