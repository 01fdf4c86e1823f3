// Package composefile loads compose files with compose-go, exactly as a user's
// `docker compose` would read them (interpolation from the environment and
// .env, profiles), and applies the rig's adjustments to the loaded project.
package composefile
