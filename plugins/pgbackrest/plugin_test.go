package pgbackrest

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	hclog "github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/plugins/sdk"
)

func newTestPlugin() *Plugin {
	p := New(hclog.NewNullLogger(), os.Getenv)
	p.lookPath = func(string) (string, error) { return "/usr/bin/pgbackrest", nil }
	return p
}

// cluster makes a directory that looks like an initialised PGDATA.
func cluster(t *testing.T, restoredBy string) string {
	t.Helper()
	d := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(d, "PG_VERSION"), []byte("15\n"), 0o600))
	if restoredBy != "" {
		require.NoError(t, os.WriteFile(filepath.Join(d, ProvidedMarker), []byte(`{"completed":"x","marker":"m","plugin":"`+restoredBy+`"}`+"\n"), 0o600))
	}
	return d
}

func TestValidateRestoreOverLiveData(t *testing.T) {
	p := newTestPlugin()
	for _, tt := range []struct {
		name   string
		pgdata string
		env    map[string]string
		want   string // "" = no problem
	}{
		{"empty PGDATA", t.TempDir(), map[string]string{"PGBACKREST_RESTORE": "true"}, ""},
		{"live cluster", cluster(t, ""), map[string]string{"PGBACKREST_RESTORE": "true"}, "already holds a cluster that no pgbackrest restore created"},
		{"cluster another provider made", cluster(t, "other"), map[string]string{"PGBACKREST_RESTORE": "true"}, "already holds a cluster"},
		{"restored before: starts normally", cluster(t, Name), map[string]string{"PGBACKREST_RESTORE": "true"}, ""},
		{"force: validation lets it through", cluster(t, ""), map[string]string{"PGBACKREST_RESTORE": "true", "PGBACKREST_RESTORE_FORCE": "true"}, ""},
		{"no restore asked", cluster(t, ""), map[string]string{}, ""},
		{"patroni: restore on boot", t.TempDir(), map[string]string{"PGBACKREST_RESTORE": "true", "PATRONI_ENABLE": "true"}, ""},
		{"patroni: a live cluster is never restored over", cluster(t, ""), map[string]string{"PGBACKREST_RESTORE": "true", "PATRONI_ENABLE": "yes"}, ""},
		{"patroni: point in time", t.TempDir(), map[string]string{"PGBACKREST_RESTORE": "true", "PATRONI_ENABLE": "true", "PGBACKREST_RESTORE_TYPE": "time", "PGBACKREST_RESTORE_TARGET": "2026-12-03T18:00:00Z", "PGBACKREST_RESTORE_TARGET_ACTION": "promote"}, ""},
		{"patroni: force", t.TempDir(), map[string]string{"PGBACKREST_RESTORE": "true", "PGBACKREST_RESTORE_FORCE": "true", "PATRONI_ENABLE": "true"}, "PGBACKREST_RESTORE_FORCE: is not offered in Patroni mode"},
		{"patroni: pause at the target", t.TempDir(), map[string]string{"PGBACKREST_RESTORE": "true", "PATRONI_ENABLE": "true", "PGBACKREST_RESTORE_TYPE": "xid", "PGBACKREST_RESTORE_TARGET": "1234", "PGBACKREST_RESTORE_TARGET_ACTION": "pause"}, "PGBACKREST_RESTORE_TARGET_ACTION: pause is not offered in Patroni mode"},
		{"patroni: shutdown at the target", t.TempDir(), map[string]string{"PGBACKREST_RESTORE": "true", "PATRONI_ENABLE": "true", "PGBACKREST_RESTORE_TYPE": "immediate", "PGBACKREST_RESTORE_TARGET_ACTION": "shutdown"}, "PGBACKREST_RESTORE_TARGET_ACTION: shutdown is not offered"},
		{"patroni: standby restore", t.TempDir(), map[string]string{"PGBACKREST_RESTORE": "true", "PATRONI_ENABLE": "true", "PGBACKREST_RESTORE_TYPE": "standby"}, "PGBACKREST_RESTORE_TYPE: standby is not offered in Patroni mode"},
		{"patroni off: force is direct mode's", cluster(t, ""), map[string]string{"PGBACKREST_RESTORE": "true", "PGBACKREST_RESTORE_FORCE": "true", "PATRONI_ENABLE": "false"}, ""},
		{"wal_level minimal", t.TempDir(), map[string]string{"POSTGRESQL_CONFIG_WAL_LEVEL": "minimal"}, "minimal makes WAL archiving impossible"},
		{"archive_mode off", t.TempDir(), map[string]string{"POSTGRESQL_CONFIG_ARCHIVE_MODE": "off"}, "disables WAL archiving"},
		{"archive_mode off without archiving", t.TempDir(), map[string]string{"POSTGRESQL_CONFIG_ARCHIVE_MODE": "off", "PGBACKREST_ARCHIVE_ENABLE": "false"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"PGDATA": tt.pgdata}
			for k, v := range tt.env {
				env[k] = v
			}
			before, _ := os.ReadDir(tt.pgdata)
			problems, err := p.Validate(context.Background(), env)
			require.NoError(t, err)
			if tt.want == "" {
				assert.Empty(t, problems)
			} else {
				require.Len(t, problems, 1)
				assert.Contains(t, problems[0].Var+": "+problems[0].Message, tt.want)
			}
			after, _ := os.ReadDir(tt.pgdata)
			assert.Equal(t, len(before), len(after), "Validate changed PGDATA")
		})
	}
}

func TestConfigure(t *testing.T) {
	p := newTestPlugin()
	files := t.TempDir()
	srv := sdk.Server{PGData: t.TempDir(), Port: 5432, SocketDir: "/run/postgresql", Superuser: "postgres", FilesDir: files, FirstBoot: true}
	conf, err := p.Configure(context.Background(), sdk.ConfigureRequest{Env: map[string]string{"PGBACKREST_RESTORE": "true", "PGBACKREST_SCHEDULE_FULL": "@daily"}, Server: srv})
	require.NoError(t, err)
	assert.True(t, conf.WantsBootstrap)
	require.Len(t, conf.Files, 1)
	assert.Equal(t, ConfName, conf.Files[0].Path)
	assert.Equal(t, os.FileMode(0o640), conf.Files[0].Mode)
	assert.Contains(t, string(conf.Files[0].Content), "\nprocess-max="+strconv.Itoa(runtime.NumCPU())+"\ncompress-type=lz4\n")
	require.Len(t, conf.Jobs, 3)
	assert.Equal(t, "@daily", conf.Jobs[0].Schedule)
	names := map[string]string{}
	for _, s := range conf.Settings {
		names[s.Name] = s.Value
	}
	assert.Equal(t, "on", names["archive_mode"])
	assert.Contains(t, names["archive_command"], "--config="+filepath.Join(files, ConfName))

	cmd, err := p.BootstrapProvide(context.Background(), sdk.BootstrapProvideRequest{Env: map[string]string{"PGBACKREST_RESTORE": "true"}, Server: sdk.Server{PGData: "/data/.pgdock-initdb"}})
	require.NoError(t, err)
	assert.Contains(t, cmd.Argv, "--pg1-path=/data/.pgdock-initdb")
	assert.Equal(t, "restore", cmd.Argv[len(cmd.Argv)-1])
	assert.Equal(t, ProcessEnv(), cmd.Env)
	assert.Equal(t, "pgbackrest restore stanza=default", cmd.Marker)

	// not a first boot: no restore wanted; a live cluster it did not restore is refused
	srv.FirstBoot = false
	conf, err = p.Configure(context.Background(), sdk.ConfigureRequest{Env: map[string]string{}, Server: srv})
	require.NoError(t, err)
	assert.False(t, conf.WantsBootstrap)
	srv.PGData = cluster(t, "")
	_, err = p.Configure(context.Background(), sdk.ConfigureRequest{Env: map[string]string{"PGBACKREST_RESTORE": "true"}, Server: srv})
	assert.ErrorContains(t, err, "PGBACKREST_RESTORE")
	srv.PGData = cluster(t, Name)
	conf, err = p.Configure(context.Background(), sdk.ConfigureRequest{Env: map[string]string{"PGBACKREST_RESTORE": "true"}, Server: srv})
	require.NoError(t, err)
	assert.False(t, conf.WantsBootstrap, "restored before: no second restore")
	conf, err = p.Configure(context.Background(), sdk.ConfigureRequest{Env: map[string]string{"PGBACKREST_RESTORE": "true", "PGBACKREST_RESTORE_FORCE": "true"}, Server: srv})
	require.NoError(t, err)
	assert.False(t, conf.WantsBootstrap, "restored before: not even forced")
	srv.PGData = cluster(t, "")
	conf, err = p.Configure(context.Background(), sdk.ConfigureRequest{Env: map[string]string{"PGBACKREST_RESTORE": "true", "PGBACKREST_RESTORE_FORCE": "true"}, Server: srv})
	require.NoError(t, err)
	assert.True(t, conf.WantsBootstrap, "forced: replace the live cluster")
	// invalid variables: Configure refuses them too
	_, err = p.Configure(context.Background(), sdk.ConfigureRequest{Env: map[string]string{"PGBACKREST_REPO_TYPE": "ftp"}, Server: srv})
	assert.ErrorContains(t, err, "PGBACKREST_REPO_TYPE")
}

// TestConfigurePatroni: the sections the plugin contributes to patroni.yml
// (decoded and merged by plugins/patroni, contrib.go).
func TestConfigurePatroni(t *testing.T) {
	const passphrase = "NEVER-IN-PATRONI-YML"
	files := t.TempDir()
	conf := filepath.Join(files, ConfName)
	base := map[string]string{"PATRONI_ENABLE": "true", "PGBACKREST_STANZA": "st", "PGBACKREST_REPO_CIPHER_TYPE": "aes-256-cbc", "PGBACKREST_REPO_CIPHER_PASS": passphrase}
	with := func(kv ...string) map[string]string {
		env := map[string]string{}
		for k, v := range base {
			env[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			env[kv[i]] = kv[i+1]
		}
		return env
	}
	envi := "/usr/bin/env -i /usr/bin/pgbackrest --config=" + conf + " --stanza=st"
	replica := `{"command":"` + envi + ` --log-level-console=info --type=standby --delta restore","keep_data":true,"no_params":true}`
	recovery := `{"restore_command":"` + envi + ` archive-get %f \"%p\""}`
	tests := []struct {
		name      string
		env       map[string]string
		firstBoot bool
		want      map[string]string // section name → JSON
		wantsBoot bool
	}{
		{"replica method and recovery", with(), true, map[string]string{"replica_method.pgbackrest": replica, "recovery_conf": recovery}, false},
		{"no archiving: nothing for replicas", with("PGBACKREST_ARCHIVE_ENABLE", "false"), true, map[string]string{}, false},
		{"restore on a first boot", with("PGBACKREST_RESTORE", "true"), true, map[string]string{
			"replica_method.pgbackrest": replica, "recovery_conf": recovery,
			"bootstrap_method.pgbackrest": `{"command":"` + envi + ` --log-level-console=info restore","keep_existing_recovery_conf":false,"no_params":true,"recovery_conf":{"restore_command":"` + envi + ` archive-get %f \"%p\""}}`,
		}, true},
		{"point in time", with("PGBACKREST_RESTORE", "true", "PGBACKREST_RESTORE_TYPE", "time", "PGBACKREST_RESTORE_TARGET", "2026-12-03T18:00:00Z", "PGBACKREST_RESTORE_TARGET_TIMELINE", "current", "PGBACKREST_ARCHIVE_ENABLE", "false"), true, map[string]string{
			"bootstrap_method.pgbackrest": `{"command":"` + envi + ` --log-level-console=info --type=time '--target=2026-12-03 18:00:00.000000+00' restore","keep_existing_recovery_conf":false,"no_params":true,"recovery_conf":{"recovery_target_action":"promote","recovery_target_time":"2026-12-03 18:00:00.000000+00","recovery_target_timeline":"current","restore_command":"` + envi + ` archive-get %f \"%p\""}}`,
		}, true},
		{"restore: not on a later boot", with("PGBACKREST_RESTORE", "true", "PGBACKREST_ARCHIVE_ENABLE", "false"), false, map[string]string{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newTestPlugin()
			srv := sdk.Server{PGData: cluster(t, ""), Port: 5432, SocketDir: "/run/postgresql", Superuser: "postgres", FilesDir: files, FirstBoot: tt.firstBoot}
			if tt.firstBoot {
				srv.PGData = t.TempDir()
			}
			c, err := p.Configure(context.Background(), sdk.ConfigureRequest{Env: tt.env, Server: srv})
			require.NoError(t, err, "a live PGDATA is no conflict in Patroni mode")
			got := map[string]string{}
			for _, s := range c.Sections {
				assert.Equal(t, "patroni", s.Target)
				assert.NotContains(t, string(s.Content), passphrase)
				got[s.Name] = string(s.Content)
			}
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.wantsBoot, c.WantsBootstrap, "WantsBootstrap tells the host that the cluster this node may create is a restore")
		})
	}
	// Patroni-mode refusals hold in Configure too.
	_, err := newTestPlugin().Configure(context.Background(), sdk.ConfigureRequest{Env: with("PGBACKREST_RESTORE", "true", "PGBACKREST_RESTORE_FORCE", "true"),
		Server: sdk.Server{PGData: cluster(t, ""), Port: 5432, FilesDir: files}})
	assert.ErrorContains(t, err, "PGBACKREST_RESTORE_FORCE")
}
