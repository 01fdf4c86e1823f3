package cluster

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/pgdock/pgdock/entrypoint/internal/fsutil"
	"github.com/pgdock/pgdock/entrypoint/internal/initscripts"
	"github.com/pgdock/pgdock/entrypoint/internal/pgbin"
	"github.com/pgdock/pgdock/entrypoint/internal/pgconf"
	"github.com/pgdock/pgdock/entrypoint/internal/postmaster"
	"github.com/pgdock/pgdock/entrypoint/internal/privilege"
	"github.com/pgdock/pgdock/entrypoint/internal/reaper"
)

// Conn tells bootstrap hooks how to reach the temporary server.
type Conn struct {
	SocketDir string
	Port      int
	User      string
	DB        string
}

// Options configure one first boot.
type Options struct {
	Bin            pgbin.Bin
	PGData         string
	Waldir         string
	User           string // POSTGRES_USER (a role name)
	Password       string
	DB             string
	InitdbArgs     []string
	HostAuthMethod string
	ExternalAccess bool
	Port           int
	ServerArgs     []string // the user's postgres arguments; the temporary server gets them too
	InitDir        string   // /docker-entrypoint-initdb.d
	WorkDir        string   // private (0700) directory: password file, temporary socket and hba
	Env            []string // base environment of init scripts (secrets included, as the official image promises)
	// ServerEnv is the base environment of initdb, the temporary server and
	// pgdock's own psql: Env without secrets (nil: Env).
	ServerEnv []string
	// Reaper starts every process (required).
	Reaper         *reaper.Reaper
	Log            *zap.Logger
	Stdout, Stderr io.Writer
	// Configure writes the managed configuration; it runs after initdb and
	// before the temporary server, so init scripts see the final settings.
	Configure func() error
	// OnTempServer runs plugin bootstrap hooks while the temporary server is up.
	OnTempServer func(ctx context.Context, c Conn) error
	// Provide, when set, replaces initdb (a bootstrap provider, e.g. a
	// restore): it must create a complete cluster in dir, the staging
	// directory inside PGDATA that is moved up afterwards. initdb's auth
	// files are not touched and init scripts are not run for such a
	// cluster; POSTGRES_DB is created when it does not exist.
	Provide func(ctx context.Context, dir string) error
	// ProvidedByMode (PostBootstrap only): the mode provider created the
	// cluster with a bootstrap provider's method instead of initdb.
	ProvidedByMode bool
	// StopBudget (TIMEOUT) bounds a stop: from the stop request, the running
	// step (initdb, an init script) gets half of it before SIGKILL, the
	// temporary server the rest.
	StopBudget time.Duration
}

// serverEnv is the environment of PostgreSQL's own programs.
func (o Options) serverEnv() []string {
	if o.ServerEnv != nil {
		return o.ServerEnv
	}
	return o.Env
}

// IsInitialised is the official test: PG_VERSION exists and is not empty.
func IsInitialised(pgdata string) (bool, error) {
	fi, err := os.Stat(filepath.Join(pgdata, "PG_VERSION"))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check %s: %w", filepath.Join(pgdata, "PG_VERSION"), err)
	}
	return fi.Size() > 0, nil
}

// ErrMissingPassword is returned for a first boot without a password.
var ErrMissingPassword = errors.New("database is uninitialized and superuser password is not specified")

// CheckFirstBootEnv is the official docker_verify_minimum_env.
func CheckFirstBootEnv(password, method string) error {
	if password == "" && method != "trust" {
		return ErrMissingPassword
	}
	return nil
}

// Bootstrap initialises an empty PGDATA. The marker is written before
// initdb starts and removed only when the first boot completed, so any
// failure (or a SIGKILL of everything) leaves it behind: the next start then
// redoes a bootstrap that had not reached user code, or refuses.
func Bootstrap(ctx context.Context, o Options) (err error) {
	start := time.Now()
	if o.Reaper == nil {
		return errors.New("bootstrap: no reaper")
	}
	// When a stop is requested, the steps share the budget from that moment.
	var stopAt time.Time
	stopOnce := make(chan struct{})
	release := context.AfterFunc(ctx, func() { stopAt = time.Now(); close(stopOnce) })
	defer release()
	remaining := func() time.Duration {
		select {
		case <-stopOnce:
			if r := o.stopBudget() - time.Since(stopAt); r > 0 {
				return r
			}
			return 0
		default:
			return o.stopBudget()
		}
	}
	if err := os.MkdirAll(o.WorkDir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", o.WorkDir, err)
	}
	if err := checkEmpty(o.PGData); err != nil {
		return err
	}
	marker := Marker{Step: StepInitdb, Started: start.UTC()}
	step := func(s, detail string) error {
		marker.Step, marker.Detail = s, detail
		return writeMarker(o.PGData, marker)
	}
	if err := step(StepInitdb, ""); err != nil {
		return err
	}
	if o.Provide != nil {
		if err := provide(ctx, o); err != nil {
			return err
		}
	} else if err := initdb(ctx, o); err != nil {
		return err
	}
	if err := step(StepConfigure, ""); err != nil {
		return err
	}
	if o.Provide == nil {
		if err := setupAuthFiles(o); err != nil {
			return err
		}
	}
	if o.Configure != nil {
		if err := o.Configure(); err != nil {
			return err
		}
	}

	if err := step(StepTempStart, ""); err != nil {
		return err
	}
	srv, err := startTemp(ctx, o)
	if err != nil {
		return err
	}
	defer func() {
		if !srv.Exited() { // error or stop path: do not leave the temporary server behind
			srv.Stop(postmaster.Fast, remaining(), nil, nil)
		}
	}()
	conn := Conn{SocketDir: o.WorkDir, Port: o.Port, User: o.User, DB: o.DB}

	if err := step(StepCreateDB, o.DB); err != nil {
		return err
	}
	if err := createDB(ctx, o, conn); err != nil {
		return err
	}
	if o.OnTempServer != nil {
		if err := step(StepPlugins, ""); err != nil {
			return err
		}
		if err := o.OnTempServer(ctx, conn); err != nil {
			return err
		}
	}
	if err := step(StepScripts, ""); err != nil {
		return err
	}
	if o.Provide != nil {
		o.Log.Info("init scripts are not run for a cluster a plugin provided (restored)")
	} else if err := runScripts(ctx, o, step, scriptEnv(o)); err != nil {
		return err
	}
	if err := step(StepTempStop, ""); err != nil {
		return err
	}
	res := srv.Stop(postmaster.Fast, remaining(), nil, nil)
	if code := srv.ExitCode(); code != 0 || res.Escalated {
		return fmt.Errorf("temporary server did not stop cleanly (%s, %s shutdown)", srv.Describe(), res.Final)
	}
	if err := removeMarker(o.PGData); err != nil {
		return err
	}
	o.Log.Info(CompleteMessage, zap.Duration("took", time.Since(start).Round(time.Millisecond)))
	return nil
}

// runScripts runs /docker-entrypoint-initdb.d with env, recording each
// script in the marker through step.
func runScripts(ctx context.Context, o Options, step func(s, detail string) error, env []string) error {
	runner := &initscripts.Runner{
		Dir: o.InitDir, Psql: o.Bin.Psql, User: o.User, DB: o.DB, LibDir: o.WorkDir, Log: o.Log,
		Env:    env,
		Stdout: o.Stdout, Stderr: o.Stderr,
		OnScript: func(name string) {
			if err := step(StepScripts, name); err != nil {
				o.Log.Warn("could not update bootstrap marker", zap.Error(err))
			}
		},
		Reaper:     o.Reaper,
		StopBudget: o.stopBudget() / 2,
	}
	return runner.Run(ctx)
}

func (o Options) stopBudget() time.Duration {
	if o.StopBudget > 0 {
		return o.StopBudget
	}
	return 30 * time.Second
}

// childEnv is the base environment without variables that must not leak
// into a child (NOTIFY_SOCKET would let the temporary server signal a
// supervisor too early; PGHOST/PGHOSTADDR are ours to set).
func childEnv(base []string, drop ...string) []string {
	out := make([]string, 0, len(base))
	for _, kv := range base {
		name, _, _ := strings.Cut(kv, "=")
		skip := false
		for _, d := range drop {
			if name == d {
				skip = true
				break
			}
		}
		if !skip {
			out = append(out, kv)
		}
	}
	return out
}

func initdb(ctx context.Context, o Options) error {
	staging := filepath.Join(o.PGData, stagingName)
	args := []string{"-D", staging, "--username=" + o.User}
	if o.Password != "" {
		pw := filepath.Join(o.WorkDir, "pwfile")
		// initdb rejects an empty file; the trailing newline also matches the official image.
		if err := os.WriteFile(pw, []byte(o.Password+"\n"), 0o600); err != nil {
			return fmt.Errorf("write password file: %w", err)
		}
		defer os.Remove(pw)
		args = append(args, "--pwfile="+pw)
	}
	if o.Waldir != "" {
		args = append(args, "--waldir="+o.Waldir)
	}
	if local, host := authFlags(o); local != "" {
		args = append(args, "--auth-local="+local, "--auth-host="+host)
	}
	args = append(args, o.InitdbArgs...)

	cmd := exec.Command(o.Bin.Initdb, args...)
	cmd.Env = childEnv(o.serverEnv(), "NOTIFY_SOCKET")
	cmd.Stdout, cmd.Stderr = o.Stdout, o.Stderr
	if !privilege.HasPasswdEntry(os.Getuid()) {
		extra, cleanup, err := nssWrapperEnv(o.WorkDir, o.PGData)
		if err != nil {
			return err
		}
		defer cleanup()
		cmd.Env = append(cmd.Env, extra...)
	}
	child, err := o.Reaper.Start(cmd)
	if err != nil {
		return fmt.Errorf("initdb: %w", err)
	}
	select {
	case <-child.Done():
	case <-ctx.Done():
		// On SIGTERM initdb removes what it created; SIGKILL if it takes too long.
		_ = child.Signal(syscall.SIGTERM)
		t := time.NewTimer(o.stopBudget() / 2)
		select {
		case <-child.Done():
		case <-t.C:
			_ = child.Signal(syscall.SIGKILL) // its postgres children end at EOF on their stdin
		}
		t.Stop()
	}
	if err := child.Wait(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("initdb interrupted: %w", ctx.Err())
		}
		return fmt.Errorf("initdb failed: %w", err)
	}
	return moveUp(staging, o.PGData)
}

// authFlags picks initdb's --auth-local/--auth-host unless the user chose
// with POSTGRES_INITDB_ARGS. Trust keeps initdb's (and the official image's)
// trust defaults; otherwise local socket connections use peer (with the
// pgdock ident map) and loopback TCP uses the password method.
func authFlags(o Options) (local, host string) {
	for _, a := range o.InitdbArgs {
		if a == "-A" || strings.HasPrefix(a, "--auth") || (strings.HasPrefix(a, "-A") && len(a) > 2) {
			return "", ""
		}
	}
	if o.HostAuthMethod == "trust" {
		return "", ""
	}
	host = "scram-sha-256"
	switch strings.Fields(o.HostAuthMethod + " x")[0] {
	case "md5", "password", "scram-sha-256":
		host = strings.Fields(o.HostAuthMethod)[0]
	}
	return "peer", host
}

var peerLine = regexp.MustCompile(`(?m)^(local\s+\S+\s+\S+\s+peer)\s*$`)

// setupAuthFiles appends the official `host all all all <method>` rule and,
// when pgdock chose peer for local connections, maps the OS users root and
// the server's own user to the superuser role (docker exec … psql works
// without a password, as with the official image, without trust).
func setupAuthFiles(o Options) error {
	hbaPath := filepath.Join(o.PGData, "pg_hba.conf")
	hba, err := os.ReadFile(hbaPath)
	if err != nil {
		return fmt.Errorf("read pg_hba.conf: %w", err)
	}
	if local, _ := authFlags(o); local == "peer" {
		hba = peerLine.ReplaceAll(hba, []byte("$1 map=pgdock"))
		ident, err := identMap(o.User)
		if err != nil {
			o.Log.Warn("local peer logins as the superuser are not mapped", zap.Error(err))
		}
		identPath := filepath.Join(o.PGData, "pg_ident.conf")
		cur, err := os.ReadFile(identPath)
		if err != nil {
			return fmt.Errorf("read pg_ident.conf: %w", err)
		}
		if err := fsutil.WriteFileAtomic(identPath, append(cur, ident...), 0o600); err != nil {
			return err
		}
	}
	if o.ExternalAccess {
		rule, err := pgconf.ParseHBARule("host all all all " + o.HostAuthMethod)
		if err != nil {
			return fmt.Errorf("POSTGRES_HOST_AUTH_METHOD: %w", err)
		}
		add := "\n" + rule.String() + "\n"
		if o.HostAuthMethod == "trust" {
			add = "\n# warning trust is enabled for all connections\n# see https://www.postgresql.org/docs/current/auth-trust.html\n" + rule.String() + "\n"
		}
		hba = append(hba, add...)
	}
	return fsutil.WriteFileAtomic(hbaPath, hba, 0o600)
}

func identMap(superuser string) ([]byte, error) {
	var b strings.Builder
	b.WriteString("\n# pgdock: local (socket) peer logins. The OS users root and the server's own user\n")
	b.WriteString("# may log in as the superuser role; every OS user as the role of the same name.\n")
	osUser := privilege.Current().Name
	if osUser == "" {
		osUser = "postgres"
	}
	role, err := pgconf.QuoteHBAToken(superuser)
	if err == nil {
		for _, u := range uniq("root", osUser) {
			fmt.Fprintf(&b, "pgdock  %-10s %s\n", u, role)
		}
	}
	b.WriteString("pgdock  /^(.*)$     \\1\n")
	return []byte(b.String()), err
}

func uniq(s ...string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func startTemp(ctx context.Context, o Options) (*postmaster.Process, error) {
	hba := filepath.Join(o.WorkDir, "bootstrap_hba.conf")
	// Only processes that can enter the private (0700) socket directory can
	// connect: the server's own user, i.e. init scripts and plugins.
	if err := os.WriteFile(hba, []byte("local all all trust\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write temporary pg_hba: %w", err)
	}
	args := append(append([]string(nil), o.ServerArgs...),
		"-c", "listen_addresses=",
		"-c", "unix_socket_directories="+o.WorkDir,
		"-c", "hba_file="+hba,
		"-p", strconv.Itoa(o.Port))
	srv, err := postmaster.Start(postmaster.Options{
		Postgres: o.Bin.Postgres, PGData: o.PGData, Args: args,
		Env:    childEnv(o.serverEnv(), "NOTIFY_SOCKET"),
		Stdout: o.Stdout, Stderr: o.Stderr, Reaper: o.Reaper,
	})
	if err != nil {
		return nil, err
	}
	if err := srv.WaitReady(ctx); err != nil {
		if !srv.Exited() {
			srv.Stop(postmaster.Fast, o.stopBudget(), nil, nil)
		}
		return nil, fmt.Errorf("temporary server: %w", err)
	}
	return srv, nil
}

// createDB creates POSTGRES_DB unless it exists (so "postgres" is not
// re-created), with psql as the official image does: the name travels as a
// psql variable and is quoted by psql (:'db' as a literal, :"db" as an
// identifier), never spliced into the SQL text.
func createDB(ctx context.Context, o Options, c Conn) error {
	const sql = `SELECT NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') AS missing \gset
\if :missing
CREATE DATABASE :"db";
\endif
`
	cmd := exec.Command(o.Bin.Psql, "-v", "ON_ERROR_STOP=1", "--no-psqlrc", "--no-password", "-q",
		"--username", c.User, "--dbname", "postgres", "--set", "db="+c.DB)
	cmd.Env = append(childEnv(o.serverEnv(), "NOTIFY_SOCKET", "PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER"),
		"PGHOST="+c.SocketDir, "PGPORT="+strconv.Itoa(c.Port), "PGAPPNAME=pgdock-entrypoint")
	cmd.Stdin = strings.NewReader(sql)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	child, err := o.Reaper.Start(cmd)
	if err == nil {
		select {
		case <-child.Done():
		case <-ctx.Done():
			_ = child.Signal(syscall.SIGKILL)
		}
		err = child.Wait()
	}
	if err != nil {
		return fmt.Errorf("create database %q: %w: %s", c.DB, err, strings.TrimSpace(out.String()))
	}
	return nil
}

// scriptEnv is what init scripts see: the container environment, with libpq
// pointed at the temporary server, and the official POSTGRES_* names.
func scriptEnv(o Options) []string {
	env := childEnv(o.Env, "NOTIFY_SOCKET", "PGHOST", "PGHOSTADDR", "PGPORT", "PGDATA", "POSTGRES_USER", "POSTGRES_DB")
	env = append(env,
		"PGHOST="+o.WorkDir,
		"PGPORT="+strconv.Itoa(o.Port),
		"PGDATA="+o.PGData,
		"POSTGRES_USER="+o.User,
		"POSTGRES_DB="+o.DB,
	)
	if o.Password != "" && !hasVar(o.Env, "PGPASSWORD") {
		env = append(env, "PGPASSWORD="+o.Password) // as the official image does during init
	}
	return env
}

func hasVar(env []string, name string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, name+"=") {
			return true
		}
	}
	return false
}

// nssWrapperEnv gives initdb a passwd entry for a uid that has none
// (docker run --user 12345), as the official image does with libnss_wrapper.
func nssWrapperEnv(workDir, home string) ([]string, func(), error) {
	var lib string
	for _, pat := range []string{"/usr/lib/*/libnss_wrapper.so", "/usr/lib/libnss_wrapper.so", "/lib/*/libnss_wrapper.so", "/lib/libnss_wrapper.so"} {
		if m, _ := filepath.Glob(pat); len(m) > 0 {
			lib = m[0]
			break
		}
	}
	if lib == "" {
		return nil, nil, fmt.Errorf("uid %d has no passwd entry and libnss_wrapper.so is not installed (install libnss-wrapper, or run with a uid that exists in /etc/passwd)", os.Getuid())
	}
	passwd := filepath.Join(workDir, "nss_passwd")
	group := filepath.Join(workDir, "nss_group")
	// Keep the real entries so other lookups still work, then add ours.
	pw := readLines("/etc/passwd")
	gr := readLines("/etc/group")
	pw = append(pw, fmt.Sprintf("postgres:x:%d:%d:PostgreSQL:%s:/bin/false", os.Getuid(), os.Getgid(), home))
	if !groupExists(gr, os.Getgid()) {
		gr = append(gr, fmt.Sprintf("postgres:x:%d:", os.Getgid()))
	}
	if err := os.WriteFile(passwd, []byte(strings.Join(pw, "\n")+"\n"), 0o600); err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(group, []byte(strings.Join(gr, "\n")+"\n"), 0o600); err != nil {
		return nil, nil, err
	}
	cleanup := func() { os.Remove(passwd); os.Remove(group) }
	return []string{"LD_PRELOAD=" + lib, "NSS_WRAPPER_PASSWD=" + passwd, "NSS_WRAPPER_GROUP=" + group}, cleanup, nil
}

func readLines(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := sc.Text(); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func groupExists(lines []string, gid int) bool {
	for _, l := range lines {
		f := strings.Split(l, ":")
		if len(f) > 2 && f[2] == strconv.Itoa(gid) {
			return true
		}
	}
	return false
}
