// Package config resolves the container environment into one validated
// Config: the official postgres image's variables, pgdock's own, and the
// legacy names of the shell container pgdock replaces (mapped to their new
// names with a deprecation warning). Load reads *_FILE secrets, applies
// aliases and defaults, and reports every problem at once as a
// *ValidationError naming the variable, its value (secrets masked) and what
// is accepted. It touches no file other than the secret files it is given.
package config
