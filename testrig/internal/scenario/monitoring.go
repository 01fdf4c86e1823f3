package scenario

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"go.uber.org/zap"

	"github.com/pgdock/pgdock/testrig/internal/budget"
	"github.com/pgdock/pgdock/testrig/internal/composefile"
	"github.com/pgdock/pgdock/testrig/internal/engine"
)

// Monitoring brings up the monitoring stack: PostgreSQL, postgres_exporter
// and Prometheus, plus Grafana when its image is on the Engine.
func Monitoring() Scenario {
	return Scenario{
		Name:        "monitoring",
		Description: "compose/monitoring: Prometheus reports pg_up == 1 for the postgres_exporter target (asked over its HTTP API on a published loopback port); Grafana's provisioned Prometheus datasource is healthy and the PostgreSQL dashboard is present — skipped, with the reason, when no Grafana image is on the Engine.",
		Budgets: []budget.Budget{
			budget.PlanStartup, budget.PlanStartup.For(budget.MetricStackUp),
			budget.PlanShutdown, budget.GoalStop,
		},
		Run: runMonitoring,
	}
}

const (
	grafanaChecks = "grafana: datasource healthy, dashboard present"
	promPort      = 9090
	exporterPort  = 9187
	grafanaPort   = 3000
)

func runMonitoring(ctx context.Context, t *T) {
	password := randomPassword()
	env, err := secretEnv(t, password, 0, 0)
	if err != nil {
		t.Fail("password file", err)
		return
	}
	env = append(env,
		"PGDOCK_EXPORTER_PASSWORD=exp-"+NewRunID(),
		"PGDOCK_GRAFANA_PASSWORD=graf-"+NewRunID(),
	)
	pg, prom, grafana := svcPostgres, svcPrometheus, ""
	grafanaMissing := ""
	spec := StackSpec{
		Files:    []string{MonitoringCompose},
		Profiles: []string{"grafana"},
		Env:      env,
		Adjust: func(p *types.Project) error {
			for _, s := range []string{pg, prom, svcExporter} {
				if _, ok := p.Services[s]; !ok {
					return fmt.Errorf("no %s service in %s", s, MonitoringCompose)
				}
			}
			g, ok := p.Services[svcGrafana]
			if !ok {
				grafanaMissing = "the monitoring compose file has no grafana service"
				return nil
			}
			ok, err := t.Env().Driver.ImageExists(ctx, g.Image)
			if err != nil {
				return err
			}
			if !ok {
				// As a user without Grafana does: the stack without the
				// grafana profile.
				grafanaMissing = fmt.Sprintf("no Grafana image on this Engine: %s is not present locally, there is no registry to pull it from and Grafana is not in Debian's archive (the stack runs without the grafana profile)", g.Image)
				*p = *p.WithServicesDisabled(svcGrafana)
				return nil
			}
			grafana = svcGrafana
			return nil
		},
	}
	lane := "stack"
	up := time.Now()
	var st *engine.Stack
	if !t.Check("up: create and start the stack", func() error {
		var err error
		st, err = t.Up(ctx, spec, engine.Hooks{
			Created: func(s string, at time.Time) { t.Mark(lane, "created "+s, at) },
			Started: func(s string, at time.Time) { t.Mark(lane, "started "+s, at) },
		})
		return err
	}) {
		return
	}
	t.Span(lane, "up", up, time.Now())
	bt := bootTimes{Up: up}
	if !t.Check("postgres reaches healthy", func() error {
		b, err := bootPostgres(ctx, t, st, pg, "postgres", up, false)
		bt = b
		return err
	}) {
		return
	}
	t.Mark("postgres", "ready", bt.Ready)
	t.Mark("postgres", "healthy", bt.Healthy)
	t.Measure(budget.MetricHealthy, bt.Healthy.Sub(up))

	t.Check("prometheus: pg_up == 1 for the exporter target", func() error {
		addr, err := st.HostAddr(ctx, prom, promPort)
		if err != nil {
			return err
		}
		begin := time.Now()
		t.Step("waiting for pg_up == 1 in Prometheus")
		series, err := waitPgUp(ctx, "http://"+addr, exporterPort, 90*time.Second)
		if err != nil {
			return err
		}
		t.Span("prometheus", "wait for pg_up == 1", begin, time.Now())
		t.Mark("prometheus", "pg_up == 1", time.Now())
		t.Measure(budget.MetricStackUp, time.Since(up))
		t.Env().Log.Info("pg_up == 1", zap.String("series", series))
		return nil
	})

	if grafana == "" {
		t.Skip(grafanaChecks, grafanaMissing)
	} else {
		t.Check(grafanaChecks, func() error {
			addr, err := st.HostAddr(ctx, grafana, grafanaPort)
			if err != nil {
				return err
			}
			user, pass := grafanaAdmin(st.Project.Services[grafana])
			return checkGrafana(ctx, "http://"+addr, user, pass, 90*time.Second)
		})
	}

	// Stop the way compose down does: dependents first, then what they
	// depend on; postgres gets the pgdock budget, the others the plan's.
	order, err := composefile.ServiceOrder(st.Project)
	if err != nil {
		t.Fail("stop order", err)
		return
	}
	for i := len(order) - 1; i >= 0; i-- {
		s := order[i]
		if s == pg {
			timedStop(ctx, t, st, s, s, budget.MetricStop)
			continue
		}
		metric := budget.MetricStop + ":" + s
		t.Budget(budget.PlanShutdown.For(metric))
		timedStopNotKilled(ctx, t, st, s, s, metric)
	}
}

// waitPgUp polls Prometheus's HTTP API until the exporter's scrape target
// (the active target scraping port exporterPort) is up and pg_up of that
// target's job and instance is 1; it returns the series' labels.
func waitPgUp(ctx context.Context, base string, exporterPort int, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	last := "no answer yet"
	for {
		series, err := queryPgUp(ctx, base, exporterPort)
		if err == nil {
			return series, nil
		}
		last = err.Error()
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("pg_up never 1 for the exporter target within %s: %s", timeout, last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

type promTargets struct {
	Data struct {
		ActiveTargets []struct {
			Labels    map[string]string `json:"labels"`
			ScrapeURL string            `json:"scrapeUrl"`
			Health    string            `json:"health"`
			LastError string            `json:"lastError"`
		} `json:"activeTargets"`
	} `json:"data"`
}

type promResponse struct {
	Status string `json:"status"`
	Error  string `json:"error"`
	Data   struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	} `json:"data"`
}

func queryPgUp(ctx context.Context, base string, exporterPort int) (string, error) {
	var tg promTargets
	if err := getJSON(ctx, base+"/api/v1/targets?state=active", "", "", &tg); err != nil {
		return "", err
	}
	job, instance := "", ""
	for _, a := range tg.Data.ActiveTargets {
		u, err := url.Parse(a.ScrapeURL)
		if err != nil || u.Port() != fmt.Sprint(exporterPort) {
			continue
		}
		if a.Health != "up" {
			return "", fmt.Errorf("exporter target %s is %s: %s", a.ScrapeURL, a.Health, a.LastError)
		}
		job, instance = a.Labels["job"], a.Labels["instance"]
	}
	if job == "" {
		return "", fmt.Errorf("no active scrape target on port %d", exporterPort)
	}
	q := fmt.Sprintf(`pg_up{job=%q,instance=%q}`, job, instance)
	var r promResponse
	if err := getJSON(ctx, base+"/api/v1/query?query="+url.QueryEscape(q), "", "", &r); err != nil {
		return "", err
	}
	if r.Status != "success" {
		return "", fmt.Errorf("prometheus: %s %s", r.Status, r.Error)
	}
	if len(r.Data.Result) == 0 {
		return "", fmt.Errorf("%s has no sample yet", q)
	}
	s := r.Data.Result[0]
	v, _ := s.Value[1].(string)
	if v != "1" {
		return "", fmt.Errorf("%s = %s", fmtLabels(s.Metric), v)
	}
	return fmtLabels(s.Metric), nil
}

func fmtLabels(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, m[k])
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// grafanaAdmin reads the admin login the compose file gives Grafana
// (Grafana's defaults otherwise).
func grafanaAdmin(svc types.ServiceConfig) (string, string) {
	user, pass := "admin", "admin"
	if v := svc.Environment["GF_SECURITY_ADMIN_USER"]; v != nil {
		user = *v
	}
	if v := svc.Environment["GF_SECURITY_ADMIN_PASSWORD"]; v != nil {
		pass = *v
	}
	return user, pass
}

// checkGrafana waits for Grafana's API, then checks every provisioned
// Prometheus datasource is healthy and a PostgreSQL dashboard exists.
func checkGrafana(ctx context.Context, base, user, pass string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var ds []struct {
		UID  string `json:"uid"`
		Name string `json:"name"`
		Type string `json:"type"`
	}
	for {
		err := getJSON(ctx, base+"/api/datasources", user, pass, &ds)
		if err == nil {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("grafana API: %w", err)
		}
		time.Sleep(250 * time.Millisecond)
	}
	found := false
	for _, d := range ds {
		if d.Type != "prometheus" {
			continue
		}
		found = true
		var h struct {
			Status  string `json:"status"`
			Message string `json:"message"`
		}
		if err := getJSON(ctx, base+"/api/datasources/uid/"+url.PathEscape(d.UID)+"/health", user, pass, &h); err != nil {
			return fmt.Errorf("datasource %s health: %w", d.Name, err)
		}
		if h.Status != "OK" {
			return fmt.Errorf("datasource %s: %s %s", d.Name, h.Status, h.Message)
		}
	}
	if !found {
		return errors.New("no Prometheus datasource provisioned")
	}
	var dashboards []struct {
		Title string `json:"title"`
	}
	if err := getJSON(ctx, base+"/api/search?type=dash-db", user, pass, &dashboards); err != nil {
		return err
	}
	for _, d := range dashboards {
		if strings.Contains(d.Title, "PostgreSQL") {
			return nil
		}
	}
	return fmt.Errorf("no PostgreSQL dashboard among %d dashboards", len(dashboards))
}

func getJSON(ctx context.Context, u, user, pass string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %.200s", req.URL.Path, resp.Status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: %w", req.URL.Path, err)
	}
	return nil
}
