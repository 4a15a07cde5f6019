{#- Time synchronisation (pgha:system:time_sync): chrony, or ntpsec on Debian. Without
    servers the distribution's configuration (its NTP pool) stays; with servers pgha writes
    the whole file. In a container the clock is the host's: the daemon is installed and
    configured but pgha does not start it (chrony's unit skips itself without CAP_SYS_TIME,
    which would fail service.running); keep the host's clock synchronised. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- from tplroot ~ "/system/container.jinja" import container with context %}
{%- set time_sync = pgha.system.time_sync %}
{%- set daemon = time_sync.daemon %}

{%- if time_sync.enabled %}
include:
  - {{ tplroot }}.system.install

{%-   if time_sync.servers %}
pgha-system-time-config-file-managed:
  file.managed:
    - name: {{ pgha.paths[daemon ~ '_config'] }}
    - source: salt://{{ tplroot }}/system/files/{{ daemon }}.conf.jinja
    - template: jinja
    - user: root
    - group: root
    - mode: '0644'
    - context:
        servers: {{ time_sync.servers | json }}
    - require:
      - sls: {{ tplroot }}.system.install
{%-   endif %}

{%-   if container %}
pgha-system-time-service-not-started:
  test.show_notification:
    - text: >-
        {{ pgha.services[daemon] }} is installed{{ ' and configured' if time_sync.servers else '' }}
        but not started by pgha: in this container ({{ container }}) the clock is the host's;
        keep the host's clock synchronised
    - require:
      - sls: {{ tplroot }}.system.install
{%-   else %}
pgha-system-time-service-running:
  service.running:
    - name: {{ pgha.services[daemon] }}
    - enable: true
    - require:
      - sls: {{ tplroot }}.system.install
{%-     if time_sync.servers %}
    - watch:
      - file: pgha-system-time-config-file-managed
{%-     endif %}
{%-   endif %}
{%- else %}
pgha-system-time-not-managed:
  test.nop:
    - name: time synchronisation is not managed (pgha:system:time_sync:enabled)
{%- endif %}
