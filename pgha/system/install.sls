{#- The packages host preparation needs (time daemon, locales), in one batch; pgha.packages
    includes it. C and POSIX locales are in every libc: no package. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- from tplroot ~ "/system/locales.jinja" import locales with context %}
{%- set system = pgha.system %}
{%- set pkgs = [] %}
{%- if system.time_sync.enabled %}
{%-   do pkgs.extend(pgha.pkgs[system.time_sync.daemon]) %}
{%- endif %}
{%- for locale in locales %}
{%-   for template in pgha.pkgs.locales %}
{%-     set pkg = template | replace('{language}', locale.split('_')[0].split('.')[0]) %}
{%-     if pkg not in pkgs %}
{%-       do pkgs.append(pkg) %}
{%-     endif %}
{%-   endfor %}
{%- endfor %}

include:
  - {{ tplroot }}.repo

{%- if pkgs %}
pgha-system-pkgs-installed:
  pkg.installed:
    - pkgs: {{ pkgs | json }}
    - require:
      - sls: {{ tplroot }}.repo
{%- else %}
pgha-system-pkgs-none:
  test.nop:
    - name: no package for host preparation (pgha:system:time_sync, pgha:system:locales)
{%- endif %}
