{#- pgha's nftables table (pgha:firewall): the ports of this minion's roles, opened to the
    cluster's own nodes (from the mine) or to clients; everything else inbound is dropped.
    Written only after `nft -c` accepted it; pgha.firewall.service loads it. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- from tplroot ~ "/firewall/rules.jinja" import sources, rules, nodes with context %}

include:
  - {{ tplroot }}.firewall.install

{#- firewalld (RHEL's default) filters the same packets with its own zones and knows nothing
    of pgha's rules: a port would have to be open in both. One firewall per host. #}
pgha-firewall-firewalld-not-running:
  test.fail_without_changes:
    - name: >-
        firewalld runs on this host: pgha:firewall loads its own nftables table and does not
        manage firewalld. Stop it (systemctl disable --now firewalld), or set
        pgha:firewall:enabled to false and open the ports in firewalld yourself.
    - onlyif: systemctl is-active --quiet firewalld

{#- Rules from an empty or stale mine would shut the cluster's nodes out of each other. #}
{%- if grains.id in nodes %}
pgha-firewall-cluster-addresses-known:
  test.succeed_without_changes:
    - name: {{ nodes | length }} node(s) of cluster {{ pgha.cluster_name }} in the mine
{%- else %}
pgha-firewall-cluster-addresses-known:
  test.fail_without_changes:
    - name: >-
        the mine has no pgha_member of {{ grains.id }} for cluster {{ pgha.cluster_name }}:
        run salt-run state.orch pgha.prepare first; no firewall is loaded from an incomplete
        list of the cluster's nodes
{%- endif %}

pgha-firewall-rules-file-managed:
  file.managed:
    - name: {{ pgha.paths.firewall_rules }}
    - source: salt://{{ tplroot }}/firewall/files/pgha.nft.jinja
    - template: jinja
    - makedirs: true
    - mode: '0644'
    - check_cmd: {{ pgha.paths.nft_bin }} -c -f
    - context:
        cluster_name: {{ pgha.cluster_name }}
        sources: {{ sources | json }}
        rules: {{ rules | json }}
        ssh_port: {{ pgha.firewall.ssh_port }}
        extra_rules: {{ pgha.firewall.extra_rules | json }}
    - require:
      - sls: {{ tplroot }}.firewall.install
      - test: pgha-firewall-firewalld-not-running
      - test: pgha-firewall-cluster-addresses-known
