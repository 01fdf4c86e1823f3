package patroni

import (
	"bytes"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/pgdock/pgdock/plugins/sdk"
)

// Names of what the plugin renders and runs.
const (
	ConfigFile           = "patroni.yml"
	PgpassFile           = "pgpass"
	DefaultPostBootstrap = "pgdock-entrypoint hook post-bootstrap"
	IdentMap             = "pgdock"
)

// clusterWide are the parameters Patroni takes only from the DCS (the same on
// every member); they go to bootstrap.dcs.postgresql.parameters, which
// Patroni applies when it bootstraps the cluster.
var clusterWide = []string{
	"max_connections", "max_locks_per_transaction", "max_worker_processes", "max_prepared_transactions",
	"wal_level", "track_commit_timestamp", "max_wal_senders", "max_replication_slots",
	"wal_keep_size", "wal_log_hints", "hot_standby",
}

// patroniOwned are parameters Patroni sets itself: they are never rendered
// (listen_addresses and port become postgresql.listen).
var patroniOwned = []string{
	"listen_addresses", "port", "hba_file", "ident_file", "config_file", "data_directory",
	"cluster_name", "shared_preload_libraries",
}

// patroniDropped are parameters Patroni 3.0 does not know and removes from
// its configuration with a warning ("Removing unexpected parameter") on
// every start and reload: they are not passed to it. output_plugin_libraries
// is a Debian-only parameter the images set (POSTGRESQL_CONFIG_OUTPUT_PLUGIN_LIBRARIES);
// under Patroni the server keeps Debian's default (pgoutput, test_decoding).
var patroniDropped = []string{"output_plugin_libraries"}

// Section is configuration another plugin contributes for Patroni (Citus's
// `citus:`), merged at the top level of patroni.yml.
type Section struct {
	Name    string
	Content []byte // a JSON value, usually an object
}

// Input is everything Render needs besides Config.
type Input struct {
	Server           sdk.Server
	BinDir           string        // PostgreSQL's bin directory (postgresql.bin_dir)
	Settings         []sdk.Setting // merged settings (env and every plugin), final values
	PreloadLibraries []string      // final ordered shared_preload_libraries
	HBARules         []string      // merged pg_hba rules (PG_HBA_ADD_n, plugins), in order
	Sections         []Section
	PostBootstrap    string // bootstrap.post_bootstrap command; empty = DefaultPostBootstrap
	LogLevel         string // pgdock's LOG_LEVEL (debug, info, warn, error)
}

// Document is patroni.yml. Field order is the file's order.
type Document struct {
	Scope     string         `yaml:"scope"`
	Name      string         `yaml:"name"`
	Log       Log            `yaml:"log"`
	RESTAPI   RESTAPI        `yaml:"restapi"`
	Etcd3     Etcd3          `yaml:"etcd3"`
	Bootstrap Bootstrap      `yaml:"bootstrap"`
	Postgres  Postgres       `yaml:"postgresql"`
	Watchdog  Watchdog       `yaml:"watchdog"`
	Extra     map[string]any `yaml:",inline"` // contributed top-level sections
	// Dropped are settings not passed to Patroni (see patroniDropped).
	Dropped []string `yaml:"-"`
}

// Log is Patroni's log section (Patroni logs to stderr, the container log).
type Log struct {
	Level string `yaml:"level"`
}

// RESTAPI is Patroni's REST API.
type RESTAPI struct {
	Listen         string `yaml:"listen"`
	ConnectAddress string `yaml:"connect_address"`
	Auth           *Auth  `yaml:"authentication,omitempty"`
}

// Auth is a user name and password.
type Auth struct {
	Username string `yaml:"username"`
	Password string `yaml:"password"`
}

// Etcd3 is the etcd v3 DCS.
type Etcd3 struct {
	Hosts []string `yaml:"hosts"`
}

// Bootstrap is applied once, when Patroni initialises the cluster.
type Bootstrap struct {
	DCS           DCS    `yaml:"dcs"`
	Method        string `yaml:"method,omitempty"` // a contributed bootstrap method; empty = initdb
	Initdb        []any  `yaml:"initdb"`
	PostBootstrap string `yaml:"post_bootstrap"`
	// Methods holds bootstrap.<method> of a contributed bootstrap method.
	Methods map[string]BootstrapMethod `yaml:",inline"`
}

// DCS is the cluster-wide dynamic configuration Patroni stores in etcd.
type DCS struct {
	TTL                  int         `yaml:"ttl"`
	LoopWait             int         `yaml:"loop_wait"`
	RetryTimeout         int         `yaml:"retry_timeout"`
	MaximumLagOnFailover int64       `yaml:"maximum_lag_on_failover"`
	SynchronousMode      bool        `yaml:"synchronous_mode"`
	SynchronousStrict    bool        `yaml:"synchronous_mode_strict"`
	Postgres             DCSPostgres `yaml:"postgresql"`
}

// DCSPostgres is bootstrap.dcs.postgresql.
type DCSPostgres struct {
	UsePGRewind bool              `yaml:"use_pg_rewind"`
	UseSlots    bool              `yaml:"use_slots"`
	Parameters  map[string]string `yaml:"parameters,omitempty"`
}

// Postgres is this node's postgresql section.
type Postgres struct {
	Listen               string            `yaml:"listen"`
	ConnectAddress       string            `yaml:"connect_address"`
	DataDir              string            `yaml:"data_dir"`
	BinDir               string            `yaml:"bin_dir,omitempty"`
	Pgpass               string            `yaml:"pgpass"`
	UseUnixSocket        bool              `yaml:"use_unix_socket"`
	Authentication       Authentication    `yaml:"authentication"`
	Parameters           map[string]string `yaml:"parameters"`
	PGHBA                []string          `yaml:"pg_hba"`
	PGIdent              []string          `yaml:"pg_ident"`
	CreateReplicaMethods []string          `yaml:"create_replica_methods"`
	Basebackup           []any             `yaml:"basebackup"`
	RecoveryConf         RecoveryConf      `yaml:"recovery_conf,omitempty"`
	// Methods holds postgresql.<method> of contributed replica methods.
	Methods map[string]ReplicaMethod `yaml:",inline"`
}

// Authentication holds the roles Patroni uses. pg_rewind runs as the
// superuser (no rewind entry).
type Authentication struct {
	Superuser   Auth `yaml:"superuser"`
	Replication Auth `yaml:"replication"`
}

// Watchdog is off: containers rarely have /dev/watchdog.
type Watchdog struct {
	Mode string `yaml:"mode"`
}

// Build assembles the document.
func Build(c Config, in Input) (*Document, error) {
	initdb, err := InitdbOptions(c.InitdbArgs, c.Locale)
	if err != nil {
		return nil, fmt.Errorf("POSTGRES_INITDB_ARGS: %w", err)
	}
	listenAddrs := "*"
	local := map[string]string{}
	dcs := map[string]string{}
	contrib, err := ParseSections(in.Sections)
	if err != nil {
		return nil, err
	}
	var dropped []string
	for _, s := range in.Settings {
		switch {
		case slices.Contains(patroniDropped, s.Name):
			dropped = append(dropped, s.Name)
		case s.Name == "listen_addresses":
			listenAddrs = strings.ReplaceAll(s.Value, " ", "")
		case slices.Contains(patroniOwned, s.Name):
		case slices.Contains(clusterWide, s.Name):
			dcs[s.Name] = s.Value
		default:
			local[s.Name] = s.Value
		}
	}
	if len(in.PreloadLibraries) > 0 {
		local["shared_preload_libraries"] = strings.Join(in.PreloadLibraries, ",")
	}
	if _, ok := local["unix_socket_directories"]; !ok && in.Server.SocketDir != "" {
		local["unix_socket_directories"] = in.Server.SocketDir
	}
	if listenAddrs == "" {
		return nil, fmt.Errorf("listen_addresses is empty: Patroni mode needs TCP (other members replicate over it)")
	}
	port := strconv.Itoa(in.Server.Port)
	post := in.PostBootstrap
	if post == "" {
		post = DefaultPostBootstrap
	}
	doc := &Document{
		Scope: c.Scope,
		Name:  c.Name,
		Log:   Log{Level: patroniLogLevel(in.LogLevel)},
		RESTAPI: RESTAPI{
			Listen:         net.JoinHostPort("0.0.0.0", strconv.Itoa(c.RESTPort)),
			ConnectAddress: net.JoinHostPort(c.RESTConnectHost, strconv.Itoa(c.RESTPort)),
		},
		Etcd3: Etcd3{Hosts: c.ETCDHosts},
		Bootstrap: Bootstrap{
			DCS: DCS{
				TTL: c.TTL, LoopWait: c.LoopWait, RetryTimeout: c.RetryTimeout, MaximumLagOnFailover: c.MaxLag,
				SynchronousMode: c.SyncMode, SynchronousStrict: c.SyncModeStrict,
				Postgres: DCSPostgres{UsePGRewind: c.UsePGRewind, UseSlots: c.UseSlots, Parameters: dcs},
			},
			Initdb:        initdb,
			PostBootstrap: post,
		},
		Postgres: Postgres{
			Listen:         listenAddrs + ":" + port,
			ConnectAddress: net.JoinHostPort(c.PGConnectHost, port),
			DataDir:        in.Server.PGData,
			BinDir:         in.BinDir,
			Pgpass:         filepath.Join(in.Server.FilesDir, PgpassFile),
			UseUnixSocket:  true,
			Authentication: Authentication{
				Superuser:   Auth{Username: c.Superuser, Password: c.SuperuserPassword},
				Replication: Auth{Username: c.ReplicationUser, Password: c.ReplicationPassword},
			},
			Parameters:           local,
			PGHBA:                HBA(c, in.HBARules),
			PGIdent:              []string{IdentMap + " postgres " + c.Superuser, IdentMap + " root " + c.Superuser},
			CreateReplicaMethods: append(slices.Clone(contrib.ReplicaMethods), "basebackup"),
			Basebackup:           []any{map[string]string{"checkpoint": "fast"}},
			RecoveryConf:         contrib.RecoveryConf,
			Methods:              contrib.ReplicaOptions,
		},
		Watchdog: Watchdog{Mode: "off"},
		Extra:    contrib.TopLevel,
		Dropped:  dropped,
	}
	if contrib.Bootstrap != "" {
		doc.Bootstrap.Method = contrib.Bootstrap
		doc.Bootstrap.Methods = map[string]BootstrapMethod{contrib.Bootstrap: contrib.BootstrapMethod}
	}
	if c.RESTUsername != "" {
		doc.RESTAPI.Auth = &Auth{Username: c.RESTUsername, Password: c.RESTPassword}
	}
	return doc, nil
}

// HBA returns Patroni's postgresql.pg_hba: the merged rules first (as in
// direct mode, PG_HBA_ADD_n come first), then local peer logins mapped to
// the superuser (pgdock's default, no password needed through the socket),
// the replication rule for REPLICATION_USER and, when the merged rules have
// none, the official image's `host all all all <POSTGRES_HOST_AUTH_METHOD>`
// (scram-sha-256 by default).
//
// Exact repeats of an earlier rule (whitespace aside) are dropped: pg_hba
// takes the first matching line, so a repeat can never match, and the
// merged rules may already hold this function's own lines (the host reads
// back PGDATA/pg_hba.conf, which Patroni wrote from the previous render).
func HBA(c Config, merged []string) []string {
	rules := slices.Clone(merged)
	rules = append(rules,
		"local all all peer map="+IdentMap,
		"host replication "+c.ReplicationUser+" all scram-sha-256",
	)
	hasHostAll := slices.ContainsFunc(merged, func(r string) bool {
		f := strings.Fields(r)
		return len(f) >= 4 && f[0] == "host" && f[1] == "all" && f[2] == "all" && f[3] == "all"
	})
	switch {
	case !c.ExternalAccess && c.UsePGRewind:
		// pg_rewind connects to the leader as the superuser over TCP.
		rules = append(rules, "host postgres "+c.Superuser+" all scram-sha-256")
	case !c.ExternalAccess:
	case !hasHostAll:
		method := c.HostAuthMethod
		if method == "" {
			method = DefaultHostAuthMethod
		}
		rules = append(rules, "host all all all "+method)
	}
	var out []string
	seen := map[string]bool{}
	for _, r := range rules {
		key := strings.Join(strings.Fields(r), " ")
		if key == "" || seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, r)
	}
	return out
}

func patroniLogLevel(l string) string {
	switch strings.ToLower(strings.TrimSpace(l)) {
	case "debug":
		return "DEBUG"
	case "warn", "warning":
		return "WARNING"
	case "error":
		return "ERROR"
	}
	return "INFO"
}

// Render returns patroni.yml, encoded by a YAML encoder (never by string
// interpolation), as the file the host writes 0600 and owned by the server
// user.
func Render(c Config, in Input) (sdk.File, error) {
	doc, err := Build(c, in)
	if err != nil {
		return sdk.File{}, err
	}
	var b bytes.Buffer
	b.WriteString("# Written by pgdock's patroni plugin on every start; do not edit (set PATRONI_* variables).\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return sdk.File{}, fmt.Errorf("encode %s: %w", ConfigFile, err)
	}
	if err := enc.Close(); err != nil {
		return sdk.File{}, fmt.Errorf("encode %s: %w", ConfigFile, err)
	}
	return sdk.File{Path: ConfigFile, Content: b.Bytes(), Mode: 0o600}, nil
}
