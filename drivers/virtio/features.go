// Package virtio is the virtio 1.x PCI transport: capability discovery,
// the device status handshake, feature negotiation and split virtqueues.
// Device drivers (virtio-net in ./virtionet) sit on top of it.
package virtio

// Device-independent feature bits (virtio 1.2 §6).
const (
	FeatureIndirectDesc = 1 << 28
	FeatureEventIdx     = 1 << 29
	FeatureVersion1     = 1 << 32
	FeatureAccessPlat   = 1 << 33
	FeatureRingPacked   = 1 << 34
)

// Device status bits (virtio 1.2 §2.1).
const (
	StatusAcknowledge = 1
	StatusDriver      = 2
	StatusDriverOK    = 4
	StatusFeaturesOK  = 8
	StatusNeedsReset  = 64
	StatusFailed      = 128
)

// ISR status bits (virtio 1.2 §4.1.4.5).
const (
	ISRQueue  = 1
	ISRConfig = 2
)

// PCI vendor and device IDs (virtio 1.2 §4.1.2).
const (
	PCIVendor           = 0x1af4
	PCIDeviceNetLegacy  = 0x1000 // transitional virtio-net
	PCIDeviceModernBase = 0x1040 // 0x1040 + virtio device ID
	DeviceIDNet         = 1
)
