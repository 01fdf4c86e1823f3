package postmaster

import (
	"os/exec"
	"syscall"
	"testing"
)

func execShell(t *testing.T, args []string) *exec.Cmd {
	t.Helper()
	c := exec.Command("/bin/sh", args...)
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	return c
}
