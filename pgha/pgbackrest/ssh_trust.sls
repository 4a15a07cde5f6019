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
{#- Standby clusters (issue 20, standby_cluster:pgbackrest): on the main cluster's repository
    host, the standby clusters' database nodes that restore from it (standby_clusters:N:pgbackrest)
    log in as its user; they never need to be reached from here. On such a standby node, the
    main's repository host is pinned in known_hosts. Both from the mine (pgha_ssh), which each
    cluster's minions fill themselves: nothing here changes the other cluster's minions. #}
{%- set clients = pgha.standby_main.repo_clients if repo_host else {} %}
{%- set clients_ssh = salt['mine.get'](clients | list | join(','), 'pgha_ssh', tgt_type='list') if clients else {} %}
{%- for minion in clients | list | sort %}
{%-   if clients_ssh.get(minion) %}

pgha-pgbackrest-ssh-standby-{{ minion }}-authorized:
  ssh_auth.present:
    - name: {{ clients_ssh[minion].key | json }}
    - user: {{ user }}
    {#- pgBackRest's remote needs neither a terminal nor forwarding #}
    - options: [no-port-forwarding, no-agent-forwarding, no-X11-forwarding, no-pty]
    - require:
      - sls: {{ tplroot }}.pgbackrest.ssh_keys
{%-   else %}

{#- not a failure: the main cluster's own highstate must not wait for its standby cluster #}
pgha-pgbackrest-ssh-standby-{{ minion }}-key-missing:
  test.show_notification:
    - text: >-
        {{ minion }} (a standby cluster's node, pgha:standby_clusters:N:pgbackrest) has not published its
        SSH key yet: apply pgha.pgbackrest.ssh_keys there, then pgha.config on this cluster again
        (docs/standby-clusters.md)
{%-   endif %}
{%- endfor %}
{%- set main_repo = pgha.standby_repo if not repo_host else none %}
{%- if main_repo %}
{%-   set main_ssh = salt['mine.get'](main_repo.minion, 'pgha_ssh', tgt_type='list') if main_repo.minion else {} %}
{%-   if main_ssh.get(main_repo.minion) %}

pgha-pgbackrest-ssh-main-repository-known:
  ssh_known_hosts.present:
    - name: {{ main_repo.host }}
    - user: {{ user }}
    - enc: {{ main_ssh[main_repo.minion].host_key.split()[0] }}
    - key: {{ main_ssh[main_repo.minion].host_key.split()[1] }}
    - hash_known_hosts: false
    - require:
      - sls: {{ tplroot }}.pgbackrest.ssh_keys
{%-   else %}

pgha-pgbackrest-ssh-main-repository-missing:
  test.fail_without_changes:
    - name: >-
        pgha:standby_cluster:pgbackrest: the main cluster {{ main_repo.cluster }} has no repository host
        that published its SSH host key (its minion with role pgbackrest, pgha.pgbackrest.ssh_keys)
{%-   endif %}
{%- endif %}
{%- if not peers and not clients and not main_repo %}

pgha-pgbackrest-ssh-no-peer:
  test.nop:
    - name: no repository host in this cluster
{%- endif %}
