{#- Package sources, before any package is installed (every install state requires this SLS):
    the proxy of the package manager (pgha:proxy_env), the PostgreSQL project's repositories
    (pgha:pgdg), EPEL (pgha:epel) and the site's own (pgha:pkg_repo, pgha:pkg_repos), e.g. an
    offline mirror. Nothing here without pillar: the node's own sources are used. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- from tplroot ~ "/repo/sources.jinja" import repos, proxy with context %}

{#- A pin older than the installed package would downgrade it (pkg.installed, and apt's pin
    priority 1001 at the next upgrade): a restart onto an older release nobody asked for as
    such. The run stops here, before the pin file or any package changes, naming the key
    (pgha_packages.downgrades decides; every install SLS includes this one). #}
{%- set patroni = {'install_method': pgha.patroni.install_method, 'venv': pgha.patroni.venv,
                  'pip_version': pgha.patroni.pip_version} %}
{%- set downgrades = salt['pgha_packages.downgrades'](pgha.pinned_pkgs, patroni) %}
pgha-repo-pins-gate:
{%- if downgrades %}
  test.fail_without_changes:
    {#- the name too: with test=True Salt replaces the comment #}
    - name: {{ downgrades | join(' ') | json }}
    - comment: {{ downgrades | join(' ') | json }}
    - failhard: true
{%- else %}
  test.succeed_without_changes:
    - name: no version pin is older than an installed package
{%- endif %}
    - order: 1

{#- Version pins (pgha:postgresql:version_minor, patroni:version, etcd:version; issue 23):
    apt keeps pinned packages at their version through any upgrade. #}
{%- if grains.os_family == 'Debian' %}
pgha-repo-pins-managed:
{%-   if pgha.apt_preferences %}
  file.managed:
    - name: {{ pgha.paths.apt_pins }}
    - contents: {{ pgha.apt_preferences | json }}
    - mode: '0644'
{%-   else %}
  file.absent:
    - name: {{ pgha.paths.apt_pins }}
{%-   endif %}
{%- endif %}

{#- The proxy goes to the package manager's own configuration, not to a global environment:
    Salt's pkg states take no environment, and nothing else on the node should use it. Its URL
    may hold a password: the files' templates read it from the map, never a state argument. #}
{%- if grains.os_family == 'Debian' %}
{%-   if proxy.url %}
pgha-repo-proxy-managed:
  file.managed:
    - name: {{ pgha.paths.apt_proxy_conf }}
    - mode: '{{ '0640' if proxy.secret else '0644' }}'
    - show_changes: false
    - source: salt://{{ tplroot }}/repo/files/apt_proxy.conf.jinja
    - template: jinja
    - context:
        tplroot: {{ tplroot }}
{%-   else %}
pgha-repo-proxy-managed:
  file.absent:
    - name: {{ pgha.paths.apt_proxy_conf }}
{%-   endif %}
{%- else %}
{#- dnf 4 has no drop-in directory for [main]: a marked block at the end of dnf.conf, whose
    only section that is. #}
pgha-repo-proxy-managed:
  file.blockreplace:
    - name: {{ pgha.paths.dnf_conf }}
    - marker_start: '# pgha:proxy_env START (managed by Salt)'
    - marker_end: '# pgha:proxy_env END'
    - source: salt://{{ tplroot }}/repo/files/dnf_proxy.jinja
    - template: jinja
    - context:
        tplroot: {{ tplroot }}
    - append_if_not_found: {{ proxy.url != '' }}
    - show_changes: false
{%-   if not proxy.url %}
    - onlyif: grep -qF 'pgha:proxy_env START' {{ pgha.paths.dnf_conf }}
{%-   endif %}
{%-   if proxy.secret %}

pgha-repo-proxy-mode-managed:
  file.managed:
    - name: {{ pgha.paths.dnf_conf }}
    - replace: false
    - mode: '0640'
    - require:
      - file: pgha-repo-proxy-managed
{%-   endif %}
{%- endif %}

{%- if pgha.pgdg.enabled and grains.os_family == 'Debian' %}

{#- Debian's postgresql-common ships apt.postgresql.org's key (pgdg:signed_by). #}
pgha-repo-pgdg-keyring-installed:
  pkg.installed:
    - pkgs: {{ pgha.pkgs.pgdg_keyring | json }}
    - require:
      - file: pgha-repo-proxy-managed
{%- endif %}

{%- if pgha.pgdg.enabled and pgha.pgdg.disable_dnf_module %}

{#- EL 8: AppStream's postgresql module streams mask PGDG's packages of the same names. #}
pgha-repo-dnf-module-disabled:
  cmd.run:
    - name: dnf -qy module disable postgresql
    - unless: dnf -q module list --disabled postgresql
    - require:
      - file: pgha-repo-proxy-managed
{%- endif %}

{%- for r in repos %}
{%-   if r.get('key_text') %}

pgha-repo-{{ r.id }}-key-managed:
  file.managed:
    - name: {{ r.key_file }}
    - makedirs: true
    - mode: '0644'
    - contents: {{ r.key_text | json }}
{%-   endif %}

{%-   if r.id == 'pkgrepo' %}
pgha-repo-pkgrepo-managed:
{%-   else %}
pgha-repo-{{ r.id }}-pkgrepo-managed:
{%-   endif %}
  pkgrepo.managed:
{%-   for key, value in r.args | dictsort %}
    - {{ key }}: {{ value | json }}
{%-   endfor %}
    - require:
      - file: pgha-repo-proxy-managed
{%-   if r.get('key_text') %}
      - file: pgha-repo-{{ r.id }}-key-managed
{%-   endif %}
{%-   if r.id == 'pgdg' %}
      - pkg: pgha-repo-pgdg-keyring-installed
{%-   endif %}
{%- endfor %}

pgha-repo-sources-ready:
  test.succeed_without_changes:
    - name: >-
        package sources: {{ (repos | map(attribute='id') | list | join(', ')) or "the node's own" }}
    - require:
      - file: pgha-repo-proxy-managed
{%- for r in repos %}
      - pkgrepo: {{ 'pgha-repo-pkgrepo-managed' if r.id == 'pkgrepo' else 'pgha-repo-' ~ r.id ~ '-pkgrepo-managed' }}
{%- endfor %}
{%- if pgha.pgdg.enabled and pgha.pgdg.disable_dnf_module %}
      - cmd: pgha-repo-dnf-module-disabled
{%- endif %}
