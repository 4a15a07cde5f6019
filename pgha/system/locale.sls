{#- Locales (pgha:system:locales, autobase locale_gen) generated, and the system default
    (pgha:system:default_locale) when set. On RedHat the glibc-langpack package of each
    language brings its locales ready made; on Debian locale-gen builds them. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- from tplroot ~ "/system/locales.jinja" import locales with context %}
{%- set default = pgha.system.default_locale %}

{%- if locales or default %}
include:
  - {{ tplroot }}.system.install
{%- endif %}

{%- for locale in locales %}
pgha-system-locale-{{ locale }}-present:
  locale.present:
    - name: {{ locale }}
    - require:
      - sls: {{ tplroot }}.system.install
{%- endfor %}

{%- if default %}
pgha-system-locale-default-managed:
  locale.system:
    - name: {{ default }}
    - require:
      - sls: {{ tplroot }}.system.install
{%-   if default in locales %}
      - locale: pgha-system-locale-{{ default }}-present
{%-   endif %}
{%- endif %}

{%- if not locales and not default %}
pgha-system-locale-not-managed:
  test.nop:
    - name: no locale is generated (pgha:system:locales is empty)
{%- endif %}
