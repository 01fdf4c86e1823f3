package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// healthchecks measures `pgdock-healthcheck readiness` against pg_isready on
// the same running server (same socket directory and port), interleaved,
// and their peak RSS.
func (r *rig) healthchecks(ctx context.Context, sb *sandbox) []Measure {
	n := r.cfg.HealthRuns
	hcLat := newSeries("pgdock-healthcheck --state-dir <state> readiness")
	prLat := newSeries("pg_isready -h <socket dir> -p <port> (" + r.pgIsReady + ")")
	hcRSS := newSeries("pgdock-healthcheck peak RSS (GNU time %M)")
	prRSS := newSeries("pg_isready peak RSS (GNU time %M)")
	latency := spec{id: "healthcheck_latency", name: "healthcheck readiness latency, vs pg_isready", unit: unitMs,
		goal: &Goal{Text: "p50 <= pg_isready", Basis: BasisDiffAbs, Limit: 0}, diffShown: DiffShownAbs, showP95: true,
		note: "process start to exit, one protocol ping each over the unix socket, run as root; cells show p50 (p95)"}
	rss := spec{id: "healthcheck_rss", name: "healthcheck peak RSS, vs pg_isready", unit: unitMiB,
		goal: memoryGoal(20), diffShown: DiffShownAbs,
		note: "max RSS from GNU time -f %M (wait4's ru_maxrss of a child of the bench would include the bench's own RSS: Go starts children vfork-style)"}

	e, err := r.startEntrypoint(sb, "entrypoint.log", nil)
	if err != nil {
		return []Measure{latency.failed(err), rss.failed(err)}
	}
	defer e.abort()
	if _, err := e.waitFor(ctx, patReady, readyTimeout); err != nil {
		return []Measure{latency.failed(err), rss.failed(err)}
	}
	// As root, like a Docker HEALTHCHECK; no server-user credential.
	hc := procSpec{Path: r.healthcheck, Args: []string{"--state-dir", sb.state, "readiness"}, Env: r.baseEnv, Dir: sb.root}
	pr := procSpec{Path: r.pgIsReady, Args: []string{"-h", sb.sock, "-p", strconv.Itoa(sb.port), "-U", serverUser, "-d", serverUser},
		Env: r.baseEnv, Dir: sb.root}
	sides := []side{
		{name: "healthcheck", s: hcLat, run: func() error { return probe(ctx, "pgdock-healthcheck", hc, hcLat) }},
		{name: "pg_isready", s: prLat, run: func() error { return probe(ctx, "pg_isready", pr, prLat) }},
	}
	if err := interleave(n, sides, ctx.Err, func(round int, name string, err error) {
		if err != nil || round%50 == 0 {
			r.progressRun("health probe", round, n, name, sidesSeries(sides, name), err)
		}
	}); err != nil {
		return nil
	}
	rssOut := []Measure{}
	if gnuTime, err := findGNUTime(); err != nil {
		rssOut = append(rssOut, rss.notMeasured(err.Error(), nil))
	} else {
		m := max(5, n/10)
		out := filepath.Join(sb.logDir, "time.out")
		sides := []side{
			{name: "healthcheck", s: hcRSS, run: func() error { return peakRSS(ctx, gnuTime, out, hc, hcRSS) }},
			{name: "pg_isready", s: prRSS, run: func() error { return peakRSS(ctx, gnuTime, out, pr, prRSS) }},
		}
		if err := interleave(m, sides, ctx.Err, func(int, string, error) {}); err != nil {
			return nil
		}
		rssOut = append(rssOut, rss.measure(hcRSS, prRSS))
	}
	if _, err := e.stop(ctx); err != nil {
		hcLat.fail(fmt.Errorf("stopping the entrypoint afterwards: %w", err))
	}
	return append([]Measure{latency.measure(hcLat, prLat)}, rssOut...)
}

// probe runs one probe to completion and records its wall time; it must
// exit 0 (the server is ready).
func probe(ctx context.Context, name string, s procSpec, lat *series) error {
	t0 := time.Now()
	if err := runBounded(ctx, s.command()); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	lat.addDur(time.Since(t0))
	return nil
}

// peakRSS runs s under GNU time and records its maximum RSS.
func peakRSS(ctx context.Context, gnuTime, out string, s procSpec, rss *series) error {
	w := s
	w.Path, w.Args = gnuTime, append([]string{"-f", "%M", "-o", out, s.Path}, s.Args...)
	if err := runBounded(ctx, w.command()); err != nil {
		return fmt.Errorf("%s under %s: %w", filepath.Base(s.Path), gnuTime, err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return fmt.Errorf("read GNU time output: %w", err)
	}
	kb, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return fmt.Errorf("parse GNU time output %q: %w", data, err)
	}
	rss.add(float64(kb) / 1024)
	return nil
}

// runBounded runs cmd, killing it after 30 s or when ctx ends.
func runBounded(ctx context.Context, cmd *exec.Cmd) error {
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t := time.NewTimer(30 * time.Second)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
	case <-ctx.Done():
	}
	_ = cmd.Process.Kill()
	<-done
	return fmt.Errorf("did not finish within 30 s or was interrupted")
}

// findGNUTime finds GNU time's binary (not the shell keyword).
func findGNUTime() (string, error) {
	p, err := exec.LookPath("time")
	if err != nil {
		p = "/usr/bin/time"
	}
	out, err := exec.Command(p, "-f", "%M", "true").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("peak RSS needs GNU time (%s, Debian package `time`): %w", p, err)
	}
	if _, err := strconv.Atoi(strings.TrimSpace(string(out))); err != nil {
		return "", fmt.Errorf("%s is not GNU time (it printed %q for -f %%M)", p, out)
	}
	return p, nil
}

// healthWithPlugin measures `pgdock-healthcheck readiness` when it also
// probes a plugin (the example plugin's gRPC Health call, the code path of
// plugins/sdk/probe), against pg_isready on the same server, interleaved.
// Informational: the budget row is the plugin-less one above.
func (r *rig) healthWithPlugin(ctx context.Context, sb *sandbox) []Measure {
	n := max(10, r.cfg.HealthRuns/2)
	hcLat := newSeries("pgdock-healthcheck --state-dir <state> readiness (EXAMPLE_ENABLE=true)")
	prLat := newSeries("pg_isready -h <socket dir> -p <port> (" + r.pgIsReady + ")")
	latency := spec{id: "healthcheck_latency_plugin", name: "healthcheck readiness + example plugin probe, vs pg_isready", unit: unitMs,
		diffShown: DiffShownAbs, showP95: true,
		note: "informational: readiness also asks the example plugin for its health (one gRPC call over its unix socket, plugins/sdk/probe); pg_isready does not"}
	e, err := r.startEntrypoint(sb, "entrypoint-plugin-health.log", map[string]string{"EXAMPLE_ENABLE": "true"})
	if err != nil {
		return []Measure{latency.failed(err)}
	}
	defer e.abort()
	if _, err := e.waitFor(ctx, patReady, readyTimeout); err != nil {
		return []Measure{latency.failed(err)}
	}
	if len(sb.pluginPIDs()) == 0 {
		return []Measure{latency.notMeasured("the entrypoint started no plugin with EXAMPLE_ENABLE=true (no plugins in state.json)", nil)}
	}
	hc := procSpec{Path: r.healthcheck, Args: []string{"--state-dir", sb.state, "readiness"}, Env: r.baseEnv, Dir: sb.root}
	pr := procSpec{Path: r.pgIsReady, Args: []string{"-h", sb.sock, "-p", strconv.Itoa(sb.port), "-U", serverUser, "-d", serverUser},
		Env: r.baseEnv, Dir: sb.root}
	sides := []side{
		{name: "healthcheck+plugin", s: hcLat, run: func() error { return probe(ctx, "pgdock-healthcheck", hc, hcLat) }},
		{name: "pg_isready", s: prLat, run: func() error { return probe(ctx, "pg_isready", pr, prLat) }},
	}
	if err := interleave(n, sides, ctx.Err, func(round int, name string, err error) {
		if err != nil || round%50 == 0 {
			r.progressRun("health probe with plugin", round, n, name, sidesSeries(sides, name), err)
		}
	}); err != nil {
		return nil
	}
	if _, err := e.stop(ctx); err != nil {
		hcLat.fail(fmt.Errorf("stopping the entrypoint afterwards: %w", err))
	}
	return []Measure{latency.measure(hcLat, prLat)}
}
