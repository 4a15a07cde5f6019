{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- from tplroot ~ "/map.jinja" import members with context %}
{%- set balancers = members.balancer | dictsort | map(attribute=0) | list %}

include:
  - {{ tplroot }}.keepalived.install

pgha-keepalived-config-file-managed:
  file.managed:
    - name: {{ pgha.paths.keepalived_config }}
    - source: salt://{{ tplroot }}/keepalived/files/keepalived.conf.jinja
    - template: jinja
    - mode: '0640'
    - context:
        ka: {{ pgha.keepalived | json }}
        vip: {{ pgha.cluster_vip }}
        interface: {{ pgha.keepalived.interface or salt['pgha.interface']() }}
        me: {{ members.balancer.get(grains.id, salt['pgha.address']()) }}
        peers: {{ members.balancer | json }}
        {#- first balancer by name starts as the preferred VIP holder #}
        priority: {{ 150 - (balancers.index(grains.id) if grains.id in balancers else 49) }}
    - require:
      - sls: {{ tplroot }}.keepalived.install
