{#- Each side trusts the other (keys from the mine, pgha_ssh): the repository host's user
    logs in as postgres on every database node (backups), postgres on the database nodes
    logs in as the repository host's user (archive-push, archive-get, restore). Host keys are
    pinned in known_hosts by address, the name pgBackRest connects to. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha, members with context %}
{%- set repo_host = 'pgbackrest' in pgha.roles %}
{%- set user = pgha.pgbackrest.repo_host_user if repo_host else pgha.users.postgres %}
{%- set peers = members.postgresql if repo_host else members.pgbackrest %}
{#- the peers' own keys, by minion ID (I@ targeting would ignore the cluster name's case) #}
{%- set identities = salt['mine.get'](peers | list | join(','), 'pgha_ssh', tgt_type='list') if peers else {} %}

include:
  - {{ tplroot }}.pgbackrest.ssh_keys
{%- for minion, address in peers | dictsort if identities.get(minion) %}
{%-   set peer = identities[minion] %}

pgha-pgbackrest-ssh-{{ minion }}-authorized:
  ssh_auth.present:
    - name: {{ peer.key | json }}
    - user: {{ user }}
    - require:
      - sls: {{ tplroot }}.pgbackrest.ssh_keys

pgha-pgbackrest-ssh-{{ minion }}-known:
  ssh_known_hosts.present:
    - name: {{ address }}
    - user: {{ user }}
    - enc: {{ peer.host_key.split()[0] }}
    - key: {{ peer.host_key.split()[1] }}
    - hash_known_hosts: false
    - require:
      - sls: {{ tplroot }}.pgbackrest.ssh_keys
{%- endfor %}
{%- for minion in peers | dictsort | map('first') if not identities.get(minion) %}

pgha-pgbackrest-ssh-{{ minion }}-key-missing:
  test.fail_without_changes:
    - name: {{ minion }} has not published its SSH key (pgha.pgbackrest.ssh_keys runs there first)
{%- endfor %}
{%- if not peers %}

pgha-pgbackrest-ssh-no-peer:
  test.nop:
    - name: no repository host in this cluster
{%- endif %}
