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

	"go.uber.org/zap"
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
	// Scripts get their own process group so that a stop request reaches
	// everything they started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		err := <-done
		return fmt.Errorf("interrupted (%w): %v", ctx.Err(), err)
	}
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
	dec := exec.Command(tool[0], tool[1:]...)
	dec.Stderr = r.Stderr
	out, err := dec.StdoutPipe()
	if err != nil {
		return err
	}
	if err := dec.Start(); err != nil {
		return fmt.Errorf("%s: %w (is it installed?)", tool[0], err)
	}
	perr := r.psql(ctx, env, "", out)
	derr := dec.Wait()
	if perr != nil {
		return perr
	}
	if derr != nil {
		return fmt.Errorf("%s: %w", tool[0], derr)
	}
	return nil
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
