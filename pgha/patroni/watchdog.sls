{#- Patroni's watchdog (pgha:patroni:watchdog): where no watchdog device exists on a real host,
    load softdog (now and at every boot), and give the device to the postgres user, who runs
    Patroni. Inside a container nothing is loaded (the kernel is the host's): the mode falls
    back to off, and pgha-patroni-watchdog-ready says so in the state output. The decision is
    pgha_system.watchdog's (_utils/pgha_watchdog.py); config.yml.jinja asks it again after
    these states ran, so Patroni's configuration gets the mode the node really has. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- set watchdog = pgha.patroni.watchdog %}
{%- set plan = salt['pgha_system.watchdog'](watchdog.mode, watchdog.device) %}

include:
  - {{ tplroot }}.patroni.install

{%- if watchdog.mode != 'off' and not plan.container %}
{#- udev creates the device root-only at every boot: this rule gives it to Patroni's user. #}
pgha-patroni-watchdog-udev-rule-managed:
  file.managed:
    - name: /etc/udev/rules.d/61-pgha-watchdog.rules
    - contents: |
        # Managed by Salt (pgha): Patroni (user {{ pgha.users.postgres }}) opens the watchdog.
        KERNEL=={{ salt['file.basename'](watchdog.device) | json }}, OWNER={{ pgha.users.postgres | json }}
    - mode: '0644'
{%- endif %}

{%- if plan.load_softdog %}
pgha-patroni-watchdog-softdog-persisted:
  file.managed:
    - name: /etc/modules-load.d/pgha-softdog.conf
    - contents: |
        # Managed by Salt (pgha): no hardware watchdog here; Patroni's watchdog uses softdog.
        softdog
    - mode: '0644'

pgha-patroni-watchdog-softdog-loaded:
  kmod.present:
    - name: softdog
    - require:
      - file: pgha-patroni-watchdog-softdog-persisted
{%- endif %}

pgha-patroni-watchdog-ready:
  pgha_system.watchdog_ready:
    - name: {{ watchdog.device | json }}
    - mode: {{ watchdog.mode | json }}
    - user: {{ pgha.users.postgres | json }}
    - require:
      - sls: {{ tplroot }}.patroni.install
{%- if plan.load_softdog %}
      - kmod: pgha-patroni-watchdog-softdog-loaded
{%- endif %}
