// Package header provides typed views over the bytes of the link, network,
// ICMP and transport headers the stack parses: Ethernet II, ARP, IPv4,
// ICMPv4, TCP and UDP.
//
// Each header has exactly one validated entry point (ParseEthernet,
// ParseARP, ParseIPv4, ParseICMPv4, ParseTCP, ParseUDP). A view returned without error may be
// read with its accessors without further bounds checks; views are never
// built by converting unchecked bytes elsewhere in the stack.
package header

import "errors"

// Parse errors. The stack maps each one to a drop reason and a MIB counter.
var (
	// ErrTruncated: the buffer is shorter than the header claims or needs.
	ErrTruncated = errors.New("header: truncated")
	// ErrVersion: an IPv4 header whose version field is not 4.
	ErrVersion = errors.New("header: bad IP version")
	// ErrHeaderLength: an IPv4 IHL below 5 words.
	ErrHeaderLength = errors.New("header: bad header length")
	// ErrTotalLength: an IPv4 total length smaller than its header.
	ErrTotalLength = errors.New("header: bad total length")
	// ErrChecksum: the header (or ICMP message) checksum does not verify.
	ErrChecksum = errors.New("header: bad checksum")
	// ErrUnsupported: a well-formed header of a kind the stack does not
	// speak (e.g. ARP for a hardware type other than Ethernet).
	ErrUnsupported = errors.New("header: unsupported format")
)
