package engine

import (
	"sort"
)

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortLines(l []LogLine) {
	sort.SliceStable(l, func(i, j int) bool { return l[i].At.Before(l[j].At) })
}
