package app

import (
	"sort"

	"go.uber.org/zap"

	"github.com/pgdock/pgdock/entrypoint/internal/config"
)

func sortStrings(s []string) { sort.Strings(s) }

func zapPGData(c config.Config) zap.Field { return zap.String("pgdata", c.PGData) }
