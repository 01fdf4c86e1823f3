package pluginhost

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/entrypoint/internal/config"
	"github.com/pgdock/pgdock/plugins/sdk"
)

func TestEnabled(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"pgdock-plugin-my-thing", "pgdock-plugin-Bad_Name", "README", ChecksumFile} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), nil, 0o755))
	}
	require.NoError(t, os.Mkdir(filepath.Join(dir, "pgdock-plugin-dir"), 0o755))
	tests := []struct {
		name    string
		dir     string
		env     map[string]string
		want    []string
		wantErr []string
	}{
		{name: "nothing", dir: dir, env: map[string]string{}},
		{name: "booleans in any case", dir: dir, env: map[string]string{
			"PATRONI_ENABLE": "TRUE", "CITUS_ENABLE": "yes", "PG_STAT_MONITOR_ENABLE": "On", "PGBACKREST_ENABLE": "1", "EXAMPLE_ENABLE": "off",
		}, want: []string{"citus", "patroni", "pg-stat-monitor", "pgbackrest"}},
		{name: "plugin found in the directory", dir: dir, env: map[string]string{"MY_THING_ENABLE": "true"}, want: []string{"my-thing"}},
		{name: "known plugin without binary still counts", dir: filepath.Join(dir, "missing"), env: map[string]string{"CITUS_ENABLE": "true"}, want: []string{"citus"}},
		{name: "not plugin switches", dir: dir, env: map[string]string{"PGBACKREST_ARCHIVE_ENABLE": "true", "DIR_ENABLE": "true", "BAD_NAME_ENABLE": "true"}},
		{name: "empty is unset", dir: dir, env: map[string]string{"CITUS_ENABLE": " "}},
		{name: "every bad value reported", dir: dir, env: map[string]string{"CITUS_ENABLE": "maybe", "PATRONI_ENABLE": "2", "PGBACKREST_ENABLE": "true"},
			want: []string{"pgbackrest"}, wantErr: []string{`CITUS_ENABLE="maybe"`, `PATRONI_ENABLE="2"`, "must be a boolean"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Enabled(tt.dir, tt.env)
			assert.Equal(t, tt.want, got)
			if len(tt.wantErr) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, s := range tt.wantErr {
				assert.Contains(t, err.Error(), s)
			}
		})
	}
}

// One boolean rule: the plugin switches use the SDK's (the contract), and
// the entrypoint's own variables (config.ParseBool) must agree with it.
func TestOneBooleanRule(t *testing.T) {
	for _, v := range []string{"true", "TRUE", " on ", "Yes", "1", "false", "Off", "NO", "0", "t", "F", "", "2", "enabled", "y"} {
		want, wantErr := sdk.ParseBool(v)
		got, err := config.ParseBool(v)
		assert.Equal(t, want, got, "%q", v)
		assert.Equal(t, wantErr != nil, err != nil, "%q", v)
		names, err := Enabled(t.TempDir(), map[string]string{"CITUS_ENABLE": v})
		if strings.TrimSpace(v) == "" {
			assert.NoError(t, err, "empty is unset")
			continue
		}
		assert.Equal(t, wantErr != nil, err != nil, "CITUS_ENABLE=%q", v)
		assert.Equal(t, want && wantErr == nil, len(names) == 1, "CITUS_ENABLE=%q", v)
	}
}

func TestEnabledUnreadableDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	_, err := Enabled(file, nil)
	require.ErrorContains(t, err, "PGDOCK_PLUGIN_DIR")
}

func TestCrashPolicy(t *testing.T) {
	tests := []struct {
		name         string
		env          map[string]string
		def          CrashPolicy
		want         CrashPolicy
		wantProblems []string
	}{
		{name: "default is fail", want: CrashFail},
		{name: "option", def: CrashContinue, want: CrashContinue},
		{name: "global env beats option", env: map[string]string{EnvCrashPolicy: "FAIL"}, def: CrashContinue, want: CrashFail},
		{name: "plugin env beats global", env: map[string]string{EnvCrashPolicy: "fail", "PG_STAT_MONITOR_CRASH_POLICY": "continue"}, want: CrashContinue},
		{name: "bad plugin value is a problem and overrides nothing", env: map[string]string{EnvCrashPolicy: "continue", "PG_STAT_MONITOR_CRASH_POLICY": "restart"},
			want: CrashContinue, wantProblems: []string{"PG_STAT_MONITOR_CRASH_POLICY"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problems := crashPolicyFor("pg-stat-monitor", tt.env, tt.def)
			assert.Equal(t, tt.want, got)
			var vars []string
			for _, p := range problems {
				vars = append(vars, p.Var)
			}
			assert.Equal(t, tt.wantProblems, vars)
		})
	}
	_, err := ParseCrashPolicy("sometimes")
	require.ErrorContains(t, err, "fail, continue")
}

func desc(name string, mutate func(*sdk.Description)) described {
	d := sdk.Description{Name: name}
	mutate(&d)
	return described{name: name, desc: d}
}

func TestMergePreload(t *testing.T) {
	tests := []struct {
		name         string
		in           []described
		want         []string
		wantProblems []string
	}{
		{
			name: "citus first, then by order, plugin name, declaration",
			in: []described{
				desc("pg-stat-monitor", func(d *sdk.Description) { d.PreloadLibraries = []sdk.PreloadLibrary{{Name: "pg_stat_monitor"}} }),
				desc("citus", func(d *sdk.Description) {
					d.PreloadLibraries = []sdk.PreloadLibrary{{Name: "citus", Order: sdk.PreloadFirst}}
				}),
				desc("a", func(d *sdk.Description) {
					d.PreloadLibraries = []sdk.PreloadLibrary{{Name: "a2", Order: 5}, {Name: "a1"}, {Name: "a0"}}
				}),
			},
			want: []string{"citus", "a1", "a0", "pg_stat_monitor", "a2"},
		},
		{
			name: "same library, same order: once",
			in: []described{
				desc("a", func(d *sdk.Description) { d.PreloadLibraries = []sdk.PreloadLibrary{{Name: "shared", Order: 1}} }),
				desc("b", func(d *sdk.Description) { d.PreloadLibraries = []sdk.PreloadLibrary{{Name: "shared", Order: 1}} }),
			},
			want: []string{"shared"},
		},
		{
			name: "same library, different orders",
			in: []described{
				desc("a", func(d *sdk.Description) { d.PreloadLibraries = []sdk.PreloadLibrary{{Name: "shared", Order: 1}} }),
				desc("b", func(d *sdk.Description) { d.PreloadLibraries = []sdk.PreloadLibrary{{Name: "shared", Order: 2}} }),
			},
			want:         []string{"shared"},
			wantProblems: []string{"a,b: preload library shared declared with different orders: 1 by a, 2 by b"},
		},
		{
			name: "two must load first",
			in: []described{
				desc("citus", func(d *sdk.Description) {
					d.PreloadLibraries = []sdk.PreloadLibrary{{Name: "citus", Order: sdk.PreloadFirst}}
				}),
				desc("other", func(d *sdk.Description) {
					d.PreloadLibraries = []sdk.PreloadLibrary{{Name: "other", Order: sdk.PreloadFirst - 1}}
				}),
			},
			want:         []string{"other", "citus"},
			wantProblems: []string{"other,citus: more than one preload library must load first: other (other), citus (citus)"},
		},
		{
			name: "bad names",
			in: []described{
				desc("a", func(d *sdk.Description) {
					d.PreloadLibraries = []sdk.PreloadLibrary{{Name: ""}, {Name: "x,y"}, {Name: "ok"}}
				}),
			},
			want:         []string{"ok"},
			wantProblems: []string{`a: preload library name "" is empty`, `a: preload library name "x,y" is empty`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problems := mergePreload(tt.in)
			assert.Equal(t, tt.want, got)
			assertProblems(t, tt.wantProblems, problems)
		})
	}
}

// assertProblems matches "<plugin>: <message prefix>" per problem.
func assertProblems(t *testing.T, want []string, got []Problem) {
	t.Helper()
	require.Len(t, got, len(want), "%v", got)
	for i, w := range want {
		plugin, msg, _ := strings.Cut(w, ": ")
		assert.Equal(t, plugin, got[i].Plugin)
		assert.True(t, strings.HasPrefix(got[i].Message, msg), "problem %d: %q does not start with %q", i, got[i].Message, msg)
	}
}

func TestMergeSettings(t *testing.T) {
	tests := []struct {
		name         string
		in           []Setting
		want         []Setting
		wantProblems []string
	}{
		{
			name: "duplicates with the same value merge, names lower-cased",
			in:   []Setting{{Name: "Citus.Node", Value: "1", Plugin: "a"}, {Name: "citus.node", Value: "1", Plugin: "b"}, {Name: "work_mem", Value: "4MB", Plugin: "b"}},
			want: []Setting{{Name: "citus.node", Value: "1", Plugin: "a"}, {Name: "work_mem", Value: "4MB", Plugin: "b"}},
		},
		{
			name:         "conflict",
			in:           []Setting{{Name: "wal_level", Value: "logical", Plugin: "a"}, {Name: "wal_level", Value: "replica", Plugin: "b"}},
			want:         []Setting{{Name: "wal_level", Value: "logical", Plugin: "a"}},
			wantProblems: []string{`a,b: conflicting values for setting wal_level: a wants "logical", b wants "replica"`},
		},
		{
			name: "invalid entries",
			in: []Setting{
				{Name: "bad name", Plugin: "a"},
				{Name: "a.b.c", Plugin: "a"},
				{Name: "shared_preload_libraries", Value: "x", Plugin: "a"},
				{Name: "x", Value: "two\nlines", Plugin: "a"},
			},
			wantProblems: []string{`a: setting name "bad name"`, `a: setting name "a.b.c"`, "a: sets shared_preload_libraries directly", "a: value of setting x"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problems := mergeSettings(tt.in)
			assert.Equal(t, tt.want, got)
			assertProblems(t, tt.wantProblems, problems)
		})
	}
}

func TestCrossProblems(t *testing.T) {
	in := []described{
		desc("patroni", func(d *sdk.Description) {
			d.ProvidesMode = "patroni"
			d.Settings = []sdk.Setting{{Name: "wal_level", Value: "replica"}}
		}),
		desc("other", func(d *sdk.Description) {
			d.ProvidesMode = "other"
			d.Settings = []sdk.Setting{{Name: "wal_level", Value: "logical"}}
		}),
	}
	assertProblems(t, []string{
		"patroni,other: conflicting values for setting wal_level",
		`patroni,other: more than one enabled plugin provides the run mode: patroni (mode "patroni"), other (mode "other")`,
	}, crossProblems(in))
	assert.Empty(t, crossProblems(in[:1]))
}

func TestCheckFile(t *testing.T) {
	tests := []struct {
		path    string
		mode    os.FileMode
		want    string
		wantErr string
	}{
		{path: "a.conf", mode: 0o600, want: "a.conf"},
		{path: "./sub//b.conf", mode: 0o750, want: "sub/b.conf"},
		{path: "", wantErr: "must be relative"},
		{path: "/etc/passwd", wantErr: "must be relative"},
		{path: "../x", wantErr: "leaves"},
		{path: "a/../../x", wantErr: "leaves"},
		{path: ".", wantErr: "leaves"},
		{path: "w.conf", mode: 0o644, wantErr: "gives access to others"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, err := checkFile(sdk.File{Path: tt.path, Mode: tt.mode})
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestPluginHBARules: plugin rules go through the PG_HBA_ADD_<n> validator
// and come back canonical.
func TestPluginHBARules(t *testing.T) {
	tests := []struct{ rule, want, wantErr string }{
		{" ", "", "invalid pg_hba rule"},
		{"local all all trust\nhost all all all trust", "", "invalid pg_hba rule"},
		{"local all all trust", "local all all trust", ""},
		{"host   all  all 10.0.0.0/8   scram-sha-256", "host all all 10.0.0.0/8 scram-sha-256", ""},
		{"host all all 10.0.0.0/8 nosuchmethod", "", "invalid pg_hba rule"},
		{"hots all all all trust", "", "invalid connection type"},
		{"host all all", "", "invalid pg_hba rule"},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			got, err := checkHBARule(tt.rule)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestDependencyOrder(t *testing.T) {
	d := func(name string, after ...string) described {
		return described{name: name, desc: sdk.Description{Name: name, After: after}}
	}
	names := func(ds []described, order []int) []string {
		var out []string
		for _, i := range order {
			out = append(out, ds[i].name)
		}
		return out
	}
	tests := []struct {
		name    string
		ds      []described
		want    []string
		problem string
	}{
		{"by name without after", []described{d("b"), d("a"), d("c")}, []string{"a", "b", "c"}, ""},
		{"after moves a plugin later", []described{d("citus", "patroni"), d("patroni"), d("aaa")}, []string{"aaa", "patroni", "citus"}, ""},
		{"chain", []described{d("a", "b"), d("b", "c"), d("c")}, []string{"c", "b", "a"}, ""},
		{"unknown and self ignored", []described{d("a", "nothere", "a"), d("b")}, []string{"a", "b"}, ""},
		{"cycle", []described{d("a", "b"), d("b", "a"), d("c")}, []string{"c", "a", "b"}, "cycle among a, b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			order, problems := dependencyOrder(tt.ds)
			assert.Equal(t, tt.want, names(tt.ds, order))
			if tt.problem == "" {
				assert.Empty(t, problems)
				return
			}
			require.Len(t, problems, 1)
			assert.Contains(t, problems[0].Message, tt.problem)
		})
	}
}

func TestCheckSectionAndJob(t *testing.T) {
	require.NoError(t, checkSection(sdk.Section{Target: "patroni", Name: "citus", Content: []byte(`{"group":0}`)}))
	require.ErrorContains(t, checkSection(sdk.Section{Target: "patroni", Name: "citus", Content: []byte(`[1]`)}), "JSON object")
	require.ErrorContains(t, checkSection(sdk.Section{Target: "patroni", Name: "citus", Content: []byte(`null`)}), "JSON object")
	require.ErrorContains(t, checkSection(sdk.Section{Name: "citus", Content: []byte(`{}`)}), "target")
	ok := sdk.Job{Name: "full", Argv: []string{"true"}, Schedule: "@daily"}
	require.NoError(t, checkJob(ok, nil, "p"))
	require.ErrorContains(t, checkJob(ok, []Job{{Plugin: "p", Job: ok}}, "p"), "declared twice")
	require.NoError(t, checkJob(ok, []Job{{Plugin: "q", Job: ok}}, "p"))
	require.ErrorContains(t, checkJob(sdk.Job{Name: "x", Schedule: "@daily"}, nil, "p"), "no command")
	require.ErrorContains(t, checkJob(sdk.Job{Name: "x y", Argv: []string{"true"}, Schedule: "@daily"}, nil, "p"), "name")
	require.NoError(t, checkJob(sdk.Job{Name: "x", Argv: []string{"true"}}, nil, "p")) // no schedule: on demand only
}

func TestReadChecksums(t *testing.T) {
	dir := t.TempDir()
	sum := strings.Repeat("0f", 32)
	content := "# built by docker/plugins.Dockerfile\n\n" + sum + "  pgdock-plugin-a\n" + sum + " *./pgdock-plugin-b\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, ChecksumFile), []byte(content), 0o644))
	d, err := openPluginDir(dir, nil)
	require.NoError(t, err)
	defer d.Close()
	sums, err := d.readChecksums()
	require.NoError(t, err)
	assert.Len(t, sums, 2)
	assert.Contains(t, sums, "pgdock-plugin-a")
	assert.Contains(t, sums, "pgdock-plugin-b")

	require.NoError(t, os.WriteFile(filepath.Join(dir, ChecksumFile), []byte(sum[:10]+"  x\n"), 0o644))
	_, err = d.readChecksums()
	require.ErrorContains(t, err, "line 1")

	require.NoError(t, os.WriteFile(filepath.Join(dir, ChecksumFile), []byte(strings.Repeat("#\n", maxChecksumList)), 0o644))
	_, err = d.readChecksums()
	require.ErrorContains(t, err, "larger than")
}

func TestStartEnv(t *testing.T) {
	env := map[string]string{
		"PATH": "/p", "HOME": "/home/pg", "TZ": "UTC",
		"EXAMPLE_GREETING": "hi", "EXAMPLE_TOKEN": "t", "EXAMPLE_DB_PASSWORD": "pw", "EXAMPLE_S3_KEY_SECRET": "s",
		"POSTGRES_PASSWORD": "pw", "OTHER": "x",
	}
	assert.Equal(t, []string{
		"PATH=/p", sdk.EnvPluginName + "=example", sdk.EnvLogLevel + "=info",
		"HOME=/home/pg", "TZ=UTC", "EXAMPLE_GREETING=hi",
	}, startEnv("example", "info", env))
	assert.Equal(t, "PATH="+DefaultPath, startEnv("x", "info", nil)[0])
}

func TestLooksSecret(t *testing.T) {
	for name, want := range map[string]bool{
		"PGBACKREST_REPO_CIPHER_PASS":   true,
		"PGBACKREST_REPO_S3_KEY_SECRET": true,
		"PATRONI_REST_PASSWORD":         true,
		"EXAMPLE_TOKEN":                 true,
		"PGBACKREST_REPO_PATH":          false,
		"EXAMPLE_PASSTHROUGH":           false,
		"CITUS_KEYSPACE":                false,
	} {
		assert.Equal(t, want, looksSecret(name), name)
	}
}

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]syscall.Signal{
		"": syscall.SIGTERM, "SIGTERM": syscall.SIGTERM, "int": syscall.SIGINT, "SigQuit": syscall.SIGQUIT,
		"HUP": syscall.SIGHUP, "USR1": syscall.SIGUSR1, "SIGUSR2": syscall.SIGUSR2, "KILL": syscall.SIGKILL,
	} {
		got, err := parseSignal(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	_, err := parseSignal("SIGWINCH")
	require.ErrorContains(t, err, "SIGWINCH")
}

func TestRequirementProblems(t *testing.T) {
	bin := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(bin, "present"), nil, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(bin, "notexec"), nil, 0o644))
	ext := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(ext, "citus.control"), nil, 0o644))
	d := sdk.Description{
		RequiredBinaries: []sdk.Requirement{
			{Name: "present"}, {Name: filepath.Join(bin, "present")}, {Name: "notexec"}, {Name: "patroni"}, {Name: "custom", Package: "custom-pkg"},
		},
		RequiredExtensions: []sdk.Requirement{{Name: "citus"}, {Name: "pg_stat_monitor", Package: "percona-pg-stat-monitor15"}},
	}
	problems := requirementProblems("x", d, bin, ext, "")
	assertProblems(t, []string{
		`x: requires the program "notexec", which is not in PATH`,
		`x: requires the program "patroni", which is not in PATH`,
		`x: requires the program "custom", which is not in PATH`,
		`x: requires the PostgreSQL extension "pg_stat_monitor"`,
	}, problems)
	assert.NotContains(t, problems[0].Message, "Debian package")
	assert.Contains(t, problems[1].Message, `install the Debian package "patroni"`)
	assert.Contains(t, problems[2].Message, `"custom-pkg"`)
	assert.Contains(t, problems[3].Message, `"percona-pg-stat-monitor15"`)
	assert.Equal(t, "X_ENABLE", problems[0].Var)
	assert.Len(t, requirementProblems("x", d, bin, "", ""), 3, "no extension dir: extensions not checked")
}

// A required extension the plugin preloads needs its library too, the
// package's <major> is PostgreSQL's, and every such problem is Missing
// (config render shows it as a warning).
func TestRequirementLibraryAndMajor(t *testing.T) {
	root := t.TempDir()
	ext := filepath.Join(root, "share", "15", "extension")
	lib := filepath.Join(root, "lib", "15", "lib")
	require.NoError(t, os.MkdirAll(ext, 0o755))
	require.NoError(t, os.MkdirAll(lib, 0o755))
	for _, f := range []string{filepath.Join(ext, "citus.control"), filepath.Join(ext, "pgsm.control"), filepath.Join(lib, "pgsm.so"), filepath.Join(ext, "plain.control")} {
		require.NoError(t, os.WriteFile(f, nil, 0o644))
	}
	d := sdk.Description{
		PreloadLibraries:   []sdk.PreloadLibrary{{Name: "citus", Order: sdk.PreloadFirst}, {Name: "pgsm"}},
		RequiredExtensions: []sdk.Requirement{{Name: "citus", Package: "postgresql-<major>-citus-12.1"}, {Name: "pgsm"}, {Name: "plain"}, {Name: "absent", Package: "postgresql-<major>-absent"}},
	}
	problems := requirementProblems("x", d, "", ext, lib)
	assertProblems(t, []string{
		`x: requires the PostgreSQL extension "citus" (` + filepath.Join(lib, "citus.so") + ` not found); install the package "postgresql-15-citus-12.1" in the image`,
		`x: requires the PostgreSQL extension "absent" (` + filepath.Join(ext, "absent.control") + ` not found); install the package "postgresql-15-absent" in the image`,
	}, problems)
	for _, p := range problems {
		assert.True(t, p.Missing)
	}
	assert.Len(t, requirementProblems("x", d, "", ext, ""), 1, "no lib dir: libraries not checked")
}

func TestReadable(t *testing.T) {
	assert.Equal(t, "plain line", readable("plain line"))
	assert.Equal(t, "{not json", readable("{not json"))
	assert.Equal(t, "[ERROR] boom after=1s code=3",
		readable(`{"@level":"error","@message":"boom","@module":"x","@timestamp":"t","after":"1s","code":3}`))
}

func TestTailKeepsTheLastLines(t *testing.T) {
	tl := newTail(3)
	for _, l := range []string{"1", "2", "3", "4", strings.Repeat("x", tailLineMax+10)} {
		tl.add(l)
	}
	got := tl.snapshot()
	assert.Equal(t, []string{"3", "4"}, got[:2])
	assert.Len(t, got[2], tailLineMax+len("…"))
}

func TestLineWriter(t *testing.T) {
	var lines []string
	w := &lineWriter{emit: func(l string) { lines = append(lines, l) }}
	for _, chunk := range []string{"a", "b\nc\r\n", "\n", "d"} {
		_, err := w.Write([]byte(chunk))
		require.NoError(t, err)
	}
	assert.Equal(t, []string{"ab", "c"}, lines)
}

func TestSocketDirTooLong(t *testing.T) {
	_, err := Start(t.Context(), Options{
		Dir:       t.TempDir(),
		Env:       map[string]string{"CITUS_ENABLE": "false", "MY_ENABLE": "true"},
		SocketDir: "/" + strings.Repeat("s", MaxSocketDirLen),
	})
	require.NoError(t, err, "nothing enabled: the socket dir does not matter")

	f := newFixture(t, nil)
	f.opts.SocketDir = "/" + strings.Repeat("s", MaxSocketDirLen)
	_, err = Start(t.Context(), f.opts)
	require.ErrorContains(t, err, "too long for unix socket paths")
}
