package patroni

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Contributed sections that go inside Patroni's own sections. Another
// plugin (pgbackrest) returns them from Configure as sdk.Section{Target:
// "patroni", Name: <one of these>, Content: <JSON of the type below>}; the
// patroni plugin decodes them strictly (unknown fields, a wrong type, a bad
// name or value are errors naming the section) and merges them into the
// postgresql and bootstrap sections it renders. A section name without one
// of these forms is a top-level section of patroni.yml (Citus's citus:).
const (
	// SectionReplicaMethod + <method>: a ReplicaMethod. <method> is
	// added to postgresql.create_replica_methods (in the order the
	// sections arrive, always before basebackup, which stays the
	// fallback) and its options become postgresql.<method>.
	SectionReplicaMethod = "replica_method."
	// SectionBootstrapMethod + <method>: a BootstrapMethod. It becomes
	// bootstrap.method = <method> and bootstrap.<method>: the node that
	// creates the cluster runs it instead of initdb. At most one.
	SectionBootstrapMethod = "bootstrap_method."
	// SectionRecoveryConf: a RecoveryConf, postgresql.recovery_conf
	// (what every replica uses to fetch WAL besides streaming).
	SectionRecoveryConf = "recovery_conf"
)

// ReplicaMethod is a custom replica-creation method (Patroni's
// postgresql.<method>).
type ReplicaMethod struct {
	// Command is run by Patroni (split like a shell would, no shell), with
	// Patroni's environment unless the command sets its own (env -i).
	Command string `json:"command" yaml:"command"`
	// KeepData: Patroni does not empty the data directory first (a delta
	// restore reuses what is there).
	KeepData bool `json:"keep_data,omitempty" yaml:"keep_data,omitempty"`
	// NoParams: Patroni appends no --scope/--role/--datadir/--connstring.
	NoParams bool `json:"no_params,omitempty" yaml:"no_params,omitempty"`
	// NoLeader: the method works without a running leader.
	NoLeader bool `json:"no_leader,omitempty" yaml:"no_leader,omitempty"`
}

// BootstrapMethod is a custom bootstrap (Patroni's bootstrap.<method>).
type BootstrapMethod struct {
	Command                  string `json:"command" yaml:"command"`
	NoParams                 bool   `json:"no_params,omitempty" yaml:"no_params,omitempty"`
	KeepExistingRecoveryConf bool   `json:"keep_existing_recovery_conf,omitempty" yaml:"keep_existing_recovery_conf,omitempty"`
	// RecoveryConf is what Patroni writes before it starts the
	// bootstrapped data (restore_command, recovery_target_*).
	RecoveryConf map[string]string `json:"recovery_conf,omitempty" yaml:"recovery_conf,omitempty"`
}

// RecoveryConf is postgresql.recovery_conf.
type RecoveryConf map[string]string

// Recovery settings a contribution may set. Replicas: what Patroni keeps
// for a standby (it removes recovery targets there itself). Bootstrap: a
// restore's recovery. recovery_target_action is promote or absent: Patroni
// waits for the end of recovery before it finishes a custom bootstrap, so
// pause or shutdown would never finish it.
var (
	replicaRecoveryKeys   = []string{"restore_command", "archive_cleanup_command"}
	bootstrapRecoveryKeys = []string{"restore_command", "recovery_target", "recovery_target_name", "recovery_target_time",
		"recovery_target_xid", "recovery_target_lsn", "recovery_target_inclusive", "recovery_target_timeline",
		"recovery_target_action"}
)

// Keys of Patroni's own postgresql and bootstrap sections: a method may
// not be named like one (its options would overwrite it).
var (
	postgresqlKeys = []string{"listen", "connect_address", "proxy_address", "data_dir", "bin_dir", "config_dir", "pgpass",
		"use_unix_socket", "use_unix_socket_repl", "authentication", "parameters", "pg_hba", "pg_ident", "pg_ctl_timeout",
		"use_pg_rewind", "rewind", "callbacks", "create_replica_methods", "create_replica_method", "basebackup",
		"recovery_conf", "custom_conf", "remove_data_directory_on_rewind_failure", "remove_data_directory_on_diverged_timelines",
		"pre_promote", "before_stop", "bin_name", "pg_ctl", "name"}
	bootstrapKeys = []string{"dcs", "initdb", "method", "post_bootstrap", "post_init", "pg_hba", "users"}
)

var methodNameRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// Contributions are the decoded sections for Patroni's own sections.
type Contributions struct {
	ReplicaMethods  []string // in arrival order
	ReplicaOptions  map[string]ReplicaMethod
	Bootstrap       string // "" = initdb
	BootstrapMethod BootstrapMethod
	RecoveryConf    RecoveryConf
	// TopLevel are the other sections, by name.
	TopLevel map[string]any
}

// own are the top-level sections pgdock renders itself.
var own = []string{"scope", "name", "log", "restapi", "etcd3", "bootstrap", "postgresql", "watchdog"}

// ParseSections decodes and checks the sections contributed for Patroni.
func ParseSections(sections []Section) (Contributions, error) {
	var c Contributions
	for _, s := range sections {
		if err := c.add(s); err != nil {
			return Contributions{}, fmt.Errorf("contributed section %q: %w", s.Name, err)
		}
	}
	return c, nil
}

func (c *Contributions) add(s Section) error {
	switch {
	case strings.HasPrefix(s.Name, SectionReplicaMethod):
		name := strings.TrimPrefix(s.Name, SectionReplicaMethod)
		if err := checkMethodName(name, "basebackup", postgresqlKeys); err != nil {
			return err
		}
		if _, dup := c.ReplicaOptions[name]; dup {
			return fmt.Errorf("replica method %s contributed twice", name)
		}
		var m ReplicaMethod
		if err := decodeStrict(s.Content, &m); err != nil {
			return err
		}
		if err := checkCommand(m.Command); err != nil {
			return err
		}
		if c.ReplicaOptions == nil {
			c.ReplicaOptions = map[string]ReplicaMethod{}
		}
		c.ReplicaOptions[name] = m
		c.ReplicaMethods = append(c.ReplicaMethods, name)
	case strings.HasPrefix(s.Name, SectionBootstrapMethod):
		name := strings.TrimPrefix(s.Name, SectionBootstrapMethod)
		if err := checkMethodName(name, "initdb", bootstrapKeys); err != nil {
			return err
		}
		if c.Bootstrap != "" {
			return fmt.Errorf("a second bootstrap method (%s already replaces initdb): only one plugin may bootstrap the cluster", c.Bootstrap)
		}
		var m BootstrapMethod
		if err := decodeStrict(s.Content, &m); err != nil {
			return err
		}
		if err := checkCommand(m.Command); err != nil {
			return err
		}
		if err := checkRecovery(m.RecoveryConf, bootstrapRecoveryKeys); err != nil {
			return err
		}
		if a, ok := m.RecoveryConf["recovery_target_action"]; ok && a != "promote" {
			return fmt.Errorf("recovery_target_action %q: Patroni finishes a custom bootstrap only when recovery ends, so only promote is accepted", a)
		}
		c.Bootstrap, c.BootstrapMethod = name, m
	case s.Name == SectionRecoveryConf:
		var r RecoveryConf
		if err := decodeStrict(s.Content, &r); err != nil {
			return err
		}
		if err := checkRecovery(r, replicaRecoveryKeys); err != nil {
			return err
		}
		c.RecoveryConf = r
	default:
		if slices.Contains(own, s.Name) || s.Name == "" {
			return fmt.Errorf("pgdock renders that section itself")
		}
		if strings.Contains(s.Name, ".") {
			return fmt.Errorf("unknown kind of section (known: %s<method>, %s<method>, %s, or a top-level section name)", SectionReplicaMethod, SectionBootstrapMethod, SectionRecoveryConf)
		}
		if _, dup := c.TopLevel[s.Name]; dup {
			return fmt.Errorf("contributed twice")
		}
		var v any
		if err := json.Unmarshal(s.Content, &v); err != nil {
			return fmt.Errorf("not JSON: %w", err)
		}
		if c.TopLevel == nil {
			c.TopLevel = map[string]any{}
		}
		c.TopLevel[s.Name] = v
	}
	return nil
}

func checkMethodName(name, builtin string, reserved []string) error {
	switch {
	case !methodNameRe.MatchString(name):
		return fmt.Errorf("method name %q: lower-case letters, digits and '_', starting with a letter", name)
	case name == builtin:
		return fmt.Errorf("method name %q is Patroni's built-in method", name)
	case slices.Contains(reserved, name):
		return fmt.Errorf("method name %q is a key of Patroni's own section", name)
	}
	return nil
}

func checkCommand(cmd string) error {
	if strings.TrimSpace(cmd) == "" {
		return fmt.Errorf("command is empty")
	}
	if hasControl(cmd) {
		return fmt.Errorf("command contains a control character")
	}
	return nil
}

func checkRecovery(r map[string]string, allowed []string) error {
	for k, v := range r {
		if !slices.Contains(allowed, k) {
			return fmt.Errorf("recovery setting %q is not accepted here (accepted: %s)", k, strings.Join(allowed, ", "))
		}
		if strings.TrimSpace(v) == "" || hasControl(v) {
			return fmt.Errorf("recovery setting %s: empty or with a control character", k)
		}
	}
	return nil
}

// hasControl reports an ASCII control character (a newline would end the
// value in patroni.yml's command or recovery line).
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// decodeStrict decodes one JSON object into v, refusing unknown fields and
// trailing data.
func decodeStrict(content []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(content))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("not the expected JSON object: %w", err)
	}
	if d.More() {
		return fmt.Errorf("not the expected JSON object: data after it")
	}
	return nil
}
