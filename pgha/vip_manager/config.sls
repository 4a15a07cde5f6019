{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- from tplroot ~ "/map.jinja" import etcd_client_urls, tls_files with context %}

include:
  - {{ tplroot }}.vip_manager.install
{%- if pgha.tls.enabled %}
  - {{ tplroot }}.postgresql.tls
{%- endif %}

{#- Command-line flags rather than vip-manager's YAML file: 1.0.2 ignores some YAML keys
    (dcs-type), while 1.x and 2.x parse these flags alike. No secrets live here. #}
pgha-vip-manager-unit-dropin-managed:
  file.managed:
    - name: /etc/systemd/system/{{ pgha.services.vip_manager }}.service.d/pgha.conf
    - source: salt://{{ tplroot }}/vip_manager/files/pgha.conf.jinja
    - template: jinja
    - makedirs: true
    - mode: '0644'
    - context:
        bin: {{ pgha.paths.vip_manager_bin }}
        vm: {{ pgha.vip_manager | json }}
        vip: {{ pgha.cluster_vip }}
        interface: {{ pgha.vip_interface or salt['pgha.interface']() }}
        scope: {{ pgha.cluster_name }}
        {#- the cluster's etcd key under patroni:etcd:namespace #}
        prefix: {{ pgha.patroni.dcs_prefix | json }}
        env_file: {{ (pgha.paths.vip_manager_env if pgha.patroni.etcd.username else '') | json }}
        endpoints: {{ etcd_client_urls | json }}
{%- if pgha.tls.enabled %}
        {#- etcd over https: its CA, and the postgres user's certificate when etcd asks for one
            (vip-manager runs as root) #}
        tls:
          ca: {{ tls_files.ca }}
          cert: {{ (tls_files.postgres.cert if pgha.tls.etcd_client_cert_auth else '') | json }}
          key: {{ (tls_files.postgres.key if pgha.tls.etcd_client_cert_auth else '') | json }}
{%- endif %}
    - require:
      - sls: {{ tplroot }}.vip_manager.install
{%- if pgha.tls.enabled %}
      - sls: {{ tplroot }}.postgresql.tls
{%- endif %}

{#- etcd authentication (issue 23): the user and password in an owner-only environment file
    the drop-in names; never in state output. #}
pgha-vip-manager-etcd-auth-file-managed:
{%- if pgha.patroni.etcd.username %}
  file.managed:
    - name: {{ pgha.paths.vip_manager_env }}
    - source: salt://{{ tplroot }}/vip_manager/files/etcd-auth.env.jinja
    - template: jinja
    - user: root
    - group: root
    - mode: '0600'
    - makedirs: true
    - show_changes: false
    - context:
        tplroot: {{ tplroot }}
    - require_in:
      - file: pgha-vip-manager-unit-dropin-managed
{%- else %}
  file.absent:
    - name: {{ pgha.paths.vip_manager_env }}
{%- endif %}

pgha-vip-manager-systemd-reloaded:
  module.run:
    - service.systemctl_reload: []
    - onchanges:
      - file: pgha-vip-manager-unit-dropin-managed
