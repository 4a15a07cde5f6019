{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- from tplroot ~ "/map.jinja" import members, etcd_scheme, tls_files with context %}
{%- set me = members.etcd.get(grains.id) %}
{%- set etcd = pgha.etcd %}
{%- set peer_url = '%s://%s:%s' % (etcd_scheme, me, etcd.peer_port) %}
{#- etcd reads its initial-* settings only when it creates its data directory. A member that
    has data keeps the values it was created with, so that a member added or removed later
    does not rewrite this file and restart etcd. A new member of a running cluster (orch
    pgha.add_node sets pillar pgha_etcd:join) joins it: it is added with `member add` first
    and starts as `existing` with the cluster's current members. #}
{%- set initialized = salt['file.directory_exists'](etcd.data_dir ~ '/member') %}
{%- set join = salt['pillar.get']('pgha_etcd:join', False) and not initialized %}
{%- set initial = {'cluster': [], 'state': 'new'} %}
{%- if initialized and salt['file.file_exists'](pgha.paths.etcd_env) %}
{%-   for line in salt['file.read'](pgha.paths.etcd_env).splitlines() %}
{%-     if line.startswith('ETCD_INITIAL_CLUSTER=') %}
{%-       do initial.update({'cluster': line.split('=', 1)[1].strip('"').split(',')}) %}
{%-     elif line.startswith('ETCD_INITIAL_CLUSTER_STATE=') %}
{%-       do initial.update({'state': line.split('=', 1)[1].strip('"')}) %}
{%-     endif %}
{%-   endfor %}
{%- endif %}
{%- set others = [] %}
{%- for name, address in members.etcd | dictsort if name != grains.id %}
{%-   do others.append('%s://%s:%s' % (etcd_scheme, address, etcd.client_port)) %}
{%- endfor %}
{%- if join %}
{%-   for member in salt['pgha_etcd.members'](others) if member.name and peer_url not in member.peer_urls %}
{%-     do initial.cluster.append(member.name ~ '=' ~ member.peer_urls | join(',' ~ member.name ~ '=')) %}
{%-   endfor %}
{%-   do initial.update({'cluster': initial.cluster + [grains.id ~ '=' ~ peer_url], 'state': 'existing'}) %}
{%- elif not initial.cluster %}
{%-   for name, address in members.etcd | dictsort %}
{%-     do initial.cluster.append('%s=%s://%s:%s' % (name, etcd_scheme, address, etcd.peer_port)) %}
{%-   endfor %}
{%- endif %}

include:
  - {{ tplroot }}.etcd.install
{%- if pgha.tls.enabled %}
  - {{ tplroot }}.etcd.tls
{%- endif %}

pgha-etcd-data-dir-managed:
  file.directory:
    - name: {{ etcd.data_dir }}
    - user: {{ pgha.users.etcd }}
    - group: {{ pgha.users.etcd }}
    - mode: '0700'
    - require:
      - sls: {{ tplroot }}.etcd.install

pgha-etcd-config-file-managed:
  file.managed:
    - name: {{ pgha.paths.etcd_env }}
    - source: salt://{{ tplroot }}/etcd/files/etcd.env.jinja
    - template: jinja
    - mode: '0644'
    - context:
        etcd: {{ etcd | json }}
        me: {{ me | json }}
        initial_cluster: {{ initial.cluster | join(',') | json }}
        initial_state: {{ initial.state | json }}
        {#- issue 24: a plain-HTTP /metrics listener for the monitors (the client port may want a certificate) #}
        metrics_url: {{ ('http://' ~ me ~ ':' ~ pgha.monitoring.ports.etcd_metrics if pgha.monitoring.enabled else '') | json }}
{%- if pgha.tls.enabled %}
        tls:
          ca: {{ tls_files.ca }}
          cert: {{ tls_files.etcd.cert }}
          key: {{ tls_files.etcd.key }}
          client_cert_auth: {{ pgha.tls.etcd_client_cert_auth }}
{%- endif %}
    - require:
      - sls: {{ tplroot }}.etcd.install
{%- if pgha.tls.enabled %}
      - sls: {{ tplroot }}.etcd.tls
{%- endif %}
{%- if join %}

pgha-etcd-member-added:
  pgha_etcd.member_added:
    - name: {{ peer_url }}
    - endpoints: {{ others | json }}
    - require:
      - file: pgha-etcd-config-file-managed
{%- endif %}
