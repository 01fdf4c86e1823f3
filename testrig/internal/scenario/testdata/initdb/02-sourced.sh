# testrig: non-executable .sh, sourced by the entrypoint (it would fail if
# executed: the file has no execute bit and no shebang)
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -c "insert into rig_init(kind) values ('sh-sourced')"
