{#- salt -C 'I@pgha:cluster_name:NAME' state.apply pgha.firewall.clean
    Removes pgha's firewall after pgha:firewall:enabled was set to false: the table, its unit
    and its file. Other tables and the nftables package stay. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

pgha-firewall-clean-service-dead:
  service.dead:
    - name: pgha-firewall
    - enable: false

pgha-firewall-clean-table-deleted:
  cmd.run:
    - name: {{ pgha.paths.nft_bin }} delete table inet pgha
    - onlyif: {{ pgha.paths.nft_bin }} list table inet pgha
    - require:
      - service: pgha-firewall-clean-service-dead

pgha-firewall-clean-files-absent:
  file.absent:
    - names:
      - /etc/systemd/system/pgha-firewall.service
      - {{ pgha.paths.firewall_rules }}
    - require:
      - cmd: pgha-firewall-clean-table-deleted

pgha-firewall-clean-systemd-reloaded:
  module.run:
    - service.systemctl_reload: []
    - onchanges:
      - file: pgha-firewall-clean-files-absent
