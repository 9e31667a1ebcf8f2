// Package interop holds the host interop tests (test files only): our
// stack runs on a TAP device inside a network namespace the test creates,
// and the host's Linux stack talks to it — ARP and ping, and TCP both ways
// once the transport is wired in. The tests need root (CAP_NET_ADMIN);
// without it they skip and say why.
package interop
