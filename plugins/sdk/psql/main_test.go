package psql

import (
	"os"
	"testing"

	"github.com/pgdock/pgdock/plugins/sdk/sdktest/pgserver"
)

func TestMain(m *testing.M) { os.Exit(pgserver.Run(m)) }
