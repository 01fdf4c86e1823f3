package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Printer writes progress lines. It is safe for concurrent use.
type Printer struct {
	mu     sync.Mutex
	w      io.Writer
	tty    bool
	now    func() time.Time
	status string
	since  time.Time
	stop   chan struct{}
	done   chan struct{}
	closed sync.Once
}

// IsTerminal reports whether f is a character device (a terminal).
func IsTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// New returns a printer; with tty it keeps a live status line refreshed
// several times a second until Close.
func New(w io.Writer, tty bool) *Printer {
	p := &Printer{w: w, tty: tty, now: time.Now}
	if tty {
		p.stop, p.done = make(chan struct{}), make(chan struct{})
		go p.refresh()
	}
	return p
}

func (p *Printer) refresh() {
	defer close(p.done)
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.mu.Lock()
			p.drawLocked()
			p.mu.Unlock()
		}
	}
}

func (p *Printer) drawLocked() {
	if !p.tty || p.status == "" {
		return
	}
	fmt.Fprintf(p.w, "\r\033[K%s (%.1fs)", p.status, p.now().Sub(p.since).Seconds())
}

func (p *Printer) clearLocked() {
	if p.tty && p.status != "" {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// Step announces what is running now ("direct: waiting for healthy").
func (p *Printer) Step(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.tty {
		fmt.Fprintf(p.w, "%s %s\n", p.now().UTC().Format("15:04:05.000"), msg)
		return
	}
	p.clearLocked()
	p.status, p.since = msg, p.now()
	p.drawLocked()
}

// Line prints a permanent line (a finished check, a measurement).
func (p *Printer) Line(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.tty {
		fmt.Fprintf(p.w, "%s %s\n", p.now().UTC().Format("15:04:05.000"), msg)
		return
	}
	p.clearLocked()
	fmt.Fprintln(p.w, msg)
	p.drawLocked()
}

// Close ends the live line; later calls do nothing.
func (p *Printer) Close() {
	p.closed.Do(func() {
		if p.tty {
			close(p.stop)
			<-p.done
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		p.clearLocked()
		p.status = ""
	})
}
