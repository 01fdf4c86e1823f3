package patroni

import (
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	shellwords "github.com/mattn/go-shellwords"

	"github.com/pgdock/pgdock/plugins/sdk"
)

// Variables the plugin reads. PATRONI_* names are pgdock's own: Patroni's
// native PATRONI_* parsing never sees them (see ChildEnv).
const (
	EnvEnable             = "PATRONI_ENABLE"
	EnvScope              = "PATRONI_SCOPE"
	EnvName               = "PATRONI_NAME"
	EnvRESTPort           = "PATRONI_REST_PORT"
	EnvRESTConnectHost    = "PATRONI_REST_CONNECT_HOST"
	EnvPGConnectHost      = "POSTGRESQL_CONNECT_HOST"
	EnvETCDHosts          = "ETCD_HOSTS"
	EnvLegacyETCDHosts    = "PATRONI_ETCD_HOSTS" // the original container's highest-priority name
	EnvETCDHost           = "ETCD_HOST"
	EnvETCDPort           = "ETCD_PORT"
	EnvTTL                = "PATRONI_TTL"
	EnvLoopWait           = "PATRONI_LOOP_WAIT"
	EnvRetryTimeout       = "PATRONI_RETRY_TIMEOUT"
	EnvMaxLag             = "PATRONI_MAX_LAG"
	EnvUsePGRewind        = "PATRONI_USE_PG_REWIND"
	EnvUseSlots           = "PATRONI_USE_SLOTS"
	EnvSyncMode           = "PATRONI_SYNCHRONOUS_MODE"
	EnvSyncModeStrict     = "PATRONI_SYNCHRONOUS_MODE_STRICT"
	EnvReplicationUser    = "REPLICATION_USER"
	EnvReplicationPass    = "REPLICATION_PASSWORD"
	EnvRESTUsername       = "PATRONI_REST_USERNAME"
	EnvRESTPassword       = "PATRONI_REST_PASSWORD"
	EnvPostgresUser       = "POSTGRES_USER"
	EnvPostgresPassword   = "POSTGRES_PASSWORD"
	EnvInitdbArgs         = "POSTGRES_INITDB_ARGS"
	EnvLang               = "LANG"
	EnvHostAuthMethod     = "POSTGRES_HOST_AUTH_METHOD"
	EnvExternalAccess     = "EXTERNAL_ACCESS_ENABLE"
	DefaultHostAuthMethod = "scram-sha-256"
	EnvPrefix             = "PATRONI_"
	DefaultScope          = "postgres-cluster"
	DefaultRESTPort       = 8008
	DefaultETCDPort       = 2379
	DefaultTTL            = 30
	DefaultLoopWait       = 10
	DefaultRetryTimeout   = 10
	DefaultMaxLag         = 1048576
	DefaultReplication    = "replicator"
	DefaultSuperuser      = "postgres"
	maxNameLength         = 63
	maxSecretLength       = 65535
	restCredentialsNeeded = "PATRONI_REST_USERNAME and PATRONI_REST_PASSWORD must be set together"
)

// knownPatroniVars are the PATRONI_* names this plugin understands; any other
// PATRONI_* variable is reported, because pgdock never passes PATRONI_* to
// Patroni and a silently ignored setting is worse than an error.
var knownPatroniVars = []string{
	EnvEnable, EnvScope, EnvName, EnvRESTPort, EnvRESTConnectHost, EnvLegacyETCDHosts,
	EnvTTL, EnvLoopWait, EnvRetryTimeout, EnvMaxLag, EnvUsePGRewind, EnvUseSlots,
	EnvSyncMode, EnvSyncModeStrict, EnvRESTUsername, EnvRESTPassword,
}

// Config is the validated patroni configuration of one node.
type Config struct {
	Scope           string
	Name            string
	RESTPort        int
	RESTConnectHost string   // address other nodes reach this node's REST API at
	PGConnectHost   string   // address other nodes reach this node's PostgreSQL at
	ETCDHosts       []string // host:port, etcd v3 API
	TTL             int
	LoopWait        int
	RetryTimeout    int
	MaxLag          int64
	UsePGRewind     bool
	UseSlots        bool
	SyncMode        bool
	SyncModeStrict  bool

	ReplicationUser     string
	ReplicationPassword string // secret
	RESTUsername        string
	RESTPassword        string // secret

	Superuser         string   // POSTGRES_USER
	SuperuserPassword string   // POSTGRES_PASSWORD; secret
	InitdbArgs        []string // POSTGRES_INITDB_ARGS, shell-word split
	ExternalAccess    bool     // EXTERNAL_ACCESS_ENABLE (default true): the `host all all all` rule
	HostAuthMethod    string   // POSTGRES_HOST_AUTH_METHOD (validated by the host), method of `host all all all`
	Locale            string   // initdb locale: LANG (the image sets en_US.utf8, as the official one does); empty = initdb's default
}

// System is what Load needs from the machine: the host name (PATRONI_NAME's
// default) and this host's own addresses (the connect addresses' default).
type System struct {
	Hostname func() (string, error)
	Addrs    func() ([]net.Addr, error)
	// LookupHost resolves the host name (Docker maps a container's host
	// name to its address in /etc/hosts).
	LookupHost func(string) ([]string, error)
}

// OSSystem is the real machine.
func OSSystem() System {
	return System{Hostname: os.Hostname, Addrs: net.InterfaceAddrs, LookupHost: net.LookupHost}
}

var (
	nameRe     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	hostnameRe = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$`)
	roleRe     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$-]*$`)
)

// Load reads and validates the declared variables. It reports every
// problem at once, each naming its variable; secret values never appear in
// a message.
func Load(env map[string]string, sys System) (Config, []sdk.Problem) {
	l := &loader{env: env}
	c := Config{
		Scope:           l.str(EnvScope, DefaultScope),
		RESTPort:        l.port(EnvRESTPort, DefaultRESTPort),
		TTL:             l.intMin(EnvTTL, DefaultTTL, 1),
		LoopWait:        l.intMin(EnvLoopWait, DefaultLoopWait, 1),
		RetryTimeout:    l.intMin(EnvRetryTimeout, DefaultRetryTimeout, 1),
		UsePGRewind:     l.boolean(EnvUsePGRewind, true),
		UseSlots:        l.boolean(EnvUseSlots, true),
		SyncMode:        l.boolean(EnvSyncMode, false),
		SyncModeStrict:  l.boolean(EnvSyncModeStrict, false),
		ReplicationUser: l.str(EnvReplicationUser, DefaultReplication),
		Superuser:       l.str(EnvPostgresUser, DefaultSuperuser),
		Locale:          l.str(EnvLang, ""),
		HostAuthMethod:  strings.Join(strings.Fields(l.env[EnvHostAuthMethod]), " "),
		ExternalAccess:  l.boolean(EnvExternalAccess, true),
	}
	if c.HostAuthMethod == "" {
		c.HostAuthMethod = DefaultHostAuthMethod
	}
	if v, ok := l.get(EnvEnable); ok {
		if _, err := sdk.ParseBool(v); err != nil {
			l.add(EnvEnable, err.Error())
		}
	}
	c.MaxLag = l.int64Min(EnvMaxLag, DefaultMaxLag, 0)
	if !nameRe.MatchString(c.Scope) || len(c.Scope) > maxNameLength {
		l.add(EnvScope, fmt.Sprintf("%q is not a valid cluster name: letters, digits, '.', '_' and '-', starting with a letter or digit, at most %d characters", c.Scope, maxNameLength))
	}
	c.Name = l.str(EnvName, "")
	if c.Name == "" {
		if h, err := sys.Hostname(); err != nil || h == "" {
			l.add(EnvName, fmt.Sprintf("is not set and the host name is unknown (%v); set it to this node's unique name", err))
		} else {
			c.Name = h
		}
	}
	if c.Name != "" && (!nameRe.MatchString(c.Name) || len(c.Name) > maxNameLength) {
		l.add(EnvName, fmt.Sprintf("%q is not a valid node name: letters, digits, '.', '_' and '-', starting with a letter or digit, at most %d characters", c.Name, maxNameLength))
	}
	if c.LoopWait > 0 && c.RetryTimeout > 0 && c.TTL > 0 && c.LoopWait+2*c.RetryTimeout > c.TTL {
		l.add(EnvTTL, fmt.Sprintf("%s (%d) + 2 × %s (%d) must not exceed %s (%d): Patroni's rule, otherwise a leader can lose its lock while it still retries",
			EnvLoopWait, c.LoopWait, EnvRetryTimeout, c.RetryTimeout, EnvTTL, c.TTL))
	}
	if c.SyncModeStrict && !c.SyncMode {
		l.add(EnvSyncModeStrict, "needs PATRONI_SYNCHRONOUS_MODE=true")
	}
	c.ETCDHosts = l.etcdHosts()
	c.ReplicationPassword = l.secret(EnvReplicationPass, true)
	c.SuperuserPassword = l.secret(EnvPostgresPassword, false)
	c.RESTUsername = l.str(EnvRESTUsername, "")
	c.RESTPassword = l.secret(EnvRESTPassword, false)
	if (c.RESTUsername == "") != (c.RESTPassword == "") {
		if c.RESTUsername == "" {
			l.add(EnvRESTUsername, restCredentialsNeeded)
		} else {
			l.add(EnvRESTPassword, restCredentialsNeeded)
		}
	}
	if strings.Contains(c.RESTUsername, ":") {
		l.add(EnvRESTUsername, "must not contain ':' (HTTP basic authentication)")
	}
	for _, r := range []struct{ name, value string }{{EnvReplicationUser, c.ReplicationUser}, {EnvPostgresUser, c.Superuser}} {
		if !roleRe.MatchString(r.value) || len(r.value) > maxNameLength {
			l.add(r.name, fmt.Sprintf("%q is not a role name pgdock accepts here: letters, digits, '_', '$' and '-', starting with a letter or '_', at most %d characters", r.value, maxNameLength))
		}
	}
	if c.ReplicationUser == c.Superuser && roleRe.MatchString(c.ReplicationUser) {
		l.add(EnvReplicationUser, fmt.Sprintf("must differ from POSTGRES_USER (%q): Patroni creates it as a separate replication role", c.Superuser))
	}
	if v, ok := l.get(EnvInitdbArgs); ok {
		args, err := shellwords.Parse(v)
		if err != nil {
			l.add(EnvInitdbArgs, fmt.Sprintf("cannot be split into words: %v", err))
		} else if _, err := InitdbOptions(args, ""); err != nil {
			l.add(EnvInitdbArgs, err.Error())
		} else {
			c.InitdbArgs = args
		}
	}
	c.RESTConnectHost = l.host(EnvRESTConnectHost, EnvPGConnectHost)
	c.PGConnectHost = l.host(EnvPGConnectHost, EnvRESTConnectHost)
	if c.RESTConnectHost == "" || c.PGConnectHost == "" {
		addr, err := OwnAddress(sys)
		if err != nil {
			l.add(EnvRESTConnectHost, fmt.Sprintf("is not set and this host's own address could not be determined (%v); set %s or %s to an address the other nodes can reach", err, EnvRESTConnectHost, EnvPGConnectHost))
		}
		if c.RESTConnectHost == "" {
			c.RESTConnectHost = addr
		}
		if c.PGConnectHost == "" {
			c.PGConnectHost = addr
		}
	}
	for k := range env {
		if strings.HasPrefix(k, EnvPrefix) && !slices.Contains(knownPatroniVars, k) {
			l.add(k, fmt.Sprintf("is not a setting of pgdock's patroni plugin (pgdock never passes PATRONI_* variables to Patroni); known: %s", strings.Join(knownPatroniVars, ", ")))
		}
	}
	slices.SortStableFunc(l.problems, func(a, b sdk.Problem) int { return strings.Compare(a.Var, b.Var) })
	return c, l.problems
}

// OwnAddress returns this host's address as other nodes see it: the first
// non-loopback address the host name resolves to (Docker's /etc/hosts), else
// the first global unicast address of an interface (IPv4 first). It never
// returns a loopback address.
func OwnAddress(sys System) (string, error) {
	if sys.Hostname != nil && sys.LookupHost != nil {
		if h, err := sys.Hostname(); err == nil && h != "" {
			if addrs, err := sys.LookupHost(h); err == nil {
				if a := pickAddress(addrs); a != "" {
					return a, nil
				}
			}
		}
	}
	if sys.Addrs == nil {
		return "", errors.New("no interface addresses")
	}
	ifaddrs, err := sys.Addrs()
	if err != nil {
		return "", fmt.Errorf("list interface addresses: %w", err)
	}
	var addrs []string
	for _, a := range ifaddrs {
		if n, ok := a.(*net.IPNet); ok {
			addrs = append(addrs, n.IP.String())
		}
	}
	if a := pickAddress(addrs); a != "" {
		return a, nil
	}
	return "", errors.New("no non-loopback address on any interface")
}

func pickAddress(addrs []string) string {
	var v6 string
	for _, s := range addrs {
		ip := net.ParseIP(s)
		if ip == nil || !ip.IsGlobalUnicast() {
			continue
		}
		if ip.To4() != nil {
			return ip.String()
		}
		if v6 == "" {
			v6 = ip.String()
		}
	}
	return v6
}

type loader struct {
	env      map[string]string
	problems []sdk.Problem
}

func (l *loader) add(name, msg string) {
	l.problems = append(l.problems, sdk.Problem{Var: name, Message: msg})
}

func (l *loader) get(name string) (string, bool) {
	v, ok := l.env[name]
	return v, ok
}

// str returns the trimmed value or def when unset or empty.
func (l *loader) str(name, def string) string {
	v := strings.TrimSpace(l.env[name])
	if v == "" {
		return def
	}
	return v
}

func (l *loader) boolean(name string, def bool) bool {
	v, ok := l.get(name)
	if !ok || strings.TrimSpace(v) == "" {
		return def
	}
	b, err := sdk.ParseBool(v)
	if err != nil {
		l.add(name, fmt.Sprintf("%q %v", v, err))
		return def
	}
	return b
}

func (l *loader) int64Min(name string, def, minimum int64) int64 {
	v := l.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < minimum {
		l.add(name, fmt.Sprintf("%q must be a whole number ≥ %d", v, minimum))
		return def
	}
	return n
}

func (l *loader) intMin(name string, def, minimum int) int {
	n := l.int64Min(name, int64(def), int64(minimum))
	if n > 1<<31-1 {
		l.add(name, fmt.Sprintf("%d is too large", n))
		return def
	}
	return int(n)
}

func (l *loader) port(name string, def int) int {
	v := l.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 65535 {
		l.add(name, fmt.Sprintf("%q must be a TCP port, 1 to 65535", v))
		return def
	}
	return n
}

// secret returns a secret's value; problems never show it.
func (l *loader) secret(name string, required bool) string {
	v, ok := l.get(name)
	switch {
	case !ok || v == "":
		if required {
			l.add(name, "is required (or "+name+"_FILE): there is no default password")
		}
		return ""
	case strings.ContainsAny(v, "\r\n\x00"):
		l.add(name, "must be a single line without NUL (it contains a line break or NUL)")
		return ""
	case len(v) > maxSecretLength:
		l.add(name, fmt.Sprintf("is longer than %d bytes", maxSecretLength))
		return ""
	}
	return v
}

// host reads a connect host: a host name or an IP address (no port).
// fallback is the other connect variable, used when name is unset.
func (l *loader) host(name, fallback string) string {
	v := l.str(name, "")
	from := name
	if v == "" {
		v, from = l.str(fallback, ""), fallback
	}
	if v == "" {
		return ""
	}
	if !validHost(v) {
		if from == name {
			l.add(name, fmt.Sprintf("%q must be a host name or an IP address, without port", v))
		}
		return ""
	}
	return v
}

func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	return len(h) <= 253 && hostnameRe.MatchString(h)
}

// etcdHosts reads ETCD_HOSTS (or the legacy PATRONI_ETCD_HOSTS), else
// ETCD_HOST with ETCD_PORT. Entries are separated by commas (spaces and
// semicolons accepted, as the original container did); an entry without a
// port gets ETCD_PORT.
func (l *loader) etcdHosts() []string {
	defPort := l.port(EnvETCDPort, DefaultETCDPort)
	listVar := EnvETCDHosts
	list := l.str(EnvETCDHosts, "")
	if legacy := l.str(EnvLegacyETCDHosts, ""); legacy != "" {
		if list != "" {
			l.add(EnvLegacyETCDHosts, "is the legacy name of ETCD_HOSTS; set only one of them")
		}
		list, listVar = legacy, EnvLegacyETCDHosts
	}
	single := l.str(EnvETCDHost, "")
	if list != "" && single != "" {
		l.add(EnvETCDHost, fmt.Sprintf("set either %s (a list) or %s (one host), not both", listVar, EnvETCDHost))
	}
	if list == "" && single == "" {
		l.add(EnvETCDHosts, "is required (or ETCD_HOST with ETCD_PORT): the comma-separated host:port list of the etcd cluster (v3 API)")
		return nil
	}
	if list == "" {
		list, listVar = single, EnvETCDHost
	}
	var out []string
	for _, e := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' }) {
		hp, err := hostPort(e, defPort)
		if err != nil {
			l.add(listVar, fmt.Sprintf("entry %q: %v", e, err))
			continue
		}
		if slices.Contains(out, hp) {
			l.add(listVar, fmt.Sprintf("entry %q is listed twice", e))
			continue
		}
		out = append(out, hp)
	}
	if len(out) == 0 && !slices.ContainsFunc(l.problems, func(p sdk.Problem) bool { return p.Var == listVar }) {
		l.add(listVar, "holds no host")
	}
	return out
}

// hostPort normalises host[:port] ([v6]:port) to host:port.
func hostPort(e string, defPort int) (string, error) {
	if strings.Contains(e, "://") {
		return "", errors.New("give host:port, without a scheme")
	}
	host, port := e, strconv.Itoa(defPort)
	if h, p, err := net.SplitHostPort(e); err == nil {
		host, port = h, p
	} else if strings.HasPrefix(e, "[") && strings.HasSuffix(e, "]") {
		host = e[1 : len(e)-1]
	} else if strings.Count(e, ":") > 1 && net.ParseIP(e) != nil {
		host = e
	} else if strings.Contains(e, ":") {
		return "", fmt.Errorf("is not host:port (%v)", err)
	}
	if !validHost(host) {
		return "", errors.New("the host is not a host name or an IP address")
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("port %q is not 1 to 65535", port)
	}
	return net.JoinHostPort(host, port), nil
}
