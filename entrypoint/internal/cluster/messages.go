package cluster

// Texts of the official image, reproduced exactly because users and tools
// match on them.
const (
	missingPasswordMessage = `Error: Database is uninitialized and superuser password is not specified.
       You must specify POSTGRES_PASSWORD to a non-empty value for the
       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".

       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all
       connections without a password. This is *not* recommended.

       See PostgreSQL documentation about "trust":
       https://www.postgresql.org/docs/current/auth-trust.html
`

	trustWarning = `********************************************************************************
WARNING: POSTGRES_HOST_AUTH_METHOD has been set to "trust". This will allow
         anyone with access to the Postgres port to access your database without
         a password, even if POSTGRES_PASSWORD is set. See PostgreSQL
         documentation about "trust":
         https://www.postgresql.org/docs/current/auth-trust.html
         In Docker's default configuration, this is effectively any other
         container on the same system.

         It is not recommended to use POSTGRES_HOST_AUTH_METHOD=trust. Replace
         it with "-e POSTGRES_PASSWORD=password" instead to set a password in
         "docker run".
********************************************************************************
`
	// SkippingMessage is logged when PGDATA already holds a database.
	SkippingMessage = "PostgreSQL Database directory appears to contain a database; Skipping initialization"
	// CompleteMessage is logged at the end of a first boot.
	CompleteMessage = "PostgreSQL init process complete; ready for start up."
)

// MissingPasswordMessage is the official error for a first boot without a password.
func MissingPasswordMessage() string { return missingPasswordMessage }

// TrustWarning is the official banner printed when trust is requested.
func TrustWarning() string { return trustWarning }
