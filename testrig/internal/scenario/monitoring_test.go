package scenario

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeGrafana answers the three API calls checkGrafana makes.
func fakeGrafana(t *testing.T, dsHealth, dashboards string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	auth := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); !ok || u != "admin" || p != "secret" {
				http.Error(w, `{"message":"invalid username or password"}`, http.StatusUnauthorized)
				return
			}
			h(w, r)
		}
	}
	mux.HandleFunc("/api/datasources", auth(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `[{"uid":"prometheus","name":"Prometheus","type":"prometheus"},{"uid":"x","name":"Loki","type":"loki"}]`)
	}))
	mux.HandleFunc("/api/datasources/uid/prometheus/health", auth(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, dsHealth)
	}))
	mux.HandleFunc("/api/search", auth(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "dash-db", r.URL.Query().Get("type"))
		fmt.Fprint(w, dashboards)
	}))
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func TestCheckGrafana(t *testing.T) {
	ok := `{"status":"OK","message":"Successfully queried the Prometheus API."}`
	dash := `[{"title":"PostgreSQL (pgdock)"}]`
	for _, tc := range []struct {
		name, health, dashboards, pass, wantErr string
	}{
		{"healthy with dashboard", ok, dash, "secret", ""},
		{"datasource down", `{"status":"ERROR","message":"connection refused"}`, dash, "secret", "ERROR connection refused"},
		{"no dashboard", ok, `[{"title":"Node"}]`, "secret", "no PostgreSQL dashboard"},
		{"wrong password", ok, dash, "nope", "401"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := fakeGrafana(t, tc.health, tc.dashboards)
			err := checkGrafana(context.Background(), s.URL, "admin", tc.pass, time.Second)
			if tc.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func fakePrometheus(t *testing.T, targets, query string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/targets", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, targets) })
	mux.HandleFunc("/api/v1/query", func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, `pg_up{job="postgres",instance="pgdock"}`, r.URL.Query().Get("query"))
		fmt.Fprint(w, query)
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func TestQueryPgUp(t *testing.T) {
	target := func(health string) string {
		return `{"status":"success","data":{"activeTargets":[
			{"labels":{"job":"prometheus","instance":"localhost:9090"},"scrapeUrl":"http://localhost:9090/metrics","health":"up"},
			{"labels":{"job":"postgres","instance":"pgdock"},"scrapeUrl":"http://postgres-exporter:9187/metrics","health":"` + health + `","lastError":"dial tcp: refused"}]}}`
	}
	sample := func(v string) string {
		return `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"pg_up","instance":"pgdock","job":"postgres"},"value":[1733241600.1,"` + v + `"]}]}}`
	}
	for _, tc := range []struct {
		name, targets, query, wantErr string
	}{
		{"up", target("up"), sample("1"), ""},
		{"exporter cannot reach postgres", target("up"), sample("0"), `= 0`},
		{"target down", target("down"), sample("1"), "is down: dial tcp: refused"},
		{"no exporter target", `{"status":"success","data":{"activeTargets":[]}}`, sample("1"), "no active scrape target on port 9187"},
		{"no sample yet", target("up"), `{"status":"success","data":{"result":[]}}`, "no sample yet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := fakePrometheus(t, tc.targets, tc.query)
			series, err := queryPgUp(context.Background(), s.URL, exporterPort)
			if tc.wantErr == "" {
				require.NoError(t, err)
				assert.Equal(t, `{__name__="pg_up",instance="pgdock",job="postgres"}`, series)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func TestWaitPgUpGivesUpWithTheLastReason(t *testing.T) {
	s := fakePrometheus(t, `{"status":"success","data":{"activeTargets":[]}}`, "{}")
	_, err := waitPgUp(context.Background(), s.URL, exporterPort, 600*time.Millisecond)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no active scrape target")
}
