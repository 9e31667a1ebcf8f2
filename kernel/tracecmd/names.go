package tracecmd

import (
	"strings"

	"gomenuos/kernel/ksyms"
)

// tableNames answers the map's questions from the image's symbol table.
type tableNames struct {
	tab     *ksyms.Table
	methods map[[2]string][]string // (package, method) → full names
}

func newTableNames(tab *ksyms.Table) *tableNames {
	n := &tableNames{tab: tab, methods: map[[2]string][]string{}}
	for _, s := range tab.Syms {
		pkg, rest, ok := splitPackage(s.Name)
		if !ok {
			continue
		}
		// rest is T.m or (*T).m for a method.
		if i := strings.LastIndex(rest, "."); i > 0 && !strings.Contains(rest[:i], ".") ||
			strings.HasPrefix(rest, "(*") && strings.Count(rest, ".") == 1 {
			k := [2]string{pkg, rest[strings.LastIndex(rest, ".")+1:]}
			n.methods[k] = append(n.methods[k], s.Name)
		}
	}
	return n
}

func (n *tableNames) Has(name string) bool { _, ok := n.tab.ByName(name); return ok }

func (n *tableNames) Methods(pkg, m string) []string { return n.methods[[2]string{pkg, m}] }

// splitPackage cuts a runtime name into import path and the rest:
// gomenuos/net/tcp.(*Sock).x → gomenuos/net/tcp, (*Sock).x.
func splitPackage(name string) (pkg, rest string, ok bool) {
	p := name
	if i := strings.IndexAny(name, "(["); i >= 0 {
		p = name[:i]
	}
	slash := strings.LastIndex(p, "/")
	dot := strings.Index(name[slash+1:], ".")
	if dot < 0 {
		return "", "", false
	}
	return name[:slash+1+dot], name[slash+1+dot+1:], true
}
