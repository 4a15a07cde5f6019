{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- from tplroot ~ "/map.jinja" import etcd_client_urls, tls_files with context %}

include:
  - {{ tplroot }}.confd.install
{%- if pgha.tls.enabled %}
  - {{ tplroot }}.tls.ca
{%- endif %}

pgha-confd-config-file-managed:
  file.managed:
    - name: /etc/confd/confd.toml
    - makedirs: true
    - contents: |
        # Managed by Salt (pgha)
        backend = "{{ 'etcdv3' if pgha.patroni.dcs_api == 'etcd3' else 'etcd' }}"
        nodes = {{ etcd_client_urls | json }}
        watch = true
        prefix = "{{ pgha.patroni.dcs_prefix }}"
{%- if pgha.tls.enabled %}
        client_cakeys = "{{ tls_files.ca }}"
{%- endif %}

pgha-confd-resource-file-managed:
  file.managed:
    - name: /etc/confd/conf.d/haproxy.toml
    - makedirs: true
    - contents: |
        # Managed by Salt (pgha): confd rewrites haproxy.cfg when Patroni's members change.
        [template]
        src = "haproxy.tmpl"
        dest = "{{ pgha.paths.haproxy_config }}"
        keys = ["/members/"]
        check_cmd = "/usr/sbin/haproxy -c -q -f {{ '{{' }}.src{{ '}}' }}"
        reload_cmd = "systemctl reload {{ pgha.services.haproxy }}"

{#- The same listeners as pgha/haproxy/files/haproxy.cfg.jinja, with servers from the DCS. #}
pgha-confd-template-file-managed:
  file.managed:
    - name: /etc/confd/templates/haproxy.tmpl
    - makedirs: true
    - mode: '0640'
    - show_changes: false
    - source: salt://{{ tplroot }}/haproxy/files/haproxy.cfg.jinja
    - template: jinja
    - context:
        tplroot: {{ tplroot }}
        confd: true
