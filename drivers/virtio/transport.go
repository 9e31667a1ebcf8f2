package virtio

import (
	"gomenuos/drivers/hw"
	"gomenuos/drivers/pci"
)

// struct virtio_pci_common_cfg offsets (virtio 1.2 §4.1.4.3).
const (
	commonDeviceFeatureSel = 0x00
	commonDeviceFeature    = 0x04
	commonDriverFeatureSel = 0x08
	commonDriverFeature    = 0x0C
	commonConfigMSIX       = 0x10
	commonNumQueues        = 0x12
	commonStatus           = 0x14
	commonConfigGeneration = 0x15
	commonQueueSelect      = 0x16
	commonQueueSize        = 0x18
	commonQueueMSIX        = 0x1A
	commonQueueEnable      = 0x1C
	commonQueueNotifyOff   = 0x1E
	commonQueueDesc        = 0x20
	commonQueueDriver      = 0x28
	commonQueueDevice      = 0x30
)

// NoVector is VIRTIO_MSI_NO_VECTOR.
const NoVector = 0xFFFF

// resetPolls bounds the wait for a reset to read back as 0.
const resetPolls = 1 << 20

// Device is a virtio device on the modern PCI transport.
//
// The handshake methods (Negotiate, SetupQueue, Ready) run once, from the
// probing goroutine, before any queue is in use; afterwards the device's
// registers are only touched through Queue.Notify and ISR.
type Device struct {
	PCI      *pci.Device
	mem      hw.Memory
	common   hw.Regs
	isr      hw.Regs
	config   hw.Regs
	notify   hw.Regs
	notifyMu uint32
	features uint64
}

// NewPCIDevice finds the virtio structures of d, maps them, turns on memory
// decoding and bus mastering, and resets the device.
//
// Linux: virtio_pci_modern_probe
func NewPCIDevice(d *pci.Device, mem hw.Memory) (*Device, error) {
	caps := readCaps(d)
	for _, t := range []uint8{capCommon, capNotify, capISR, capDevice} {
		if _, ok := caps[t]; !ok {
			return nil, ErrNoCapability
		}
	}
	v := &Device{PCI: d, mem: mem, notifyMu: caps[capNotify].notifyMul}
	var err error
	for _, m := range []struct {
		dst *hw.Regs
		typ uint8
	}{{&v.common, capCommon}, {&v.notify, capNotify}, {&v.isr, capISR}, {&v.config, capDevice}} {
		if *m.dst, err = mapCap(d, mem, caps[m.typ]); err != nil {
			return nil, err
		}
	}
	d.Enable()
	d.SetMaster()
	return v, v.Reset()
}

// Reset writes 0 to device_status and waits until it reads back 0.
// virtio 1.2 §4.1.4.3.2: the driver MUST NOT proceed before it does.
func (v *Device) Reset() error {
	v.common.Write8(commonStatus, 0)
	for i := 0; i < resetPolls; i++ {
		if v.common.Read8(commonStatus) == 0 {
			return nil
		}
	}
	return ErrResetTimeout
}

// Status returns device_status.
func (v *Device) Status() uint8 { return v.common.Read8(commonStatus) }

func (v *Device) addStatus(bits uint8) {
	v.common.Write8(commonStatus, v.common.Read8(commonStatus)|bits)
}

// Fail sets FAILED: the driver gave up on the device (virtio 1.2 §3.1.1).
func (v *Device) Fail() { v.addStatus(StatusFailed) }

// DeviceFeatures reads all 64 offered feature bits.
func (v *Device) DeviceFeatures() uint64 {
	var f uint64
	for sel := uint32(0); sel < 2; sel++ {
		v.common.Write32(commonDeviceFeatureSel, sel)
		f |= uint64(v.common.Read32(commonDeviceFeature)) << (32 * sel)
	}
	return f
}

// Negotiate runs steps 2-6 of virtio 1.2 §3.1.1: ACKNOWLEDGE, DRIVER,
// accept the offered subset of wanted (VERSION_1 is required), FEATURES_OK
// and its read-back. It returns the accepted features; on error the device
// is marked FAILED.
//
// Linux: virtio_dev_probe (the feature half)
func (v *Device) Negotiate(wanted uint64) (uint64, error) {
	v.addStatus(StatusAcknowledge)
	v.addStatus(StatusDriver)
	offered := v.DeviceFeatures()
	if offered&FeatureVersion1 == 0 {
		v.Fail()
		return 0, ErrNoVersion1
	}
	f := offered & (wanted | FeatureVersion1)
	for sel := uint32(0); sel < 2; sel++ {
		v.common.Write32(commonDriverFeatureSel, sel)
		v.common.Write32(commonDriverFeature, uint32(f>>(32*sel)))
	}
	v.addStatus(StatusFeaturesOK)
	if v.Status()&StatusFeaturesOK == 0 {
		v.Fail()
		return 0, ErrFeaturesRefused
	}
	v.features = f
	return f, nil
}

// Features returns the negotiated features.
func (v *Device) Features() uint64 { return v.features }

// Ready sets DRIVER_OK: the device may now use its queues.
func (v *Device) Ready() { v.addStatus(StatusDriverOK) }

// NumQueues returns how many virtqueues the device has.
func (v *Device) NumQueues() uint16 { return v.common.Read16(commonNumQueues) }

// ISR reads (and thereby clears) the ISR status; needed with INTx only.
func (v *Device) ISR() uint8 { return v.isr.Read8(0) }

// Config returns the device-specific configuration window.
func (v *Device) Config() hw.Regs { return v.config }

// ConfigGeneration returns config_generation; reads of multi-field device
// configuration are consistent when it is unchanged around them.
func (v *Device) ConfigGeneration() uint8 { return v.common.Read8(commonConfigGeneration) }
