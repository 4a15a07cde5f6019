{#- Transparent huge pages (pgha:system:transparent_huge_pages, default never): THP's
    compaction stalls and memory bloat hurt PostgreSQL, which uses explicit huge pages instead.
    A unit sets them at every boot, before the services; the running kernel is set now. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- set mode = pgha.system.transparent_huge_pages %}
{%- set thp_dir = '/sys/kernel/mm/transparent_hugepage' %}
{%- set unit = 'disable-transparent-huge-pages' %}

{%- if mode %}
{#- autobase's unit name: a host it prepared gets this unit instead of a second one. A
    container's /sys is read-only: the condition skips the unit there instead of failing it. #}
pgha-system-thp-unit-file-managed:
  file.managed:
    - name: /etc/systemd/system/{{ unit }}.service
    - user: root
    - group: root
    - mode: '0644'
    - contents: |
        # Managed by Salt (pgha): pgha:system:transparent_huge_pages
        [Unit]
        Description=Transparent huge pages: {{ mode }} (PostgreSQL)
        DefaultDependencies=no
        After=sysinit.target local-fs.target
        Before=basic.target
        ConditionPathIsReadWrite={{ thp_dir }}/enabled

        [Service]
        Type=oneshot
        RemainAfterExit=yes
        ExecStart=/bin/sh -c 'echo {{ mode }} > {{ thp_dir }}/enabled && echo {{ mode }} > {{ thp_dir }}/defrag'

        [Install]
        WantedBy=basic.target

pgha-system-thp-systemd-reloaded:
  module.run:
    - service.systemctl_reload: []
    - onchanges:
      - file: pgha-system-thp-unit-file-managed

{#- Enabled for the next boot, not started: the running kernel is set below, and a unit
    skipped by its condition (a container) would look like a failed start. #}
pgha-system-thp-service-enabled:
  service.enabled:
    - name: {{ unit }}
    - require:
      - module: pgha-system-thp-systemd-reloaded

pgha-system-thp-applied:
  pgha_system.kernel_applied:
    - settings:
        {{ thp_dir }}/enabled: {{ mode }}
        {{ thp_dir }}/defrag: {{ mode }}
{%- else %}
pgha-system-thp-not-managed:
  test.nop:
    - name: transparent huge pages are not managed (pgha:system:transparent_huge_pages)
{%- endif %}
