package bench

import (
	"bufio"
	"io"
	"strings"
	"sync"
	"time"
)

// logWatch reads a child's combined output line by line, copies it to a log
// file, and records when each pattern first appeared. The time is taken by
// the reading goroutine as soon as the line arrives.
type logWatch struct {
	patterns []string
	eof      chan struct{}

	mu    sync.Mutex
	seen  map[string]seenLine
	wait  map[string]chan struct{}
	lines []string // the last tailLines lines
}

type seenLine struct {
	at   time.Time
	line string
}

const tailLines = 60

func newLogWatch(r io.Reader, copyTo io.Writer, patterns ...string) *logWatch {
	w := &logWatch{
		patterns: patterns,
		eof:      make(chan struct{}),
		seen:     make(map[string]seenLine),
		wait:     make(map[string]chan struct{}),
	}
	for _, p := range patterns {
		w.wait[p] = make(chan struct{})
	}
	go w.read(r, copyTo)
	return w
}

func (w *logWatch) read(r io.Reader, copyTo io.Writer) {
	defer close(w.eof)
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			now := time.Now()
			if copyTo != nil {
				_, _ = io.WriteString(copyTo, line)
			}
			w.add(now, strings.TrimRight(line, "\n"))
		}
		if err != nil {
			return
		}
	}
}

func (w *logWatch) add(at time.Time, line string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lines = append(w.lines, line)
	if len(w.lines) > tailLines {
		w.lines = w.lines[len(w.lines)-tailLines:]
	}
	for _, p := range w.patterns {
		if _, ok := w.seen[p]; !ok && strings.Contains(line, p) {
			w.seen[p] = seenLine{at: at, line: line}
			close(w.wait[p])
		}
	}
}

// seenCh is closed when pattern p has appeared.
func (w *logWatch) seenCh(p string) <-chan struct{} { return w.wait[p] }

// at returns when p first appeared and the line.
func (w *logWatch) at(p string) (time.Time, string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s, ok := w.seen[p]
	return s.at, s.line, ok
}

// tail returns the last lines read.
func (w *logWatch) tail() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.lines, "\n")
}
