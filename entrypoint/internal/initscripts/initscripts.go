package initscripts

import (
	"bytes"
	"compress/gzip"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/pgdock/pgdock/entrypoint/internal/reaper"
)

//go:embed helpers.sh
var helperLib []byte

// HelperLib returns the bash library sourced scripts see.
func HelperLib() []byte { return bytes.Clone(helperLib) }

// Runner runs the scripts of one directory.
type Runner struct {
	Dir      string   // /docker-entrypoint-initdb.d
	Psql     string   // psql binary
	User     string   // POSTGRES_USER
	DB       string   // POSTGRES_DB
	Env      []string // environment for scripts and psql (PGHOST/PGPORT point at the temporary server)
	LibDir   string   // private directory where the helper library is written
	Log      *zap.Logger
	Stdout   io.Writer
	Stderr   io.Writer
	OnScript func(name string) // called before each file runs (bootstrap progress marker)
	// Reaper starts every process (required).
	Reaper *reaper.Reaper
	// StopBudget bounds a stop: when ctx ends, the running script's process
	// group gets SIGTERM, then SIGKILL once StopBudget has passed (default 10s).
	StopBudget time.Duration
}

// ScriptError names the file that failed.
type ScriptError struct {
	File string
	Err  error
}

func (e *ScriptError) Error() string { return fmt.Sprintf("init script %s failed: %v", e.File, e.Err) }
func (e *ScriptError) Unwrap() error { return e.Err }

// List returns the directory's entries in the order they run (byte order of
// names, non-recursive, dot files skipped). A missing directory is empty; an
// unreadable one is an error (fail fast, like the official image).
func List(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read init script directory %s: %w", dir, err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names, nil
}

// Run executes every file in order and stops at the first failure.
func (r *Runner) Run(ctx context.Context) error {
	names, err := List(r.Dir)
	if err != nil {
		return err
	}
	env := append([]string(nil), r.Env...)
	for _, name := range names {
		path := filepath.Join(r.Dir, name)
		fi, err := os.Stat(path)
		if err != nil {
			return &ScriptError{File: path, Err: err}
		}
		if fi.IsDir() {
			r.Log.Info("ignoring " + path)
			continue
		}
		if r.OnScript != nil {
			r.OnScript(name)
		}
		switch {
		case strings.HasSuffix(name, ".sh"):
			if fi.Mode()&0o111 != 0 {
				r.Log.Info("running " + path)
				err = r.run(ctx, exec.Command(path), env, nil)
			} else {
				r.Log.Info("sourcing " + path)
				env, err = r.source(ctx, path, env)
			}
		case strings.HasSuffix(name, ".sql"):
			r.Log.Info("running " + path)
			err = r.psql(ctx, env, path, nil)
		case strings.HasSuffix(name, ".sql.gz"), strings.HasSuffix(name, ".sql.xz"), strings.HasSuffix(name, ".sql.zst"):
			r.Log.Info("running " + path)
			err = r.compressed(ctx, env, path)
		default:
			r.Log.Info("ignoring " + path)
			continue
		}
		if err != nil {
			return &ScriptError{File: path, Err: err}
		}
	}
	return nil
}

func (r *Runner) run(ctx context.Context, cmd *exec.Cmd, env []string, stdin io.Reader) error {
	cmd.Env = env
	cmd.Stdin = stdin
	cmd.Stdout, cmd.Stderr = r.Stdout, r.Stderr
	return r.runGroup(ctx, nil, cmd)
}

// runGroup starts cmds in one new process group (the first one leads it),
// calls afterStart (also when a start failed), waits for all of them, and returns the first failure in order. Scripts get
// their own group so that a stop reaches everything they started; when ctx
// ends, the group gets SIGTERM, then SIGKILL after StopBudget. Whatever is
// left of the group once its members exited (a background job) is killed:
// nothing started by an init script outlives it.
func (r *Runner) runGroup(ctx context.Context, afterStart func(), cmds ...*exec.Cmd) error {
	if afterStart != nil {
		defer afterStart() // on the error paths; a second call is harmless
	}
	if r.Reaper == nil {
		return errors.New("init scripts: no reaper")
	}
	children := make([]*reaper.Child, len(cmds))
	pgid := 0
	kill := func(sig syscall.Signal) {
		if pgid > 0 {
			_ = syscall.Kill(-pgid, sig)
		}
	}
	defer kill(syscall.SIGKILL)
	// The last command (the pipeline's reader, psql) starts first and leads
	// the group: it cannot reach EOF, so cannot exit and be reaped, before
	// the writers started, because this process holds the pipe's write end
	// until afterStart. A writer leading the group (a decompressor of a tiny
	// file) could exit and be reaped before the reader joined, and joining a
	// group that no longer exists fails with EPERM.
	for i := len(cmds) - 1; i >= 0; i-- {
		cmd := cmds[i]
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pgid: pgid}
		c, err := r.Reaper.Start(cmd)
		if err != nil {
			return fmt.Errorf("%s: %w", filepath.Base(cmd.Path), err)
		}
		if pgid == 0 {
			pgid = c.Pid()
		}
		children[i] = c
	}
	if afterStart != nil {
		afterStart()
	}
	all := make(chan struct{})
	go func() {
		for _, c := range children {
			<-c.Done()
		}
		close(all)
	}()
	select {
	case <-all:
	case <-ctx.Done():
		kill(syscall.SIGTERM)
		t := time.NewTimer(r.stopBudget())
		select {
		case <-all:
		case <-t.C:
			r.Log.Warn("init script ignored SIGTERM; killing its process group", zap.Int("pgid", pgid))
			kill(syscall.SIGKILL)
			<-all
		}
		t.Stop()
	}
	kill(syscall.SIGKILL)
	var first error
	for i, c := range children {
		if err := c.Wait(); err != nil && first == nil {
			first = err
			if i > 0 || len(children) > 1 {
				first = fmt.Errorf("%s: %w", filepath.Base(cmds[i].Path), err)
			}
		}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted (%w): %v", ctx.Err(), first)
	}
	return first
}

func (r *Runner) stopBudget() time.Duration {
	if r.StopBudget > 0 {
		return r.StopBudget
	}
	return 10 * time.Second
}

func (r *Runner) psqlCmd(file string) *exec.Cmd {
	args := []string{"-v", "ON_ERROR_STOP=1", "--username", r.User, "--no-password", "--no-psqlrc", "--dbname", r.DB}
	if file != "" {
		args = append(args, "-f", file)
	}
	return exec.Command(r.Psql, args...)
}

func (r *Runner) psql(ctx context.Context, env []string, file string, stdin io.Reader) error {
	return r.run(ctx, r.psqlCmd(file), env, stdin)
}

func (r *Runner) compressed(ctx context.Context, env []string, path string) error {
	if strings.HasSuffix(path, ".gz") {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("gunzip: %w", err)
		}
		return r.psql(ctx, env, "", zr)
	}
	tool := []string{"xz", "-dc", path}
	if strings.HasSuffix(path, ".zst") {
		tool = []string{"zstd", "-dc", "-q", path}
	}
	bin, err := exec.LookPath(tool[0])
	if err != nil {
		return fmt.Errorf("%s: %w (is it installed?)", tool[0], err)
	}
	// The decompressor and psql form one pipeline in one process group;
	// each one's exit status is its own.
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	dec := exec.Command(bin, tool[1:]...)
	dec.Env = env
	dec.Stdout, dec.Stderr = pw, r.Stderr
	psql := r.psqlCmd("")
	psql.Env = env
	psql.Stdin = pr
	psql.Stdout, psql.Stderr = r.Stdout, r.Stderr
	// The parent's pipe ends are closed once both started, so EOF reaches psql.
	return r.runGroup(ctx, func() { pr.Close(); pw.Close() }, dec, psql)
}

// source runs a non-executable script in bash after the helper library, with
// `set -Eeo pipefail` as the official entrypoint has, and returns the
// environment the script left exported.
func (r *Runner) source(ctx context.Context, path string, env []string) ([]string, error) {
	lib := filepath.Join(r.LibDir, "pgdock-initdb-helpers.sh")
	if _, err := os.Stat(lib); err != nil {
		if err := os.WriteFile(lib, helperLib, 0o644); err != nil {
			return env, fmt.Errorf("write helper library: %w", err)
		}
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return env, err
	}
	defer pr.Close()
	cmd := exec.Command("bash", "-c", `set -Eeo pipefail; . "$1"; . "$2"; env -0 >&3`, "pgdock-init", lib, path)
	cmd.ExtraFiles = []*os.File{pw}
	var dump bytes.Buffer
	read := make(chan struct{})
	go func() { _, _ = io.Copy(&dump, pr); close(read) }()
	err = r.run(ctx, cmd, env, nil)
	pw.Close()
	<-read
	if err != nil {
		return env, err
	}
	var out []string
	for _, kv := range strings.Split(dump.String(), "\x00") {
		if kv == "" || strings.HasPrefix(kv, "BASH_FUNC_") || strings.HasPrefix(kv, "_=") || strings.HasPrefix(kv, "SHLVL=") || strings.HasPrefix(kv, "PWD=") || strings.HasPrefix(kv, "OLDPWD=") {
			continue
		}
		out = append(out, kv)
	}
	if len(out) == 0 {
		return env, nil
	}
	return out, nil
}
