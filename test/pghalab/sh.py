"""Small subprocess helpers: every command the lab runs goes through here."""
import subprocess


def run(cmd, check=True, capture=False, **kw):
    return subprocess.run(cmd, check=check, text=True,
                          stdout=subprocess.PIPE if capture else None,
                          stderr=subprocess.PIPE if capture else None, **kw)


def quiet(cmd):
    """Run a clean-up command whose failure only means there was nothing to clean."""
    return subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
