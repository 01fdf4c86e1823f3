// Package engine is the rig's small compose engine on the Docker Go client: it
// turns a compose-go project into networks, volumes and containers, starts them
// in dependency order, waits for health, stops with timing and tears everything
// down. Every resource it creates carries the rig's labels (see Labels), so a
// later run can sweep what a crashed run left behind without touching anything
// else on the Engine.
package engine
