package scenario

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/errdefs"
	"github.com/jackc/pgx/v5"

	"github.com/pgdock/pgdock/testrig/internal/engine"
)

// CitusCompose is the Citus stack's compose file.
const CitusCompose = "compose/citus/compose.yaml"

// DefaultImage is the compose files' default pgdock image.
const DefaultImage = "pgdock/postgres:15"

var (
	citusCoordinator = "coordinator"
	citusWorkers     = []string{"worker1", "worker2"}
)

// citusRows is how many rows the scenario distributes.
const citusRows = 1000

// Citus brings up compose/citus (a coordinator and two workers that
// register themselves) when the image has the Citus extension; otherwise it
// records a skip with the reason (Citus is not in Debian's archive, so the
// default image has none).
func Citus() Scenario {
	return Scenario{
		Name: "citus",
		Description: "compose/citus on an image with Citus: a coordinator and two workers (CITUS_ROLE) come up healthy, the workers registered themselves (pg_dist_node: two active workers, the coordinator's own host recorded); " +
			"a distributed table's rows land on both workers and read back through the coordinator; a worker restarted is still registered exactly once (no duplicate, nothing removed on stop). " +
			"Skipped with the reason when the image has no citus.control.",
		Timeout: 10 * time.Minute,
		Run:     runCitus,
	}
}

// imageRef is the pgdock image the compose files use in this run.
func (e Env) imageRef() string {
	if e.PG.Ref != "" {
		return e.PG.Ref
	}
	for _, kv := range e.ComposeEnv {
		if v, ok := strings.CutPrefix(kv, "PGDOCK_IMAGE="); ok && v != "" {
			return v
		}
	}
	if v := os.Getenv("PGDOCK_IMAGE"); v != "" {
		return v
	}
	return DefaultImage
}

// imageHasFile reports whether a file exists in an image, through a
// container that is created and removed without ever starting; the path's
// "<major>" is the image's PG_MAJOR.
func imageHasFile(ctx context.Context, d *engine.Driver, ref, file string) (bool, string, error) {
	img, err := d.Client().ImageInspect(ctx, ref)
	if err != nil {
		if errdefs.IsNotFound(err) {
			return false, "", fmt.Errorf("image %s not found (make image)", ref)
		}
		return false, "", err
	}
	major := ""
	if img.Config != nil {
		for _, kv := range img.Config.Env {
			if v, ok := strings.CutPrefix(kv, "PG_MAJOR="); ok {
				major = v
			}
		}
	}
	if major == "" {
		return false, "", fmt.Errorf("image %s has no PG_MAJOR in its environment", ref)
	}
	file = strings.ReplaceAll(file, "<major>", major)
	resp, err := d.Client().ContainerCreate(ctx, &container.Config{Image: ref, Entrypoint: []string{"true"}, Labels: d.Labels()}, nil, nil, nil, "")
	if err != nil {
		return false, file, fmt.Errorf("create a container of %s: %w", ref, err)
	}
	defer func() {
		_ = d.Client().ContainerRemove(context.WithoutCancel(ctx), resp.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
	}()
	_, err = d.Client().ContainerStatPath(ctx, resp.ID, file)
	switch {
	case err == nil:
		return true, file, nil
	case errdefs.IsNotFound(err):
		return false, file, nil
	default:
		return false, file, fmt.Errorf("stat %s in %s: %w", file, ref, err)
	}
}

type citusRun struct {
	t        *T
	st       *engine.Stack
	password string
	db       string
}

func runCitus(ctx context.Context, t *T) {
	ref := t.Env().imageRef()
	// Looking is not a check of its own: without Citus the scenario's only
	// check is the skip, so the scenario reports skip, never pass.
	has, control, err := imageHasFile(ctx, t.Env().Driver, ref, path.Join("/usr/share/postgresql/<major>/extension", "citus.control"))
	if err != nil {
		t.Fail("the image's Citus extension", err)
		return
	}
	if !has {
		t.Skip("citus", fmt.Sprintf("the image %s has no Citus (%s not found; Citus is not in Debian's archive: build the image with Citus from its apt repository, docs/images.md)", ref, control))
		return
	}
	r := &citusRun{t: t, password: randomPassword(), db: "citus"}
	spec := StackSpec{
		Files: []string{CitusCompose},
		Env:   []string{"POSTGRES_PASSWORD=" + r.password, "POSTGRES_DB=" + r.db},
		Adjust: func(p *types.Project) error {
			for _, s := range append([]string{citusCoordinator}, citusWorkers...) {
				if _, ok := p.Services[s]; !ok {
					return fmt.Errorf("no %s service in %s", s, CitusCompose)
				}
			}
			return nil
		},
	}
	up := time.Now()
	if !t.Check("up: create and start the stack", func() error {
		var err error
		r.st, err = t.Up(ctx, spec, engine.Hooks{
			Created: func(s string, at time.Time) { t.Mark(s, "created", at) },
			Started: func(s string, at time.Time) { t.Mark(s, "started", at) },
		})
		return err
	}) {
		return
	}
	t.Span("stack", "up", up, time.Now())
	for _, s := range append([]string{citusCoordinator}, citusWorkers...) {
		if !t.Check(s+" healthy", func() error {
			_, err := r.st.WaitHealthy(ctx, s, 3*time.Minute)
			return withLogs(ctx, r.st, s, err)
		}) {
			return
		}
	}
	if !t.Check("the workers registered themselves, the coordinator its own host", func() error { return r.checkNodes(ctx) }) {
		return
	}
	if !t.Check("a distributed table spreads over both workers", func() error { return r.distribute(ctx) }) {
		return
	}
	w := citusWorkers[0]
	if !t.Check(w+" restarted: still registered exactly once, rows intact", func() error {
		if _, err := r.st.Stop(ctx, w, 0); err != nil {
			return err
		}
		if err := r.st.Start(ctx, w); err != nil {
			return err
		}
		if _, err := r.st.WaitHealthy(ctx, w, 3*time.Minute); err != nil {
			return withLogs(ctx, r.st, w, err)
		}
		if err := r.checkNodes(ctx); err != nil {
			return err
		}
		return r.count(ctx)
	}) {
		return
	}
}

func (r *citusRun) connect(ctx context.Context) (*pgx.Conn, error) {
	addr, err := r.st.HostAddr(ctx, citusCoordinator, 5432)
	if err != nil {
		return nil, err
	}
	return pgConnect(ctx, addr, "postgres", r.password, r.db)
}

// checkNodes: pg_dist_node holds the coordinator (group 0, its advertised
// name) and each worker once, active.
func (r *citusRun) checkNodes(ctx context.Context) error {
	c, err := r.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	rows, err := c.Query(ctx, "SELECT nodename::text, nodeport, groupid, isactive FROM pg_catalog.pg_dist_node WHERE noderole = 'primary' ORDER BY groupid")
	if err != nil {
		return err
	}
	type node struct {
		name          string
		port, groupID int
		active        bool
	}
	nodes, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (node, error) {
		var n node
		err := row.Scan(&n.name, &n.port, &n.groupID, &n.active)
		return n, err
	})
	if err != nil {
		return err
	}
	var workers []string
	coordinator := false
	for _, n := range nodes {
		if n.groupID == 0 {
			coordinator = n.name == citusCoordinator && n.port == 5432
			continue
		}
		if !n.active {
			return fmt.Errorf("worker %s:%d is not active", n.name, n.port)
		}
		workers = append(workers, fmt.Sprintf("%s:%d", n.name, n.port))
	}
	if !coordinator {
		return fmt.Errorf("pg_dist_node has no coordinator entry %s:5432 (citus_set_coordinator_host): %v", citusCoordinator, nodes)
	}
	want := []string{citusWorkers[0] + ":5432", citusWorkers[1] + ":5432"}
	if strings.Join(sortedCopy(workers), ",") != strings.Join(want, ",") {
		return fmt.Errorf("workers in pg_dist_node: %v, want each of %v once", workers, want)
	}
	return nil
}

func sortedCopy(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	return out
}

func (r *citusRun) distribute(ctx context.Context) error {
	c, err := r.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	for _, q := range []string{
		"CREATE TABLE rig_events (id bigint PRIMARY KEY, payload text NOT NULL)",
		"SELECT create_distributed_table('rig_events', 'id')",
		fmt.Sprintf("INSERT INTO rig_events SELECT g, 'event ' || g FROM generate_series(1, %d) g", citusRows),
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	nodes, err := queryString(ctx, c, "SELECT count(DISTINCT nodename)::text FROM citus_shards WHERE table_name = 'rig_events'::regclass")
	if err != nil {
		return err
	}
	if nodes != "2" {
		return fmt.Errorf("rig_events' shards are on %s nodes, want 2", nodes)
	}
	return r.countWith(ctx, c)
}

func (r *citusRun) count(ctx context.Context) error {
	c, err := r.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	return r.countWith(ctx, c)
}

func (r *citusRun) countWith(ctx context.Context, c *pgx.Conn) error {
	n, err := queryString(ctx, c, "SELECT count(*)::text FROM rig_events")
	if err != nil {
		return err
	}
	if n != fmt.Sprint(citusRows) {
		return errors.New("rig_events has " + n + " rows through the coordinator, want " + fmt.Sprint(citusRows))
	}
	return nil
}
