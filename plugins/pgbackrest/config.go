package pgbackrest

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/pgdock/pgdock/plugins/sdk"
)

// Variables the plugin reads (legacy names are mapped by the host's loader:
// BACKUP_ENABLED, PGBACKUP, PGBACKREST_REPO1_*, PGBACKREST_AUTO_*_CRON).
const (
	EnvPrefix             = "PGBACKREST_"
	EnvEnable             = "PGBACKREST_ENABLE"
	EnvStanza             = "PGBACKREST_STANZA"
	EnvRepoType           = "PGBACKREST_REPO_TYPE"
	EnvRepoPath           = "PGBACKREST_REPO_PATH"
	EnvRetentionFull      = "PGBACKREST_REPO_RETENTION_FULL"
	EnvRetentionDiff      = "PGBACKREST_REPO_RETENTION_DIFF"
	EnvCipherType         = "PGBACKREST_REPO_CIPHER_TYPE"
	EnvCipherPass         = "PGBACKREST_REPO_CIPHER_PASS"
	EnvArchiveEnable      = "PGBACKREST_ARCHIVE_ENABLE"
	EnvArchiveTimeout     = "PGBACKREST_ARCHIVE_TIMEOUT"
	EnvArchiveTimeoutBare = "ARCHIVE_TIMEOUT" // the contract's spelling
	EnvScheduleFull       = "PGBACKREST_SCHEDULE_FULL"
	EnvScheduleDiff       = "PGBACKREST_SCHEDULE_DIFF"
	EnvScheduleIncr       = "PGBACKREST_SCHEDULE_INCR"
	EnvAutoEnable         = "PGBACKREST_AUTO_ENABLE"
	EnvProcessMax         = "PGBACKREST_PROCESS_MAX"
	EnvCompressType       = "PGBACKREST_COMPRESS_TYPE"
	EnvCompressLevel      = "PGBACKREST_COMPRESS_LEVEL"
	EnvStartFast          = "PGBACKREST_BACKUP_START_FAST"
	EnvBackupTimeout      = "PGBACKREST_BACKUP_TIMEOUT"
	EnvStanzaCreateFatal  = "PGBACKREST_STANZA_CREATE_FATAL"
	EnvRestore            = "PGBACKREST_RESTORE"
	EnvRestoreType        = "PGBACKREST_RESTORE_TYPE"
	EnvRestoreTarget      = "PGBACKREST_RESTORE_TARGET"
	EnvRestoreAction      = "PGBACKREST_RESTORE_TARGET_ACTION"
	EnvRestoreTimeline    = "PGBACKREST_RESTORE_TARGET_TIMELINE"
	EnvRestoreSet         = "PGBACKREST_RESTORE_SET"
	EnvRestoreForce       = "PGBACKREST_RESTORE_FORCE"
	EnvPGData             = "PGDATA"
	envAWSRoleARN         = "AWS_ROLE_ARN"
	envAWSTokenFile       = "AWS_WEB_IDENTITY_TOKEN_FILE"
	EnvPostgresUser       = "POSTGRES_USER"

	DefaultStanza         = "default"
	DefaultRepoPath       = "/var/lib/pgbackrest"
	DefaultCloudRepoPath  = "/pgbackrest"
	DefaultRetentionFull  = 2
	DefaultRetentionDiff  = 6
	DefaultArchiveTimeout = "1800s"
	// DefaultCompressType is lz4: pgBackRest's gz at one process was 4-8x
	// slower than pg_basebackup in docs/performance.md's runs.
	DefaultCompressType = "lz4"
)

// Legacy scheduler defaults (PGBACKREST_AUTO_ENABLE=true with no schedule
// variable set), as the shell container's backup-scheduler had them.
const (
	legacyFullCron = "0 2 * * *"
	legacyDiffCron = "20 2,8,14,20 * * *"
	legacyIncrCron = "*/15 * * * *"
)

// ignoredLegacy are variables of the shell container that mean nothing
// here; they are accepted (and logged) rather than refused.
var ignoredLegacy = []string{
	"PGBACKREST_PASSWORD", "PGBACKREST_STANZA_CREATE_ON_PRIMARY_ONLY", "PGBACKREST_STANZA_PRIMARY_WAIT",
	"PGBACKREST_AUTO_FIRST_INCR_DELAY", "PGBACKREST_AUTO_PRIMARY_ONLY", "PGBACKREST_AUTO_TIMEZONE",
	"PGBACKREST_AUTO_STATE_DIR",
}

// Repository types.
const (
	RepoPosix = "posix"
	RepoS3    = "s3"
	RepoGCS   = "gcs"
	RepoAzure = "azure"
	RepoSFTP  = "sftp"
)

// option is one PGBACKREST_REPO_<SUFFIX> variable rendered as repo1-<key>.
type option struct {
	suffix string   // after PGBACKREST_REPO_
	key    string   // pgBackRest option without the "repo1-" prefix
	types  []string // repository types it applies to; nil = every type
	secret bool
	kind   string   // "", "bool", "port", "int"
	enum   []string // accepted values, when not empty
}

// repoOptions are the repository variables beyond type, path, retention
// and cipher. They are checked against pgBackRest 2.45's option list.
var repoOptions = []option{
	{suffix: "S3_BUCKET", key: "s3-bucket", types: []string{RepoS3}},
	{suffix: "S3_ENDPOINT", key: "s3-endpoint", types: []string{RepoS3}},
	{suffix: "S3_REGION", key: "s3-region", types: []string{RepoS3}},
	{suffix: "S3_KEY", key: "s3-key", types: []string{RepoS3}, secret: true},
	{suffix: "S3_KEY_SECRET", key: "s3-key-secret", types: []string{RepoS3}, secret: true},
	{suffix: "S3_TOKEN", key: "s3-token", types: []string{RepoS3}, secret: true},
	{suffix: "S3_KEY_TYPE", key: "s3-key-type", types: []string{RepoS3}, enum: []string{"shared", "auto", "web-id"}},
	{suffix: "S3_URI_STYLE", key: "s3-uri-style", types: []string{RepoS3}, enum: []string{"host", "path"}},
	{suffix: "S3_KMS_KEY_ID", key: "s3-kms-key-id", types: []string{RepoS3}},
	{suffix: "S3_ROLE", key: "s3-role", types: []string{RepoS3}},
	{suffix: "S3_VERIFY_TLS", key: "storage-verify-tls", types: []string{RepoS3}, kind: "bool"},
	{suffix: "S3_PORT", key: "storage-port", types: []string{RepoS3}, kind: "port"},
	{suffix: "S3_CA_FILE", key: "storage-ca-file", types: []string{RepoS3}},
	{suffix: "S3_CA_PATH", key: "storage-ca-path", types: []string{RepoS3}},
	{suffix: "GCS_BUCKET", key: "gcs-bucket", types: []string{RepoGCS}},
	{suffix: "GCS_ENDPOINT", key: "gcs-endpoint", types: []string{RepoGCS}},
	{suffix: "GCS_KEY", key: "gcs-key", types: []string{RepoGCS}, secret: true},
	{suffix: "GCS_KEY_TYPE", key: "gcs-key-type", types: []string{RepoGCS}, enum: []string{"service", "token", "auto"}},
	{suffix: "AZURE_ACCOUNT", key: "azure-account", types: []string{RepoAzure}},
	{suffix: "AZURE_CONTAINER", key: "azure-container", types: []string{RepoAzure}},
	{suffix: "AZURE_ENDPOINT", key: "azure-endpoint", types: []string{RepoAzure}},
	{suffix: "AZURE_KEY", key: "azure-key", types: []string{RepoAzure}, secret: true},
	{suffix: "AZURE_KEY_TYPE", key: "azure-key-type", types: []string{RepoAzure}, enum: []string{"shared", "sas"}},
	{suffix: "AZURE_URI_STYLE", key: "azure-uri-style", types: []string{RepoAzure}, enum: []string{"host", "path"}},
	{suffix: "SFTP_HOST", key: "sftp-host", types: []string{RepoSFTP}},
	{suffix: "SFTP_HOST_PORT", key: "sftp-host-port", types: []string{RepoSFTP}, kind: "port"},
	{suffix: "SFTP_HOST_USER", key: "sftp-host-user", types: []string{RepoSFTP}},
	{suffix: "SFTP_HOST_FINGERPRINT", key: "sftp-host-fingerprint", types: []string{RepoSFTP}},
	{suffix: "SFTP_HOST_KEY_CHECK_TYPE", key: "sftp-host-key-check-type", types: []string{RepoSFTP}, enum: []string{"strict", "accept-new", "fingerprint", "none"}},
	{suffix: "SFTP_HOST_KEY_HASH_TYPE", key: "sftp-host-key-hash-type", types: []string{RepoSFTP}, enum: []string{"md5", "sha1", "sha256"}},
	{suffix: "SFTP_PRIVATE_KEY_FILE", key: "sftp-private-key-file", types: []string{RepoSFTP}},
	{suffix: "SFTP_PRIVATE_KEY_PASSPHRASE", key: "sftp-private-key-passphrase", types: []string{RepoSFTP}, secret: true},
	{suffix: "SFTP_PUBLIC_KEY_FILE", key: "sftp-public-key-file", types: []string{RepoSFTP}},
	{suffix: "SFTP_KNOWN_HOSTS", key: "sftp-known-hosts", types: []string{RepoSFTP}},
	{suffix: "STORAGE_HOST", key: "storage-host", types: []string{RepoS3, RepoGCS, RepoAzure}},
	{suffix: "STORAGE_PORT", key: "storage-port", types: []string{RepoS3, RepoGCS, RepoAzure}, kind: "port"},
	{suffix: "STORAGE_VERIFY_TLS", key: "storage-verify-tls", types: []string{RepoS3, RepoGCS, RepoAzure}, kind: "bool"},
	{suffix: "STORAGE_CA_FILE", key: "storage-ca-file", types: []string{RepoS3, RepoGCS, RepoAzure}},
	{suffix: "STORAGE_CA_PATH", key: "storage-ca-path", types: []string{RepoS3, RepoGCS, RepoAzure}},
}

// required are the repository variables each type needs.
var required = map[string][]string{
	RepoS3:    {"S3_BUCKET", "S3_ENDPOINT", "S3_REGION"},
	RepoGCS:   {"GCS_BUCKET"},
	RepoAzure: {"AZURE_ACCOUNT", "AZURE_CONTAINER"},
	RepoSFTP:  {"SFTP_HOST", "SFTP_HOST_USER", "SFTP_PRIVATE_KEY_FILE"},
}

// Restore types pgBackRest accepts (restore --type).
var restoreTypes = []string{"default", "immediate", "lsn", "name", "standby", "time", "xid", "preserve"}

// restoreTargetTypes need PGBACKREST_RESTORE_TARGET.
var restoreTargetTypes = []string{"lsn", "name", "time", "xid"}

// Backup types, also the names of the plugin's jobs.
var BackupTypes = []string{"full", "diff", "incr"}

// Config is the validated pgbackrest configuration.
type Config struct {
	Stanza        string
	RepoType      string
	RepoPath      string
	RetentionFull int
	RetentionDiff int
	CipherType    string // "" = none
	CipherPass    string // secret
	// RepoOptions are repo1-<key> = value, in declaration order.
	RepoOptions [][2]string

	ArchiveEnable  bool
	ArchiveTimeout string // PostgreSQL's archive_timeout

	// Schedules by backup type (full, diff, incr); "" = on demand only.
	Schedules map[string]string

	ProcessMax        int // 0 = the number of CPUs (set by Configure)
	CompressType      string
	CompressLevel     int // -1 = pgBackRest's default for the type
	StartFast         bool
	BackupTimeout     int // seconds, 0 = none
	StanzaCreateFatal bool

	Restore         bool
	RestoreType     string // "" = latest (pgBackRest's default)
	RestoreTarget   string
	RestoreAction   string // pause, promote, shutdown; "" = promote when a target is set
	RestoreTimeline string
	RestoreSet      string
	RestoreForce    bool

	// WebIdentity holds AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE for
	// the S3 key type web-id (pgBackRest reads them from its environment).
	WebIdentity map[string]string

	PGData    string
	Superuser string
	// Ignored are legacy variables that were set and are ignored.
	Ignored []string
}

var (
	stanzaRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	durRe    = regexp.MustCompile(`^[0-9]+(ms|s|min|h|d)?$`)
	tlRe     = regexp.MustCompile(`^(current|latest|[0-9]+|0x[0-9A-Fa-f]+)$`)
)

type loader struct {
	env      map[string]string
	problems []sdk.Problem
	used     map[string]bool
	secrets  map[string]bool
}

func (l *loader) add(v, msg string) {
	l.problems = append(l.problems, sdk.Problem{Var: v, Message: msg})
}

func (l *loader) get(name string) (string, bool) {
	l.used[name] = true
	v, ok := l.env[name]
	v = strings.TrimSpace(v)
	return v, ok && v != ""
}

func (l *loader) str(name, def string) string {
	if v, ok := l.get(name); ok {
		return v
	}
	return def
}

func (l *loader) boolean(name string, def bool) bool {
	v, ok := l.get(name)
	if !ok {
		return def
	}
	b, err := sdk.ParseBool(v)
	if err != nil {
		l.add(name, err.Error())
		return def
	}
	return b
}

func (l *loader) intMin(name string, def, minimum int) int {
	v, ok := l.get(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < minimum {
		l.add(name, fmt.Sprintf("%q must be a whole number of at least %d", v, minimum))
		return def
	}
	return n
}

func (l *loader) enum(name, def string, allowed []string) string {
	v, ok := l.get(name)
	if !ok {
		return def
	}
	v = strings.ToLower(v)
	if !slices.Contains(allowed, v) {
		l.add(name, fmt.Sprintf("%q is not accepted; one of: %s", v, strings.Join(allowed, ", ")))
		return def
	}
	return v
}

// Load reads and validates the declared variables, reporting every problem
// at once, each naming its variable; secret values never appear in a
// message.
func Load(env map[string]string) (Config, []sdk.Problem) {
	l := &loader{env: env, used: map[string]bool{}, secrets: map[string]bool{}}
	l.boolean(EnvEnable, false)
	c := Config{
		Stanza:            l.str(EnvStanza, DefaultStanza),
		RetentionFull:     l.intMin(EnvRetentionFull, DefaultRetentionFull, 1),
		RetentionDiff:     l.intMin(EnvRetentionDiff, DefaultRetentionDiff, 1),
		ArchiveEnable:     l.boolean(EnvArchiveEnable, true),
		ProcessMax:        l.intMin(EnvProcessMax, 0, 1),
		StartFast:         l.boolean(EnvStartFast, true),
		BackupTimeout:     l.intMin(EnvBackupTimeout, 0, 0),
		StanzaCreateFatal: l.boolean(EnvStanzaCreateFatal, false),
		Restore:           l.boolean(EnvRestore, false),
		RestoreForce:      l.boolean(EnvRestoreForce, false),
		PGData:            l.str(EnvPGData, ""),
		Superuser:         l.str(EnvPostgresUser, "postgres"),
	}
	c.CompressType = l.enum(EnvCompressType, DefaultCompressType, []string{"none", "bz2", "gz", "lz4", "zst"})
	c.CompressLevel = l.intMin(EnvCompressLevel, -1, 0)
	if c.CompressLevel > 22 {
		l.add(EnvCompressLevel, fmt.Sprintf("%d is above every compression type's maximum (zst: 22, gz and bz2: 9, lz4: 12)", c.CompressLevel))
	}
	if !stanzaRe.MatchString(c.Stanza) || len(c.Stanza) > 63 {
		l.add(EnvStanza, fmt.Sprintf("%q is not a valid stanza name: letters, digits, '.', '_' and '-', starting with a letter or digit, at most 63 characters", c.Stanza))
	}
	c.RepoType = l.enum(EnvRepoType, RepoPosix, []string{RepoPosix, "filesystem", RepoS3, RepoGCS, RepoAzure, RepoSFTP})
	if c.RepoType == "filesystem" {
		c.RepoType = RepoPosix
	}
	c.RepoPath = l.str(EnvRepoPath, "")
	if c.RepoPath == "" {
		switch c.RepoType {
		case RepoPosix:
			c.RepoPath = DefaultRepoPath
		case RepoSFTP:
			c.RepoPath = "/home/" + l.str(EnvPrefix+"REPO_SFTP_HOST_USER", "postgres") + "/pgbackrest"
		default:
			c.RepoPath = DefaultCloudRepoPath
		}
	}
	if !strings.HasPrefix(c.RepoPath, "/") {
		l.add(EnvRepoPath, fmt.Sprintf("%q must be an absolute path", c.RepoPath))
	}
	c.CipherType = l.enum(EnvCipherType, "none", []string{"none", "aes-256-cbc"})
	c.CipherPass = l.str(EnvCipherPass, "")
	l.secrets[EnvCipherPass] = true
	switch {
	case c.CipherType == "aes-256-cbc" && c.CipherPass == "":
		l.add(EnvCipherPass, "is required with PGBACKREST_REPO_CIPHER_TYPE=aes-256-cbc")
	case c.CipherType == "none" && c.CipherPass != "":
		l.add(EnvCipherPass, "is set but PGBACKREST_REPO_CIPHER_TYPE is not aes-256-cbc; set both or neither")
	}
	if c.CipherType == "none" {
		c.CipherType = ""
	}
	l.repoOptions(&c)

	c.ArchiveTimeout = l.archiveTimeout()
	c.Schedules = l.schedules()

	c.RestoreType = l.enum(EnvRestoreType, "", restoreTypes)
	if c.RestoreType == "default" {
		c.RestoreType = ""
	}
	c.RestoreTarget = l.str(EnvRestoreTarget, "")
	c.RestoreAction = l.enum(EnvRestoreAction, "", []string{"pause", "promote", "shutdown"})
	c.RestoreTimeline = l.str(EnvRestoreTimeline, "")
	c.RestoreSet = l.str(EnvRestoreSet, "")
	switch {
	case slices.Contains(restoreTargetTypes, c.RestoreType) && c.RestoreTarget == "":
		l.add(EnvRestoreTarget, fmt.Sprintf("is required with PGBACKREST_RESTORE_TYPE=%s", c.RestoreType))
	case !slices.Contains(restoreTargetTypes, c.RestoreType) && c.RestoreTarget != "":
		l.add(EnvRestoreTarget, fmt.Sprintf("is set but PGBACKREST_RESTORE_TYPE (%q) takes no target; use time, xid, lsn or name", c.RestoreType))
	}
	if c.RestoreType == "time" && c.RestoreTarget != "" {
		if _, err := parseTargetTime(c.RestoreTarget); err != nil {
			l.add(EnvRestoreTarget, err.Error())
		}
	}
	if c.RestoreAction != "" && !slices.Contains(restoreTargetTypes, c.RestoreType) && c.RestoreType != "immediate" {
		l.add(EnvRestoreAction, "applies only to a point-in-time restore (PGBACKREST_RESTORE_TYPE time, xid, lsn, name or immediate)")
	}
	if c.RestoreTimeline != "" && !tlRe.MatchString(c.RestoreTimeline) {
		l.add(EnvRestoreTimeline, fmt.Sprintf("%q must be current, latest or a timeline number", c.RestoreTimeline))
	}
	if c.RestoreSet != "" && !regexp.MustCompile(`^(latest|[0-9]{8}-[0-9]{6}F(_[0-9]{8}-[0-9]{6}[DI])?)$`).MatchString(c.RestoreSet) {
		l.add(EnvRestoreSet, fmt.Sprintf("%q is not a backup label (e.g. 20261203-101500F) or latest", c.RestoreSet))
	}
	for _, name := range ignoredLegacy {
		if _, ok := l.get(name); ok {
			c.Ignored = append(c.Ignored, name)
		}
	}
	l.get(EnvAutoEnable)
	l.unknown()
	return c, l.problems
}

func (l *loader) repoOptions(c *Config) {
	for _, o := range repoOptions {
		name := EnvPrefix + "REPO_" + o.suffix
		v, ok := l.get(name)
		if o.secret {
			l.secrets[name] = true
		}
		if !ok {
			continue
		}
		if o.types != nil && !slices.Contains(o.types, c.RepoType) {
			l.add(name, fmt.Sprintf("applies to repository type %s, but PGBACKREST_REPO_TYPE is %s", strings.Join(o.types, "/"), c.RepoType))
			continue
		}
		switch o.kind {
		case "bool":
			b, err := sdk.ParseBool(v)
			if err != nil {
				l.add(name, err.Error())
				continue
			}
			v = map[bool]string{true: "y", false: "n"}[b]
		case "port":
			if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 65535 {
				l.add(name, fmt.Sprintf("%q must be a port number (1-65535)", v))
				continue
			}
		}
		if len(o.enum) > 0 {
			v = strings.ToLower(v)
			if !slices.Contains(o.enum, v) {
				l.add(name, fmt.Sprintf("%q is not accepted; one of: %s", v, strings.Join(o.enum, ", ")))
				continue
			}
		}
		if k := "repo1-" + o.key; slices.ContainsFunc(c.RepoOptions, func(kv [2]string) bool { return kv[0] == k }) {
			l.add(name, fmt.Sprintf("sets repo1-%s, which another variable already sets", o.key))
			continue
		}
		c.RepoOptions = append(c.RepoOptions, [2]string{"repo1-" + o.key, v})
	}
	for _, suffix := range required[c.RepoType] {
		if _, ok := l.get(EnvPrefix + "REPO_" + suffix); !ok {
			l.add(EnvPrefix+"REPO_"+suffix, fmt.Sprintf("is required with PGBACKREST_REPO_TYPE=%s", c.RepoType))
		}
	}
	get := func(s string) string { v, _ := l.get(EnvPrefix + "REPO_" + s); return strings.ToLower(v) }
	switch c.RepoType {
	case RepoS3:
		if kt := get("S3_KEY_TYPE"); kt == "" || kt == "shared" {
			for _, s := range []string{"S3_KEY", "S3_KEY_SECRET"} {
				if _, ok := l.get(EnvPrefix + "REPO_" + s); !ok {
					l.add(EnvPrefix+"REPO_"+s, "is required with the shared S3 key type (set PGBACKREST_REPO_S3_KEY_TYPE=auto or web-id to use a role instead)")
				}
			}
		}
		if get("S3_KEY_TYPE") == "web-id" {
			c.WebIdentity = map[string]string{}
			for _, k := range []string{envAWSRoleARN, envAWSTokenFile} {
				v, ok := l.get(k)
				if !ok {
					l.add(k, "is required with PGBACKREST_REPO_S3_KEY_TYPE=web-id (pgBackRest reads it from its environment)")
					continue
				}
				c.WebIdentity[k] = v
			}
		}
	case RepoGCS:
		if kt := get("GCS_KEY_TYPE"); kt != "auto" {
			if _, ok := l.get(EnvPrefix + "REPO_GCS_KEY"); !ok {
				l.add(EnvPrefix+"REPO_GCS_KEY", "is required unless PGBACKREST_REPO_GCS_KEY_TYPE=auto")
			}
		}
	case RepoAzure:
		if _, ok := l.get(EnvPrefix + "REPO_AZURE_KEY"); !ok {
			l.add(EnvPrefix+"REPO_AZURE_KEY", "is required with PGBACKREST_REPO_TYPE=azure")
		}
	}
}

func (l *loader) archiveTimeout() string {
	a, aok := l.get(EnvArchiveTimeout)
	b, bok := l.get(EnvArchiveTimeoutBare)
	switch {
	case aok && bok && a != b:
		l.add(EnvArchiveTimeout, fmt.Sprintf("and %s are both set, to different values; set one", EnvArchiveTimeoutBare))
		return DefaultArchiveTimeout
	case bok && !aok:
		a, aok = b, true
	}
	if !aok {
		return DefaultArchiveTimeout
	}
	if !durRe.MatchString(a) {
		l.add(EnvArchiveTimeout, fmt.Sprintf("%q must be a duration PostgreSQL accepts for archive_timeout: a number with an optional unit ms, s, min, h or d (e.g. 1800s, 0 = off)", a))
		return DefaultArchiveTimeout
	}
	return a
}

func (l *loader) schedules() map[string]string {
	out := map[string]string{}
	vars := map[string]string{"full": EnvScheduleFull, "diff": EnvScheduleDiff, "incr": EnvScheduleIncr}
	legacy := map[string]string{"full": legacyFullCron, "diff": legacyDiffCron, "incr": legacyIncrCron}
	anySet := false
	for _, t := range BackupTypes {
		if v, ok := l.get(vars[t]); ok {
			anySet = true
			if _, err := cron.ParseStandard(v); err != nil {
				l.add(vars[t], fmt.Sprintf("%q is not a schedule: 5 cron fields (minute hour day-of-month month day-of-week) or a descriptor such as @daily or @every 1h (%v)", v, err))
				continue
			}
			out[t] = v
		}
	}
	if v, ok := l.get(EnvAutoEnable); ok && !anySet {
		if b, err := sdk.ParseBool(v); err != nil {
			l.add(EnvAutoEnable, err.Error())
		} else if b {
			for t, s := range legacy {
				out[t] = s
			}
		}
	}
	return out
}

// unknown reports every PGBACKREST_* variable the plugin does not know:
// pgdock never passes them to pgBackRest, so an ignored setting would be
// silently lost.
func (l *loader) unknown() {
	var names []string
	for k := range l.env {
		if strings.HasPrefix(k, EnvPrefix) && !l.used[k] {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		l.add(k, "is not a variable pgdock's pgbackrest plugin knows (see docs/backup.md); pgdock never passes PGBACKREST_* to pgBackRest itself")
	}
}

// parseTargetTime accepts the time formats PostgreSQL's recovery_target_time
// takes that pgdock documents: RFC 3339 or "YYYY-MM-DD HH:MM:SS[.frac][+zz[:zz]]".
func parseTargetTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999Z07", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use RFC 3339 (2026-12-03T18:00:00Z) or \"2026-12-03 18:00:00+00\"", s)
}

// Scheduled reports whether any backup type has a schedule.
func (c Config) Scheduled() bool { return len(c.Schedules) > 0 }
