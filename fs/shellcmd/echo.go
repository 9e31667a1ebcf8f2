package shellcmd

import (
	"io"
	"strings"

	"gomenuos/fs"
	"gomenuos/sched"
)

// Echo prints its words separated by spaces and ended by a newline (none
// with -n). "> FILE" writes them to FILE instead, truncating it, ">> FILE"
// appends; the operator may also be glued to the name or the word before
// it ("123>FILE"; unlike sh, a number there is a word, not a descriptor). The text
// goes to the file in one write, so a device sees one message.
func Echo(t *sched.Task, out io.Writer, args []string) error {
	words, target, flags, err := parseRedirect(args)
	if err != nil {
		return err
	}
	newline := "\n"
	if len(words) > 0 && words[0] == "-n" {
		words, newline = words[1:], ""
	}
	text := []byte(strings.Join(words, " ") + newline)
	if target == "" {
		_, err := out.Write(text)
		return err
	}
	ns, err := root()
	if err != nil {
		return err
	}
	f, err := ns.Open(t, target, flags, 0o644)
	if err != nil {
		return pathError(target, err)
	}
	defer f.Put()
	if err := fs.WriteAll(t, f, text); err != nil {
		return pathError(target, err)
	}
	return nil
}

// parseRedirect splits "WORDS > FILE" / "WORDS >> FILE" (the last
// redirection wins, as in sh) into the words, the file and its open flags.
func parseRedirect(args []string) (words []string, target string, flags int, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if j := strings.IndexByte(a, '>'); j > 0 {
			words = append(words, a[:j]) // "123>/dev/x", as sh splits it
			a = a[j:]
		}
		op := ""
		switch {
		case strings.HasPrefix(a, ">>"):
			op, a = ">>", a[2:]
		case strings.HasPrefix(a, ">"):
			op, a = ">", a[1:]
		default:
			words = append(words, a)
			continue
		}
		if a == "" {
			if i+1 == len(args) {
				return nil, "", 0, usage("echo WORDS > FILE: missing file name")
			}
			i++
			a = args[i]
		}
		target, flags = a, fs.O_WRONLY|fs.O_CREAT|fs.O_TRUNC
		if op == ">>" {
			flags = fs.O_WRONLY | fs.O_CREAT | fs.O_APPEND
		}
	}
	return words, target, flags, nil
}
