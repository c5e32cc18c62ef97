-- compose.yaml's PostgreSQL, at its first start: one database per service (each owns its tables).
create database templates;
create database claims;
create database lineage;
create database gateway;
