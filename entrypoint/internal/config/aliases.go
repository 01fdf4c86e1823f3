package config

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Alias maps a legacy variable of the shell container pgdock replaces to its
// current name. A used alias logs one deprecation warning; setting both names
// to different values is an error.
type Alias struct {
	Old string // legacy name (with Prefix: a name prefix)
	New string // current name (with Prefix: the prefix replacing Old)
	// Prefix makes Old and New prefixes: Old<X> maps to New<X>.
	Prefix bool
	// Bool marks boolean variables, whose values are compared as booleans
	// (USE_PATRONI=TRUE and PATRONI_ENABLE=on agree).
	Bool bool
}

// aliasTable is applied in order.
var aliasTable = []Alias{
	{Old: "USE_PATRONI", New: "PATRONI_ENABLE", Bool: true},
	{Old: "BACKUP_ENABLED", New: "PGBACKREST_ENABLE", Bool: true},
	{Old: "ENABLE_PGBACKREST", New: "PGBACKREST_ENABLE", Bool: true},
	{Old: "PGBACKUP", New: "PGBACKREST_REPO_PATH"},
	{Old: "PGRUN", New: "POSTGRESQL_UNIX_SOCKET_DIRECTORIES"},
	{Old: "POSTGRESQL_PORT", New: "PGPORT"},
	{Old: "PATRONI_REPLICATION_USER", New: "REPLICATION_USER"},
	{Old: "PATRONI_REPLICATION_PASSWORD", New: "REPLICATION_PASSWORD"},
	{Old: "PGBACKREST_AUTO_FULL_CRON", New: "PGBACKREST_SCHEDULE_FULL"},
	{Old: "PGBACKREST_AUTO_DIFF_CRON", New: "PGBACKREST_SCHEDULE_DIFF"},
	{Old: "PGBACKREST_AUTO_INCR_CRON", New: "PGBACKREST_SCHEDULE_INCR"},
	{Old: "EXTERNAL_ACCESS_METHOD", New: "POSTGRES_HOST_AUTH_METHOD"},
	{Old: "PGBACKREST_REPO1_", New: "PGBACKREST_REPO_", Prefix: true},
}

// Aliases returns the legacy-name table, in the order it is applied.
func Aliases() []Alias { return slices.Clone(aliasTable) }

// applyAliases moves every legacy variable to its new name in l.env.
func (l *loader) applyAliases() {
	for _, a := range aliasTable {
		if !a.Prefix {
			l.applyAlias(a, a.Old, a.New)
			continue
		}
		var olds []string
		for k := range l.env {
			if strings.HasPrefix(k, a.Old) && len(k) > len(a.Old) {
				olds = append(olds, k)
			}
		}
		sort.Strings(olds)
		for _, old := range olds {
			l.applyAlias(a, old, a.New+strings.TrimPrefix(old, a.Old))
		}
	}
}

func (l *loader) applyAlias(a Alias, oldName, newName string) {
	oldVal, ok := l.env[oldName]
	if !ok {
		return
	}
	delete(l.env, oldName)
	if oldVal == "" {
		return
	}
	l.warn(fmt.Sprintf("%s is deprecated; use %s instead", oldName, newName))
	cur := l.env[newName]
	if cur == "" {
		l.env[newName] = oldVal
		l.origin[newName] = oldName
		return
	}
	if sameValue(a, cur, oldVal) {
		return
	}
	by := newName
	if o, ok := l.origin[newName]; ok {
		by = o
	}
	l.problem(oldName, oldVal, fmt.Sprintf("conflicts with %s=%q; set only %s", by, displayValue(newName, cur), newName))
}

func sameValue(a Alias, x, y string) bool {
	if a.Bool {
		bx, errx := ParseBool(x)
		by, erry := ParseBool(y)
		if errx == nil && erry == nil {
			return bx == by
		}
	}
	return x == y
}
