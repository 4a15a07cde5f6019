{#- SSH between the database nodes (user postgres) and a dedicated repository host (role
    pgbackrest, its own user): sshd, the user's key pair, and the public keys in the mine
    (pgha_ssh) for the other side's pgha.pgbackrest.ssh_trust. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- set repo_host = 'pgbackrest' in pgha.roles %}
{%- set user = pgha.pgbackrest.repo_host_user if repo_host else pgha.users.postgres %}
{%- set db_node = 'postgresql' in pgha.roles %}

{#- Applied alone too: a standby cluster's nodes publish their keys before their first deploy
    (docs/standby-clusters.md), when nothing else has installed what this needs: the user
    postgres comes with the PostgreSQL packages, and the state module publishing the key
    (pgha_pgbackrest) loads only where pgbackrest is installed. #}
include:
  - {{ tplroot }}.pgbackrest.install
{%- if db_node %}
  - {{ tplroot }}.postgresql.install
{%- endif %}

pgha-pgbackrest-ssh-pkgs-installed:
  pkg.installed:
    - pkgs: {{ pgha.pkgs.ssh | json }}

pgha-pgbackrest-ssh-service-running:
  service.running:
    - name: {{ pgha.services.ssh }}
    - enable: true
    - require:
      - pkg: pgha-pgbackrest-ssh-pkgs-installed
{%- if repo_host %}

pgha-pgbackrest-repo-user-present:
  user.present:
    - name: {{ user | json }}
    - system: true
    - home: {{ ('/home/' ~ user) | json }}
    - createhome: true
    - shell: /bin/sh
{%- endif %}

pgha-pgbackrest-ssh-key-generated:
  cmd.run:
    {#- The command is constant text: the key's comment arrives in the environment, so a
        user name or minion ID never becomes shell syntax. #}
    - name: mkdir -p -m 0700 "$HOME/.ssh" && ssh-keygen -q -t ed25519 -N '' -C "$PGHA_KEY_COMMENT" -f "$HOME/.ssh/id_ed25519"
    - env:
      - PGHA_KEY_COMMENT: {{ (user ~ '@' ~ grains.id) | json }}
    - unless: test -f "$HOME/.ssh/id_ed25519"
    - runas: {{ user | json }}
    - require:
      - pkg: pgha-pgbackrest-ssh-pkgs-installed
{%- if repo_host %}
      - user: pgha-pgbackrest-repo-user-present
{%- endif %}
{%- if db_node %}
      - pkg: pgha-postgresql-pkgs-installed
{%- endif %}

pgha-pgbackrest-ssh-key-published:
  pgha_pgbackrest.ssh_published:
    - name: {{ user }}
    - require:
      - pkg: pgha-pgbackrest-pkgs-installed
      - cmd: pgha-pgbackrest-ssh-key-generated
      - service: pgha-pgbackrest-ssh-service-running
