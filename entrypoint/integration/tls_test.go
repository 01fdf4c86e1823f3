package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/entrypoint/internal/testpg"
)

// writeCert makes a self-signed certificate and key (the key root-only, as a
// mounted secret would be).
func writeCert(t *testing.T, dir string) (crt, key string) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	require.NoError(t, err)
	kd, err := x509.MarshalECPrivateKey(k)
	require.NoError(t, err)
	crt, key = filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	require.NoError(t, os.WriteFile(crt, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))
	require.NoError(t, os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd}), 0o600))
	return crt, key
}

func TestTLSAndSeparateWALDirectory(t *testing.T) {
	s := newSite(t)
	if s.pg.Credential == nil {
		testpg.Missing(t, "needs root: the key is a root-only file the entrypoint must hand over")
	}
	crt, key := writeCert(t, s.base)
	wal := filepath.Join(s.base, "wal")
	s.set("POSTGRES_PASSWORD", "secret", "POSTGRESQL_TLS_CERT_FILE", crt, "POSTGRESQL_TLS_KEY_FILE", key, "POSTGRES_INITDB_WALDIR", wal)
	p := s.start()
	p.ready()
	assert.Equal(t, "on", s.query("postgres", "secret", "postgres", "SHOW ssl"))
	c, err := s.connect("postgres", "secret", "postgres")
	require.NoError(t, err)
	c.Close(context.Background())
	cfg := s.connConfig("postgres", "secret", "postgres")
	cfg.TLSConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // self-signed test certificate
	tc, err := connectConfig(cfg)
	require.NoError(t, err)
	var ssl bool
	require.NoError(t, tc.QueryRow(context.Background(), "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl))
	assert.True(t, ssl, "the session is encrypted")
	tc.Close(context.Background())

	link, err := os.Readlink(filepath.Join(s.PGData, "pg_wal"))
	require.NoError(t, err)
	assert.Equal(t, wal, link)
	fi, err := os.Stat(wal)
	require.NoError(t, err)
	assert.EqualValues(t, s.pg.Owner.UID, fi.Sys().(*syscall.Stat_t).Uid)
	p.signal(syscall.SIGTERM)
	assert.Equal(t, 0, p.wait(30*time.Second))
}
