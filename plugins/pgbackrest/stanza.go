package pgbackrest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/pgdock/pgdock/plugins/sdk"
	"github.com/pgdock/pgdock/plugins/sdk/psql"
)

// stanzaState is the outcome of the last stanza-create.
type stanzaState struct {
	OK      bool
	Err     string
	At      time.Time
	Running bool
}

// exitDBMismatch is pgBackRest's error 028: the stanza exists for another
// PostgreSQL version or system id (stanza-upgrade fixes the former).
const exitDBMismatch = 28

// ensureStanza runs stanza-create (idempotent in pgBackRest), and
// stanza-upgrade when pgBackRest says the database changed. The outcome is
// kept for the health probe; the returned error carries pgBackRest's
// message.
func (p *Plugin) ensureStanza(ctx context.Context) error {
	return p.ensureStanzaOn(ctx, nil)
}

// ensureStanzaOn is ensureStanza against the server at conn (the first
// boot's temporary server listens on a socket directory of its own); nil
// is the server the rendered configuration names.
func (p *Plugin) ensureStanzaOn(ctx context.Context, conn *sdk.Conn) error {
	p.mu.Lock()
	c, paths := p.cfg, p.paths
	if p.stanza.Running {
		p.mu.Unlock()
		return nil
	}
	p.stanza.Running = true
	p.mu.Unlock()

	argv := func(command string) []string {
		a := paths.StanzaArgv(*c, command)
		if conn != nil && conn.SocketDir != "" {
			// before the command, which is last
			a = append(a[:len(a)-1:len(a)-1], "--pg1-socket-path="+conn.SocketDir, "--pg1-port="+strconv.Itoa(conn.Port), command)
		}
		return a
	}
	err := p.runLogged(ctx, argv("stanza-create"), c.Env())
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == exitDBMismatch {
		p.log.Warn("the stanza belongs to another database version; running stanza-upgrade", "stanza", c.Stanza)
		err = p.runLogged(ctx, argv("stanza-upgrade"), c.Env())
	}
	// A stop is not a failure: the server is going away, and the next
	// start (or promotion) runs stanza-create again.
	stopped := err != nil && errors.Is(ctx.Err(), context.Canceled)
	p.mu.Lock()
	switch {
	case stopped:
		p.stanza = stanzaState{}
	default:
		p.stanza = stanzaState{OK: err == nil, At: time.Now()}
		if err != nil {
			p.stanza.Err = err.Error()
		}
	}
	p.mu.Unlock()
	p.poke()
	switch {
	case stopped:
		p.log.Info("stanza-create interrupted: the server is stopping; it runs again at the next start", "stanza", c.Stanza)
		return fmt.Errorf("stanza %s: interrupted by the stop: %w", c.Stanza, ctx.Err())
	case err != nil:
		p.log.Error("stanza-create failed; archiving and backups fail until it succeeds (retried every minute on the primary)", "stanza", c.Stanza, "error", err)
		return fmt.Errorf("stanza %s: %w", c.Stanza, err)
	}
	p.log.Info("stanza ready", "stanza", c.Stanza)
	return nil
}

// stanzaOK reports whether this process already created the stanza.
func (p *Plugin) stanzaOK() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stanza.OK
}

// runLogged runs a pgbackrest command, logs its output line by line and
// returns an error with its last ERROR line.
func (p *Plugin) runLogged(ctx context.Context, argv []string, env map[string]string) error {
	cmd := command(ctx, argv, env)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	last := ""
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		p.log.Info("pgbackrest", "command", argv[len(argv)-1], "output", line)
		if strings.Contains(line, "ERROR:") {
			last = line
		}
	}
	if err != nil && last != "" {
		return &runError{err: err, msg: last}
	}
	return err
}

type runError struct {
	err error
	msg string
}

func (e *runError) Error() string { return e.err.Error() + ": " + e.msg }
func (e *runError) Unwrap() error { return e.err }

// Bootstrap runs on the temporary server of a first boot. After a restore
// it waits until recovery has finished (the restored cluster promoted), so
// that the real server starts with every restored row instead of replaying
// WAL while it already answers read-only queries. With
// PGBACKREST_RESTORE_TARGET_ACTION=pause or shutdown, or a standby restore,
// recovery does not end by itself and nothing is waited for.
//
// Then, on the primary this first boot made, it creates the stanza before
// anything is archived: the first WAL segment is completed (and handed to
// archive_command) when the temporary server stops, and archive-push
// into a stanza that does not exist yet fails with pgBackRest's ERROR
// [103]. Under Patroni this hook runs in the post-bootstrap callback, on
// the node that created the cluster, before Patroni reports it ready. A
// failure is logged and retried later, as in Started, unless
// PGBACKREST_STANZA_CREATE_FATAL=true.
func (p *Plugin) Bootstrap(ctx context.Context, req sdk.HookRequest) error {
	p.mu.Lock()
	c := p.cfg
	p.mu.Unlock()
	if c == nil {
		return nil
	}
	if c.Restore {
		if a := c.restoreAction(); a == "pause" || a == "shutdown" || c.RestoreType == "standby" {
			p.log.Info("recovery continues after the first boot (target action " + a + ", type " + c.RestoreType + ")")
			return nil
		}
		if err := p.waitRecovery(ctx, req.Conn); err != nil {
			return err
		}
		p.mu.Lock()
		patroni := p.patroni
		p.mu.Unlock()
		if patroni && (c.RestoreTarget != "" || c.RestoreType == "immediate") {
			p.log.Warn("point-in-time restore under Patroni: take a full backup (pgdock-entrypoint backup --type full) before adding members; until then a new member restores the newest backup, which may lie after the target on the old timeline", "stanza", c.Stanza)
		}
	}
	conn := req.Conn
	sctx, cancel := ctx, context.CancelFunc(func() {})
	if !c.StanzaCreateFatal {
		// an unreachable repository delays the first boot by this much
		// at most; Started and the retry loop try again later
		sctx, cancel = context.WithTimeout(ctx, bootstrapStanzaTimeout)
	}
	defer cancel()
	if err := p.ensureStanzaOn(sctx, &conn); err != nil && c.StanzaCreateFatal {
		return err
	}
	return nil
}

// bootstrapStanzaTimeout bounds the first boot's stanza-create unless
// PGBACKREST_STANZA_CREATE_FATAL=true.
const bootstrapStanzaTimeout = time.Minute

// waitRecovery waits until the server at conn has left recovery.
func (p *Plugin) waitRecovery(ctx context.Context, conn sdk.Conn) error {
	start := time.Now()
	p.log.Info("waiting for the restored cluster to finish recovery")
	for {
		inRecovery, err := isInRecovery(ctx, conn)
		if err == nil && !inRecovery {
			p.log.Info("recovery finished", "took", time.Since(start).Round(time.Millisecond).String())
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for recovery to finish: %w", ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func isInRecovery(ctx context.Context, c sdk.Conn) (bool, error) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return psql.InRecovery(cctx, psql.Local(c, "", application))
}
