{#- Huge pages for PostgreSQL's shared memory (pgha:system:huge_pages, 2 MiB pages). PostgreSQL's
    default huge_pages = try uses them when there are enough, and falls back to normal pages.
    Reserved at boot from the file (memory is not yet fragmented), and now as far as the
    kernel can. 0 removes pgha's file: the pages stay reserved until the next boot. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- set pages = pgha.system.huge_pages | int %}

{%- if pages > 0 %}
pgha-system-hugepages-file-managed:
  file.managed:
    - name: {{ pgha.paths.hugepages_config }}
    - user: root
    - group: root
    - mode: '0644'
    - contents: |
        # Managed by Salt (pgha): pgha:system:huge_pages. systemd-sysctl applies it at boot.
        vm.nr_hugepages = {{ pages }}

pgha-system-hugepages-applied:
  pgha_system.kernel_applied:
    - settings:
        vm.nr_hugepages: {{ pages }}
    - require:
      - file: pgha-system-hugepages-file-managed
{%- else %}
pgha-system-hugepages-file-absent:
  file.absent:
    - name: {{ pgha.paths.hugepages_config }}
{%- endif %}
