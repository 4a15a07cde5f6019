{#- A Type A balancer: HAProxy, and keepalived holding the cluster VIP. #}
include:
  - .haproxy
  - .keepalived
