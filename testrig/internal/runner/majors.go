package runner

import (
	"context"
	"fmt"
	"strings"

	"github.com/docker/docker/errdefs"

	"github.com/pgdock/pgdock/testrig/internal/engine"
	"github.com/pgdock/pgdock/testrig/internal/scenario"
)

// ImageRef is the pgdock/postgres image of a PostgreSQL major, as `make
// image PG_MAJOR=<major>` tags it.
func ImageRef(major int) string { return fmt.Sprintf("pgdock/postgres:%d", major) }

// job is one scenario run: a scenario on one image (per-major runs carry
// the major in their name, e.g. direct-pg13), or a reason it cannot run.
type job struct {
	s       scenario.Scenario
	pg      scenario.PGImage
	missing string // not run: why
}

// imageInfo is what a run needs to know of a major's image; found false
// when the image is not on the Engine.
type imageInfo struct {
	found  bool
	pgdata string
	volume string
}

// plan orders the runs: with no majors, each scenario once as it is; with
// majors, the PerMajor (direct-mode) scenarios once per major, major by
// major, named <scenario>-pg<major>, then the other scenarios once on the
// default image. A major whose image is missing turns its runs into
// failures that say how to build it.
func plan(scenarios []scenario.Scenario, majors []int, images map[int]imageInfo) []job {
	if len(majors) == 0 {
		jobs := make([]job, len(scenarios))
		for i, s := range scenarios {
			jobs[i] = job{s: s}
		}
		return jobs
	}
	var jobs []job
	for _, m := range majors {
		info := images[m]
		pg := scenario.PGImage{Major: m, Ref: ImageRef(m), PGData: info.pgdata, Volume: info.volume}
		for _, s := range scenarios {
			if !s.PerMajor {
				continue
			}
			s.Name = fmt.Sprintf("%s-pg%d", s.Name, m)
			j := job{s: s, pg: pg}
			if !info.found {
				j.missing = fmt.Sprintf("image %s is not on this Engine: build it with `make image PG_MAJOR=%d`", pg.Ref, m)
			}
			jobs = append(jobs, j)
		}
	}
	for _, s := range scenarios {
		if !s.PerMajor {
			jobs = append(jobs, job{s: s})
		}
	}
	return jobs
}

// inspectMajors reads each major's image from the Engine: whether it is
// there, its PGDATA and its data volume.
func inspectMajors(ctx context.Context, d *engine.Driver, majors []int) (map[int]imageInfo, error) {
	out := map[int]imageInfo{}
	for _, m := range majors {
		img, err := d.Client().ImageInspect(ctx, ImageRef(m))
		if errdefs.IsNotFound(err) {
			out[m] = imageInfo{}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("runner: inspect image %s: %w", ImageRef(m), err)
		}
		info := imageInfo{found: true}
		if img.Config != nil {
			for _, kv := range img.Config.Env {
				if v, ok := strings.CutPrefix(kv, "PGDATA="); ok {
					info.pgdata = v
				}
			}
			info.volume = dataVolume(img.Config.Volumes, info.pgdata)
		}
		out[m] = info
	}
	return out, nil
}

// dataVolume is the declared volume holding pgdata (the longest prefix).
func dataVolume(volumes map[string]struct{}, pgdata string) string {
	best := ""
	for v := range volumes {
		v = strings.TrimSuffix(v, "/")
		if (pgdata == v || strings.HasPrefix(pgdata, v+"/")) && len(v) > len(best) {
			best = v
		}
	}
	return best
}

// envFor is the run's environment for a job: the major's image for the
// compose files (PGDOCK_IMAGE) and its layout.
func envFor(base scenario.Env, j job) scenario.Env {
	if j.pg.Ref == "" {
		return base
	}
	e := base
	e.PG = j.pg
	e.ComposeEnv = append(append([]string{}, base.ComposeEnv...), "PGDOCK_IMAGE="+j.pg.Ref)
	return e
}
