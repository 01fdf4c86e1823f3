package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pgdock/pgdock/entrypoint/internal/pluginhost"
)

// pluginStarts measures the plugin host directly: pluginhost.Start of the
// example plugin (checksum, process start, go-plugin handshake, Describe),
// the handshake part of it, and the idle plugin's RSS.
func (r *rig) pluginStarts(ctx context.Context) []Measure {
	n := r.cfg.settings().PluginRuns
	hs := newSeries("pluginhost.Start: Description.StartDuration (process start + handshake + connection)")
	rss := newSeries("example plugin VmRSS after start + settle")
	handshake := spec{id: "plugin_handshake", name: "plugin handshake, example (pluginhost)", unit: unitMs, showP95: true}
	pluginRSS := spec{id: "plugin_rss_idle", name: "plugin RSS, idle, example (pluginhost)", unit: unitMiB,
		goal: memoryGoal(15)}

	sb, err := r.newSandbox("plugins")
	if err != nil {
		return []Measure{handshake.failed(err), pluginRSS.failed(err)}
	}
	defer r.closeSandbox(sb)
	opts := pluginhost.Options{
		Dir:       r.pluginDir,
		Env:       map[string]string{"EXAMPLE_ENABLE": "true", "PATH": envValue(r.baseEnv, "PATH")},
		SocketDir: filepath.Join(sb.root, "p"),
	}
	sides := []side{{name: "example", s: hs, run: func() error { return r.pluginOnce(ctx, opts, hs, rss) }}}
	if err := interleave(n, sides, ctx.Err, func(round int, name string, err error) {
		r.progressRun("plugin start", round, n, name, hs, err)
	}); err != nil {
		return nil
	}
	rss.err = hs.err
	return []Measure{handshake.measure(hs, nil), pluginRSS.measure(rss, nil)}
}

func (r *rig) pluginOnce(ctx context.Context, opts pluginhost.Options, hs, rss *series) error {
	t0 := time.Now()
	m, err := pluginhost.Start(ctx, opts)
	total := time.Since(t0)
	if err != nil {
		return fmt.Errorf("pluginhost.Start: %w", err)
	}
	defer m.Stop()
	ds := m.Descriptions()
	if len(ds) != 1 {
		return fmt.Errorf("pluginhost.Start started %d plugins, want the example only (is bin/plugins/pgdock-plugin-example built?)", len(ds))
	}
	if err := sleepCtx(ctx, r.cfg.Settle); err != nil {
		return err
	}
	kb, err := rssKiB(ds[0].Pid)
	if err != nil {
		return err
	}
	hs.addDur(ds[0].StartDuration)
	hs.addPart("whole pluginhost.Start (checksum, start, handshake, Describe)", total)
	rss.add(float64(kb) / 1024)
	return nil
}

// envValue looks a variable up in a KEY=VALUE list, falling back to the
// process environment.
func envValue(env []string, key string) string {
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return os.Getenv(key)
}
