{#- Open-file limits of the postgres user (pgha:system:limits), on database nodes. pam_limits
    gives them to login sessions (su, sudo, ssh: pg_dump, psql, scripts); a systemd service gets
    its own from its unit, so Patroni, and the PostgreSQL it starts, get a drop-in. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- set limits = pgha.system.limits %}
{%- set user = limits.user or pgha.users.postgres %}
{%- set dropin = '/etc/systemd/system/' ~ pgha.services.patroni ~ '.service.d/pgha-limits.conf' %}

{%- if limits.enabled and 'postgresql' in pgha.roles %}
pgha-system-limits-file-managed:
  file.managed:
    - name: {{ pgha.paths.limits_config }}
    - user: root
    - group: root
    - mode: '0644'
    - contents: |
        # Managed by Salt (pgha): pgha:system:limits, for new login sessions (pam_limits)
        {{ user }} soft nofile {{ limits.soft_nofile }}
        {{ user }} hard nofile {{ limits.hard_nofile }}

{#- systemd only rereads units: a running Patroni keeps its limit until its next restart
    (salt-run state.orch pgha.restart pillar='{"pending_only": false}'); Salt never restarts
    it, so PostgreSQL never restarts for this. On a new node Patroni starts with it. #}
pgha-system-limits-patroni-dropin-managed:
  file.managed:
    - name: {{ dropin }}
    - makedirs: true
    - user: root
    - group: root
    - mode: '0644'
    - contents: |
        # Managed by Salt (pgha): pgha:system:limits
        [Service]
        LimitNOFILE={{ limits.soft_nofile }}:{{ limits.hard_nofile }}

pgha-system-limits-systemd-reloaded:
  module.run:
    - service.systemctl_reload: []
    - onchanges:
      - file: pgha-system-limits-patroni-dropin-managed

pgha-system-limits-patroni-restart-reported:
  test.show_notification:
    - text: >-
        Patroni and PostgreSQL get LimitNOFILE={{ limits.soft_nofile }}:{{ limits.hard_nofile }}
        at their next restart (salt-run state.orch pgha.restart pillar='{"pending_only": false}')
    - onlyif: systemctl is-active --quiet {{ pgha.services.patroni }}
    - onchanges:
      - file: pgha-system-limits-patroni-dropin-managed
{%- else %}
pgha-system-limits-not-managed:
  test.nop:
    - name: open-file limits are not managed here (pgha:system:limits:enabled, database nodes only)
{%- endif %}
