"""
What an extension named in ``postgresql:extensions`` needs on the node before
``CREATE EXTENSION``: its Debian package (per PostgreSQL major) and whether PostgreSQL must load
its library at start (``shared_preload_libraries``). One table, read by the validator (an
extension pgha cannot place is refused before anything changes) and by ``pgha_derive`` (the
packages the PostgreSQL nodes install, the libraries added to shared_preload_libraries).

The names are Debian's (bookworm: PostgreSQL 15, trixie: 17), which PGDG's apt repository
uses too. An entry's ``package`` key names another package for one extension (a site
repository, a PGDG-only extension); ``preload: true`` says its library must be preloaded.
"""

# Shipped with the server package (postgresql-{version}): nothing to install.
CONTRIB = frozenset((
    "adminpack", "amcheck", "autoinc", "bloom", "btree_gin", "btree_gist", "citext", "cube", "dblink",
    "dict_int", "dict_xsyn", "earthdistance", "file_fdw", "fuzzystrmatch", "hstore", "insert_username",
    "intagg", "intarray", "isn", "lo", "ltree", "moddatetime", "old_snapshot", "pageinspect",
    "pg_buffercache", "pg_freespacemap", "pg_prewarm", "pg_stat_statements", "pg_surgery", "pg_trgm",
    "pg_visibility", "pg_walinspect", "pgcrypto", "pgrowlocks", "pgstattuple", "plpgsql", "postgres_fdw",
    "refint", "seg", "sslinfo", "tablefunc", "tcn", "tsm_system_rows", "tsm_system_time", "unaccent",
    "uuid-ossp", "xml2",
))

_POSTGIS = "postgresql-{version}-postgis-3"
# extension -> Debian package ({version}: the PostgreSQL major). Checked against bookworm's
# and trixie's package lists (pgvector is packaged from trixie on: PostgreSQL 17).
PACKAGES = {
    "postgis": _POSTGIS, "postgis_raster": _POSTGIS, "postgis_topology": _POSTGIS, "postgis_sfcgal": _POSTGIS,
    "postgis_tiger_geocoder": _POSTGIS, "address_standardizer": _POSTGIS,
    "address_standardizer_data_us": _POSTGIS,
    "pgrouting": "postgresql-{version}-pgrouting",
    "pg_repack": "postgresql-{version}-repack",
    "vector": "postgresql-{version}-pgvector",
    "pg_cron": "postgresql-{version}-cron",
    "pg_partman": "postgresql-{version}-partman",
    "pg_stat_kcache": "postgresql-{version}-pg-stat-kcache",
    "pg_wait_sampling": "postgresql-{version}-pg-wait-sampling",
    "pg_qualstats": "postgresql-{version}-pg-qualstats",
    "pgaudit": "postgresql-{version}-pgaudit",
    "hypopg": "postgresql-{version}-hypopg",
    "plpgsql_check": "postgresql-{version}-plpgsql-check",
    "orafce": "postgresql-{version}-orafce",
    "ip4r": "postgresql-{version}-ip4r",
    "hll": "postgresql-{version}-hll",
    "rum": "postgresql-{version}-rum",
    "pgtap": "postgresql-{version}-pgtap",
    "semver": "postgresql-{version}-semver",
    "prefix": "postgresql-{version}-prefix",
    "periods": "postgresql-{version}-periods",
    "pglogical": "postgresql-{version}-pglogical",
    "wal2json": "postgresql-{version}-wal2json",
    "plperl": "postgresql-plperl-{version}", "plperlu": "postgresql-plperl-{version}",
    "plpython3u": "postgresql-plpython3-{version}",
    "pltcl": "postgresql-pltcl-{version}", "pltclu": "postgresql-pltcl-{version}",
}

# The same for PGDG's RPM repository (Rocky, Alma, RHEL: parameters/os_family/RedHat.yaml sets
# postgresql:extension_packages_from to pgdg_rpm). An extension not listed here is refused
# there unless its entry names the package.
PGDG_RPM = {
    "postgis": "postgis34_{version}", "postgis_raster": "postgis34_{version}",
    "postgis_topology": "postgis34_{version}", "postgis_sfcgal": "postgis34_{version}",
    "postgis_tiger_geocoder": "postgis34_{version}", "address_standardizer": "postgis34_{version}",
    "address_standardizer_data_us": "postgis34_{version}",
    "pgrouting": "pgrouting_{version}", "pg_repack": "pg_repack_{version}", "vector": "pgvector_{version}",
    "pg_cron": "pg_cron_{version}", "pg_partman": "pg_partman_{version}", "hypopg": "hypopg_{version}",
    "pg_stat_kcache": "pg_stat_kcache_{version}", "pg_wait_sampling": "pg_wait_sampling_{version}",
    "pg_qualstats": "pg_qualstats_{version}", "plpgsql_check": "plpgsql_check_{version}",
    "orafce": "orafce_{version}", "pg_hint_plan": "pg_hint_plan_{version}",
    "plperl": "postgresql{version}-plperl", "plperlu": "postgresql{version}-plperl",
    "plpython3u": "postgresql{version}-plpython3", "pltcl": "postgresql{version}-pltcl",
    "pltclu": "postgresql{version}-pltcl",
}
TABLES = {"debian": PACKAGES, "pgdg_rpm": PGDG_RPM}

# extension -> the library shared_preload_libraries must load before it works (CREATE
# EXTENSION fails, or its functions do, until PostgreSQL restarts with it).
PRELOAD = {
    "pg_stat_statements": "pg_stat_statements",
    "pg_cron": "pg_cron",
    "pg_stat_kcache": "pg_stat_kcache",
    "pg_wait_sampling": "pg_wait_sampling",
    "pg_qualstats": "pg_qualstats",
    "pgaudit": "pgaudit",
    "pglogical": "pglogical",
}

# Known, and not in Debian: refused with where to get them.
NOT_PACKAGED = {
    "timescaledb": "TimescaleDB is not in Debian (Timescale's own apt repository has it)",
    "citus": "Citus is not in Debian (Citus Data's own repository has it)",
    "pg_hint_plan": "pg_hint_plan is not in Debian 12 or 13 (PGDG's repository has it)",
    "pg_squeeze": "pg_squeeze is not in Debian 12 or 13 (PGDG's repository has it)",
}

# Project names people write for the extension's own name.
ALIASES = {"pgvector": "vector", "repack": "pg_repack", "pgcron": "pg_cron", "partman": "pg_partman"}


def package(entry, source="debian"):
    """The package template for an extension entry (``{name, package?}``): its own
    ``package``, the table's of ``source`` (debian, pgdg_rpm), or None (contrib, or unknown)."""
    own = entry.get("package")
    if own:
        return own
    return TABLES.get(source, PACKAGES).get(entry.get("name"))


def preload(entry):
    """The library an extension entry needs in shared_preload_libraries, or None."""
    name = entry.get("name")
    if entry.get("preload") is True:
        return PRELOAD.get(name, name)
    return PRELOAD.get(name)


def problem(entry, source="debian"):
    """Why pgha cannot place the extension of this entry on a node whose packages come from
    ``source``, or None."""
    name = entry.get("name")
    if entry.get("package"):
        return None
    if source == "pgdg_rpm" and name in PACKAGES and name not in PGDG_RPM:
        return (f"{name!r}: pgha does not know the name of its package in PGDG's RPM repository: name it "
                "in this entry's package key")
    if name in NOT_PACKAGED:
        return (f"{name!r}: {NOT_PACKAGED[name]}; add that repository (pgha:pkg_repos) and name its "
                "package in this entry's package key")
    if name in CONTRIB or name in TABLES.get(source, PACKAGES):
        return None
    if name in ALIASES:
        return f"{name!r} is the project's name: its extension is named {ALIASES[name]!r}"
    return (f"{name!r} is neither a contrib extension nor one pgha knows a Debian package for: name "
            "the package that ships it in this entry's package key (e.g. postgresql-{version}-foo)")


def libraries(text):
    """shared_preload_libraries' value as a list of names (PostgreSQL's comma list)."""
    return [part.strip().strip('"') for part in str(text or "").split(",") if part.strip()]


def derive(cfg):
    """In place: ``postgresql:extension_packages`` (the packages every PostgreSQL node installs,
    ``{version}`` filled in, in order, once each) and the libraries the extensions need added to
    ``postgresql:parameters:shared_preload_libraries`` after those already listed."""
    pg = cfg["postgresql"]
    version = str(pg["version"])
    source = pg.get("extension_packages_from", "debian")
    packages, needed = [], []
    for entry in pg.get("extensions") or []:
        if not isinstance(entry, dict):
            continue
        template = package(entry, source)
        if template and template.replace("{version}", version) not in packages:
            packages.append(template.replace("{version}", version))
        library = preload(entry)
        if library and library not in needed:
            needed.append(library)
    pg["extension_packages"] = packages
    params = pg.setdefault("parameters", {})
    loaded = libraries(params.get("shared_preload_libraries"))
    missing = [lib for lib in needed if lib not in loaded]
    if missing:
        params["shared_preload_libraries"] = ",".join(loaded + missing)
    return cfg
