package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
)

// Lines of the entrypoint's log the bench waits for.
const (
	patReady    = "PostgreSQL is ready" // the entrypoint's own line, not the server's "database system is ready"
	patInitDone = "PostgreSQL init process complete"
	patPlugin   = "plugin started"
	patSleep    = "sleep mode: PostgreSQL is not started"
	// initdb's first and last lines (C/English messages, as the bench runs it).
	patInitdbStart = "The files belonging to this database system will be owned by user"
	patInitdbEnd   = "Success. You can now start the database server"
	// The server's own lines (first occurrence: the temporary server).
	patServerReady = "database system is ready to accept connections"
	patServerStop  = "received fast shutdown request"
	patStarting    = "] starting PostgreSQL"
)

// step is one part of an entrypoint run, from the first appearance of one
// log line to the first appearance of another ("" is the process start). A
// step is recorded only when both lines were seen.
type step struct{ name, from, to string }

func firstBootSteps() []step {
	return []step{
		{"exec -> initdb output (config, prepare, privilege drop)", "", patInitdbStart},
		{"initdb done -> temporary server ready (auth files, configure, start)", patInitdbEnd, patServerReady},
		{"temporary server up (create database, plugin bootstrap, init scripts)", patServerReady, patServerStop},
		{"temporary server stop", patServerStop, patInitDone},
		{"final start -> ready", patInitDone, patReady},
	}
}

func restartSteps() []step {
	return []step{
		{"exec -> starting PostgreSQL (config, prepare, configure)", "", patStarting},
		{"starting PostgreSQL -> ready", patStarting, patReady},
	}
}

// addSteps records the steps of this run as parts of s.
func (e *entrypointRun) addSteps(s *series, steps []step) {
	at := func(p string) (time.Time, bool) {
		if p == "" {
			return e.started, true
		}
		t, _, ok := e.watch.at(p)
		return t, ok
	}
	for _, st := range steps {
		t0, ok0 := at(st.from)
		t1, ok1 := at(st.to)
		if ok0 && ok1 {
			s.addPart(st.name, t1.Sub(t0))
		}
	}
}

// entrypointRun is one running pgdock-entrypoint.
type entrypointRun struct {
	p       *proc
	watch   *logWatch
	started time.Time
	sb      *sandbox
}

// startEntrypoint starts the entrypoint in sb with its output on a pipe the
// bench reads (and copies to log/<logName>).
func (r *rig) startEntrypoint(sb *sandbox, logName string, extra map[string]string) (*entrypointRun, error) {
	logf, err := sb.logFile(logName)
	if err != nil {
		return nil, err
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		logf.Close()
		return nil, fmt.Errorf("output pipe: %w", err)
	}
	spec := procSpec{Path: r.entrypoint, Env: r.entrypointEnv(sb, extra), Dir: sb.root, Out: pw}
	p, started, err := startProc("pgdock-entrypoint", spec)
	pw.Close() // the children hold the write end now
	if err != nil {
		pr.Close()
		logf.Close()
		return nil, err
	}
	w := newLogWatch(pr, logf, patReady, patInitDone, patPlugin, patSleep,
		patInitdbStart, patInitdbEnd, patServerReady, patServerStop, patStarting)
	go func() {
		<-w.eof
		pr.Close()
		logf.Close()
	}()
	return &entrypointRun{p: p, watch: w, started: started, sb: sb}, nil
}

// waitFor waits until pattern appears in the output and returns the time
// from the start of the process.
func (e *entrypointRun) waitFor(ctx context.Context, pattern string, timeout time.Duration) (time.Duration, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-e.watch.seenCh(pattern):
		at, _, _ := e.watch.at(pattern)
		return at.Sub(e.started), nil
	case <-e.p.done:
		// The line may have been read just before the exit was noticed.
		if at, _, ok := e.watch.at(pattern); ok {
			return at.Sub(e.started), nil
		}
		select {
		case <-e.watch.eof:
		case <-time.After(time.Second):
		}
		return 0, fmt.Errorf("pgdock-entrypoint exited (%v) before %q; its last output:\n%s", e.p.err, pattern, e.watch.tail())
	case <-t.C:
		return 0, fmt.Errorf("no %q from pgdock-entrypoint within %s; its last output:\n%s", pattern, timeout, e.watch.tail())
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// stop sends SIGTERM and returns the time until the process exited; an
// exit status other than 0 is an error.
func (e *entrypointRun) stop(ctx context.Context) (time.Duration, error) {
	sent, err := e.p.signal(syscall.SIGTERM)
	if err != nil {
		return 0, err
	}
	end, err := e.p.wait(ctx, stopTimeout)
	if err != nil {
		return 0, err
	}
	if err := e.p.exitError(); err != nil {
		return 0, fmt.Errorf("after SIGTERM: %w; its last output:\n%s", err, e.watch.tail())
	}
	return end.Sub(sent), nil
}

// abort kills the entrypoint if it still runs; the sandbox sweep ends the
// server and plugins it leaves behind.
func (e *entrypointRun) abort() {
	if e != nil {
		e.p.kill()
	}
}

// mem is the entrypoint's VmRSS, RssAnon and RssFile in kB.
func (e *entrypointRun) mem() (map[string]int, error) {
	return memKiB(e.p.pid(), "VmRSS", "RssAnon", "RssFile")
}

// pluginObs is what an entrypoint run shows about its plugins.
type pluginObs struct {
	wired     bool          // a plugin was started (log line or state file)
	handshake time.Duration // from the "plugin started" line's took=, 0 if absent
	rssMiB    []float64     // per plugin pid in the state file
}

// tookField parses the took=<duration> field of a text log line.
func tookField(line string) (time.Duration, bool) {
	_, v, ok := strings.Cut(line, " took=")
	if !ok {
		return 0, false
	}
	v, _, _ = strings.Cut(v, " ")
	d, err := time.ParseDuration(v)
	return d, err == nil
}

// plugins inspects the log and the state file for started plugins.
func (e *entrypointRun) plugins() pluginObs {
	var o pluginObs
	if _, line, ok := e.watch.at(patPlugin); ok {
		o.wired = true
		o.handshake, _ = tookField(line)
	}
	for _, pid := range e.sb.pluginPIDs() {
		o.wired = true
		if kb, err := rssKiB(pid); err == nil {
			o.rssMiB = append(o.rssMiB, float64(kb)/1024)
		}
	}
	return o
}

// stateFile is the part of the entrypoint's state.json the bench reads
// (the file's format is documented in docs/architecture.md; the bench does
// not import the SDK so that it depends on built binaries only).
type stateFile struct {
	SchemaVersion int `json:"schema_version"`
	Plugins       []struct {
		Reattach struct {
			Pid int `json:"pid"`
		} `json:"reattach"`
	} `json:"plugins"`
}

// stateFileName is the state file's name inside PGDOCK_STATE_DIR.
const stateFileName = "state.json"

func parseState(data []byte) (stateFile, error) {
	var st stateFile
	if err := json.Unmarshal(data, &st); err != nil {
		return st, fmt.Errorf("parse state file: %w", err)
	}
	if st.SchemaVersion == 0 {
		return st, errors.New("parse state file: no schema_version")
	}
	return st, nil
}
