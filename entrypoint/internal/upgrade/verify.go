package upgrade

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"go.uber.org/zap"
)

// verify starts the new server in the staging directory and checks that it
// answers as the old superuser with the old databases, updates extensions
// pg_upgrade found outdated (its update_extensions.sql), rebuilds the
// planner statistics (vacuumdb --all --analyze-in-stages) and stops it.
func (o *Options) verify(ctx context.Context, st State) (err error) {
	p := pathsOf(o.PGData)
	srv, err := o.startServer(ctx, o.Bin.Postgres, p.newData(), newPort, o.env())
	if err != nil {
		return fmt.Errorf("the new PostgreSQL %d server did not start: %w", st.To, err)
	}
	defer func() {
		if serr := o.stopServer(srv); serr != nil && err == nil {
			err = serr
		}
	}()
	user := st.Superuser
	if user == "" {
		user = o.User
	}
	var num int
	var dbs []string
	row, err := o.psqlOne(ctx, newPort, user, "template1", "SELECT current_setting('server_version_num')", 1)
	if connFailed(err) {
		return fmt.Errorf("the new server does not answer: %w", err)
	}
	if err == nil {
		if num, err = strconv.Atoi(row[0]); err != nil {
			err = fmt.Errorf("server_version_num %q: %w", row[0], err)
		}
	}
	if err == nil {
		dbs, err = o.databases(ctx, newPort, user)
	}
	if err != nil {
		return fmt.Errorf("query the new server: %w", err)
	}
	if num/10000 != st.To {
		return fmt.Errorf("the new server is version %d, not PostgreSQL %d", num, st.To)
	}
	for _, d := range st.Databases {
		if !slices.Contains(dbs, d) {
			return fmt.Errorf("database %q of the old cluster is missing in the new one (it has %v)", d, dbs)
		}
	}
	o.Log.Info("upgrade: the new server answers", zap.Int("server_version_num", num), zap.Strings("databases", dbs))
	env := o.env("PGHOST="+o.SocketDir, "PGPORT="+strconv.Itoa(newPort), "PGUSER="+user, "PGAPPNAME=pgdock-upgrade")
	if sql := filepath.Join(p.work(), "update_extensions.sql"); exists(sql) {
		o.Log.Info("upgrade: updating extensions pg_upgrade found outdated (update_extensions.sql)")
		if _, err := o.run(ctx, p.work(), env, o.Stdout, o.Bin.Psql, "-X", "-v", "ON_ERROR_STOP=1", "--dbname=template1", "-f", sql); err != nil {
			return fmt.Errorf("update extensions: %w", err)
		}
		_ = os.Rename(sql, sql+".done")
	}
	vacuumdb := filepath.Join(o.Bin.Dir, "vacuumdb")
	if _, err := o.run(ctx, p.work(), env, o.Stdout, vacuumdb, "--all", "--analyze-in-stages"); err != nil {
		return fmt.Errorf("rebuild statistics: %w", err)
	}
	return nil
}
