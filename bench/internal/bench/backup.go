package bench

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The pgBackRest suite: one bare PostgreSQL server (started directly, as
// the server user) holding a pgbench database, backed up in full by
// pgBackRest and by pg_basebackup in the same run, interleaved, and each
// backup restored into an empty directory. pgBackRest is driven directly
// with a minimal configuration the bench writes (posix repository), with
// the settings of BackupConfig.

// BackupConfig are the pgBackRest suite's knobs.
type BackupConfig struct {
	Scale      int    // pgbench -i -s: about 15 MiB per unit (70 ≈ 1 GiB)
	Runs       int    // full backups and restores per side
	ProcessMax int    // pgBackRest process-max of the tuned side
	Compress   string // pgBackRest compress-type of the tuned side
}

// Defaults of BackupConfig: the scale keeps `make bench` short (-backup-scale
// 70 is the 1 GB database of the issue). ProcessMax and Compress are the
// side plugins/pgbackrest renders by default (lz4, one process per CPU:
// PGBACKREST_COMPRESS_TYPE, PGBACKREST_PROCESS_MAX); the other pgBackRest
// side runs pgBackRest's own defaults (no process-max, no compress-type:
// 1 and gz), for comparison.
const (
	DefaultBackupScale    = 10
	DefaultBackupRuns     = 2
	DefaultBackupCompress = "lz4"
	backupStanza          = "bench"
	backupTimeout         = 30 * time.Minute
)

// DefaultBackupProcessMax is pgBackRest's process-max: one per CPU.
func DefaultBackupProcessMax() int { return max(1, runtime.NumCPU()) }

var backupCompressTypes = []string{"none", "bz2", "gz", "lz4", "zst"}

func (c BackupConfig) validate() error {
	if c.Scale < 1 {
		return fmt.Errorf("backup scale %d: must be at least 1 (pgbench -i -s)", c.Scale)
	}
	if c.ProcessMax < 1 || c.ProcessMax > 999 {
		return fmt.Errorf("backup process-max %d: must be 1 to 999", c.ProcessMax)
	}
	if !slices.Contains(backupCompressTypes, c.Compress) {
		return fmt.Errorf("backup compress type %q: accepted are %s", c.Compress, strings.Join(backupCompressTypes, ", "))
	}
	return nil
}

func backupSpecs(bc BackupConfig) []spec {
	tuned := fmt.Sprintf("%s, process-max %d", bc.Compress, bc.ProcessMax)
	noSlower := func() *Goal { return &Goal{Text: "<= pg_basebackup", Basis: BasisDiffAbs, Limit: 0} }
	return []spec{
		{id: "backup_full_time_defaults", name: "pgBackRest full backup (pgBackRest's own defaults: gz, process-max 1), vs pg_basebackup", unit: unitS,
			diffShown: DiffShownPercent, showP95: true},
		{id: "backup_full_time", name: "pgBackRest full backup (plugin defaults: " + tuned + "), vs pg_basebackup", unit: unitS,
			goal: noSlower(), diffShown: DiffShownPercent, showP95: true},
		{id: "backup_full_size_defaults", name: "full backup size, pgBackRest (gz) vs pg_basebackup", unit: unitMiB, diffShown: DiffShownPercent},
		{id: "backup_full_size", name: "full backup size, pgBackRest (" + bc.Compress + ") vs pg_basebackup", unit: unitMiB, diffShown: DiffShownPercent},
		{id: "backup_restore_time_defaults", name: "restore, pgBackRest (gz, process-max 1) vs copy of pg_basebackup", unit: unitS, diffShown: DiffShownPercent, showP95: true},
		{id: "backup_restore_time", name: "restore, pgBackRest (" + tuned + ") vs copy of pg_basebackup", unit: unitS, diffShown: DiffShownPercent, showP95: true},
		{id: "backup_full_time_vs_lz4", name: "pgBackRest full backup (plugin defaults: " + tuned + "), vs pg_basebackup -Ft --compress=lz4", unit: unitS, diffShown: DiffShownPercent, showP95: true},
		{id: "backup_full_size_vs_lz4", name: "full backup size, pgBackRest (" + bc.Compress + ") vs pg_basebackup -Ft --compress=lz4", unit: unitMiB, diffShown: DiffShownPercent},
	}
}

// backupRig is the server and repository of the suite.
type backupRig struct {
	r       *rig
	sb      *sandbox
	out     *os.File
	server  *proc
	conf    string // pgbackrest.conf
	repo    string
	pgbackr string
	seq     int
}

// pgbackrestSide is one pgBackRest configuration: extra options of backup
// and restore (none: pgBackRest's own defaults).
type pgbackrestSide struct {
	opts                []string
	time, size, restore *series
}

func (r *rig) backups(ctx context.Context) []Measure {
	bc := r.cfg.Backup
	specs := backupSpecs(bc)
	pgbackr, err := lookTool("pgbackrest", "pgbackrest")
	if err != nil {
		return failAll(specs, err)
	}
	sb, out, done, err := r.bareSandbox("backup")
	if err != nil {
		return failAll(specs, err)
	}
	defer done()
	b := &backupRig{r: r, sb: sb, out: out, pgbackr: pgbackr}
	defer func() { directAbort(b.server) }()
	dbMiB, dataMiB, err := b.setup(ctx)
	if err != nil {
		return failAll(specs, err)
	}
	r.progress("pgbackrest: pgbench -i -s %d: database %.0f MiB, PGDATA %.0f MiB; tuned side: process-max %d, compress-type %s",
		bc.Scale, dbMiB, dataMiB, bc.ProcessMax, bc.Compress)

	def := &pgbackrestSide{
		time:    newSeries("pgbackrest backup --type=full with pgBackRest's own defaults (process-max 1, compress-type gz; start-fast=y)"),
		size:    newSeries("the backup's directory in the repository (du)"),
		restore: newSeries("pgbackrest restore --pg1-path=<empty dir> --set=<label>"),
	}
	tun := &pgbackrestSide{
		opts:    []string{"--process-max=" + strconv.Itoa(bc.ProcessMax), "--compress-type=" + bc.Compress},
		time:    newSeries(fmt.Sprintf("pgbackrest backup --type=full --process-max=%d --compress-type=%s (start-fast=y)", bc.ProcessMax, bc.Compress)),
		size:    newSeries("the backup's directory in the repository (du)"),
		restore: newSeries(fmt.Sprintf("pgbackrest restore --pg1-path=<empty dir> --set=<label> --process-max=%d", bc.ProcessMax)),
	}
	bbTime := newSeries("pg_basebackup -D <dir> -c fast -X stream (plain format, uncompressed)")
	bbSize := newSeries("pg_basebackup's directory (du)")
	bbRestore := newSeries("cp -a of pg_basebackup's directory + sync -f")
	bbzTime := newSeries("pg_basebackup -D <dir> -Ft --compress=lz4 -c fast -X stream (tar, compressed by pg_basebackup)")
	bbzSize := newSeries("pg_basebackup's compressed tar files (du)")
	sides := []side{
		{name: "pgbackrest (gz, 1 process)", s: def.time, run: func() error { return b.pgbackrestRound(ctx, def) }},
		{name: "pgbackrest (plugin defaults)", s: tun.time, run: func() error { return b.pgbackrestRound(ctx, tun) }},
		{name: "pg_basebackup", s: bbTime, run: func() error { return b.basebackupRound(ctx, bbTime, bbSize, bbRestore) }},
		{name: "pg_basebackup lz4", s: bbzTime, run: func() error { return b.basebackupLZ4Round(ctx, bbzTime, bbzSize) }},
	}
	if err := interleave(bc.Runs, sides, ctx.Err, func(round int, name string, err error) {
		if err != nil {
			r.progress("backup %d/%d %s: FAILED: %v", round, bc.Runs, name, err)
			return
		}
		s := sidesSeries(sides, name)
		r.progress("backup %d/%d %s: full backup %s", round, bc.Runs, name, lastSample(s, unitS))
	}); err != nil {
		return nil
	}
	for _, p := range [][2]*series{{def.time, def.size}, {def.time, def.restore}, {tun.time, tun.size}, {tun.time, tun.restore}, {bbTime, bbSize}, {bbTime, bbRestore}, {bbzTime, bbzSize}} {
		if p[0].err != nil {
			p[1].fail(p[0].err)
		}
	}
	size := fmt.Sprintf("pgbench -i -s %d: database %.0f MiB (pg_database_size), PGDATA %.0f MiB; ", bc.Scale, dbMiB, dataMiB)
	specs[0].note = size + fmt.Sprintf("pgBackRest %s driven directly with a minimal configuration (posix repo, start-fast=y, no process-max or compress-type: pgBackRest's own defaults 1 and gz); all three against the same running server, fsync on, interleaved; backup time is the command's wall time (it includes waiting for the last WAL segment to be archived)",
		r.pgbackrestVersion(ctx, pgbackr))
	specs[1].note = fmt.Sprintf("the same with --process-max=%d --compress-type=%s on the command line, what plugins/pgbackrest renders by default (-backup-process-max, -backup-compress change it)", bc.ProcessMax, bc.Compress)
	specs[2].note = "du of the backup's files (pgBackRest: compressed, with its manifest; WAL archived during the backup is in archive/, not counted) against pg_basebackup's plain copy (with the WAL it streamed)"
	specs[6].note = "informational: the same pgBackRest backups against pg_basebackup writing compressed tar files (lz4, one process, client-side): both sides compress"
	specs[4].note = "pgBackRest restores the backup into an empty directory (files synced); the reference copies pg_basebackup's plain output into place and syncs the filesystem; neither server is started afterwards"
	return []Measure{
		specs[0].measure(def.time, bbTime),
		specs[1].measure(tun.time, bbTime),
		specs[2].measure(def.size, bbSize),
		specs[3].measure(tun.size, bbSize),
		specs[4].measure(def.restore, bbRestore),
		specs[5].measure(tun.restore, bbRestore),
		specs[6].measure(tun.time, bbzTime),
		specs[7].measure(tun.size, bbzSize),
	}
}

func (r *rig) pgbackrestVersion(ctx context.Context, bin string) string {
	v, err := runOutput(ctx, bin, r.baseEnv, "version")
	if err != nil {
		return "(version unknown)"
	}
	return strings.TrimPrefix(v, "pgBackRest ")
}

// setup initialises PGDATA, loads pgbench's tables with archiving off, then
// restarts the server with archive_command = pgbackrest archive-push and
// creates the stanza. It returns the database's and PGDATA's sizes in MiB.
func (b *backupRig) setup(ctx context.Context) (dbMiB, dataMiB float64, err error) {
	r, sb := b.r, b.sb
	if _, _, err := r.initdb(ctx, sb, b.out); err != nil {
		return 0, 0, fmt.Errorf("initdb: %w", err)
	}
	if b.server, _, err = r.directStart(ctx, sb, b.out, false); err != nil {
		return 0, 0, err
	}
	r.progress("pgbackrest: loading pgbench -i -s %d (archiving off)", r.cfg.Backup.Scale)
	if _, err := runProc(ctx, "pgbench -i", r.bareSpec(sb, r.pgbench, b.out,
		"-i", "-q", "-s", strconv.Itoa(r.cfg.Backup.Scale), "-h", sb.sock, "-p", strconv.Itoa(sb.port), "-U", serverUser, serverUser), backupTimeout); err != nil {
		return 0, 0, fmt.Errorf("pgbench -i: %w; output:\n%s", err, tailFile(b.out.Name(), 20))
	}
	v, err := b.psql(ctx, "SELECT pg_database_size(current_database())")
	if err != nil {
		return 0, 0, err
	}
	bytes, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("pg_database_size: %q: %w", v, err)
	}
	if _, err := directStop(b.server); err != nil {
		return 0, 0, err
	}
	b.server = nil

	// The repository and pgBackRest's configuration, owned by the server user.
	cfgDir := filepath.Join(sb.root, "pgbackrest")
	b.repo = filepath.Join(sb.root, "repo")
	for _, d := range []string{cfgDir, b.repo, filepath.Join(cfgDir, "lock"), filepath.Join(cfgDir, "log")} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return 0, 0, fmt.Errorf("pgbackrest directories: %w", err)
		}
		if err := r.chown(d); err != nil {
			return 0, 0, err
		}
	}
	b.conf = filepath.Join(cfgDir, "pgbackrest.conf")
	conf := strings.Join([]string{
		"[global]",
		"repo1-type=posix",
		"repo1-path=" + b.repo,
		"repo1-retention-full=9999",
		"start-fast=y",
		"lock-path=" + filepath.Join(cfgDir, "lock"),
		"log-path=" + filepath.Join(cfgDir, "log"),
		"log-level-console=warn",
		"log-level-file=off",
		"",
		"[" + backupStanza + "]",
		"pg1-path=" + sb.data,
		"pg1-port=" + strconv.Itoa(sb.port),
		"pg1-socket-path=" + sb.sock,
		"pg1-user=" + serverUser,
		"",
	}, "\n")
	if err := os.WriteFile(b.conf, []byte(conf), 0o640); err != nil {
		return 0, 0, fmt.Errorf("write pgbackrest.conf: %w", err)
	}
	if err := r.chown(b.conf); err != nil {
		return 0, 0, err
	}
	f, err := os.OpenFile(filepath.Join(sb.data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return 0, 0, fmt.Errorf("postgresql.conf: %w", err)
	}
	_, err = fmt.Fprintf(f, "\n# pgdock-bench: archiving to pgBackRest\narchive_mode = on\narchive_command = '%s --config=%s --stanza=%s archive-push %%p'\n",
		b.pgbackr, b.conf, backupStanza)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, 0, fmt.Errorf("postgresql.conf: %w", err)
	}
	if b.server, _, err = r.directStart(ctx, sb, b.out, false); err != nil {
		return 0, 0, err
	}
	if _, err := b.pgbackrest(ctx, "stanza-create"); err != nil {
		return 0, 0, err
	}
	if _, err := b.pgbackrest(ctx, "check"); err != nil {
		return 0, 0, err
	}
	return bytes / (1 << 20), duMiB(sb.data), nil
}

func (b *backupRig) psql(ctx context.Context, sql string) (string, error) {
	out, err := runAs(ctx, b.r, filepath.Join(b.r.pg.Dir, "psql"), "-X", "-A", "-t", "-q", "-h", b.sb.sock, "-p", strconv.Itoa(b.sb.port), "-U", serverUser, "-d", serverUser, "-c", sql)
	if err != nil {
		return "", fmt.Errorf("psql %q: %w", sql, err)
	}
	return out, nil
}

// pgbackrest runs one pgBackRest command as the server user and returns its
// wall time.
func (b *backupRig) pgbackrest(ctx context.Context, args ...string) (time.Duration, error) {
	args = append([]string{"--config=" + b.conf, "--stanza=" + backupStanza}, args...)
	d, err := runProc(ctx, "pgbackrest "+args[2], b.r.bareSpec(b.sb, b.pgbackr, b.out, args...), backupTimeout)
	if err != nil {
		return 0, fmt.Errorf("%w; output:\n%s", err, tailFile(b.out.Name(), 20))
	}
	return d, nil
}

// newTarget is an empty directory for a backup or a restore, owned by the
// server user (0700, like PGDATA).
func (b *backupRig) newTarget(name string) (string, error) {
	b.seq++
	d := filepath.Join(b.sb.root, fmt.Sprintf("%s-%d", name, b.seq))
	if err := os.Mkdir(d, 0o700); err != nil {
		return "", fmt.Errorf("create %s: %w", d, err)
	}
	return d, b.r.chown(d)
}

// drop removes a directory (untimed) and flushes what it left dirty.
func drop(dir string) {
	_ = os.RemoveAll(dir)
	syscall.Sync()
}

func (b *backupRig) pgbackrestRound(ctx context.Context, sd *pgbackrestSide) error {
	syscall.Sync()
	before := backupLabels(b.repo)
	d, err := b.pgbackrest(ctx, append([]string{"backup", "--type=full"}, sd.opts...)...)
	if err != nil {
		return err
	}
	var label string
	for _, l := range backupLabels(b.repo) {
		if !slices.Contains(before, l) {
			label = l
		}
	}
	if label == "" {
		return fmt.Errorf("no new backup in %s after pgbackrest backup", b.repo)
	}
	sd.time.add(d.Seconds())
	sd.size.add(duMiB(filepath.Join(b.repo, "backup", backupStanza, label)))
	target, err := b.newTarget("restore")
	if err != nil {
		return err
	}
	defer drop(target)
	syscall.Sync()
	opts := []string{"restore", "--pg1-path=" + target, "--set=" + label}
	for _, o := range sd.opts {
		if strings.HasPrefix(o, "--process-max=") {
			opts = append(opts, o)
		}
	}
	rd, err := b.pgbackrest(ctx, opts...)
	if err != nil {
		return err
	}
	sd.restore.add(rd.Seconds())
	return nil
}

func (b *backupRig) basebackupRound(ctx context.Context, t, size, restore *series) error {
	dir, err := b.newTarget("basebackup")
	if err != nil {
		return err
	}
	defer drop(dir)
	d, err := b.basebackup(ctx, dir)
	if err != nil {
		return err
	}
	t.add(d.Seconds())
	size.add(duMiB(dir))
	target, err := b.newTarget("restore")
	if err != nil {
		return err
	}
	defer drop(target)
	syscall.Sync()
	start := time.Now()
	if _, err := runProc(ctx, "cp -a", b.r.bareSpec(b.sb, "/bin/cp", b.out, "-a", dir+"/.", target), backupTimeout); err != nil {
		return err
	}
	if _, err := runProc(ctx, "sync -f", b.r.bareSpec(b.sb, "/bin/sync", b.out, "-f", target), backupTimeout); err != nil {
		return err
	}
	restore.add(time.Since(start).Seconds())
	return nil
}

// basebackup runs pg_basebackup -c fast -X stream into dir (after a
// sync), with extra options, and returns its wall time.
func (b *backupRig) basebackup(ctx context.Context, dir string, extra ...string) (time.Duration, error) {
	syscall.Sync()
	args := append([]string{"-D", dir}, extra...)
	args = append(args, "-h", b.sb.sock, "-p", strconv.Itoa(b.sb.port), "-U", serverUser, "-c", "fast", "-X", "stream")
	d, err := runProc(ctx, strings.TrimSpace("pg_basebackup "+strings.Join(extra, " ")), b.r.bareSpec(b.sb, filepath.Join(b.r.pg.Dir, "pg_basebackup"), b.out, args...), backupTimeout)
	if err != nil {
		return 0, fmt.Errorf("%w; output:\n%s", err, tailFile(b.out.Name(), 20))
	}
	return d, nil
}

// basebackupLZ4Round is pg_basebackup with compression: tar format, lz4
// (client-side, pg_basebackup's default location), WAL streamed.
func (b *backupRig) basebackupLZ4Round(ctx context.Context, t, size *series) error {
	dir, err := b.newTarget("basebackup-lz4")
	if err != nil {
		return err
	}
	defer drop(dir)
	d, err := b.basebackup(ctx, dir, "-Ft", "--compress=lz4")
	if err != nil {
		return err
	}
	t.add(d.Seconds())
	size.add(duMiB(dir))
	return nil
}

// backupLabels lists the backup labels in the repository (YYYYMMDD-HHMMSSF).
func backupLabels(repo string) []string {
	entries, err := os.ReadDir(filepath.Join(repo, "backup", backupStanza))
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && strings.HasSuffix(e.Name(), "F") && len(e.Name()) >= 16 {
			out = append(out, e.Name())
		}
	}
	return out
}

// duMiB is the disk usage of a tree (allocated blocks), in MiB.
func duMiB(root string) float64 {
	var total int64
	_ = filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			total += st.Blocks * 512
		}
		return nil
	})
	return float64(total) / (1 << 20)
}

// runAs runs a short command as the server user and returns its output.
func runAs(ctx context.Context, r *rig, path string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return runOutputCred(ctx, path, r.baseEnv, r.cred(), args...)
}
