package pgtest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/pgdock/pgdock/healthcheck/internal/pgwire"
)

// PasswordRole is a role that pg_hba.conf of a Cluster's servers sends to
// SCRAM authentication (everyone else is trusted locally). The role does not
// exist: PostgreSQL still asks for a password, which is what tests need.
const PasswordRole = "pwuser"

// Cluster is a temporary directory with a running primary and a stopped
// copy of the same freshly initialised cluster, to start as a standby.
type Cluster struct {
	Env     Env
	Base    string
	Primary *Server
	// StandbyData is a copy of the cluster taken before the primary
	// started; StartStandby runs it in recovery.
	StandbyData string
}

// NewCluster runs initdb once, copies the result and starts the primary.
// Close it even when it fails.
func NewCluster() (*Cluster, error) {
	env, err := Find()
	if err != nil {
		return nil, err
	}
	c := &Cluster{Env: env}
	if c.Base, err = env.TempDir(); err != nil {
		return c, err
	}
	data, sock := filepath.Join(c.Base, "data"), filepath.Join(c.Base, "sock")
	for _, d := range []string{data, sock} {
		if err := env.Mkdir(d); err != nil {
			return c, err
		}
	}
	if err := env.InitDB(data, "local all "+PasswordRole+" scram-sha-256"); err != nil {
		return c, err
	}
	c.StandbyData = filepath.Join(c.Base, "standby")
	if err := env.CopyCluster(data, c.StandbyData); err != nil {
		return c, err
	}
	port, err := FreePort()
	if err != nil {
		return c, err
	}
	if c.Primary, err = env.Start(data, sock, port, filepath.Join(c.Base, "primary.log")); err != nil {
		return c, fmt.Errorf("start PostgreSQL: %w", err)
	}
	return c, nil
}

// StartStandby starts the copy as a standby without hot standby and with
// no WAL source: it stays in recovery and answers every connection with
// 57P03. It returns once that answer is no longer "starting up".
func (c *Cluster) StartStandby() (*Server, error) {
	if err := c.Env.WriteFile(filepath.Join(c.StandbyData, "standby.signal"), ""); err != nil {
		return nil, err
	}
	sock := filepath.Join(c.Base, "standby-sock")
	if err := c.Env.Mkdir(sock); err != nil && !errors.Is(err, os.ErrExist) { // a second standby reuses it
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	inRecovery := func(r pgwire.Response) bool {
		return r.Status == pgwire.Rejecting && r.Message != "the database system is starting up"
	}
	return c.Env.start(c.StandbyData, sock, port, filepath.Join(c.Base, "standby.log"), inRecovery, []string{"hot_standby=off"})
}

// Close stops the primary and removes the directory.
func (c *Cluster) Close() {
	if c == nil {
		return
	}
	if c.Primary != nil {
		_ = c.Primary.Stop()
	}
	if c.Base != "" {
		_ = os.RemoveAll(c.Base)
	}
}

// Shared is the cluster a test package starts once in TestMain, or the
// reason there is none (its tests then skip, saying why).
type Shared struct {
	*Cluster
	skip string
}

// NewShared starts a cluster for a package's tests. Close it in TestMain.
func NewShared() *Shared {
	c, err := NewCluster()
	s := &Shared{Cluster: c}
	if err != nil {
		s.skip = err.Error()
	}
	return s
}

// Need returns the primary, or ends t through Missing (a skip, or a failure
// under PGDOCK_TEST_REQUIRE=1) when no PostgreSQL could be started.
func (s *Shared) Need(t testing.TB) *Server {
	t.Helper()
	if s.skip != "" {
		if Short() {
			t.Skip(s.skip)
		}
		Missing(t, "needs a real PostgreSQL 15: "+s.skip)
	}
	return s.Primary
}
