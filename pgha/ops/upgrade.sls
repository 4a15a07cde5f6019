{#- One stage of pgha.upgrade / pgha.upgrade_rollback on this node (pillar pgha_ops:stage,
    pgha_ops:to the new major, pgha_ops:from the old one). The orchestration renders the
    steps; the node's execution module pgha_upgrade does the work and refuses what the record
    of the upgrade does not allow (a rollback after the new cluster started):
    - install: the new major's packages next to the old (and rsync, SSH for the replicas'
      copy), the record started;
    - clean: the new directories and packages removed again (pg_upgrade --check failed);
    - pause: the DCS configuration saved, Patroni paused (maintenance mode);
    - pgbouncer_pause / pgbouncer_resume: PgBouncer holds its clients / lets them go on;
    - mark: the record's stage (pgha_ops:mark);
    - dcs_reset: the cluster leaves the DCS (the new system identifier);
    - rollback: the old cluster's files back (pg_control), the new ones and the new packages
      removed; Patroni's configuration is the orchestration's next step;
    - finished: the record closed; with pgha:upgrade:remove_old_data / remove_old_packages
      the old data directory and packages go. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- set stage = salt['pillar.get']('pgha_ops:stage', '') %}
{%- set to = salt['pillar.get']('pgha_ops:to', '') | string %}
{%- set frm = salt['pillar.get']('pgha_ops:from', '') | string %}
{%- set ssh_service = 'sshd' if grains.os_family == 'RedHat' else 'ssh' %}

{%- if stage == 'install' %}
pgha-ops-upgrade-recorded:
  module.run:
    - pgha_upgrade.mark:
      - stage: prepared
      - to: {{ to }}

pgha-ops-upgrade-pkgs-installed:
  pkg.installed:
    - pkgs: {{ (salt['pgha_upgrade.packages'](to) + ['rsync', 'openssh-client' if grains.os_family == 'Debian' else 'openssh-clients', 'openssh-server']) | json }}
    - refresh: true
    - require:
      - module: pgha-ops-upgrade-recorded

{#- the replicas' copy runs over SSH (the temporary trust of salt-run pgha.upgrade_ssh) #}
pgha-ops-upgrade-ssh-running:
  service.running:
    - name: {{ ssh_service }}
    - require:
      - pkg: pgha-ops-upgrade-pkgs-installed

{%- elif stage == 'clean' %}
pgha-ops-upgrade-new-removed:
  module.run:
    - pgha_upgrade.remove_new:
      - to: {{ to }}

pgha-ops-upgrade-new-pkgs-removed:
  pkg.removed:
    - pkgs: {{ salt['pgha_upgrade.packages'](to) | json }}
    - require:
      - module: pgha-ops-upgrade-new-removed

{%- elif stage == 'pause' %}
pgha-ops-upgrade-dcs-saved:
  module.run:
    - pgha_upgrade.save_dcs: []

pgha-ops-upgrade-patroni-paused:
  module.run:
    - pgha_patroni.pause: []
    - require:
      - module: pgha-ops-upgrade-dcs-saved

{%- elif stage in ('pgbouncer_pause', 'pgbouncer_resume') %}
{#- PAUSE waits for the server connections to be released, then holds new queries;
    pgha_pgbouncer.pause resumes by itself when that does not finish in time (clients then
    see errors for the window instead of waiting) #}
pgha-ops-upgrade-{{ stage }}:
  module.run:
    - pgha_pgbouncer.{{ 'pause' if stage == 'pgbouncer_pause' else 'resume' }}:
      - port: {{ pgha.pgbouncer.port }}
{%-   if stage == 'pgbouncer_pause' %}
      - timeout: {{ pgha.pgbouncer.pause_timeout }}
{%-   endif %}

{%- elif stage == 'mark' %}
pgha-ops-upgrade-marked:
  module.run:
    - pgha_upgrade.mark:
      - stage: {{ salt['pillar.get']('pgha_ops:mark') }}
      - to: {{ to }}

{%- elif stage == 'dcs_reset' %}
pgha-ops-upgrade-dcs-reset:
  module.run:
    - pgha_upgrade.dcs_reset:
      - cluster: {{ pgha.cluster_name | json }}
      - patronictl: {{ pgha.paths.patroni_bin.rsplit('/', 1)[0] ~ '/patronictl' }}

{%- elif stage == 'rollback' %}
{%-   set record = salt['pgha_upgrade.record']() %}
{%-   set to = to or record.get('to', '') | string %}
pgha-ops-upgrade-rolled-back:
  module.run:
    - pgha_upgrade.rollback:
      - to: {{ to }}

{%-   if to %}
pgha-ops-upgrade-new-pkgs-removed:
  pkg.removed:
    - pkgs: {{ salt['pgha_upgrade.packages'](to) | json }}
    - require:
      - module: pgha-ops-upgrade-rolled-back
{%-   endif %}

{%- elif stage == 'finished' %}
pgha-ops-upgrade-finished:
  module.run:
    - pgha_upgrade.mark:
      - stage: finished
      - to: {{ to }}
{%-   if pgha.upgrade.remove_old_data %}

pgha-ops-upgrade-old-data-removed:
  module.run:
    - pgha_upgrade.remove_old:
      - frm: {{ frm }}
    - require:
      - module: pgha-ops-upgrade-finished
{%-   endif %}
{%-   if pgha.upgrade.remove_old_packages %}

pgha-ops-upgrade-old-pkgs-removed:
  pkg.removed:
    - pkgs: {{ salt['pgha_upgrade.packages'](to, old=frm, which='old') | json }}
    - require:
      - module: pgha-ops-upgrade-finished
{%-   endif %}

{%- elif not stage %}
pgha-ops-upgrade-not-alone:
  test.fail_without_changes:
    - name: pgha.ops.upgrade is a step of salt-run state.orch pgha.upgrade

{%- else %}
{{- raise('pgha.ops.upgrade: unknown stage ' ~ stage | string) }}
{%- endif %}
