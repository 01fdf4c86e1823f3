package runner

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/pgdock/pgdock/testrig/internal/scenario"
)

func names(jobs []job) []string {
	var out []string
	for _, j := range jobs {
		out = append(out, j.s.Name)
	}
	return out
}

func TestPlanPerMajor(t *testing.T) {
	ss := []scenario.Scenario{{Name: "direct", PerMajor: true}, {Name: "monitoring"}, {Name: "sleep", PerMajor: true}}

	jobs := plan(ss, nil, nil)
	assert.Equal(t, []string{"direct", "monitoring", "sleep"}, names(jobs), "no --pg: as before")
	for _, j := range jobs {
		assert.Empty(t, j.pg.Ref)
	}

	images := map[int]imageInfo{
		13: {found: true, pgdata: "/var/lib/postgresql/data", volume: "/var/lib/postgresql/data"},
		18: {found: true, pgdata: "/var/lib/postgresql/18/docker", volume: "/var/lib/postgresql"},
	}
	jobs = plan(ss, []int{13, 17, 18}, images)
	assert.Equal(t, []string{"direct-pg13", "sleep-pg13", "direct-pg17", "sleep-pg17", "direct-pg18", "sleep-pg18", "monitoring"}, names(jobs))
	assert.Equal(t, scenario.PGImage{Major: 13, Ref: "pgdock/postgres:13", PGData: "/var/lib/postgresql/data", Volume: "/var/lib/postgresql/data"}, jobs[0].pg)
	assert.Empty(t, jobs[0].missing)
	assert.Equal(t, "image pgdock/postgres:17 is not on this Engine: build it with `make image PG_MAJOR=17`", jobs[2].missing)
	assert.Equal(t, "/var/lib/postgresql", jobs[4].pg.Volume)
	assert.Empty(t, jobs[6].pg.Ref, "a scenario that is not per major runs once on the default image")

	env := envFor(scenario.Env{ComposeEnv: []string{"A=1"}}, jobs[4])
	assert.Equal(t, []string{"A=1", "PGDOCK_IMAGE=pgdock/postgres:18"}, env.ComposeEnv)
	assert.Equal(t, "/var/lib/postgresql/18/docker", env.PGDataDir())
	assert.Equal(t, "/var/lib/postgresql", env.VolumeDir())
	assert.Equal(t, scenario.DefaultPGData, envFor(scenario.Env{}, jobs[6]).PGDataDir())
}

func TestDataVolume(t *testing.T) {
	vols := map[string]struct{}{"/var/lib/postgresql": {}, "/other": {}}
	assert.Equal(t, "/var/lib/postgresql", dataVolume(vols, "/var/lib/postgresql/18/docker"))
	assert.Equal(t, "/var/lib/postgresql/data", dataVolume(map[string]struct{}{"/var/lib/postgresql/data": {}}, "/var/lib/postgresql/data"))
	assert.Equal(t, "", dataVolume(vols, "/srv/pg"))
	assert.Equal(t, "", dataVolume(map[string]struct{}{"/var/lib/postgres": {}}, "/var/lib/postgresql/data"), "a prefix of the name is no parent")
}
