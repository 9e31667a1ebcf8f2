package menu

import (
	"path"
	"slices"
	"strings"

	"gomenuos/fs"
)

// complete is the console's Tab completion (tty.Completer): the first word
// of a line completes to command names, a later word (or one after a
// redirection's '>') to a path, directories ending in "/". Linux: bash's
// readline completion, without programmable rules.
func (s *Shell) complete(before string) (start int, candidates []string) {
	start = strings.LastIndexAny(before, " >") + 1
	word := before[start:]
	if strings.TrimSpace(before[:start]) == "" {
		for _, c := range s.Commands() {
			if strings.HasPrefix(c.Name, word) {
				candidates = append(candidates, c.Name)
			}
		}
		slices.Sort(candidates)
		return start, candidates
	}
	return start, s.completePath(word)
}

// completePath lists the names in word's directory that start with its
// last component, as paths spelled like word ("/pr" → "/proc/"). Paths
// without a leading "/" start at the root too: tasks have no working
// directory.
func (s *Shell) completePath(word string) []string {
	ns := fs.Root()
	if ns == nil {
		return nil
	}
	dir, base := path.Split(word)
	lookup := dir
	if lookup == "" {
		lookup = "/"
	}
	ents, err := ns.ReadDir(s.task, lookup)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if !strings.HasPrefix(e.Name, base) {
			continue
		}
		c := dir + e.Name
		if i, err := ns.Lookup(s.task, path.Join(lookup, e.Name)); err == nil && i.Mode.IsDir() {
			c += "/"
		}
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}
