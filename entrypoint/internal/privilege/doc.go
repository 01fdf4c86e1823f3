// Package privilege prepares directories while the entrypoint is still root,
// fixes the ownership of only the entries that need it, and then drops to the
// postgres user once, for the whole process (Go changes the ids of every
// thread). A non-root start (docker run --user) skips all of it.
package privilege
