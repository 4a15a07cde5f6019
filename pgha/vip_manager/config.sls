{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- from tplroot ~ "/map.jinja" import etcd_client_urls with context %}

include:
  - {{ tplroot }}.vip_manager.install

pgha-vip-manager-config-file-managed:
  file.managed:
    - name: {{ pgha.paths.vip_manager_config }}
    - source: salt://{{ tplroot }}/vip_manager/files/vip-manager.yml.jinja
    - template: jinja
    - makedirs: true
    - mode: '0644'
    - context:
        vm: {{ pgha.vip_manager | json }}
        vip: {{ pgha.cluster_vip }}
        interface: {{ pgha.vip_interface or salt['pgha.interface']() }}
        scope: {{ pgha.cluster_name }}
        endpoints: {{ etcd_client_urls | json }}
    - require:
      - sls: {{ tplroot }}.vip_manager.install

{#- Both vip-manager 1.x and 2.x read this YAML file; the packaged unit reads env vars. #}
pgha-vip-manager-unit-dropin-managed:
  file.managed:
    - name: /etc/systemd/system/{{ pgha.services.vip_manager }}.service.d/pgha.conf
    - makedirs: true
    - contents: |
        # Managed by Salt (pgha)
        [Service]
        EnvironmentFile=
        ExecStart=
        ExecStart={{ pgha.paths.vip_manager_bin }} --config={{ pgha.paths.vip_manager_config }}
        Restart=always
        RestartSec=1
    - require:
      - sls: {{ tplroot }}.vip_manager.install
