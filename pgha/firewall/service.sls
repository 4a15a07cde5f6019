{#- pgha-firewall.service loads pgha's table at boot (after the distro's nftables.service, which
    may flush the whole ruleset, and before the network comes up) and again on a reload; its
    stop removes the table, so `systemctl stop pgha-firewall` opens the node. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- set nft = pgha.paths.nft_bin %}

include:
  - {{ tplroot }}.firewall.config

pgha-firewall-unit-file-managed:
  file.managed:
    - name: /etc/systemd/system/pgha-firewall.service
    - contents: |
        # Managed by Salt (pgha)
        [Unit]
        Description=pgha firewall (nftables table inet pgha)
        Wants=network-pre.target
        Before=network-pre.target shutdown.target
        After=nftables.service
        PartOf=nftables.service
        Conflicts=shutdown.target
        DefaultDependencies=no

        [Service]
        Type=oneshot
        RemainAfterExit=yes
        ExecStart={{ nft }} -f {{ pgha.paths.firewall_rules }}
        ExecReload={{ nft }} -f {{ pgha.paths.firewall_rules }}
        ExecStop=-{{ nft }} delete table inet pgha

        [Install]
        WantedBy=sysinit.target
    - require:
      - sls: {{ tplroot }}.firewall.config

pgha-firewall-systemd-reloaded:
  module.run:
    - service.systemctl_reload: []
    - onchanges:
      - file: pgha-firewall-unit-file-managed

{#- A changed file reloads the table in one transaction: established connections stay. #}
pgha-firewall-service-running:
  service.running:
    - name: pgha-firewall
    - enable: true
    - reload: true
    - watch:
      - file: pgha-firewall-rules-file-managed
      - file: pgha-firewall-unit-file-managed
    - require:
      - module: pgha-firewall-systemd-reloaded
