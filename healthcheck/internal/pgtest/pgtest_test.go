package pgtest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/healthcheck/internal/pgwire"
)

func ping(t *testing.T, s *Server, user string) (pgwire.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return pgwire.Ping(ctx, "unix", s.SocketPath(), pgwire.Params{User: user, Database: "postgres"})
}

// TestCluster checks the rig itself: the primary accepts connections (trust
// for postgres, SCRAM for PasswordRole), the standby stays in recovery
// answering 57P03, and Stop really stops a server.
func TestCluster(t *testing.T) {
	c, err := NewCluster()
	t.Cleanup(c.Close)
	if _, findErr := Find(); findErr != nil {
		skipOrMissing(t, findErr)
	}
	require.NoError(t, err)

	resp, err := ping(t, c.Primary, "postgres")
	require.NoError(t, err)
	assert.Equal(t, pgwire.Accepting, resp.Status)
	assert.Equal(t, int32(0), resp.AuthRequest, "trust")
	resp, err = ping(t, c.Primary, PasswordRole)
	require.NoError(t, err)
	assert.Equal(t, int32(10), resp.AuthRequest, "SCRAM")
	pid, err := os.ReadFile(filepath.Join(c.Primary.DataDir, "postmaster.pid"))
	require.NoError(t, err)
	assert.Contains(t, string(pid), "\n"+c.Primary.SocketDir+"\n")
	assert.Positive(t, c.Primary.PID())

	standby, err := c.StartStandby()
	require.NoError(t, err)
	resp, err = ping(t, standby, "postgres")
	require.NoError(t, err)
	assert.Equal(t, pgwire.Rejecting, resp.Status)
	assert.Equal(t, pgwire.SQLStateCannotConnectNow, resp.Code)
	assert.Contains(t, standby.Log(), "entering standby mode")

	require.NoError(t, standby.Stop())
	require.NoError(t, standby.Stop(), "stopping twice is fine")
	_, err = ping(t, standby, "postgres")
	assert.Error(t, err, "stopped")
}

func TestStartFailsWithTheLog(t *testing.T) {
	env, err := Find()
	if err != nil {
		skipOrMissing(t, err)
	}
	base, err := env.TempDir()
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(base) })
	empty := filepath.Join(base, "empty")
	require.NoError(t, env.Mkdir(empty))
	_, err = env.Start(empty, base, 5432, filepath.Join(base, "log"))
	assert.ErrorContains(t, err, "postgres exited")
	assert.ErrorContains(t, err, "postgresql.conf", "the server's own complaint is in the error")
}

func TestFindHonoursBinDir(t *testing.T) {
	if Short() {
		t.Skip("-short: Find reports the short mode instead")
	}
	t.Setenv(EnvBinDir, t.TempDir())
	_, err := Find()
	assert.ErrorContains(t, err, "PostgreSQL 15 server binaries not found")
}

func TestFreePort(t *testing.T) {
	p, err := FreePort()
	require.NoError(t, err)
	assert.Positive(t, p)
}

// skipOrMissing skips t under -short (Find's error says so) and otherwise
// reports the missing PostgreSQL through Missing.
func skipOrMissing(t *testing.T, err error) {
	t.Helper()
	if Short() {
		t.Skip(err.Error())
	}
	Missing(t, err.Error())
}
