// Package pci enumerates PCI functions through configuration mechanism #1
// (ports 0xCF8/0xCFC), decodes their BARs and capability lists, and turns on
// the decoders and bus mastering a driver needs.
package pci

import (
	"fmt"
	"sync"

	"gomenuos/drivers/hw"
)

// Configuration mechanism #1 ports (PCI Local Bus 3.0 §3.2.2.3.2).
const (
	configAddressPort = 0xCF8
	configDataPort    = 0xCFC
	configEnable      = 1 << 31
)

// Standard configuration header offsets (PCI Local Bus 3.0 §6.1).
const (
	offVendorID     = 0x00
	offDeviceID     = 0x02
	offCommand      = 0x04
	offStatus       = 0x06
	offRevision     = 0x08
	offProgIF       = 0x09
	offSubclass     = 0x0A
	offClass        = 0x0B
	offHeaderType   = 0x0E
	offBAR0         = 0x10
	offSecondaryBus = 0x19 // type 1 (bridge) header
	offCapPtr       = 0x34
	offIRQLine      = 0x3C
	offIRQPin       = 0x3D
)

// Command register bits.
const (
	CommandIO          = 1 << 0
	CommandMemory      = 1 << 1
	CommandBusMaster   = 1 << 2
	CommandINTxDisable = 1 << 10
)

const statusCapList = 1 << 4

// Addr names one function: bus, device (slot) and function number.
type Addr struct {
	Bus, Dev, Fn uint8
}

// String formats the address as lspci does: "00:03.0".
func (a Addr) String() string { return fmt.Sprintf("%02x:%02x.%x", a.Bus, a.Dev, a.Fn) }

func (a Addr) configAddress(off uint8) uint32 {
	return configEnable | uint32(a.Bus)<<16 | uint32(a.Dev&31)<<11 | uint32(a.Fn&7)<<8 | uint32(off&0xFC)
}

// Config is configuration mechanism #1 over port I/O.
//
// mu serialises each address-port write with its data-port access: the two
// ports are one shared register pair for the whole machine.
type Config struct {
	mu sync.Mutex
	io hw.PortIO
}

// NewConfig returns configuration-space access through io.
func NewConfig(io hw.PortIO) *Config { return &Config{io: io} }

// Read8 reads the byte at off of function a.
func (c *Config) Read8(a Addr, off uint8) uint8 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.io.Outl(configAddressPort, a.configAddress(off))
	return c.io.Inb(configDataPort + uint16(off&3))
}

// Read16 reads the 16-bit word at off (2-aligned) of function a.
func (c *Config) Read16(a Addr, off uint8) uint16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.io.Outl(configAddressPort, a.configAddress(off))
	return c.io.Inw(configDataPort + uint16(off&2))
}

// Read32 reads the 32-bit word at off (4-aligned) of function a.
func (c *Config) Read32(a Addr, off uint8) uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.io.Outl(configAddressPort, a.configAddress(off))
	return c.io.Inl(configDataPort)
}

// Write8 writes the byte at off of function a.
func (c *Config) Write8(a Addr, off uint8, v uint8) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.io.Outl(configAddressPort, a.configAddress(off))
	c.io.Outb(configDataPort+uint16(off&3), v)
}

// Write16 writes the 16-bit word at off (2-aligned) of function a.
func (c *Config) Write16(a Addr, off uint8, v uint16) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.io.Outl(configAddressPort, a.configAddress(off))
	c.io.Outw(configDataPort+uint16(off&2), v)
}

// Write32 writes the 32-bit word at off (4-aligned) of function a.
func (c *Config) Write32(a Addr, off uint8, v uint32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.io.Outl(configAddressPort, a.configAddress(off))
	c.io.Outl(configDataPort, v)
}
