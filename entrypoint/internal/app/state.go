package app

import (
	"os"
	"time"

	"go.uber.org/zap"

	"github.com/pgdock/pgdock/entrypoint/internal/config"
	"github.com/pgdock/pgdock/plugins/sdk/state"
)

const (
	phaseBootstrapping = state.PhaseBootstrapping
	phaseStarting      = state.PhaseStarting
	phaseRunning       = state.PhaseRunning
	phaseStopping      = state.PhaseStopping
	phaseStopped       = state.PhaseStopped
	phaseSleeping      = state.PhaseSleeping
)

// stateWriter records the lifecycle in PGDOCK_STATE_DIR for the healthcheck.
// Failures are logged, never fatal: the server matters more than its report.
type stateWriter struct {
	cfg  config.Config
	log  *zap.Logger
	mode string
	// childPID and role are recorded by a mode run (setMode); in direct
	// mode childPID stays 0 and role is set when the server is ready.
	childPID    int
	role        string
	hooksSocket string
}

// setMode records the mode child's pid and the node's role for the next
// writes.
func (w *stateWriter) setMode(childPID int, role string) { w.childPID, w.role = childPID, role }

func newStateWriter(cfg config.Config, log *zap.Logger, mode string) *stateWriter {
	return &stateWriter{cfg: cfg, log: log, mode: mode}
}

func (w *stateWriter) write(phase state.Phase, postmasterPID int, plugins []state.Plugin) {
	if err := os.MkdirAll(w.cfg.StateDir, 0o750); err != nil {
		w.log.Warn("cannot write the state file", zap.Error(err))
		return
	}
	err := state.Write(w.cfg.StateDir, state.State{
		Phase:         phase,
		Mode:          w.mode,
		PID:           os.Getpid(),
		PostmasterPID: postmasterPID,
		PGData:        w.cfg.PGData,
		Port:          w.cfg.Port,
		SocketDir:     w.cfg.SocketDir,
		User:          w.cfg.User,
		UpdatedAt:     time.Now().UTC(),
		Plugins:       plugins,
		HooksSocket:   w.hooksSocket,
		ModeChildPID:  w.childPID,
		Role:          w.role,
	})
	if err != nil {
		w.log.Warn("cannot write the state file", zap.Error(err))
	}
}
