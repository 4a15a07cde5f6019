include:
  - .install
  - .config
  - .service
  - .etcd_leader_apart
