"""Careless and hostile values (issue 17) in one place: passwords and PostgreSQL names that
break whatever writes them as plain text into SQL, a command line or a config file. The `typea`
scenario's pillar takes its passwords and one user and database from here (scenarios.py); its
lab tests log in with them exactly and check that a prefix is refused (test_typea.py).

Every password gets a random tail, so that each lab has fresh secrets. None contains `{`:
the lab master renders its pillar files with Jinja before YAML, as any Salt master does.
"""
import secrets

# Each character is one that has cut or changed a value somewhere: `#` starts a comment
# (HAProxy, PgBouncer, YAML), a space ends a word (HAProxy), quotes of both kinds and the
# backslash are quoting, `$` and the backtick are the shell's, `%` is printf's and HAProxy's
# log format's, `: ` makes a YAML mapping, a leading `*`, `!` or `&` is a YAML alias, tag or
# anchor.
ASCII = "#1 'q' \"d\" \\ $x %y: z`"
# Non-ASCII letters too, for what reads bytes (PgBouncer's userlist, HAProxy, SCRAM with
# SASLprep). Not for the passwords Patroni handles (superuser, replication, REST API):
# Patroni 3.0.2 fails its bootstrap on them (UnicodeDecodeError in create_or_update_role), and
# the settings validator refuses them.
UTF8 = "#1 'ä' \"ö\" \\ $x %y: ß`"


def password(head, utf8=False):
    """A fresh password: `head`, the nasty characters, then a random tail."""
    return f"{head} {UTF8 if utf8 else ASCII} {secrets.token_urlsafe(9)}"


def prefixes(value):
    """What a writer that does not quote would have kept of `value`: up to the first `#`
    (a comment), the first space (the end of a word), the first quote; and all but its last
    character. Each must be refused where `value` logs in."""
    cuts = {value.split(sep, 1)[0] for sep in ("#", " ", '"', "'") if sep in value}
    cuts.add(value[:-1])
    return sorted(cut for cut in cuts if cut != value)


# PostgreSQL names that need quoting: upper case, a space, both quotes, `$`; under 63 bytes.
USER = "Mixed Case \"q\" O'Neil $u"
DATABASE = "Db of \"Mixed\" $d's"
