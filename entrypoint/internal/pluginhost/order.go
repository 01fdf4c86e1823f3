package pluginhost

import (
	"fmt"
	"sort"
	"strings"
)

// dependencyOrder returns the indexes of ds in hook order: topological by
// Description.After (a plugin's hooks run after those of the plugins it
// names), ties broken by name. Names that are not enabled are ignored. A
// cycle is reported as a problem naming its plugins; they are then placed
// by name after everything else, so the order stays deterministic.
func dependencyOrder(ds []described) ([]int, []Problem) {
	index := make(map[string]int, len(ds))
	for i, d := range ds {
		index[d.name] = i
	}
	indeg := make([]int, len(ds))
	next := make([][]int, len(ds)) // dependency → dependents
	for i, d := range ds {
		seen := map[int]bool{}
		for _, a := range d.desc.After {
			j, ok := index[a]
			if !ok || j == i || seen[j] { // unknown or disabled, itself, or repeated
				continue
			}
			seen[j] = true
			indeg[i]++
			next[j] = append(next[j], i)
		}
	}
	byName := func(s []int) {
		sort.Slice(s, func(a, b int) bool { return ds[s[a]].name < ds[s[b]].name })
	}
	var ready, order []int
	for i := range ds {
		if indeg[i] == 0 {
			ready = append(ready, i)
		}
	}
	byName(ready)
	for len(ready) > 0 {
		i := ready[0]
		ready = ready[1:]
		order = append(order, i)
		for _, j := range next[i] {
			if indeg[j]--; indeg[j] == 0 {
				ready = append(ready, j)
				byName(ready)
			}
		}
	}
	if len(order) == len(ds) {
		return order, nil
	}
	var rest []int
	var names []string
	for i := range ds {
		if indeg[i] > 0 {
			rest = append(rest, i)
		}
	}
	byName(rest)
	for _, i := range rest {
		names = append(names, ds[i].name)
	}
	return append(order, rest...), []Problem{{
		Plugin:  strings.Join(names, ","),
		Message: fmt.Sprintf("the plugins' \"after\" declarations form a cycle among %s; hook order cannot be decided", strings.Join(names, ", ")),
	}}
}
