{#- Kernel settings (pgha:system:sysctl): a file systemd-sysctl reads at every boot, and the
    running kernel now. Salt's sysctl.present is not used: it fails on every run where the
    running value cannot change (a container), and leaves keys dropped from pillar in the file. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- set sysctl = pgha.system.sysctl %}
{%- set settings = {} %}
{%- for key, value in sysctl.settings.items() if value is not none %}
{%-   do settings.update({key: value}) %}
{%- endfor %}

{%- if sysctl.enabled and settings %}
pgha-system-sysctl-file-managed:
  file.managed:
    - name: {{ pgha.paths.sysctl_config }}
    - user: root
    - group: root
    - mode: '0644'
    - contents: |
        # Managed by Salt (pgha): pgha:system:sysctl. systemd-sysctl applies it at boot.
{%-   for key, value in settings | dictsort %}
        {{ key }} = {{ value }}
{%-   endfor %}

{#- Not applied here (a container's read-only /proc/sys): listed in the comment, not failed. #}
pgha-system-sysctl-applied:
  pgha_system.kernel_applied:
    - settings: {{ settings | json }}
    - require:
      - file: pgha-system-sysctl-file-managed
{%- else %}
pgha-system-sysctl-not-managed:
  test.nop:
    - name: kernel settings are not managed (pgha:system:sysctl:enabled)
{%- endif %}
