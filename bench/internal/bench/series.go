package bench

import (
	"strings"
	"time"
)

// series collects the samples of one side of one measure.
type series struct {
	label   string
	samples []float64
	parts   map[string][]float64
	err     error // the first failure; a failed series takes no more runs
}

func newSeries(label string) *series { return &series{label: label} }

func (s *series) add(v float64) { s.samples = append(s.samples, v) }

func (s *series) addDur(d time.Duration) { s.add(ms(d)) }

func (s *series) addPart(name string, d time.Duration) { s.addPartValue(name, ms(d)) }

func (s *series) addPartValue(name string, v float64) {
	if s.parts == nil {
		s.parts = map[string][]float64{}
	}
	s.parts[name] = append(s.parts[name], v)
}

func (s *series) fail(err error) {
	if s.err == nil {
		s.err = err
	}
}

func (s *series) side() *Side {
	if s == nil {
		return nil
	}
	sd := &Side{Label: s.label, Summary: Summarize(s.samples)}
	for name, v := range s.parts {
		if sd.Parts == nil {
			sd.Parts = map[string]Summary{}
		}
		sd.Parts[name] = Summarize(v)
	}
	return sd
}

// spec says how to turn series into a Measure.
type spec struct {
	id, name, unit string
	goal           *Goal
	diffShown      string // DiffShownPercent or DiffShownAbs
	showP95        bool
	note           string
}

// measure builds a Measure from pgdock's and the reference's series (ref
// may be nil). Any failure makes it an error with the message as note.
func (sp spec) measure(pg, ref *series) Measure {
	m := Measure{ID: sp.id, Name: sp.name, Unit: sp.unit, Status: StatusMeasured, Note: sp.note,
		Goal: sp.goal, ShowP95: sp.showP95, Pgdock: pg.side()}
	if ref != nil {
		m.Reference = ref.side()
	}
	var errs []string
	for _, s := range []*series{pg, ref} {
		if s != nil && s.err != nil {
			errs = append(errs, s.err.Error())
		}
	}
	if len(errs) > 0 {
		m.Status = StatusError
		m.Note = strings.Join(errs, "; ")
	} else if len(pg.samples) == 0 {
		m.Status = StatusError
		m.Note = "no samples"
	}
	m.finish(sp.diffShown)
	return m
}

// notMeasured is a measure whose feature is not wired yet.
func (sp spec) notMeasured(why string, ref *series) Measure {
	m := Measure{ID: sp.id, Name: sp.name, Unit: sp.unit, Status: StatusNotMeasured, Note: why, Goal: sp.goal}
	if ref != nil && len(ref.samples) > 0 {
		m.Reference = ref.side()
	}
	return m
}

// failed is a measure whose setup failed.
func (sp spec) failed(err error) Measure {
	return Measure{ID: sp.id, Name: sp.name, Unit: sp.unit, Status: StatusError, Note: err.Error(), Goal: sp.goal}
}

// side is one contestant of an interleaved comparison.
type side struct {
	name string
	s    *series
	run  func() error // one run; records into s on success
	skip func() bool  // optional: skip (e.g. a feature found not wired)
}

// interleave runs every side n times, rotating the order each round so
// that drift (page cache, thermal, neighbours) spreads over all sides. A
// side that fails records its error and takes no more runs. It stops early
// only when stop() says so (the run was interrupted).
func interleave(n int, sides []side, stop func() error, progress func(round int, name string, err error)) error {
	for i := range n {
		for k := range sides {
			sd := sides[(i+k)%len(sides)]
			if sd.s.err != nil || (sd.skip != nil && sd.skip()) {
				continue
			}
			err := sd.run()
			if serr := stop(); serr != nil {
				return serr
			}
			if err != nil {
				sd.s.fail(err)
			}
			progress(i+1, sd.name, err)
		}
	}
	return nil
}

// lastSample describes the latest sample of s for progress lines.
func lastSample(s *series, unit string) string {
	if len(s.samples) == 0 {
		return ""
	}
	return FormatValue(s.samples[len(s.samples)-1]) + " " + unit
}
