{#- An extra package source from pillar (pgha:pkg_repo), e.g. an offline mirror. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- set repo = pgha.pkg_repo %}

{%- if repo.url %}
pgha-repo-pkgrepo-managed:
  pkgrepo.managed:
{%-   if grains.os_family == 'Debian' %}
    - name: deb {{ '[trusted=yes] ' if repo.trusted else '' }}{{ repo.url }} {{ repo.dist }} {{ repo.components }}
    - file: /etc/apt/sources.list.d/pgha.list
{%-     if repo.trusted %}
    {#- Salt reads the option, not the line, when apt-key is gone (Debian 13) #}
    - trusted: 'yes'
{%-     endif %}
{%-   else %}
    - name: pgha
    - humanname: pgha packages
    - baseurl: {{ repo.url }}
    - gpgcheck: {{ 0 if repo.trusted else 1 }}
{%-   endif %}
{%- else %}
pgha-repo-none:
  test.nop:
    - name: no extra package source in pillar (pgha:pkg_repo:url)
{%- endif %}
