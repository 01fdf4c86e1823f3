-- testrig: plain .sql, runs first (sorted by name)
create table rig_init (kind text primary key, at timestamptz not null default now());
create table rig_data (id int primary key, note text not null);
insert into rig_init(kind) values ('sql');
