"""
Quoting for every file format pgha writes, for templates: each function hands a pillar value
to its format's escaper in ``_utils/pgha_formats.py`` (one implementation, unit-tested there),
which quotes it or refuses it naming the key.

In a template: ``{{ salt['pgha_formats.haproxy'](value, 'pgha:haproxy:stats_password') }}``.
A refused value fails the render with CommandExecutionError: ``<key>: <reason>``.
"""
from salt.exceptions import CommandExecutionError

__virtualname__ = "pgha_formats"


def __virtual__():
    return __virtualname__


def _quote(fmt, *args):
    try:
        return __utils__[f"pgha_formats.{fmt}"](*args)
    except ValueError as exc:
        raise CommandExecutionError(str(exc)) from exc


def yaml(value, what="value"):
    """
    A YAML scalar (JSON's string syntax), read back exactly by any YAML parser.

    CLI Example:

    .. code-block:: bash

        salt '*' pgha_formats.yaml 'a: #b'
    """
    return _quote("yaml", value, what)


def haproxy(value, what="value"):
    """
    One word of haproxy.cfg: as it is when plain, else strongly quoted ('...').

    CLI Example:

    .. code-block:: bash

        salt '*' pgha_formats.haproxy 'pass word#1' pgha:haproxy:stats_password
    """
    return _quote("haproxy", value, what)


def haproxy_auth(user, password, what="value"):
    """
    The ``user:password`` word of HAProxy's ``stats auth``.

    CLI Example:

    .. code-block:: bash

        salt '*' pgha_formats.haproxy_auth admin 'pass word#1' pgha:haproxy:stats_password
    """
    return _quote("haproxy_auth", user, password, what)


def go_template(text, what="value"):
    """
    Text in a Go template (confd): ``{{`` written as the action that prints it.

    CLI Example:

    .. code-block:: bash

        salt '*' pgha_formats.go_template 'a{{b'
    """
    return _quote("go_template", text, what)


def pgbouncer_userlist(name, password, what="value"):
    """
    One line of PgBouncer's auth_file: ``"name" "password"`` with ``"`` doubled.

    CLI Example:

    .. code-block:: bash

        salt '*' pgha_formats.pgbouncer_userlist pgbouncer 'pa"ss'
    """
    return _quote("pgbouncer_userlist", name, password, what)


def ini(value, what="value"):
    """
    A value of an INI file (pgbouncer.ini, pip.conf, pgbackrest.conf), or refused.

    CLI Example:

    .. code-block:: bash

        salt '*' pgha_formats.ini transaction pgha:pgbouncer:pool_mode
    """
    return _quote("ini", value, what)


def ini_key(value, what="value"):
    """
    A key of an INI file (letters, digits, ``_.-``), or refused.

    CLI Example:

    .. code-block:: bash

        salt '*' pgha_formats.ini_key appdb 'pgha:pgbouncer:pools:0:name'
    """
    return _quote("ini_key", value, what)


def libpq_value(value, what="value"):
    """
    A value of a libpq-style ``key=value`` list, single-quoted when not plain.

    CLI Example:

    .. code-block:: bash

        salt '*' pgha_formats.libpq_value "app db"
    """
    return _quote("libpq_value", value, what)


def conninfo_value(value, what="value"):
    """
    A value of a libpq / lib/pq connection string, single-quoted with backslash escapes when
    not one plain word.

    CLI Example:

    .. code-block:: bash

        salt '*' pgha_formats.conninfo_value "o'brien"
    """
    return _quote("conninfo_value", value, what)


def libpq_params(value, what="value"):
    """
    A pillar ``key=value key=value`` list, checked pair by pair.

    CLI Example:

    .. code-block:: bash

        salt '*' pgha_formats.libpq_params 'pool_size=10 pool_mode=transaction'
    """
    return _quote("libpq_params", value, what)


def line(value, what="value"):
    """
    Free text kept to one line (an nftables rule of pillar), or refused.

    CLI Example:

    .. code-block:: bash

        salt '*' pgha_formats.line 'tcp dport 9187 accept'
    """
    return _quote("line", value, what)


def word(value, what="value"):
    """
    One plain word of a file with no quoting (a chrony server), or refused.

    CLI Example:

    .. code-block:: bash

        salt '*' pgha_formats.word ntp1.example.com
    """
    return _quote("word", value, what)


def apt_string(value, what="value"):
    """
    A double-quoted string of apt.conf, or refused.

    CLI Example:

    .. code-block:: bash

        salt '*' pgha_formats.apt_string http://proxy.example:3128
    """
    return _quote("apt_string", value, what)


def keepalived(value, what="value"):
    """
    One word of keepalived.conf, or refused.

    CLI Example:

    .. code-block:: bash

        salt '*' pgha_formats.keepalived eth0
    """
    return _quote("keepalived", value, what)


def interface(value, what="value"):
    """
    A network interface name (1-15 letters, digits, ``_.@-``), or refused.

    CLI Example:

    .. code-block:: bash

        salt '*' pgha_formats.interface eth0 pgha:vip_interface
    """
    return _quote("interface", value, what)


def systemd_arg(value, what="value"):
    """
    One argument of a systemd command line (ExecStart=).

    CLI Example:

    .. code-block:: bash

        salt '*' pgha_formats.systemd_arg '100%'
    """
    return _quote("systemd_arg", value, what)


def env_value(value, what="value"):
    """
    A double-quoted value of an environment file (EnvironmentFile=).

    CLI Example:

    .. code-block:: bash

        salt '*' pgha_formats.env_value 'a"b'
    """
    return _quote("env_value", value, what)


def pg_hba(value, what="value"):
    """
    One field of a pg_hba.conf line (a list becomes ``a,b``).

    CLI Example:

    .. code-block:: bash

        salt '*' pgha_formats.pg_hba 'App User'
    """
    return _quote("pg_hba", value, what)


def pg_hba_keyword(value, what="value"):
    """
    A pg_hba keyword field (type, method), or refused.

    CLI Example:

    .. code-block:: bash

        salt '*' pgha_formats.pg_hba_keyword scram-sha-256
    """
    return _quote("pg_hba_keyword", value, what)


def pg_hba_names(value, what="value"):
    """
    The database or user field of a pg_hba line (a list, or names separated by commas).

    CLI Example:

    .. code-block:: bash

        salt '*' pgha_formats.pg_hba_names 'app,App User'
    """
    return _quote("pg_hba_names", value, what)


def pg_hba_line(entry, what="value"):
    """
    One pg_hba.conf line from a pillar entry {type, database, user, address, method}.

    CLI Example:

    .. code-block:: bash

        salt '*' pgha_formats.pg_hba_line '{type: host, database: all, user: app, address: 10.0.0.0/24, method: scram-sha-256}'
    """
    return _quote("pg_hba_line", entry, what)


def pg_ident_line(entry, what="value"):
    """
    One pg_ident.conf line from a pillar entry {mapname, system_username, pg_username}.

    CLI Example:

    .. code-block:: bash

        salt '*' pgha_formats.pg_ident_line '{mapname: ops, system_username: alice, pg_username: app}'
    """
    return _quote("pg_ident_line", entry, what)


def pgpass_line(host, port, database, user, password, what="value"):
    """
    One line of a libpq password file (``host:port:db:user:password``, ``:`` and ``\\``
    escaped). Holds a password: for templates, not for the command line.

    CLI Example:

    .. code-block:: bash

        salt '*' pgha_formats.pgpass_line '*' 6432 pgbouncer pgha_monitor 'not:this'
    """
    return _quote("pgpass_line", host, port, database, user, password, what)
