package enginetest

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"
	"github.com/pgdock/pgdock/plugins/sdk/sdktest"
	"go.uber.org/zap/zaptest"

	"github.com/pgdock/pgdock/testrig/internal/engine"
)

// Driver connects to the Engine for runID, or reports the missing
// prerequisite.
func Driver(t testing.TB, runID string) *engine.Driver {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := engine.New(ctx, zaptest.NewLogger(t), runID)
	if err != nil {
		sdktest.Missing(t, fmt.Sprintf("a Docker Engine: %v", err))
		return nil
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// TinyImage builds the tiny program and imports it as an image whose
// entrypoint it is; the image is removed when the test ends.
func TinyImage(t testing.TB, d *engine.Driver) string {
	t.Helper()
	_, self, _, _ := runtime.Caller(0)
	bin := filepath.Join(t.TempDir(), "tiny")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = filepath.Join(filepath.Dir(self), "tiny")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build tiny: %v\n%s", err, out)
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(tw.WriteHeader(&tar.Header{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777}))
	must(tw.WriteHeader(&tar.Header{Name: "tiny", Mode: 0o755, Size: int64(len(b))}))
	_, err = tw.Write(b)
	must(err)
	must(tw.Close())

	ref := fmt.Sprintf("pgdock-testrig/tiny:test-%d-%s", os.Getpid(), t.Name())
	ref = sanitize(ref)
	ctx := context.Background()
	cli := d.Client()
	rc, err := cli.ImageImport(ctx, image.ImportSource{Source: &buf, SourceName: "-"}, ref, image.ImportOptions{
		Changes: []string{`ENTRYPOINT ["/tiny"]`},
	})
	must(err)
	_, _ = io.Copy(io.Discard, rc)
	_ = rc.Close()
	t.Cleanup(func() {
		_, _ = cli.ImageRemove(context.Background(), ref, image.RemoveOptions{Force: true, PruneChildren: true})
	})
	return ref
}

// sanitize makes a test name usable as an image tag.
func sanitize(ref string) string {
	out := []byte(ref)
	for i, c := range out {
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '/' || c == ':'
		if c >= 'A' && c <= 'Z' {
			out[i] = c + 'a' - 'A'
		} else if !ok {
			out[i] = '-'
		}
	}
	return string(out)
}

// RunID returns a run id unique to this test process.
func RunID(prefix string) string { return prefix + strconv.Itoa(os.Getpid()) }
