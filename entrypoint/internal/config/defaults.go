package config

import "time"

// Defaults of the variables pgdock reads.
const (
	DefaultUser            = "postgres"
	DefaultHostAuthMethod  = "scram-sha-256"
	DefaultPGData          = "/var/lib/postgresql/data"
	DefaultPort            = 5432
	DefaultConfigDir       = "/etc/pgdock/conf"
	DefaultSocketDir       = "/var/run/postgresql"
	DefaultTimeout         = 30 * time.Second
	DefaultShutdownMode    = "fast"
	DefaultLogLevel        = "info"
	DefaultLogFormat       = "text"
	DefaultPluginDir       = "/usr/lib/pgdock/plugins"
	DefaultStateDir        = "/run/pgdock"
	DefaultInitDir         = "/docker-entrypoint-initdb.d"
	DefaultListenAddresses = "*"
)

// Defaults returns the configuration of an empty environment. It passes
// Validate.
func Defaults() Config {
	return Config{
		User:           DefaultUser,
		DB:             DefaultUser,
		HostAuthMethod: DefaultHostAuthMethod,
		PGData:         DefaultPGData,
		Port:           DefaultPort,
		ConfigDir:      DefaultConfigDir,
		Settings:       []Setting{defaultListen()},
		SocketDir:      DefaultSocketDir,
		SocketDirs:     []string{DefaultSocketDir},
		Timeout:        DefaultTimeout,
		ShutdownMode:   DefaultShutdownMode,
		LogLevel:       DefaultLogLevel,
		LogFormat:      DefaultLogFormat,
		PluginDir:      DefaultPluginDir,
		StateDir:       DefaultStateDir,
		InitDir:        DefaultInitDir,
		ExternalAccess: true,
		Env:            map[string]string{},
	}
}

// defaultListen is listen_addresses = '*', which the official image gets
// from its edited postgresql.conf.sample and pgdock writes explicitly.
func defaultListen() Setting {
	return Setting{Name: "listen_addresses", Value: DefaultListenAddresses, Source: "POSTGRESQL_LISTEN_ADDRESSES", Default: true}
}
