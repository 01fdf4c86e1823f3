package dashboard

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCommittedFileIsGenerated fails when someone edits the provisioned JSON
// by hand or changes the generator without regenerating
// (go run ./testrig/cmd/pgdock-dashboards from the repository root).
func TestCommittedFileIsGenerated(t *testing.T) {
	want, err := JSON()
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join("..", "..", "..", File))
	require.NoError(t, err)
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from the generator output: run go run ./testrig/cmd/pgdock-dashboards", File)
	}
}

func TestDashboardContent(t *testing.T) {
	b, err := JSON()
	require.NoError(t, err)
	var d struct {
		UID        string `json:"uid"`
		Title      string `json:"title"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Type  string `json:"type"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
		Panels []struct {
			ID         int    `json:"id"`
			Type       string `json:"type"`
			Title      string `json:"title"`
			Datasource struct {
				Type string `json:"type"`
				UID  string `json:"uid"`
			} `json:"datasource"`
			Targets []struct {
				RefID string `json:"refId"`
				Expr  string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(b, &d))
	assert.Equal(t, UID, d.UID)
	assert.Contains(t, d.Title, "PostgreSQL", "the monitoring scenario finds the dashboard by this word")

	vars := map[string]string{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v.Type
	}
	assert.Equal(t, "datasource", vars["datasource"])
	assert.Equal(t, "query", vars["instance"])

	ids := map[int]bool{}
	var exprs []string
	for _, p := range d.Panels {
		assert.False(t, ids[p.ID], "panel id %d used twice", p.ID)
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		assert.Equal(t, "prometheus", p.Datasource.Type, p.Title)
		assert.Equal(t, "${datasource}", p.Datasource.UID, p.Title)
		require.NotEmpty(t, p.Targets, p.Title)
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			assert.NotEmpty(t, tg.RefID, p.Title)
			assert.False(t, refs[tg.RefID], "%s: refId %s twice", p.Title, tg.RefID)
			refs[tg.RefID] = true
			assert.Contains(t, tg.Expr, `instance=~"$instance"`, p.Title)
			exprs = append(exprs, tg.Expr)
		}
	}
	all := strings.Join(exprs, "\n")
	for _, metric := range []string{"pg_up", "pg_stat_database_numbackends", "pg_stat_database_xact_commit", "pg_stat_database_blks_hit", "pg_database_size_bytes", "pg_replication_lag"} {
		assert.Contains(t, all, metric)
	}
}
