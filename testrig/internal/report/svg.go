package report

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
	"time"

	"github.com/pgdock/pgdock/testrig/internal/result"
)

// SVG geometry.
const (
	svgWidth   = 860
	labelWidth = 150
	rowHeight  = 30
	topPad     = 28
	bottomPad  = 58
)

var spanColors = []string{"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f"}

// WriteSVG draws a scenario's timeline: one row per lane, a bar per span with
// its duration, a tick per mark, and a time axis.
func WriteSVG(w io.Writer, s result.Scenario) error {
	tl := s.Timeline
	var lanes []string
	seen := map[string]bool{}
	addLane := func(l string) {
		if !seen[l] {
			seen[l] = true
			lanes = append(lanes, l)
		}
	}
	var end time.Duration
	for _, sp := range tl.Spans {
		addLane(sp.Lane)
		end = max(end, sp.End)
	}
	for _, m := range tl.Marks {
		addLane(m.Lane)
		end = max(end, m.At)
	}
	if end <= 0 {
		end = time.Second
	}
	step := tickStep(end)
	end = time.Duration(math.Ceil(float64(end)/float64(step))) * step
	plot := float64(svgWidth - labelWidth - 20)
	x := func(d time.Duration) float64 { return labelWidth + plot*float64(d)/float64(end) }
	height := topPad + rowHeight*max(len(lanes), 1) + bottomPad

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n", svgWidth, height, svgWidth, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
	fmt.Fprintf(&b, `<text x="4" y="16" font-size="13" font-weight="bold">%s — %s</text>`+"\n", esc(s.Name), esc(s.Status().String()))
	laneY := map[string]int{}
	for i, l := range lanes {
		y := topPad + i*rowHeight
		laneY[l] = y
		if i%2 == 1 {
			fmt.Fprintf(&b, `<rect x="0" y="%d" width="%d" height="%d" fill="#f4f4f4"/>`+"\n", y, svgWidth, rowHeight)
		}
		fmt.Fprintf(&b, `<text x="4" y="%d">%s</text>`+"\n", y+15, esc(l))
	}
	axisY := topPad + rowHeight*max(len(lanes), 1)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%.1f" y2="%d" stroke="#333"/>`+"\n", labelWidth, axisY, x(end), axisY)
	for t := time.Duration(0); t <= end; t += step {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ccc"/>`+"\n", x(t), topPad, x(t), axisY)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x(t), axisY+14, esc(fmtTick(t)))
	}
	// One colour per phase name, in order of first appearance, with a legend.
	color := map[string]string{}
	var phases []string
	for _, sp := range tl.Spans {
		if _, ok := color[sp.Name]; !ok {
			color[sp.Name] = spanColors[len(phases)%len(spanColors)]
			phases = append(phases, sp.Name)
		}
	}
	for _, sp := range tl.Spans {
		y := laneY[sp.Lane]
		x0, x1 := x(sp.Start), x(sp.End)
		wid := math.Max(x1-x0, 1)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s: %s</title></rect>`+"\n",
			x0, y+9, wid, rowHeight-12, color[sp.Name], esc(sp.Name), esc(fmtDur(sp.End-sp.Start)))
		label := fmtDur(sp.End - sp.Start)
		if wid > float64(len(label))*6+4 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="#fff" font-size="10">%s</text>`+"\n", x0+2, y+rowHeight-7, esc(label))
		}
	}
	// Event ticks; labels above the bar, moved right when they would overlap
	// the previous label of the lane.
	nextFree := map[string]float64{}
	for _, m := range tl.Marks {
		y := laneY[m.Lane]
		xm := x(m.At)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#000" stroke-width="2"><title>%s at %s</title></line>`+"\n", xm, y+7, xm, y+rowHeight-1, esc(m.Name), esc(fmtDur(m.At)))
		lx := math.Max(xm-2, nextFree[m.Lane])
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="9">%s</text>`+"\n", lx, y+8, esc(m.Name))
		nextFree[m.Lane] = lx + float64(len([]rune(m.Name)))*5 + 6
	}
	lx := 4.0
	ly := height - 22
	for _, ph := range phases {
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="10" height="10" fill="%s"/>`+"\n", lx, ly-9, color[ph])
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="10">%s</text>`+"\n", lx+13, ly, esc(ph))
		lx += 13 + float64(len([]rune(ph)))*6 + 12
	}
	fmt.Fprintf(&b, `<text x="4" y="%d" font-size="9" fill="#555">bars: phases with their durations; black ticks: events; time from the scenario's start</text>`+"\n", height-6)
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func esc(s string) string { return html.EscapeString(s) }

// tickStep picks a round axis step giving 4–10 ticks.
func tickStep(end time.Duration) time.Duration {
	steps := []time.Duration{
		10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond,
		250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 5 * time.Second,
		10 * time.Second, 15 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute,
	}
	for _, s := range steps {
		if end/s <= 10 {
			return s
		}
	}
	return 10 * time.Minute
}

func fmtTick(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	if d < time.Second {
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%gs", d.Seconds())
}

func fmtDur(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%dms", d.Round(time.Millisecond).Milliseconds())
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}
