package pgbackrest

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/pgdock/pgdock/plugins/sdk"
)

// Names of the files the plugin asks the host to write into its files
// directory (sdk.Server.FilesDir), and of pgBackRest's lock directory there.
const (
	ConfName = "pgbackrest.conf"
	ConfMode = 0o640
	lockDir  = "lock"
)

// DefaultBinary is where Debian's pgbackrest package installs the program.
const DefaultBinary = "/usr/bin/pgbackrest"

// envBinary runs pgBackRest with an empty environment (see ProcessEnv).
const envBinary = "/usr/bin/env"

// ProcessEnv is the complete environment of every pgbackrest process the
// plugin starts (jobs, stanza-create, restore, info): pgBackRest parses
// PGBACKREST_* variables as its own options and would take the container's
// (pgdock's variables, secrets included) for its own, so none is passed;
// everything it needs is in the rendered file or on the command line.
func ProcessEnv() map[string]string {
	return map[string]string{"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C.UTF-8"}
}

// Env is ProcessEnv plus the variables pgBackRest reads from the
// environment by design (AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE for
// PGBACKREST_REPO_S3_KEY_TYPE=web-id).
func (c Config) Env() map[string]string {
	env := ProcessEnv()
	for k, v := range c.WebIdentity {
		env[k] = v
	}
	return env
}

// Paths are where the rendered configuration and the program are.
type Paths struct {
	Binary string // pgbackrest
	Conf   string // absolute path of the rendered pgbackrest.conf
}

// PathsFor returns the paths for a files directory.
func PathsFor(filesDir, binary string) Paths {
	if binary == "" {
		binary = DefaultBinary
	}
	return Paths{Binary: binary, Conf: filepath.Join(filesDir, ConfName)}
}

// Render returns pgbackrest.conf for the server srv.
func Render(c Config, srv sdk.Server) ([]byte, error) {
	if srv.FilesDir == "" {
		return nil, errors.New("the host gave no files directory for pgbackrest.conf")
	}
	var f INI
	g := func(k, v string) { f.Set("global", k, v) }
	g("repo1-type", c.RepoType)
	g("repo1-path", c.RepoPath)
	g("repo1-retention-full", strconv.Itoa(c.RetentionFull))
	g("repo1-retention-diff", strconv.Itoa(c.RetentionDiff))
	if c.CipherType != "" {
		g("repo1-cipher-type", c.CipherType)
		g("repo1-cipher-pass", c.CipherPass)
	}
	for _, kv := range c.RepoOptions {
		g(kv[0], kv[1])
	}
	if c.ProcessMax > 0 {
		g("process-max", strconv.Itoa(c.ProcessMax))
	}
	if c.CompressType != "" {
		g("compress-type", c.CompressType)
	}
	if c.CompressLevel >= 0 {
		g("compress-level", strconv.Itoa(c.CompressLevel))
	}
	g("start-fast", yn(c.StartFast))
	g("lock-path", filepath.Join(srv.FilesDir, lockDir))
	// Output goes to the container log (through PostgreSQL for
	// archive-push, through the host's job log for backups), never to
	// files in the image.
	g("log-level-console", "warn")
	g("log-level-stderr", "off")
	g("log-level-file", "off")
	s := func(k, v string) { f.Set(c.Stanza, k, v) }
	s("pg1-path", srv.PGData)
	s("pg1-port", strconv.Itoa(srv.Port))
	if srv.SocketDir != "" {
		s("pg1-socket-path", srv.SocketDir)
	}
	if srv.Superuser != "" {
		s("pg1-user", srv.Superuser)
	}
	return f.Encode()
}

func yn(b bool) string {
	if b {
		return "y"
	}
	return "n"
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9/._=:,+@%-]+$`)

// shellQuote quotes s for /bin/sh (PostgreSQL runs archive_command with it).
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// base is the start of every command line: the program, the rendered
// configuration and the stanza.
func (p Paths) base(c Config) []string {
	return []string{p.Binary, "--config=" + p.Conf, "--stanza=" + c.Stanza}
}

// ArchiveCommand is PostgreSQL's archive_command: archive-push through
// env -i, so that none of the server's environment (which holds pgdock's
// PGBACKREST_* variables) reaches pgBackRest's option parser.
func (p Paths) ArchiveCommand(c Config) string {
	return p.walCommand(c, "archive-push", `"%p"`)
}

// RestoreCommand is the restore_command a restore writes (archive-get,
// built the same way).
func (p Paths) RestoreCommand(c Config) (string, error) {
	cmd := p.walCommand(c, "archive-get", `%f "%p"`)
	if strings.Contains(cmd, "'") {
		// pgBackRest writes the recovery option into postgresql.auto.conf
		// between single quotes without escaping them.
		return "", fmt.Errorf("the pgbackrest configuration path %q or the stanza needs shell quoting, which restore_command cannot carry; use a PGDOCK_STATE_DIR of letters, digits, '/', '.', '_' and '-'", p.Conf)
	}
	return cmd, nil
}

func (p Paths) walCommand(c Config, command, args string) string {
	return shellJoin(p.envArgv(c, p.base(c))) + " " + command + " " + args
}

// envArgv prefixes argv with env -i (and the variables pgBackRest reads
// from its environment by design), for command lines another program runs
// with its own environment: PostgreSQL (archive_command, restore_command)
// and Patroni (replica and bootstrap methods).
func (p Paths) envArgv(c Config, argv []string) []string {
	out := []string{envBinary, "-i"}
	for _, k := range []string{envAWSRoleARN, envAWSTokenFile} {
		if v, ok := c.WebIdentity[k]; ok {
			out = append(out, k+"="+v)
		}
	}
	return append(out, argv...)
}

// shellJoin quotes each word for /bin/sh (PostgreSQL runs archive_command
// with it; Patroni splits its method commands with Python's shlex, which
// follows the same quoting).
func shellJoin(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}

// Settings are the PostgreSQL settings archiving needs; none when
// PGBACKREST_ARCHIVE_ENABLE=false. wal_level=replica is what archiving
// needs; a user's logical (POSTGRESQL_CONFIG_WAL_LEVEL) wins over it.
func (p Paths) Settings(c Config) []sdk.Setting {
	if !c.ArchiveEnable {
		return nil
	}
	return []sdk.Setting{
		{Name: "archive_mode", Value: "on"},
		{Name: "archive_command", Value: p.ArchiveCommand(c)},
		{Name: "archive_timeout", Value: c.ArchiveTimeout},
		{Name: "wal_level", Value: "replica"},
	}
}

// BackupArgv is one backup of type t (full, diff or incr).
func (p Paths) BackupArgv(c Config, t string) []string {
	return append(p.base(c), "--log-level-console=info", "--type="+t, "backup")
}

// Jobs are the backup jobs, one per type: scheduled when its
// PGBACKREST_SCHEDULE_* is set, on demand only (`pgdock-entrypoint
// backup --type <t>`) otherwise. Backups run on the primary only.
func (p Paths) Jobs(c Config) []sdk.Job {
	var out []sdk.Job
	for _, t := range BackupTypes {
		out = append(out, sdk.Job{
			Name: t, Argv: p.BackupArgv(c, t), Env: c.Env(),
			Schedule: c.Schedules[t], PrimaryOnly: true, TimeoutSeconds: c.BackupTimeout,
		})
	}
	return out
}

// StanzaArgv is stanza-create or stanza-upgrade.
func (p Paths) StanzaArgv(c Config, command string) []string {
	return append(p.base(c), "--log-level-console=info", command)
}

// InfoArgv is `pgbackrest info` as JSON or text.
func (p Paths) InfoArgv(c Config, json bool) []string {
	a := p.base(c)
	if json {
		a = append(a, "--output=json")
	}
	return append(a, "info")
}

// RestoreArgv restores into dataDir (the host's staging directory): the
// latest backup, or to the point PGBACKREST_RESTORE_* describe.
func (p Paths) RestoreArgv(c Config, dataDir string) ([]string, error) {
	rc, err := p.RestoreCommand(c)
	if err != nil {
		return nil, err
	}
	a := append(p.base(c), "--log-level-console=info", "--pg1-path="+dataDir)
	a = append(a, c.restoreSelection()...)
	if action := c.restoreAction(); action != "" {
		a = append(a, "--target-action="+action)
	}
	if c.RestoreTimeline != "" {
		a = append(a, "--target-timeline="+c.RestoreTimeline)
	}
	return append(a, "--recovery-option=restore_command="+rc, "restore"), nil
}

// restoreSelection are the options that choose what a restore restores:
// the backup set, the recovery type and its target (both restores, direct
// and Patroni's bootstrap method, pass them).
func (c Config) restoreSelection() []string {
	var a []string
	if c.RestoreSet != "" {
		a = append(a, "--set="+c.RestoreSet)
	}
	if c.RestoreType != "" {
		a = append(a, "--type="+c.RestoreType)
	}
	if c.RestoreTarget != "" {
		a = append(a, "--target="+c.restoreTarget())
	}
	return a
}

// restoreTarget is the target as pgBackRest takes it: a time in its own
// format ("YYYY-MM-DD HH:MM:SS[.frac]+zz"; it selects the backup set by
// it), anything else as given.
func (c Config) restoreTarget() string {
	if c.RestoreType != "time" {
		return c.RestoreTarget
	}
	t, err := parseTargetTime(c.RestoreTarget)
	if err != nil {
		return c.RestoreTarget
	}
	return t.UTC().Format("2006-01-02 15:04:05.000000") + "+00"
}

// restoreAction is PGBACKREST_RESTORE_TARGET_ACTION, or promote for a
// point-in-time restore (a container's restore is meant to come up
// writable; pause must be asked for).
func (c Config) restoreAction() string {
	if c.RestoreAction != "" {
		return c.RestoreAction
	}
	if c.RestoreType == "immediate" || c.RestoreTarget != "" {
		return "promote"
	}
	return ""
}

// RestoreMarker describes a restore in the host's bootstrap marker.
func (c Config) RestoreMarker() string {
	m := "pgbackrest restore stanza=" + c.Stanza
	if c.RestoreSet != "" {
		m += " set=" + c.RestoreSet
	}
	if c.RestoreType != "" {
		m += " type=" + c.RestoreType
	}
	if c.RestoreTarget != "" {
		m += " target=" + c.RestoreTarget
	}
	if a := c.restoreAction(); a != "" {
		m += " target-action=" + a
	}
	return m
}

// ReplicaCommand is Patroni's pgbackrest replica-creation method: a delta
// restore of the newest backup into PGDATA (pg1-path of the rendered file)
// as a standby, through env -i like every pgbackrest process. Patroni then
// starts it as a replica of the leader (primary_conninfo, and
// restore_command from postgresql.recovery_conf).
func (p Paths) ReplicaCommand(c Config) string {
	return shellJoin(p.envArgv(c, append(p.base(c), "--log-level-console=info", "--type=standby", "--delta", "restore")))
}

// PatroniRestoreCommand is the restore Patroni runs as its bootstrap
// method into PGDATA (empty: Patroni bootstraps only an empty data
// directory). The backup set is chosen as in direct mode (--set, or by
// the target time); the recovery settings are Patroni's
// (PatroniRecoveryConf), so none is passed to pgBackRest.
func (p Paths) PatroniRestoreCommand(c Config) string {
	a := append(p.base(c), "--log-level-console=info")
	a = append(a, c.restoreSelection()...)
	return shellJoin(p.envArgv(c, append(a, "restore")))
}

// PatroniRecoveryConf is the recovery Patroni writes after the bootstrap
// restore: restore_command (archive-get) and the point-in-time target.
// Patroni waits for the end of recovery (promote) before it completes the
// bootstrap.
func (p Paths) PatroniRecoveryConf(c Config) (map[string]string, error) {
	rc, err := p.RestoreCommand(c)
	if err != nil {
		return nil, err
	}
	r := map[string]string{"restore_command": rc}
	switch c.RestoreType {
	case "immediate":
		r["recovery_target"] = "immediate"
	case "time":
		r["recovery_target_time"] = c.restoreTarget()
	case "xid", "lsn", "name":
		r["recovery_target_"+c.RestoreType] = c.RestoreTarget
	}
	if a := c.restoreAction(); a != "" {
		r["recovery_target_action"] = a
	}
	if c.RestoreTimeline != "" {
		r["recovery_target_timeline"] = c.RestoreTimeline
	}
	return r, nil
}
