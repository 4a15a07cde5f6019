{#- The firewall (pgha:firewall:enabled): nftables rules of this minion's roles. #}
include:
  - .install
  - .config
  - .service
