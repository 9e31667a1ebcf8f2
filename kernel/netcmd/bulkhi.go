package netcmd

import (
	"errors"

	"gomenuos/kernel/menu"
)

// tcphi is replyhi without the console lines, for connection-rate
// benchmarks: on PORT it accepts, reads one request, answers "hi" and
// closes, until interrupted (kill or Ctrl-C); then it prints
// `tcphi: N connections`. Run it in the background: `tcphi 5003 &`.
func (e *Env) tcphi(c *menu.Ctx, args []string) error {
	if len(args) != 1 {
		return errors.New("usage: tcphi PORT")
	}
	port, err := parsePort(args[0])
	if err != nil {
		return err
	}
	l, err := e.listen(c.Task, port)
	if err != nil {
		return err
	}
	defer l.Close(c.Task)
	c.Printf("tcphi: listening on port %d\n", port)
	buf := make([]byte, 1024)
	served := 0
	defer func() { c.Printf("tcphi: %d connections\n", served) }()
	for {
		conn, err := l.Accept(c.Task)
		if err != nil {
			return err
		}
		if _, err := conn.Recv(c.Task, buf); err == nil {
			conn.Send(c.Task, []byte("hi"))
		}
		conn.Close(c.Task)
		served++
	}
}
